//! W3C Trace Context: any `traceparent`/`tracestate` pair extracts without
//! a panic, and whatever is accepted injects to headers that extract to
//! the same span context (`parse(inject(x)) == x`).
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use opentelemetry::Context;
use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::TraceContextExt as _;
use traced_runtime::TraceContext;

fuzz_target!(|input: (String, String)| {
    let (traceparent, tracestate) = input;
    let mut headers = HashMap::new();
    headers.insert("traceparent".to_owned(), traceparent);
    headers.insert("tracestate".to_owned(), tracestate);
    let propagator = TraceContext::default();
    let sc = propagator.extract(&headers).span().span_context().clone();
    if !sc.is_valid() {
        return;
    }
    let mut out = HashMap::new();
    propagator.inject_context(&Context::new().with_remote_span_context(sc.clone()), &mut out);
    let again = propagator.extract(&out).span().span_context().clone();
    assert_eq!(again.trace_id(), sc.trace_id());
    assert_eq!(again.span_id(), sc.span_id());
    assert_eq!(again.trace_flags(), sc.trace_flags());
    assert_eq!(again.trace_state().header(), sc.trace_state().header());
});
