//! Per-call overhead of instrumenting `work(a: u64, b: &str) -> u64`: no
//! instrumentation, hand-written OpenTelemetry, `#[traced]`,
//! `#[tracing::instrument]` through `tracing-opentelemetry`, and
//! `#[fastrace::trace]`, under four pipelines. `scripts/bench-table.py`
//! turns the results into `docs/performance.md`.
//!
//! Groups run in this order because a provider cannot be uninstalled:
//! `disabled` (nothing installed: no provider, no `tracing` subscriber, no
//! fastrace reporter; then `traced_sdk_disabled` after
//! `OTEL_SDK_DISABLED=true`), `unsampled`, `sampled_simple`, `sampled_batch`.
//!
//! ```text
//! cargo bench --bench overhead -- --warm-up-time 1 --measurement-time 3
//! ```

mod common;

use std::hint::black_box;

use common::{
    Pipeline, hand_written, hand_written_code_attrs, install_sdk_disabled, sdk_tracer,
    tracing_subscriber_for, tracing_work, work,
};
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};
use opentelemetry::trace::{
    FutureExt as _, TraceContextExt as _, Tracer as _, mark_span_as_active,
};
use opentelemetry::{Context, KeyValue, global};
use tracing_subscriber::layer::SubscriberExt as _;

const B: &str = "hello";

// ---- the function, uninstrumented and with fastrace ----

#[inline(never)]
fn baseline(a: u64, b: &str) -> u64 {
    black_box(a).wrapping_add(b.len() as u64)
}

#[inline(never)]
#[fastrace::trace]
fn fastrace_work(a: u64, b: &str) -> u64 {
    black_box(a).wrapping_add(b.len() as u64)
}

/// A reporter that drops everything (fastrace's `ConsoleReporter` prints).
struct DropReporter;
impl fastrace::collector::Reporter for DropReporter {
    fn report(&mut self, spans: Vec<fastrace::collector::SpanRecord>) {
        drop(spans);
    }
}

/// fastrace records nothing without a root span: a request (here, an
/// iteration) starts one and makes it the thread's local parent, which is
/// what `#[fastrace::trace]` attaches to. `sampled = false` is fastrace's
/// "not sampled" root.
#[inline(never)]
fn fastrace_root(sampled: bool, call: bool) -> u64 {
    let context = fastrace::collector::SpanContext::random().sampled(sampled);
    let root = fastrace::Span::root("root", context);
    let _guard = root.set_local_parent();
    if call {
        fastrace_work(black_box(7), black_box(B))
    } else {
        0
    }
}

// ---- the extra shapes: nested chain, async, 8 arguments, error ----

#[traced::traced]
fn chain_1(a: u64, b: &str) -> u64 {
    chain_2(a, b)
}
#[traced::traced]
fn chain_2(a: u64, b: &str) -> u64 {
    work(a, b)
}

fn hand_chain(tracer: &global::BoxedTracer, a: u64, b: &str, depth: u32) -> u64 {
    if depth == 0 {
        return hand_written(tracer, a, b);
    }
    let span = tracer
        .span_builder("chain")
        .with_attributes([
            KeyValue::new("a", a as i64),
            KeyValue::new("b", b.to_owned()),
        ])
        .start(tracer);
    let _guard = mark_span_as_active(span);
    hand_chain(tracer, a, b, depth - 1)
}

#[tracing::instrument]
fn tracing_chain_1(a: u64, b: &str) -> u64 {
    tracing_chain_2(a, b)
}
#[tracing::instrument]
fn tracing_chain_2(a: u64, b: &str) -> u64 {
    tracing_work(a, b)
}

#[traced::traced]
async fn work_async(a: u64, b: &str) -> u64 {
    black_box(a).wrapping_add(b.len() as u64)
}

async fn hand_async(tracer: &global::BoxedTracer, a: u64, b: &str) -> u64 {
    let span = tracer
        .span_builder("work")
        .with_attributes([
            KeyValue::new("a", a as i64),
            KeyValue::new("b", b.to_owned()),
        ])
        .start(tracer);
    let cx = Context::current_with_span(span);
    async { black_box(a).wrapping_add(b.len() as u64) }
        .with_context(cx)
        .await
}

#[tracing::instrument]
async fn tracing_async(a: u64, b: &str) -> u64 {
    black_box(a).wrapping_add(b.len() as u64)
}

macro_rules! eight_body {
    ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident) => {
        black_box($a)
            .wrapping_add($b.len() as u64)
            .wrapping_add($c as u64)
            .wrapping_add(u64::from($d))
            .wrapping_add($e as u64)
            .wrapping_add($f.len() as u64)
            .wrapping_add(u64::from($g))
            .wrapping_add($h as u64)
    };
}

#[allow(clippy::too_many_arguments)]
#[traced::traced]
fn eight(a: u64, b: &str, c: i32, d: bool, e: f64, f: &str, g: u8, h: i64) -> u64 {
    eight_body!(a, b, c, d, e, f, g, h)
}

#[allow(clippy::too_many_arguments)]
fn hand_eight(
    tracer: &global::BoxedTracer,
    a: u64,
    b: &str,
    c: i32,
    d: bool,
    e: f64,
    f: &str,
    g: u8,
    h: i64,
) -> u64 {
    let span = tracer
        .span_builder("eight")
        .with_attributes([
            KeyValue::new("a", a as i64),
            KeyValue::new("b", b.to_owned()),
            KeyValue::new("c", i64::from(c)),
            KeyValue::new("d", d),
            KeyValue::new("e", e),
            KeyValue::new("f", f.to_owned()),
            KeyValue::new("g", i64::from(g)),
            KeyValue::new("h", h),
        ])
        .start(tracer);
    let _guard = mark_span_as_active(span);
    eight_body!(a, b, c, d, e, f, g, h)
}

#[allow(clippy::too_many_arguments)]
#[tracing::instrument]
fn tracing_eight(a: u64, b: &str, c: i32, d: bool, e: f64, f: &str, g: u8, h: i64) -> u64 {
    eight_body!(a, b, c, d, e, f, g, h)
}

#[derive(Debug)]
struct Failure;
impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("it failed")
    }
}
impl std::error::Error for Failure {}

#[traced::traced]
fn failing(a: u64, b: &str) -> Result<u64, Failure> {
    if black_box(a) < u64::MAX {
        Err(Failure)
    } else {
        Ok(b.len() as u64)
    }
}

fn hand_failing(tracer: &global::BoxedTracer, a: u64, b: &str) -> Result<u64, Failure> {
    let span = tracer
        .span_builder("failing")
        .with_attributes([
            KeyValue::new("a", a as i64),
            KeyValue::new("b", b.to_owned()),
        ])
        .start(tracer);
    let cx = Context::current_with_span(span);
    let _guard = cx.clone().attach();
    let out = if black_box(a) < u64::MAX {
        Err(Failure)
    } else {
        Ok(b.len() as u64)
    };
    if let Err(err) = &out {
        let span = cx.span();
        let message = err.to_string();
        span.add_event(
            "exception",
            vec![
                KeyValue::new("exception.type", "Failure"),
                KeyValue::new("exception.message", message.clone()),
            ],
        );
        span.set_status(opentelemetry::trace::Status::error(message));
    }
    out
}

/// `err`: the returned `Err` becomes an error event, which
/// `tracing-opentelemetry` turns into an `exception` event and status Error.
#[tracing::instrument(err)]
fn tracing_failing(a: u64, b: &str) -> Result<u64, Failure> {
    if black_box(a) < u64::MAX {
        Err(Failure)
    } else {
        Ok(b.len() as u64)
    }
}

// ---- the groups ----

type Group<'a> = BenchmarkGroup<'a, criterion::measurement::WallTime>;

fn fastrace_benches(group: &mut Group<'_>, sampled: bool) {
    group.bench_function("fastrace", |bench| {
        bench.iter(|| fastrace_root(sampled, true))
    });
    // The root span alone: what fastrace costs per request without the call.
    group.bench_function("fastrace_root_only", |bench| {
        bench.iter(|| fastrace_root(sampled, false))
    });
}

fn common_benches(group: &mut Group<'_>, tracer: &global::BoxedTracer) {
    group.bench_function("baseline", |bench| {
        bench.iter(|| baseline(black_box(7), black_box(B)))
    });
    group.bench_function("hand_written", |bench| {
        bench.iter(|| hand_written(tracer, black_box(7), black_box(B)))
    });
    group.bench_function("traced", |bench| {
        bench.iter(|| work(black_box(7), black_box(B)))
    });
}

fn disabled(c: &mut Criterion) {
    // Nothing installed yet: OpenTelemetry's global provider is its no-op
    // default, `traced` has never been given a provider, `tracing` has no
    // subscriber, fastrace has no reporter.
    let tracer = global::tracer("bench");
    let mut group = c.benchmark_group(Pipeline::Disabled.name());
    common_benches(&mut group, &tracer);
    group.bench_function("tracing", |bench| {
        bench.iter(|| tracing_work(black_box(7), black_box(B)))
    });
    fastrace_benches(&mut group, true);
    // `OTEL_SDK_DISABLED=true` through `traced::builder().init()`: `traced`
    // then knows it is off instead of asking the global provider.
    install_sdk_disabled();
    group.bench_function("traced_sdk_disabled", |bench| {
        bench.iter(|| work(black_box(7), black_box(B)))
    });
    group.finish();
}

fn installed(c: &mut Criterion, pipeline: Pipeline) {
    let provider = pipeline.install().expect("an SDK pipeline");
    // Obtained once per pipeline, outside the measured loops.
    let tracer = global::tracer("bench");
    let sdk = sdk_tracer(&provider);
    let mut group = c.benchmark_group(pipeline.name());
    common_benches(&mut group, &tracer);
    group.bench_function("hand_written_sdk", |bench| {
        bench.iter(|| hand_written(&sdk, black_box(7), black_box(B)))
    });
    group.bench_function("hand_written_code_attrs", |bench| {
        bench.iter(|| hand_written_code_attrs(&tracer, black_box(7), black_box(B)))
    });
    if pipeline == Pipeline::Unsampled {
        // The SDK alone for a span that is not sampled: started and dropped.
        group.bench_function("bare_unsampled_span", |bench| {
            bench.iter(|| drop(black_box(sdk.start("work"))))
        });
        // The same, made current while the body runs, as `#[traced]` does.
        group.bench_function("bare_unsampled_span_current", |bench| {
            bench.iter(|| {
                let _guard = mark_span_as_active(sdk.start("work"));
                baseline(black_box(7), black_box(B))
            })
        });
    }

    let extras = pipeline == Pipeline::SampledSimple;
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    if extras {
        group.bench_function("traced_chain3", |bench| {
            bench.iter(|| chain_1(black_box(7), black_box(B)))
        });
        group.bench_function("hand_written_chain3", |bench| {
            bench.iter(|| hand_chain(&tracer, black_box(7), black_box(B), 2))
        });
        group.bench_function("traced_async", |bench| {
            bench.iter(|| rt.block_on(work_async(black_box(7), black_box(B))))
        });
        group.bench_function("hand_written_async", |bench| {
            bench.iter(|| rt.block_on(hand_async(&tracer, black_box(7), black_box(B))))
        });
        group.bench_function("traced_8_args", |bench| {
            bench.iter(|| eight(black_box(7), "b", 3, true, 1.5, "f", 9, -4))
        });
        group.bench_function("hand_written_8_args", |bench| {
            bench.iter(|| hand_eight(&tracer, black_box(7), "b", 3, true, 1.5, "f", 9, -4))
        });
        group.bench_function("traced_error", |bench| {
            bench.iter(|| failing(black_box(7), black_box(B)))
        });
        group.bench_function("hand_written_error", |bench| {
            bench.iter(|| hand_failing(&tracer, black_box(7), black_box(B)))
        });
    }

    // tracing + tracing-opentelemetry into the same provider.
    tracing::subscriber::with_default(tracing_subscriber_for(&provider), || {
        group.bench_function("tracing", |bench| {
            bench.iter(|| tracing_work(black_box(7), black_box(B)))
        });
        if extras {
            group.bench_function("tracing_chain3", |bench| {
                bench.iter(|| tracing_chain_1(black_box(7), black_box(B)))
            });
            group.bench_function("tracing_async", |bench| {
                bench.iter(|| rt.block_on(tracing_async(black_box(7), black_box(B))))
            });
            group.bench_function("tracing_8_args", |bench| {
                bench.iter(|| tracing_eight(black_box(7), "b", 3, true, 1.5, "f", 9, -4))
            });
            group.bench_function("tracing_error", |bench| {
                bench.iter(|| tracing_failing(black_box(7), black_box(B)))
            });
        }
    });
    // `#[traced]` with `traced::tracing_layer()` on the thread's subscriber
    // (feature `tracing`) and no `tracing` span in sight: what the bridge
    // adds to our spans. `traced` in this group is the same call without it.
    let bridged = tracing_subscriber::registry().with(traced::tracing_layer());
    tracing::subscriber::with_default(bridged, || {
        group.bench_function("traced_tracing_layer", |bench| {
            bench.iter(|| work(black_box(7), black_box(B)))
        });
    });
    // Last, and flushed: fastrace's collector thread works through what
    // it was sent after the measurement, and on 2 cores it would slow down
    // whatever runs next.
    fastrace_benches(&mut group, pipeline != Pipeline::Unsampled);
    fastrace::flush();
    group.finish();
    let _ = provider.shutdown();
}

/// Our own pipeline, sampled and unsampled, after the SDK's: the same
/// exporter, beside the wall-clock floor and fastrace in the same run.
fn ours(c: &mut Criterion, pipeline: Pipeline) {
    let provider = pipeline.install_ours();
    let tracer = global::tracer("bench");
    let dropped = traced::dropped_spans();
    let mut group = c.benchmark_group(pipeline.name());
    common_benches(&mut group, &tracer);
    group.bench_function("floor", |bench| {
        bench.iter(|| common::floor(black_box(7), black_box(B)))
    });
    group.bench_function("context_floor", |bench| {
        bench.iter(|| common::context_floor(black_box(7), black_box(B)))
    });
    if pipeline == Pipeline::OursUnsampled {
        group.bench_function("unsampled_context_floor", |bench| {
            bench.iter(|| common::unsampled_context_floor(black_box(7), black_box(B)))
        });
    }
    if pipeline == Pipeline::Ours {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        group.bench_function("traced_chain3", |bench| {
            bench.iter(|| chain_1(black_box(7), black_box(B)))
        });
        group.bench_function("traced_async", |bench| {
            bench.iter(|| rt.block_on(work_async(black_box(7), black_box(B))))
        });
        group.bench_function("traced_8_args", |bench| {
            bench.iter(|| eight(black_box(7), "b", 3, true, 1.5, "f", 9, -4))
        });
        group.bench_function("traced_error", |bench| {
            bench.iter(|| failing(black_box(7), black_box(B)))
        });
    }
    fastrace_benches(&mut group, pipeline != Pipeline::OursUnsampled);
    fastrace::flush();
    group.finish();
    let _ = provider.shutdown();
    // A queue the export thread could not keep up with drops (and counts)
    // spans: say how many, since a dropped span costs its caller less.
    eprintln!(
        "{}: {} spans dropped by a full queue",
        pipeline.name(),
        traced::dropped_spans() - dropped
    );
}

/// Every group, in order; also run by `overhead_mimalloc.rs`.
pub fn benches(c: &mut Criterion) {
    disabled(c);
    fastrace::set_reporter(DropReporter, fastrace::collector::Config::default());
    for pipeline in [
        Pipeline::Unsampled,
        Pipeline::SampledSimple,
        Pipeline::SampledBatch,
    ] {
        installed(c, pipeline);
    }
    for pipeline in [Pipeline::OursUnsampled, Pipeline::Ours] {
        ours(c, pipeline);
    }
}

criterion_group!(overhead, benches);
criterion_main!(overhead);
