//! Properties of the propagation parsers on arbitrary input (#16): no
//! panic on hostile headers, and `extract(inject(x)) == x` for every valid
//! span context. Bounded in cases, so they run with the rest of the suite;
//! `PROPTEST_CASES=100000 cargo test -p traced-runtime --test properties`
//! runs them longer.

use std::collections::HashMap;

use opentelemetry::Context;
use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
use proptest::prelude::*;
use traced_runtime::TraceContext;

fn headers(pairs: &[(&str, String)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

fn extract(map: &HashMap<String, String>) -> SpanContext {
    TraceContext::default()
        .extract(map)
        .span()
        .span_context()
        .clone()
}

/// A header value a fuzzer would send: printable ASCII with the
/// separators the grammar uses, and sometimes anything at all.
fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9a-f-]{0,80}",
        "[ -~]{0,600}",
        "(00|01|ff|cc)-[0-9a-fA-F]{32}-[0-9a-fA-F]{16}-[0-9a-f]{2}(-[ -~]{0,10})?",
        "(([a-z0-9_*/@-]{1,20})=([!-+--<>-~]{1,20}), ?){0,40}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn hostile_headers_never_panic(traceparent in header_value(), tracestate in header_value()) {
        let map = headers(&[("traceparent", traceparent), ("tracestate", tracestate)]);
        let sc = extract(&map);
        // Whatever was accepted goes out again, and parses to itself.
        if sc.is_valid() {
            let mut out = HashMap::new();
            TraceContext::default()
                .inject_context(&Context::new().with_remote_span_context(sc.clone()), &mut out);
            let again = extract(&out);
            prop_assert_eq!(again.trace_id(), sc.trace_id());
            prop_assert_eq!(again.span_id(), sc.span_id());
            prop_assert_eq!(again.trace_flags(), sc.trace_flags());
        }
    }

    #[test]
    fn valid_contexts_round_trip(
        trace in any::<u128>().prop_filter("not zero", |t| *t != 0),
        span in any::<u64>().prop_filter("not zero", |s| *s != 0),
        sampled in any::<bool>(),
        random in any::<bool>(),
        members in proptest::collection::vec(("[a-z][a-z0-9_*/-]{0,15}", "[!-+--<>-~]{1,20}"), 0..8),
    ) {
        let mut flags = if sampled { TraceFlags::SAMPLED } else { TraceFlags::default() };
        if random {
            flags = TraceFlags::new(flags.to_u8() | traced_runtime::TRACE_FLAG_RANDOM.to_u8());
        }
        let mut seen = std::collections::HashSet::new();
        let members: Vec<(String, String)> =
            members.into_iter().filter(|(k, _)| seen.insert(k.clone())).collect();
        let state = TraceState::from_key_value(members.clone()).unwrap_or_default();
        let sc = SpanContext::new(
            TraceId::from(trace),
            SpanId::from(span),
            flags,
            true,
            state,
        );
        let mut out = HashMap::new();
        TraceContext::default()
            .inject_context(&Context::new().with_remote_span_context(sc.clone()), &mut out);
        let back = extract(&out);
        prop_assert_eq!(back.trace_id(), sc.trace_id());
        prop_assert_eq!(back.span_id(), sc.span_id());
        prop_assert_eq!(back.trace_flags(), sc.trace_flags());
        prop_assert!(back.is_remote());
        prop_assert_eq!(back.trace_state().header(), sc.trace_state().header());
    }
}
