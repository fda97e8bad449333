//! Per-call overhead of instrumenting `work(a: u64, b: &str) -> u64`:
//! no instrumentation, hand-written OpenTelemetry, `#[traced]`,
//! `#[tracing::instrument]` through `tracing-opentelemetry`, and
//! `#[fastrace::trace]`, under four pipelines. `scripts/bench-table.py`
//! turns the results into `docs/performance.md`.

mod common;

use std::hint::black_box;

use common::{Pipeline, hand_written, tracing_work, work};
use criterion::{Criterion, criterion_group, criterion_main};
use opentelemetry::trace::{
    FutureExt as _, Span as _, TraceContextExt as _, Tracer as _, mark_span_as_active,
};
use opentelemetry::{Context, KeyValue, global};
use tracing_subscriber::layer::SubscriberExt as _;

// ---- the function, five ways ----

#[inline(never)]
fn baseline(a: u64, b: &str) -> u64 {
    black_box(a).wrapping_add(b.len() as u64)
}

#[inline(never)]
#[fastrace::trace]
fn fastrace_work(a: u64, b: &str) -> u64 {
    black_box(a).wrapping_add(b.len() as u64)
}

// ---- the extra shapes, for `traced` and hand-written ----

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

#[allow(clippy::too_many_arguments)]
#[traced::traced]
fn eight(a: u64, b: &str, c: i32, d: bool, e: f64, f: &str, g: u8, h: i64) -> u64 {
    black_box(a)
        + b.len() as u64
        + c as u64
        + u64::from(d)
        + e as u64
        + f.len() as u64
        + u64::from(g)
        + h as u64
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
    black_box(a)
        + b.len() as u64
        + c as u64
        + u64::from(d)
        + e as u64
        + f.len() as u64
        + u64::from(g)
        + h as u64
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
        span.add_event(
            "exception",
            vec![
                KeyValue::new("exception.type", "Failure"),
                KeyValue::new("exception.message", err.to_string()),
            ],
        );
        span.set_status(opentelemetry::trace::Status::error(err.to_string()));
    }
    out
}

/// A reporter that drops everything, for fastrace.
struct DropReporter;
impl fastrace::collector::Reporter for DropReporter {
    fn report(&mut self, spans: Vec<fastrace::collector::SpanRecord>) {
        drop(spans);
    }
}

fn benches(c: &mut Criterion) {
    let b_arg = "hello";
    // fastrace: one global reporter for the whole run.
    fastrace::set_reporter(DropReporter, fastrace::collector::Config::default());
    for pipeline in [
        Pipeline::Disabled,
        Pipeline::Unsampled,
        Pipeline::SampledSimple,
        Pipeline::SampledBatch,
    ] {
        let provider = pipeline.install();
        let tracer = global::tracer("bench");
        let mut group = c.benchmark_group(pipeline.name());
        group.bench_function("baseline", |bench| {
            bench.iter(|| baseline(black_box(7), black_box(b_arg)))
        });
        group.bench_function("hand_written", |bench| {
            bench.iter(|| hand_written(&tracer, black_box(7), black_box(b_arg)))
        });
        group.bench_function("traced", |bench| {
            bench.iter(|| work(black_box(7), black_box(b_arg)))
        });
        if pipeline == Pipeline::Unsampled {
            // What the SDK alone costs for a span that is not sampled.
            group.bench_function("bare_unsampled_span", |bench| {
                bench.iter(|| {
                    let mut span = tracer.start("work");
                    span.end();
                })
            });
        }
        // tracing + tracing-opentelemetry into the same provider.
        let subscriber = tracing_subscriber::registry().with(match (&provider, pipeline) {
            (Some(provider), _) => Some(tracing_opentelemetry::layer().with_tracer(
                opentelemetry::trace::TracerProvider::tracer(provider, "tracing"),
            )),
            (None, _) => None,
        });
        tracing::subscriber::with_default(subscriber, || {
            group.bench_function("tracing", |bench| {
                bench.iter(|| tracing_work(black_box(7), black_box(b_arg)))
            });
        });
        if matches!(
            pipeline,
            Pipeline::SampledSimple | Pipeline::SampledBatch | Pipeline::Disabled
        ) {
            // fastrace needs a root span per request; it has no sampler.
            group.bench_function("fastrace", |bench| {
                bench.iter(|| {
                    let root =
                        fastrace::Span::root("root", fastrace::collector::SpanContext::random());
                    let _guard = root.set_local_parent();
                    fastrace_work(black_box(7), black_box(b_arg))
                })
            });
        }
        if matches!(pipeline, Pipeline::SampledSimple) {
            group.bench_function("traced_chain3", |bench| {
                bench.iter(|| chain_1(black_box(7), black_box(b_arg)))
            });
            group.bench_function("hand_written_chain3", |bench| {
                bench.iter(|| hand_chain(&tracer, black_box(7), black_box(b_arg), 2))
            });
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime");
            group.bench_function("traced_async", |bench| {
                bench.iter(|| rt.block_on(work_async(black_box(7), black_box(b_arg))))
            });
            group.bench_function("hand_written_async", |bench| {
                bench.iter(|| rt.block_on(hand_async(&tracer, black_box(7), black_box(b_arg))))
            });
            group.bench_function("traced_8_args", |bench| {
                bench.iter(|| eight(black_box(7), "b", 3, true, 1.5, "f", 9, -4))
            });
            group.bench_function("hand_written_8_args", |bench| {
                bench.iter(|| hand_eight(&tracer, black_box(7), "b", 3, true, 1.5, "f", 9, -4))
            });
            group.bench_function("traced_error", |bench| {
                bench.iter(|| failing(black_box(7), black_box(b_arg)))
            });
            group.bench_function("hand_written_error", |bench| {
                bench.iter(|| hand_failing(&tracer, black_box(7), black_box(b_arg)))
            });
        }
        group.finish();
        if let Some(provider) = provider {
            let _ = provider.shutdown();
        }
    }
}

criterion_group!(overhead, benches);
criterion_main!(overhead);
