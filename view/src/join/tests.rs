//! The joiner: arrival order, services, completion, duplicates, bounds.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use opentelemetry::InstrumentationScope;
use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};

use super::*;
use crate::print::render;

const QUIET: Duration = Duration::from_millis(100);
const TIMEOUT: Duration = Duration::from_secs(5);

fn joiner() -> Joiner {
    Joiner::new(
        Limits::default(),
        Timing {
            quiet: QUIET,
            timeout: TIMEOUT,
        },
    )
}

/// Span `id` of trace `trace`, child of `parent` (0: a root), from
/// `service`, starting `start` ms into the trace and lasting `took` ms.
fn span(
    trace: u128,
    id: u64,
    parent: u64,
    service: &str,
    name: &str,
    start: u64,
    took: u64,
) -> Span {
    let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let begin = t0 + Duration::from_millis(start);
    Span {
        data: SpanData {
            span_context: SpanContext::new(
                TraceId::from(trace),
                SpanId::from(id),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: SpanId::from(parent),
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: name.to_owned().into(),
            start_time: begin,
            end_time: begin + Duration::from_millis(took),
            attributes: Vec::new(),
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: InstrumentationScope::builder("test").build(),
        },
        service: Arc::from(service),
    }
}

/// The names of the spans printed (new ones only), sorted.
fn names(ready: &Ready) -> Vec<String> {
    let mut names: Vec<String> = ready.all[ready.printed_before..]
        .iter()
        .map(|s| s.data.name.to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn out_of_order_arrival_is_one_trace() {
    let mut j = joiner();
    let t0 = Instant::now();
    // The deepest span first, the root in the middle, a sibling last.
    j.add(vec![span(1, 3, 2, "app", "db", 2, 1)], t0);
    j.add(vec![span(1, 1, 0, "gateway", "root", 0, 10)], t0);
    j.add(vec![span(1, 2, 1, "app", "login", 1, 5)], t0);
    assert!(j.due(t0 + QUIET / 2).is_empty(), "not quiet yet");
    let ready = j.due(t0 + QUIET);
    assert_eq!(ready.len(), 1);
    assert_eq!(ready[0].why, Why::Complete);
    assert_eq!(names(&ready[0]), ["db", "login", "root"]);
    assert!(j.due(t0 + QUIET * 10).is_empty(), "printed once");
}

#[test]
fn spans_from_three_services_are_marked_where_the_service_changes() {
    let mut j = joiner();
    let t0 = Instant::now();
    let mut app = span(7, 3, 2, "app", "POST /login", 2, 6);
    app.data.parent_span_is_remote = true;
    j.add(
        vec![
            span(7, 1, 0, "gateway", "POST /login", 0, 10),
            span(7, 2, 1, "gateway", "POST", 1, 8),
            app,
            span(7, 4, 3, "app", "validate", 3, 1),
            span(7, 5, 3, "db", "SELECT users", 5, 2),
        ],
        t0,
    );
    let ready = j.due(t0 + QUIET);
    assert_eq!(ready.len(), 1);
    let text = render(&ready[0], false);
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.is_empty() && !l.contains(" = "))
        .map(|l| {
            // The tree part of the line: up to the gap before the duration.
            let from = l.find(|c: char| !" │├└─".contains(c)).unwrap_or(0);
            l[from..].find("  ").map_or(l, |gap| &l[..from + gap])
        })
        .collect();
    assert!(
        lines[0].starts_with("trace 00000000000000000000000000000007"),
        "{text}"
    );
    assert!(text.contains("service gateway → app → db"), "{text}");
    assert_eq!(
        &lines[1..],
        [
            "POST /login (gateway)",
            "└─ POST",
            "   └─ ⇢ POST /login (app)",
            "      ├─ validate",
            "      └─ ⇢ SELECT users (db)",
        ],
        "{text}"
    );
}

#[test]
fn a_child_after_its_root_joins_within_the_quiet_period() {
    let mut j = joiner();
    let t0 = Instant::now();
    j.add(vec![span(2, 1, 0, "gateway", "root", 0, 10)], t0);
    // Before the quiet period is over, the other service's batch comes.
    let t1 = t0 + QUIET / 2;
    assert!(j.due(t1).is_empty());
    j.add(vec![span(2, 2, 1, "app", "child", 1, 5)], t1);
    assert!(
        j.due(t0 + QUIET).is_empty(),
        "the child restarts the quiet period"
    );
    let ready = j.due(t1 + QUIET);
    assert_eq!(ready.len(), 1);
    assert_eq!(names(&ready[0]), ["child", "root"]);
}

#[test]
fn a_child_after_its_trace_was_printed_is_printed_as_late() {
    let mut j = joiner();
    let t0 = Instant::now();
    j.add(vec![span(3, 1, 0, "gateway", "root", 0, 10)], t0);
    assert_eq!(j.due(t0 + QUIET).len(), 1);
    let t1 = t0 + QUIET * 3;
    j.add(vec![span(3, 2, 1, "app", "late", 1, 5)], t1);
    let ready = j.due(t1 + QUIET);
    assert_eq!(ready.len(), 1);
    assert_eq!(ready[0].why, Why::Late);
    assert_eq!(names(&ready[0]), ["late"]);
    let text = render(&ready[0], false);
    assert!(
        text.starts_with("(1 late span of a trace printed before)\n"),
        "{text}"
    );
    // Its parent is not printed again; the page has the whole trace.
    assert!(text.contains("… ⇢ late (app)"), "{text}");
    assert_eq!(j.trace(TraceId::from(3)).unwrap().spans.len(), 2);
}

#[test]
fn a_trace_that_never_completes_is_printed_after_the_timeout() {
    let mut j = joiner();
    let t0 = Instant::now();
    j.add(vec![span(4, 2, 1, "app", "orphan", 1, 5)], t0);
    assert!(j.due(t0 + QUIET).is_empty(), "waits for its root");
    assert!(j.due(t0 + TIMEOUT - QUIET).is_empty());
    let ready = j.due(t0 + TIMEOUT);
    assert_eq!(ready.len(), 1);
    assert_eq!(ready[0].why, Why::NoRoot);
    let text = render(&ready[0], false);
    assert!(
        text.starts_with("(incomplete: its root span never arrived)\n"),
        "{text}"
    );
    assert!(j.due(t0 + TIMEOUT * 2).is_empty());
}

#[test]
fn flush_prints_what_is_pending_at_once() {
    let mut j = joiner();
    let t0 = Instant::now();
    j.add(vec![span(5, 1, 0, "gateway", "root", 0, 10)], t0);
    j.add(vec![span(6, 2, 1, "app", "orphan", 0, 1)], t0);
    let ready = j.flush();
    assert_eq!(ready.len(), 2);
    assert!(ready.iter().all(|r| r.why == Why::Flushed));
    assert!(j.flush().is_empty());
}

#[test]
fn a_duplicate_export_is_counted_and_ignored() {
    let mut j = joiner();
    let t0 = Instant::now();
    let batch = vec![
        span(8, 1, 0, "gateway", "root", 0, 10),
        span(8, 2, 1, "gateway", "child", 1, 5),
    ];
    j.add(batch.clone(), t0);
    j.add(batch, t0);
    let stats = j.stats();
    assert_eq!(stats.duplicates, 2);
    assert_eq!(stats.spans_held, 2);
    let ready = j.due(t0 + QUIET);
    assert_eq!(ready.len(), 1);
    assert_eq!(names(&ready[0]), ["child", "root"]);
    // A retry after printing does not print the trace again.
    j.add(vec![span(8, 2, 1, "gateway", "child", 1, 5)], t0 + QUIET);
    assert!(j.due(t0 + QUIET * 3).is_empty());
}

#[test]
fn memory_is_bounded_by_traces_and_spans() {
    let limits = Limits {
        max_traces: 10,
        max_spans: 25,
        max_spans_per_trace: 4,
        ..Limits::default()
    };
    let mut j = Joiner::new(
        limits,
        Timing {
            quiet: QUIET,
            timeout: TIMEOUT,
        },
    );
    let t0 = Instant::now();
    for trace in 1..=1_000u128 {
        let spans = (1..=6u64)
            .map(|id| span(trace, id, id - 1, "svc", "s", id, 1))
            .collect();
        j.add(spans, t0);
        let stats = j.stats();
        assert!(
            stats.traces_held <= 10 && stats.spans_held <= 25,
            "{stats:?}"
        );
    }
    let stats = j.stats();
    assert_eq!(stats.spans_received, 6_000);
    assert_eq!(stats.dropped_over_trace_limit, 2 * 1_000);
    assert!(stats.traces_evicted >= 990, "{stats:?}");
    // The oldest go first; those not printed yet are printed as let go.
    let newest: Vec<TraceId> = j.snapshot().iter().map(|t| t.id).collect();
    assert_eq!(newest[0], TraceId::from(1_000));
    let ready = j.due(t0);
    assert!(ready.iter().all(|r| r.why == Why::Evicted));
    assert!(ready.len() >= 990);
}

/// A log record of span `span` (0: none) of trace `trace`.
fn log(trace: u128, span: u64, body: &str) -> Log {
    Log {
        trace_id: TraceId::from(trace),
        span_id: SpanId::from(span),
        service: Arc::from("app"),
        time: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        severity: "INFO".to_owned(),
        body: body.to_owned(),
        attributes: Vec::new(),
    }
}

// Regression for #25: 50 000 spans of a few bytes and 50 000 of a
// megabyte each are not the same memory; the bytes held are bounded too.
#[test]
fn memory_is_bounded_by_bytes() {
    let limits = Limits {
        max_bytes: 1024 * 1024,
        ..Limits::default()
    };
    let mut j = Joiner::new(
        limits,
        Timing {
            quiet: QUIET,
            timeout: TIMEOUT,
        },
    );
    let t0 = Instant::now();
    let big = "x".repeat(100_000);
    for trace in 1..=100u128 {
        let mut root = span(trace, 1, 0, "svc", "big", 0, 1);
        root.data
            .attributes
            .push(opentelemetry::KeyValue::new("payload", big.clone()));
        j.add(vec![root], t0);
        j.add_logs(vec![log(trace, 1, &big)], t0);
        let stats = j.stats();
        assert!(stats.bytes_held <= 1024 * 1024, "{stats:?}");
    }
    let stats = j.stats();
    assert!(
        stats.traces_held >= 2 && stats.traces_held <= 5,
        "{stats:?}"
    );
    assert!(stats.traces_evicted >= 95, "{stats:?}");
    assert!(stats.bytes_held > 200_000, "{stats:?}");
    assert!(j.due(t0).iter().all(|r| r.why == Why::Evicted));
}

#[test]
fn log_records_join_their_trace_but_never_make_it_due() {
    let mut j = joiner();
    let t0 = Instant::now();
    // Records first: no spans, nothing to print or list yet.
    j.add_logs(vec![log(9, 1, "before"), log(0, 0, "of no trace")], t0);
    assert!(j.due(t0 + TIMEOUT * 2).is_empty());
    assert!(j.snapshot().is_empty());
    let stats = j.stats();
    assert_eq!(
        (
            stats.logs_received,
            stats.logs_without_trace,
            stats.logs_held
        ),
        (2, 1, 1)
    );

    let t1 = t0 + TIMEOUT * 2;
    j.add(vec![span(9, 1, 0, "app", "root", 0, 10)], t1);
    j.add_logs(vec![log(9, 1, "during")], t1 + QUIET / 2);
    assert!(
        j.due(t1 + QUIET).is_empty(),
        "a record restarts the quiet period"
    );
    let ready = j.due(t1 + QUIET * 2);
    assert_eq!(ready.len(), 1);
    assert_eq!(ready[0].logs.len(), 2);
    let text = render(&ready[0], false);
    assert!(text.contains("◆ log INFO before"), "{text}");
    assert!(text.contains("◆ log INFO during"), "{text}");
    assert_eq!(j.snapshot()[0].logs.len(), 2);
}
