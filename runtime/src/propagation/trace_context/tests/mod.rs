//! One test per rule of W3C Trace Context Level 2 (`traceparent`, then
//! `tracestate`), and the random flag on traces started here.

use std::collections::HashMap;

use super::*;

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT: &str = "00f067aa0ba902b7";

fn tp(s: &str) -> Option<(String, String, u8)> {
    parse_traceparent(s).map(|(t, p, f)| (t.to_string(), p.to_string(), f.to_u8()))
}

fn valid(flags: &str) -> String {
    format!("00-{TRACE}-{PARENT}-{flags}")
}

fn ts(values: &[&str]) -> Option<String> {
    parse_tracestate(values.iter().copied())
        .map(|m| join(m.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
}

/// Request headers as a list, so that repeated names and any casing can
/// be sent; names are matched case-insensitively, as the carriers do.
struct Headers(Vec<(String, String)>);
impl Extractor for Headers {
    fn get(&self, key: &str) -> Option<&str> {
        self.get_all(key).and_then(|all| all.first().copied())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| k.as_str()).collect()
    }
    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let all: Vec<&str> = self
            .0
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
            .collect();
        (!all.is_empty()).then_some(all)
    }
}

fn extract_cx(headers: &[(&str, &str)]) -> Context {
    let headers = Headers(
        headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    );
    TraceContext::default().extract_with_context(&Context::new(), &headers)
}

fn extract(headers: &[(&str, &str)]) -> Option<SpanContext> {
    let sc = extract_cx(headers).span().span_context().clone();
    sc.is_valid().then_some(sc)
}

fn inject(cx: &Context) -> HashMap<String, String> {
    let mut out = HashMap::new();
    TraceContext::default().inject_context(cx, &mut out);
    out
}

/// What a service sends on after receiving `headers`: the remote
/// parent's context, with a local child span of the same trace.
fn forwarded(headers: &[(&str, &str)]) -> HashMap<String, String> {
    let cx = extract_cx(headers);
    let parent = cx.span().span_context().clone();
    let child = SpanContext::new(
        parent.trace_id(),
        SpanId::from_hex("1111111111111111").unwrap(),
        parent.trace_flags(),
        false,
        parent.trace_state().clone(),
    );
    inject(&cx.with_remote_span_context(child))
}

fn local(trace: TraceId, flags: TraceFlags, state: TraceState) -> Context {
    Context::new().with_remote_span_context(SpanContext::new(
        trace,
        SpanId::from_hex(PARENT).unwrap(),
        flags,
        false,
        state,
    ))
}

mod traceparent;
mod tracestate;
