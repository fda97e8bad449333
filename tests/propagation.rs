//! Trace context across process boundaries: a parent taken from incoming
//! W3C headers (`parent = headers`), `inject` for what goes out, and the
//! `http::HeaderMap` carrier.

use std::collections::HashMap;

use opentelemetry::trace::TraceContextExt as _;
use traced::testing::capture;
use traced::traced;

#[traced(kind = server, parent = headers)]
fn handle(headers: &HashMap<String, String>) -> String {
    let mut outgoing = HashMap::new();
    traced::inject(&mut outgoing);
    outgoing.get("traceparent").cloned().unwrap_or_default()
}

#[test]
fn parent_from_incoming_headers_and_inject() {
    traced::testing::install_propagators();
    let incoming: HashMap<String, String> = [(
        "TraceParent".to_owned(),
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
    )]
    .into();
    let mut outgoing = String::new();
    let spans = capture(|| outgoing = handle(&incoming));
    let span = spans.one("handle");
    assert_eq!(
        span.span_context.trace_id().to_string(),
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    assert_eq!(span.parent_span_id.to_string(), "00f067aa0ba902b7");
    assert!(span.parent_span_is_remote);
    // What the handler sends on names its own span as the parent.
    assert_eq!(
        outgoing,
        format!(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-{}-01",
            span.span_context.span_id()
        )
    );

    // A caller's trace that is not sampled but carries the W3C `random`
    // flag: our span is not recorded, and what we send on keeps the flag.
    let random: HashMap<String, String> = [(
        "traceparent".to_owned(),
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02".to_owned(),
    )]
    .into();
    let spans = capture(|| outgoing = handle(&random));
    assert!(
        spans.named("handle").is_empty(),
        "not sampled by the caller"
    );
    assert!(
        outgoing.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
        "{outgoing}"
    );
    assert!(
        outgoing.ends_with("-02"),
        "random kept, sampled not set: {outgoing}"
    );
    assert!(
        !outgoing.contains("00f067aa0ba902b7"),
        "our own span id goes out: {outgoing}"
    );

    // No or broken headers: a new trace, no parent.
    let broken: HashMap<String, String> =
        [("traceparent".to_owned(), "00-garbage".to_owned())].into();
    let spans = capture(|| {
        handle(&broken);
    });
    let span = spans.one("handle");
    assert!(!span.parent_span_id.to_string().is_empty());
    assert_eq!(span.parent_span_id, opentelemetry::trace::SpanId::INVALID);
    assert_ne!(
        span.span_context.trace_id().to_string(),
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
}

#[test]
fn header_map_carrier_sees_every_value() {
    use traced::Headers as _;
    let mut map = http::HeaderMap::new();
    map.append("tracestate", "a=1".parse().unwrap());
    map.append("tracestate", "b=2".parse().unwrap());
    assert_eq!(map.header_values("TraceState"), vec!["a=1", "b=2"]);
    map.set_header("traceparent", "x".to_owned());
    map.set_header("traceparent", "y".to_owned());
    assert_eq!(map.header_values("traceparent"), vec!["y"]);
    let cx = traced::extract(&map);
    assert!(!cx.span().span_context().is_valid());
}
