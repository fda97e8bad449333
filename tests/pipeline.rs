//! Our own span pipeline (`TRACED_PIPELINE=traced`), behaviour by
//! behaviour: what the SDK path does stays true on it. The behaviour suite
//! as a whole runs on it too, with `TRACED_PIPELINE=traced cargo test
//! --test nesting ...` (every `traced::testing` capture then runs on it);
//! the tests here run on it whatever the environment says.

mod support;

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::trace::{
    Link, Span as _, SpanContext, SpanId, Status, TraceContextExt as _, TraceFlags, TraceId,
    TraceState, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue, Value};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Sampler, SpanData, SpanExporter, SpanLimits};
use serial_test::serial;
use support::spans::*;
use traced::testing::Capture;
use traced::{PipelineProvider, traced};

/// Keeps every exported span, across shutdown (the SDK's in-memory
/// exporter forgets them when shut down).
#[derive(Debug, Clone, Default)]
struct Collect(Arc<Mutex<Vec<SpanData>>>);

impl Collect {
    fn spans(&self) -> Vec<SpanData> {
        self.0.lock().unwrap().clone()
    }
}

impl SpanExporter for Collect {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.lock().unwrap().extend(batch);
        Ok(())
    }
}

#[traced]
fn outer() -> u32 {
    let tracer = opentelemetry::global::tracer("manual");
    tracer.in_span("manual", |_| inner())
}

#[traced]
fn inner() -> u32 {
    1
}

#[traced]
fn fails(n: i64) -> Result<i64, std::num::ParseIntError> {
    "x".parse::<i64>().map(|v| v + n)
}

#[test]
fn parents_are_right_both_ways_through_the_global_provider() {
    let capture = Capture::start_pipeline();
    assert!(capture.on_pipeline());
    assert_eq!(outer(), 1);
    // A root through the OpenTelemetry API, with a #[traced] child.
    opentelemetry::global::tracer("manual").in_span("api-root", |_| inner());
    let spans = capture.spans();
    assert_eq!(spans.len(), 5, "{}", spans.tree());
    let all = spans.all();
    let by = |name: &str, parent: Option<SpanId>| {
        all.iter()
            .find(|s| s.name == name && parent.is_none_or(|p| s.parent_span_id == p))
            .unwrap_or_else(|| panic!("{name}: {}", spans.tree()))
    };
    let (o, m) = (by("outer", None), by("manual", None));
    let i = by("inner", Some(m.span_context.span_id()));
    assert_eq!(o.parent_span_id, SpanId::INVALID);
    assert_eq!(m.parent_span_id, o.span_context.span_id());
    assert_eq!(i.span_context.trace_id(), o.span_context.trace_id());
    let root = by("api-root", None);
    let child = by("inner", Some(root.span_context.span_id()));
    assert_eq!(child.span_context.trace_id(), root.span_context.trace_id());
    assert_eq!(m.instrumentation_scope.name(), "manual");
    assert_eq!(
        attr(i, "code.function.name"),
        Some(&Value::from("pipeline::inner"))
    );
}

#[test]
fn errors_events_links_and_status_as_on_the_sdk_path() {
    let capture = Capture::start_pipeline();
    assert!(fails(2).is_err());
    let tracer = opentelemetry::global::tracer("manual");
    let linked = SpanContext::new(
        TraceId::from(7),
        SpanId::from(9),
        TraceFlags::SAMPLED,
        true,
        TraceState::NONE,
    );
    let mut span = tracer
        .span_builder("api")
        .with_links(vec![Link::with_context(linked.clone())])
        .with_attributes([KeyValue::new("at.start", 1)])
        .start(&tracer);
    span.add_event("record inserted", vec![KeyValue::new("id", 42)]);
    span.set_attribute(KeyValue::new("later", true));
    span.set_status(Status::error("boom"));
    span.set_status(Status::Unset); // Unset never wins over Error.
    span.update_name("api renamed");
    span.end();
    let spans = capture.spans();
    let failed = spans.one("fails");
    assert!(is_error(failed));
    assert_eq!(exceptions(failed).len(), 1);
    assert_eq!(attr(failed, "n"), Some(&Value::I64(2)));
    let api = spans.one("api renamed");
    assert_eq!(api.links.links.len(), 1);
    assert_eq!(api.links.links[0].span_context, linked);
    assert_eq!(api.events.events[0].name, "record inserted");
    assert_eq!(attr(api, "at.start"), Some(&Value::I64(1)));
    assert_eq!(attr(api, "later"), Some(&Value::Bool(true)));
    assert_eq!(description(api), "boom");
    assert!(api.end_time >= api.start_time);
}

#[test]
fn span_limits_and_value_truncation() {
    let out = Collect::default();
    let limits = SpanLimits {
        max_attributes_per_span: 2,
        max_events_per_span: 1,
        max_links_per_span: 1,
        max_attributes_per_event: 1,
        ..SpanLimits::default()
    };
    let provider = PipelineProvider::builder()
        .with_exporter(out.clone())
        .with_span_limits(limits)
        .with_value_length_limit(Some(3))
        .build()
        .unwrap();
    let tracer = provider.tracer("limits");
    let link = |n| {
        Link::with_context(SpanContext::new(
            TraceId::from(n),
            SpanId::from(n as u64),
            TraceFlags::SAMPLED,
            true,
            TraceState::NONE,
        ))
    };
    let mut span = tracer
        .span_builder("limited")
        .with_links(vec![link(1), link(2)])
        .start(&tracer);
    span.set_attribute(KeyValue::new("a", "abcdef"));
    span.set_attribute(KeyValue::new("b", 1));
    span.set_attribute(KeyValue::new("c", 2));
    span.add_event(
        "e1",
        vec![KeyValue::new("x", "long value"), KeyValue::new("y", 1)],
    );
    span.add_event("e2", vec![]);
    span.end();
    provider.shutdown().unwrap();
    let spans = out.spans();
    let span = &spans[0];
    assert_eq!(span.attributes.len(), 2);
    assert_eq!(span.dropped_attributes_count, 1);
    assert_eq!(attr(span, "a"), Some(&Value::from("abc")));
    assert_eq!(span.events.events.len(), 1);
    assert_eq!(span.events.dropped_count, 1);
    assert_eq!(span.events.events[0].dropped_attributes_count, 1);
    assert_eq!(
        span.events.events[0].attributes[0].value,
        Value::from("lon")
    );
    assert_eq!(span.links.links.len(), 1);
    assert_eq!(span.links.dropped_count, 1);
}

#[traced]
fn flags_here() -> TraceFlags {
    Context::current().span().span_context().trace_flags()
}

#[test]
fn samplers_and_the_w3c_random_flag() {
    let random = traced::TRACE_FLAG_RANDOM.to_u8();
    let remote = |flags: u8| {
        Context::new().with_remote_span_context(SpanContext::new(
            TraceId::from(0x1234),
            SpanId::from(0x56),
            TraceFlags::new(flags),
            true,
            TraceState::NONE,
        ))
    };
    // Parent-based (the default): a sampled, random caller's flags carry on.
    let capture = Capture::start_pipeline();
    let flags = {
        let _in = remote(0x01 | random).attach();
        flags_here()
    };
    assert_eq!(flags.to_u8(), 0x01 | random);
    // An unsampled, random caller: no span, and the flag is kept for the
    // children (as on the SDK path).
    let flags = {
        let _in = remote(random).attach();
        flags_here()
    };
    assert_eq!(flags.to_u8(), random);
    // A root span: its trace id is the default generator's, random, and
    // the pipeline sets the flag itself from the start.
    assert_eq!(flags_here().to_u8(), 0x01 | random);
    let spans = capture.spans();
    assert_eq!(spans.len(), 2, "{}", spans.tree());
    let remote_parents = spans
        .all()
        .iter()
        .filter(|s| s.parent_span_is_remote)
        .count();
    assert_eq!(remote_parents, 1, "{}", spans.tree());
    // The capture's turn is held on: no other capture swaps providers
    // while the ones below are installed, and its drop restores the slot.

    // The SDK's samplers decide, e.g. what `OTEL_TRACES_SAMPLER=always_off`
    // and `traceidratio` give.
    for (sampler, expected) in [
        (Sampler::AlwaysOff, 0),
        (Sampler::TraceIdRatioBased(0.0), 0),
        (Sampler::TraceIdRatioBased(1.0), 3),
    ] {
        let out = Collect::default();
        let provider = PipelineProvider::builder()
            .with_exporter(out.clone())
            .with_sampler(sampler)
            .build()
            .unwrap();
        let previous = traced::set_pipeline_provider(provider.clone());
        assert!(previous.is_some(), "the capture's, then the last loop's");
        for _ in 0..3 {
            flags_here();
        }
        provider.force_flush().unwrap();
        assert_eq!(out.spans().len(), expected);
        provider.shutdown().unwrap();
        // Spans started after shutdown record nothing.
        assert!(!provider.tracer("late").start("late").is_recording());
    }
    // A generator of the user's may not make random ids: its root spans
    // are not flagged random.
    #[derive(Debug)]
    struct Sequential(std::sync::atomic::AtomicU64);
    impl opentelemetry_sdk::trace::IdGenerator for Sequential {
        fn new_trace_id(&self) -> TraceId {
            TraceId::from(u128::from(self.0.fetch_add(1, Ordering::Relaxed)) + 1)
        }
        fn new_span_id(&self) -> SpanId {
            SpanId::from(self.0.fetch_add(1, Ordering::Relaxed) + 1)
        }
    }
    {
        let provider = PipelineProvider::builder()
            .with_id_generator(Sequential(0.into()))
            .build()
            .unwrap();
        traced::set_pipeline_provider(provider.clone());
        assert_eq!(flags_here().to_u8(), 0x01);
        provider.shutdown().unwrap();
    }
    drop(capture);
}

#[test]
fn spans_outlive_threads_and_cross_them() {
    let capture = Capture::start_pipeline();
    let tracer = opentelemetry::global::tracer("threads");
    // Started on a thread that is gone when the span ends.
    let span =
        std::thread::spawn(|| opentelemetry::global::tracer("threads").start("born elsewhere"))
            .join()
            .unwrap();
    // Started here, ended on another thread.
    let moved = tracer.start("moved");
    let (tx, rx) = mpsc::channel();
    let ender = std::thread::spawn(move || {
        let mut span: opentelemetry::global::BoxedSpan = rx.recv().unwrap();
        span.end();
    });
    tx.send(moved).unwrap();
    ender.join().unwrap();
    drop(span);
    let spans = capture.spans();
    spans.one("born elsewhere");
    spans.one("moved");
}

#[traced]
async fn leaf(n: u32) -> u32 {
    tokio::task::yield_now().await;
    n
}

#[traced]
async fn fan_out() -> u32 {
    let mut total = 0;
    for n in 0..4 {
        total += tokio::spawn(leaf(n)).await.unwrap();
        total += leaf(n).await;
    }
    total
}

#[test]
fn async_spans_follow_their_futures() {
    let capture = Capture::start_pipeline();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    assert_eq!(runtime.block_on(fan_out()), 12);
    drop(runtime);
    let spans = capture.spans();
    let root = spans.one("fan_out");
    let leaves: Vec<&SpanData> = spans.all().iter().filter(|s| s.name == "leaf").collect();
    assert_eq!(leaves.len(), 8);
    // Spawned or awaited, a leaf's span starts when `leaf(n)` is called,
    // inside `fan_out`'s: all are its children.
    let children = leaves
        .iter()
        .filter(|s| s.parent_span_id == root.span_context.span_id())
        .count();
    assert_eq!(children, 8, "{}", spans.tree());
}

/// Blocks its first export until released, to fill the queue behind it.
#[derive(Debug)]
struct Stuck {
    out: Collect,
    started: Mutex<Option<mpsc::Sender<()>>>,
    release: Mutex<Option<mpsc::Receiver<()>>>,
}

impl SpanExporter for Stuck {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        if let Some(started) = self.started.lock().unwrap().take() {
            started.send(()).unwrap();
            let release = self.release.lock().unwrap().take().unwrap();
            release.recv().unwrap();
        }
        self.out.export(batch).await
    }
}

/// Holds its first export until released (so that batches pile up behind
/// it), then records how many of its exports are in flight at once. Each
/// later export's future returns `Pending` once, waking itself at once (so
/// nothing waits on a timer), before it completes: exports polled together
/// overlap, exports run one after the other do not.
#[derive(Debug)]
struct Overlap {
    out: Collect,
    started: Mutex<Option<mpsc::Sender<()>>>,
    release: Mutex<Option<mpsc::Receiver<()>>>,
    /// In flight now, and the most at once.
    state: Mutex<(usize, usize)>,
}

impl Overlap {
    fn peak(&self) -> usize {
        self.state.lock().unwrap().1
    }
}

impl SpanExporter for &'static Overlap {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let first = self.started.lock().unwrap().take();
        if let Some(started) = first {
            started.send(()).unwrap();
            let release = self.release.lock().unwrap().take().unwrap();
            release.recv().unwrap();
            return self.out.export(batch).await;
        }
        {
            let mut state = self.state.lock().unwrap();
            state.0 += 1;
            state.1 = state.1.max(state.0);
        }
        let mut yielded = false;
        std::future::poll_fn(|cx| {
            if yielded {
                std::task::Poll::Ready(())
            } else {
                yielded = true;
                cx.waker().wake_by_ref();
                std::task::Poll::Pending
            }
        })
        .await;
        self.state.lock().unwrap().0 -= 1;
        self.out.export(batch).await
    }
}

// Regression for #25: with `max_concurrent_exports` above 1, one SDK
// exporter had several of its exports in flight at once, which
// `SpanExporter` promises never happens.
#[test]
fn an_sdk_exporter_gets_one_export_at_a_time_whatever_the_limit() {
    for limit in [1, 2, 3, 8] {
        let (started_tx, started) = mpsc::channel();
        let (release, release_rx) = mpsc::channel();
        let exporter: &'static Overlap = Box::leak(Box::new(Overlap {
            out: Collect::default(),
            started: Mutex::new(Some(started_tx)),
            release: Mutex::new(Some(release_rx)),
            state: Mutex::new((0, 0)),
        }));
        let provider = PipelineProvider::builder()
            .with_exporter(exporter)
            .with_max_export_batch_size(2)
            .with_max_concurrent_exports(limit)
            .build()
            .unwrap();
        let tracer = provider.tracer("overlap");
        // A whole batch wakes the export thread, whose export is held.
        tracer.start("first").end();
        tracer.start("second").end();
        started
            .recv_timeout(Duration::from_secs(10))
            .expect("the export thread takes the first batch");
        // Three whole batches wait behind it.
        for _ in 0..6 {
            tracer.start("queued").end();
        }
        release.send(()).unwrap();
        provider.force_flush().unwrap();
        assert_eq!(exporter.peak(), 1, "limit {limit}");
        assert_eq!(exporter.out.spans().len(), 8, "limit {limit}");
        provider.shutdown().unwrap();
    }
}

/// Exports that stay out, without blocking the export thread, until
/// released: each says when it starts.
#[derive(Debug)]
struct Gated {
    out: Collect,
    started: Mutex<mpsc::Sender<String>>,
    /// Released, and the exports waiting for it.
    gate: Mutex<(bool, Vec<std::task::Waker>)>,
}

impl Gated {
    fn release(&self) {
        let mut gate = self.gate.lock().unwrap();
        gate.0 = true;
        for waker in gate.1.drain(..) {
            waker.wake();
        }
    }
}

impl SpanExporter for &'static Gated {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let names: Vec<String> = batch.iter().map(|s| s.name.to_string()).collect();
        self.started.lock().unwrap().send(names.join(",")).unwrap();
        std::future::poll_fn(|cx| {
            let mut gate = self.gate.lock().unwrap();
            if gate.0 {
                std::task::Poll::Ready(())
            } else {
                gate.1.push(cx.waker().clone());
                std::task::Poll::Pending
            }
        })
        .await;
        self.out.export(batch).await
    }
}

/// Says which spans each export got, as it starts.
#[derive(Debug)]
struct Tells(Mutex<mpsc::Sender<String>>);

impl SpanExporter for Tells {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let names: Vec<String> = batch.iter().map(|s| s.name.to_string()).collect();
        self.0.lock().unwrap().send(names.join(",")).unwrap();
        Ok(())
    }
}

// Regression for #25: one exporter at a time, but the exporters of a
// pipeline do not wait for each other: the next batch goes to the first
// while the second still exports the last one.
#[test]
fn a_batch_goes_to_one_exporter_while_another_still_has_the_last() {
    let (told, first) = mpsc::channel();
    let (started_tx, second) = mpsc::channel();
    let gated: &'static Gated = Box::leak(Box::new(Gated {
        out: Collect::default(),
        started: Mutex::new(started_tx),
        gate: Mutex::new((false, Vec::new())),
    }));
    let provider = PipelineProvider::builder()
        .with_exporter(Tells(Mutex::new(told)))
        .with_exporter(gated)
        .with_max_export_batch_size(1)
        .with_max_concurrent_exports(2)
        .build()
        .unwrap();
    let tracer = provider.tracer("window");
    let wait = |rx: &mpsc::Receiver<String>, what: &str| {
        rx.recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("{what}"))
    };
    tracer.start("a").end();
    assert_eq!(wait(&first, "the first exporter gets a"), "a");
    assert_eq!(wait(&second, "the second exporter gets a"), "a");
    // `a` is still out at the second exporter: `b` goes to the first.
    tracer.start("b").end();
    assert_eq!(wait(&first, "the first exporter gets b meanwhile"), "b");
    // ... but not to the second, whose export of `a` has not returned.
    std::thread::sleep(Duration::from_millis(50));
    assert!(
        second.try_recv().is_err(),
        "the second exporter got b early"
    );
    gated.release();
    assert_eq!(wait(&second, "the second exporter gets b"), "b");
    provider.force_flush().unwrap();
    let mut names: Vec<String> = gated
        .out
        .spans()
        .iter()
        .map(|s| s.name.to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["a", "b"]);
    provider.shutdown().unwrap();
}

// Reads `dropped_spans()`, which every pipeline in the process adds to.
#[test]
#[serial(dropped)]
fn a_full_queue_drops_spans_and_counts_them() {
    let out = Collect::default();
    let (started_tx, started) = mpsc::channel();
    let (release, release_rx) = mpsc::channel();
    let provider = PipelineProvider::builder()
        .with_exporter(Stuck {
            out: out.clone(),
            started: Mutex::new(Some(started_tx)),
            release: Mutex::new(Some(release_rx)),
        })
        .with_max_queue_size(4)
        .with_max_export_batch_size(1)
        .build()
        .unwrap();
    let tracer = provider.tracer("full");
    tracer.start("first").end();
    started
        .recv_timeout(Duration::from_secs(10))
        .expect("the export thread takes the first span");
    let before = traced::dropped_spans();
    for _ in 0..6 {
        tracer.start("queued").end();
    }
    assert_eq!(traced::dropped_spans() - before, 2, "4 fit the queue");
    release.send(()).unwrap();
    provider.shutdown().unwrap();
    assert_eq!(out.spans().len(), 5);
}

/// Waits until `done` holds, for at most 10 s.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

// Regression for #25: a shutdown that timed out counted as dropped the
// spans it left, which the export thread then delivered all the same.
// Reads `dropped_spans()`, which every pipeline in the process adds to.
#[test]
#[serial(dropped)]
fn a_shutdown_that_cannot_wait_counts_each_span_once() {
    let out = Collect::default();
    let (started_tx, started) = mpsc::channel();
    let (release, release_rx) = mpsc::channel();
    let provider = PipelineProvider::builder()
        .with_exporter(Stuck {
            out: out.clone(),
            started: Mutex::new(Some(started_tx)),
            release: Mutex::new(Some(release_rx)),
        })
        .with_max_export_batch_size(1)
        .build()
        .unwrap();
    let tracer = provider.tracer("stuck");
    tracer.start("in flight").end();
    started
        .recv_timeout(Duration::from_secs(10))
        .expect("the export thread takes the span");
    tracer.start("queued").end();
    let before = traced::dropped_spans();
    assert!(
        provider
            .shutdown_with_timeout(Duration::from_millis(50))
            .is_err()
    );
    assert_eq!(
        traced::dropped_spans() - before,
        2,
        "one in flight, one queued: the process may go now"
    );
    // It does not: the export in flight returns and delivers its span.
    release.send(()).unwrap();
    eventually("the span in flight is delivered", || out.spans().len() == 1);
    eventually("and taken back out of the count", || {
        traced::dropped_spans() - before == 1
    });
    // The queued one was counted: it is never exported.
    std::thread::sleep(Duration::from_millis(50));
    let names: Vec<_> = out.spans().iter().map(|s| s.name.to_string()).collect();
    assert_eq!(names, ["in flight"]);
    assert_eq!(traced::dropped_spans() - before, 1);
}

// Regression for #25: a span that ended after shutdown went nowhere and
// was not counted.
// Reads `dropped_spans()`, which every pipeline in the process adds to.
#[test]
#[serial(dropped)]
fn a_span_that_ends_after_shutdown_is_counted() {
    let out = Collect::default();
    let provider = PipelineProvider::builder()
        .with_exporter(out.clone())
        .build()
        .unwrap();
    let tracer = provider.tracer("late");
    let mut late = tracer.start("late");
    tracer.start("in time").end();
    let before = traced::dropped_spans();
    provider.shutdown().unwrap();
    late.end();
    assert_eq!(traced::dropped_spans() - before, 1);
    let names: Vec<_> = out.spans().iter().map(|s| s.name.to_string()).collect();
    assert_eq!(names, ["in time"]);
}

// Regression for #25: spans that end while the pipeline shuts down, on
// many threads, with a slow exporter and a queue that overflows: each is
// exported or counted, exactly once.
// Reads `dropped_spans()`, which every pipeline in the process adds to.
#[test]
#[serial(dropped)]
fn spans_ending_during_shutdown_are_exported_or_counted_once() {
    /// Exports slowly, so that the queue fills and the shutdown races.
    #[derive(Debug, Clone, Default)]
    struct Slow(Collect);
    impl SpanExporter for Slow {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            std::thread::sleep(Duration::from_micros(200));
            self.0.export(batch).await
        }
    }
    for round in 0..5 {
        let out = Slow::default();
        let provider = PipelineProvider::builder()
            .with_exporter(out.clone())
            .with_max_queue_size(256)
            .with_max_export_batch_size(16)
            .build()
            .unwrap();
        let before = traced::dropped_spans();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let tracer = provider.tracer("race");
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut ended = 0u64;
                    // Started before the shutdown, ended around it.
                    let mut open: Vec<_> = (0..64).map(|_| tracer.start("unit")).collect();
                    while !stop.load(Ordering::Relaxed) || !open.is_empty() {
                        if let Some(mut span) = open.pop() {
                            // One started after the shutdown does not record.
                            ended += u64::from(span.is_recording());
                            span.end();
                        }
                        if !stop.load(Ordering::Relaxed) {
                            open.push(tracer.start("unit"));
                        }
                    }
                    ended
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(20));
        let result = provider.shutdown_with_timeout(Duration::from_millis(if round % 2 == 0 {
            1
        } else {
            5_000
        }));
        stop.store(true, Ordering::Relaxed);
        let ended: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
        // A shutdown that timed out leaves an export that returns later.
        eventually("every span exported or counted", || {
            out.0.spans().len() as u64 + (traced::dropped_spans() - before) == ended
        });
        std::thread::sleep(Duration::from_millis(20));
        let exported = out.0.spans().len() as u64;
        let dropped = traced::dropped_spans() - before;
        assert_eq!(
            exported + dropped,
            ended,
            "round {round} ({result:?}): {exported} exported, {dropped} dropped"
        );
    }
}

// Regression for #25: a flush waited for an empty queue, which producers
// under sustained load never leave: it timed out, although the spans that
// ended before it were long exported.
// Reads `dropped_spans()`, which every pipeline in the process adds to
// (the queue overflows here).
#[test]
#[serial(dropped)]
fn a_flush_under_sustained_load_returns_once_what_ended_before_is_exported() {
    /// Takes its time over each batch, so that the queue is never empty,
    /// and counts what it exported.
    #[derive(Debug, Clone, Default)]
    struct Slow(Collect, Arc<std::sync::atomic::AtomicU64>);
    impl SpanExporter for Slow {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            std::thread::sleep(Duration::from_micros(300));
            self.1.fetch_add(batch.len() as u64, Ordering::SeqCst);
            self.0.export(batch).await
        }
    }
    /// Stops the producers however the test ends.
    struct Stop(Arc<std::sync::atomic::AtomicBool>);
    impl Drop for Stop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let out = Slow::default();
    let provider = PipelineProvider::builder()
        .with_exporter(out.clone())
        .with_max_queue_size(1024)
        .with_max_export_batch_size(64)
        .with_export_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let stop = Stop(Arc::new(std::sync::atomic::AtomicBool::new(false)));
    let pushed = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let producers: Vec<_> = (0..2)
        .map(|_| {
            let tracer = provider.tracer("load");
            let (stop, pushed, exported) = (stop.0.clone(), pushed.clone(), out.1.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    // Half a queue ahead of the exporter at most: the queue
                    // never empties, and never overflows (which would drop
                    // the marker below).
                    if pushed
                        .load(Ordering::SeqCst)
                        .saturating_sub(exported.load(Ordering::SeqCst))
                        >= 512
                    {
                        std::thread::yield_now();
                        continue;
                    }
                    pushed.fetch_add(1, Ordering::SeqCst);
                    tracer.start("load").end();
                }
            })
        })
        .collect();
    let tracer = provider.tracer("marker");
    std::thread::sleep(Duration::from_millis(50));
    let before = traced::dropped_spans();
    for round in 0..3 {
        let marker = format!("marker {round}");
        tracer.start(marker.clone()).end();
        // Under load the old flush waited for an empty queue, which never
        // came: it ran out its export timeout and said so.
        let flushed = provider.force_flush();
        let exported = out.0.spans().iter().any(|s| s.name == marker);
        assert!(flushed.is_ok(), "round {round}: {flushed:?}");
        assert!(
            exported,
            "round {round}: the flush returned before the span that ended before it was exported"
        );
    }
    assert_eq!(
        traced::dropped_spans(),
        before,
        "the queue never overflowed"
    );
    drop(stop);
    for producer in producers {
        producer.join().unwrap();
    }
    provider.shutdown().unwrap();
}

/// Panics in its first export, or in `force_flush`/`shutdown` when told.
#[derive(Debug, Default)]
struct Panics {
    out: Collect,
    exports: std::sync::atomic::AtomicUsize,
    in_flush: bool,
}

impl SpanExporter for Panics {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        if self.exports.fetch_add(1, Ordering::SeqCst) == 0 {
            panic!("the exporter's own bug");
        }
        self.out.export(batch).await
    }

    fn force_flush(&self) -> OTelSdkResult {
        assert!(!self.in_flush, "a bug in force_flush");
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        assert!(!self.in_flush, "a bug in shutdown");
        Ok(())
    }
}

impl SpanExporter for &'static Panics {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        (*self).export(batch).await
    }
}

// Regression for #25: an exporter that panicked killed the export thread
// unnoticed; every flush and the shutdown then waited their whole timeout,
// and nothing more was exported.
// Reads `dropped_spans()`, which every pipeline in the process adds to.
#[test]
#[serial(dropped)]
fn an_exporter_that_panics_loses_its_batch_alone() {
    let exporter: &'static Panics = Box::leak(Box::default());
    let provider = PipelineProvider::builder()
        .with_exporter(exporter)
        .with_max_export_batch_size(1)
        .with_export_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let tracer = provider.tracer("panics");
    let before = traced::dropped_spans();
    tracer.start("lost").end();
    // Answered with the panic, not after waiting out the export timeout
    // for a thread that died (told apart by the error, not by a clock).
    match provider.force_flush() {
        Err(opentelemetry_sdk::error::OTelSdkError::Timeout(waited)) => {
            panic!("the flush waited {waited:?} for a dead export thread")
        }
        Err(_) => {}
        Ok(()) => panic!("the export panicked, the flush must say so"),
    }
    tracer.start("after").end();
    provider.force_flush().unwrap();
    provider.shutdown().unwrap();
    assert_eq!(
        traced::dropped_spans() - before,
        1,
        "the batch that was lost"
    );
    let names: Vec<_> = exporter
        .out
        .spans()
        .iter()
        .map(|s| s.name.to_string())
        .collect();
    assert_eq!(names, ["after"]);
}

// Regression for #25: a panic in an exporter's flush or shutdown ends
// neither the export thread nor the caller's wait.
#[test]
fn an_exporter_that_panics_in_flush_or_shutdown_is_answered_at_once() {
    let exporter = Panics {
        in_flush: true,
        ..Panics::default()
    };
    exporter.exports.store(1, Ordering::SeqCst);
    let out = exporter.out.clone();
    let provider = PipelineProvider::builder()
        .with_exporter(exporter)
        .with_export_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let tracer = provider.tracer("panics");
    tracer.start("one").end();
    // Answered with the panic, not after the export timeout (told apart
    // by the error, not by a clock).
    let not_a_timeout = |result: OTelSdkResult| {
        assert!(
            matches!(result, Err(ref err) if !matches!(err, opentelemetry_sdk::error::OTelSdkError::Timeout(_))),
            "{result:?}"
        );
    };
    not_a_timeout(provider.force_flush());
    tracer.start("two").end();
    not_a_timeout(provider.shutdown());
    assert_eq!(out.spans().len(), 2);
}

/// Starts a span on its own pipeline in every export, as an exporter
/// that calls instrumented code (an HTTP client, a `tracing` bridge) does.
#[derive(Debug, Default)]
struct Echoes {
    out: Collect,
    tracer: std::sync::OnceLock<traced::PipelineTracer>,
    recording: std::sync::atomic::AtomicUsize,
}

impl SpanExporter for &'static Echoes {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        if let Some(tracer) = self.tracer.get() {
            let mut echo = tracer.start("echo");
            if echo.is_recording() {
                self.recording.fetch_add(1, Ordering::SeqCst);
            }
            echo.end();
        }
        self.out.export(batch).await
    }
}

// Regression for #25: the export thread did not suppress its own
// telemetry, so an exporter that makes spans fed them back to itself.
#[test]
fn the_export_thread_makes_no_telemetry() {
    let exporter: &'static Echoes = Box::leak(Box::default());
    let provider = PipelineProvider::builder()
        .with_exporter(exporter)
        .build()
        .unwrap();
    let _ = exporter.tracer.set(provider.tracer("exporter"));
    provider.tracer("app").start("work").end();
    provider.force_flush().unwrap();
    provider.force_flush().unwrap();
    let names: Vec<_> = exporter
        .out
        .spans()
        .iter()
        .map(|s| s.name.to_string())
        .collect();
    assert_eq!(names, ["work"]);
    assert_eq!(exporter.recording.load(Ordering::SeqCst), 0);
    provider.shutdown().unwrap();
}

// Reads `dropped_spans()`, which every pipeline in the process adds to.
#[test]
#[serial(dropped)]
fn stress_many_threads_then_shutdown_exports_every_span_once() {
    const THREADS: usize = 8;
    const SPANS: usize = 4000;
    let out = Collect::default();
    let provider = PipelineProvider::builder()
        .with_exporter(out.clone())
        .with_max_queue_size(THREADS * SPANS * 2)
        .with_max_export_batch_size(256)
        .build()
        .unwrap();
    let before = traced::dropped_spans();
    let (tx, rx) = mpsc::channel::<traced::PipelineSpan>();
    // A thread that ends spans others started.
    let ender = std::thread::spawn(move || {
        let mut ended = 0;
        for mut span in rx {
            span.end();
            ended += 1;
        }
        ended
    });
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let tracer = provider.tracer("stress");
            let tx = tx.clone();
            std::thread::spawn(move || {
                for i in 0..SPANS {
                    let mut span = tracer.start("unit");
                    span.set_attribute(KeyValue::new("id", (t * SPANS + i) as i64));
                    if i % 2 == 0 {
                        let cx = Context::new().with_span(span);
                        let mut child = tracer.start_with_context("child", &cx);
                        child.set_attribute(KeyValue::new("id", (t * SPANS + i) as i64));
                        tx.send(child).unwrap();
                        drop(cx);
                    } else {
                        span.end();
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    drop(tx);
    let sent = ender.join().unwrap();
    assert_eq!(sent, THREADS * SPANS / 2);
    provider.shutdown().unwrap();
    assert_eq!(traced::dropped_spans(), before, "the queue held everything");
    let spans = out.spans();
    let units: Vec<i64> = ids(&spans, "unit");
    let children: Vec<i64> = ids(&spans, "child");
    assert_eq!(units.len(), THREADS * SPANS, "every unit exported");
    assert_eq!(children.len(), THREADS * SPANS / 2, "every child exported");
    assert_eq!(
        units.iter().collect::<HashSet<_>>().len(),
        units.len(),
        "once"
    );
    assert_eq!(
        children.iter().collect::<HashSet<_>>().len(),
        children.len(),
        "once"
    );
}

fn ids(spans: &[SpanData], name: &str) -> Vec<i64> {
    spans
        .iter()
        .filter(|s| s.name == name)
        .map(|s| match attr(s, "id") {
            Some(Value::I64(id)) => *id,
            other => panic!("id: {other:?}"),
        })
        .collect()
}
