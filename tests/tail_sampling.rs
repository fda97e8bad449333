//! Tail sampling (#28) on the SDK's provider, as users who build their own
//! add it: `TailSampling` in front of the exporting processor. (`init`
//! puts the same processor in front of its exporters; its wiring is tested
//! in `traced-runtime`'s `span::build`.)
//!
//! Every test installs a provider or reads the process-wide
//! `tail_stats()`, so they run one at a time.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{
    Span as _, SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
    Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, InstrumentationScope};
use opentelemetry_sdk::trace::{
    InMemorySpanExporter, SdkTracer, SdkTracerProvider, SimpleSpanProcessor, SpanData,
};
use serial_test::serial;
use traced::{TailRule, TailSampling, TailStats, tail_stats, traced};

/// A provider with `tail` in front of a synchronous exporter to memory.
fn provider(
    tail: impl FnOnce(
        SimpleSpanProcessor<InMemorySpanExporter>,
    ) -> TailSampling<SimpleSpanProcessor<InMemorySpanExporter>>,
) -> (SdkTracerProvider, InMemorySpanExporter) {
    let exporter = InMemorySpanExporter::default();
    let processor = tail(SimpleSpanProcessor::new(exporter.clone()));
    let provider = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .build();
    (provider, exporter)
}

fn tracer(provider: &SdkTracerProvider) -> SdkTracer {
    provider.tracer_with_scope(InstrumentationScope::builder("tail-test").build())
}

fn exported(exporter: &InMemorySpanExporter) -> Vec<SpanData> {
    exporter.get_finished_spans().unwrap()
}

fn names(spans: &[SpanData], trace: TraceId) -> BTreeSet<String> {
    spans
        .iter()
        .filter(|s| s.span_context.trace_id() == trace)
        .map(|s| s.name.to_string())
        .collect()
}

/// How the process-wide counts moved since `before`.
fn since(before: TailStats) -> TailStats {
    let now = tail_stats();
    let mut d = now;
    d.kept_errors -= before.kept_errors;
    d.kept_slow -= before.kept_slow;
    d.kept_ratio -= before.kept_ratio;
    d.kept_by_downstream -= before.kept_by_downstream;
    d.kept_attribute -= before.kept_attribute;
    d.kept_custom -= before.kept_custom;
    d.dropped -= before.dropped;
    d.dropped_spans -= before.dropped_spans;
    d.evicted -= before.evicted;
    d.evicted_spans -= before.evicted_spans;
    d.evicted_bytes -= before.evicted_bytes;
    d.evicted_hold -= before.evicted_hold;
    d.evicted_shutdown -= before.evicted_shutdown;
    d
}

/// A trace id from `n`, its low bits mixed (splitmix64), as random ids are.
fn trace_id(n: u64) -> TraceId {
    let mut x = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    TraceId::from_bytes((u128::from(n) << 64 | u128::from(x)).to_be_bytes())
}

/// A context whose remote parent is of trace `id`, as a server extracts it.
fn remote(id: TraceId) -> Context {
    Context::new().with_remote_span_context(SpanContext::new(
        id,
        SpanId::from_bytes(7_u64.to_be_bytes()),
        TraceFlags::SAMPLED,
        true,
        TraceState::NONE,
    ))
}

#[derive(Debug)]
struct DbError;

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection reset")
    }
}

impl std::error::Error for DbError {}

#[traced]
fn load_user(id: u64) -> u64 {
    id
}

#[traced]
fn charge(fail: bool) -> Result<(), DbError> {
    if fail { Err(DbError) } else { Ok(()) }
}

#[traced]
fn handle(id: u64, fail: bool) -> Result<u64, DbError> {
    let user = load_user(id); // ends before the error
    charge(fail)?;
    Ok(user)
}

#[traced]
fn request(id: u64, fail: bool) -> TraceId {
    let _ = handle(id, fail);
    traced::current_context().span().span_context().trace_id()
}

#[test]
#[serial]
fn a_failing_request_is_kept_whole_and_the_rest_dropped() {
    let (provider, exporter) = provider(|p| TailSampling::new(p, [TailRule::Errors]));
    traced::set_tracer_provider(provider.clone());
    let before = tail_stats();
    let ok: Vec<TraceId> = (0..20).map(|i| request(i, false)).collect();
    let failed = request(99, true);
    let spans = exported(&exporter);
    assert_eq!(
        names(&spans, failed),
        ["charge", "handle", "load_user", "request"]
            .map(String::from)
            .into(),
        "every span of the failing request, load_user too"
    );
    assert_eq!(spans.len(), 4, "nothing of the requests that succeeded");
    for id in ok {
        assert!(names(&spans, id).is_empty());
    }
    let d = since(before);
    assert_eq!((d.kept_errors, d.dropped, d.dropped_spans), (1, 20, 80));
    provider.shutdown().unwrap();
}

#[test]
#[serial]
fn a_slow_request_is_kept_whole() {
    let (provider, exporter) =
        provider(|p| TailSampling::new(p, [TailRule::SlowerThan(Duration::from_millis(200))]));
    let tracer = tracer(&provider);
    // Timestamps given, so that no clock decides the test.
    let t0 = SystemTime::now();
    let run = |id: TraceId, ms: u64| {
        let root = tracer
            .span_builder("GET /report")
            .with_start_time(t0)
            .start_with_context(&tracer, &remote(id));
        let cx = Context::new().with_span(root);
        let mut child = tracer
            .span_builder("query")
            .with_start_time(t0)
            .start_with_context(&tracer, &cx);
        child.end_with_timestamp(t0 + Duration::from_millis(ms / 2));
        cx.span().end_with_timestamp(t0 + Duration::from_millis(ms));
    };
    run(trace_id(1), 10);
    run(trace_id(2), 199);
    run(trace_id(3), 200);
    run(trace_id(4), 5_000);
    let spans = exported(&exporter);
    let both: BTreeSet<String> = ["GET /report", "query"].map(String::from).into();
    assert!(names(&spans, trace_id(1)).is_empty());
    assert!(names(&spans, trace_id(2)).is_empty());
    assert_eq!(names(&spans, trace_id(3)), both);
    assert_eq!(names(&spans, trace_id(4)), both);
    provider.shutdown().unwrap();
}

#[test]
#[serial]
fn the_ratio_keeps_the_same_traces_in_two_processes() {
    let rules = || [TailRule::Errors, TailRule::Ratio(0.25)];
    let (a, exported_a) = provider(|p| TailSampling::new(p, rules()));
    let (b, exported_b) = provider(|p| TailSampling::new(p, rules()));
    for provider in [&a, &b] {
        let tracer = tracer(provider);
        for n in 0..2_000 {
            let root = tracer.start_with_context("work", &remote(trace_id(n)));
            let cx = Context::new().with_span(root);
            tracer.start_with_context("child", &cx).end();
            cx.span().end();
        }
    }
    let kept = |e: &InMemorySpanExporter| -> BTreeSet<[u8; 16]> {
        exported(e)
            .iter()
            .map(|s| s.span_context.trace_id().to_bytes())
            .collect()
    };
    let (ka, kb) = (kept(&exported_a), kept(&exported_b));
    assert_eq!(ka, kb, "the same traces, decided from their ids");
    assert!(
        (400..600).contains(&ka.len()),
        "about 25% of 2,000: {}",
        ka.len()
    );
    // Whole: both spans of each kept trace.
    assert_eq!(exported(&exported_a).len(), 2 * ka.len());
    a.shutdown().unwrap();
    b.shutdown().unwrap();
}

#[test]
#[serial]
fn a_trace_that_never_ends_is_released_by_the_longest_hold() {
    let (provider, exporter) = provider(|p| {
        TailSampling::new(p, [TailRule::Errors]).with_max_hold(Duration::from_millis(1))
    });
    let tracer = tracer(&provider);
    let before = tail_stats();
    let root = tracer.start_with_context("stuck", &remote(trace_id(42)));
    let cx = Context::new().with_span(root);
    let mut child = tracer.start_with_context("failed step", &cx);
    child.set_status(opentelemetry::trace::Status::error("boom"));
    child.end();
    // Polled, not timed: each flush sweeps; the hold is 1 ms.
    let mut tries = 0;
    while since(before).evicted_hold == 0 {
        tries += 1;
        assert!(tries < 10_000, "the held trace was never released");
        std::thread::sleep(Duration::from_millis(1));
        provider.force_flush().unwrap();
    }
    let d = since(before);
    assert_eq!((d.evicted, d.evicted_hold, d.kept_errors), (1, 1, 1));
    assert_eq!(
        names(&exported(&exporter), trace_id(42)),
        ["failed step".to_owned()].into()
    );
    // The root, when it finally ends, follows its trace's decision.
    cx.span().end();
    assert_eq!(exported(&exporter).len(), 2);
    provider.shutdown().unwrap();
}

#[test]
#[serial]
fn a_trace_of_a_million_spans_is_capped_and_counted() {
    let (provider, exporter) = provider(|p| TailSampling::new(p, [TailRule::Errors]));
    let tracer = tracer(&provider);
    let before = tail_stats();
    let root = tracer.start_with_context("batch job", &remote(trace_id(1_000_000)));
    let cx = Context::new().with_span(root);
    let mut most_held = 0;
    for i in 0..1_000_000_u32 {
        tracer.start_with_context("item", &cx).end();
        if i % 1_000 == 0 {
            most_held = most_held.max(tail_stats().held_bytes);
        }
    }
    cx.span().end();
    let d = since(before);
    // Decided at the 10,000th span (no error yet: dropped); the rest
    // followed the decision, counted, not held.
    assert_eq!((d.evicted, d.evicted_spans, d.dropped), (1, 1, 1));
    assert_eq!(d.dropped_spans, 1_000_001);
    assert!(exported(&exporter).is_empty());
    assert!(
        most_held < 10 << 20,
        "at most 10,000 spans held: {most_held} bytes"
    );
    assert_eq!(tail_stats().held_bytes, before.held_bytes);
    provider.shutdown().unwrap();
}
