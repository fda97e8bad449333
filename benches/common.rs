//! What the benchmarks share: the pipelines (an SDK tracer provider with an
//! exporter that drops everything) and the measured function written four
//! ways.
#![allow(dead_code)]

use std::hint::black_box;

use opentelemetry::KeyValue;
use opentelemetry::trace::{Tracer, TracerProvider as _, mark_span_as_active};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchSpanProcessor, Sampler, SdkTracer, SdkTracerProvider, SpanData, SpanExporter,
};

/// Accepts every batch and does nothing with it.
#[derive(Debug, Clone, Copy)]
pub struct NoopExporter;

impl SpanExporter for NoopExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        drop(batch);
        Ok(())
    }
}

/// How spans are processed in one group of measurements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pipeline {
    /// Sampled, `SimpleSpanProcessor` (exports on the calling thread).
    SampledSimple,
    /// [`Pipeline::SampledSimple`] installed the way the OpenTelemetry
    /// documentation shows, with `opentelemetry::global::set_tracer_provider`
    /// only.
    SampledSimpleGlobal,
    /// Sampled, `BatchSpanProcessor` (exports on a background thread).
    SampledBatch,
    /// `Sampler::AlwaysOff`, simple processor.
    Unsampled,
    /// [`Pipeline::SampledBatch`] with tail sampling in front (#28):
    /// `errors,slower_than=200ms,ratio=0.05`, the rules. Every
    /// span is held until its trace ends; a `#[traced]` call is a trace
    /// of its own, so most are dropped whole.
    TailBatch,
    /// Sampled, our own pipeline (`TRACED_PIPELINE=traced`): spans queued
    /// to an export thread that builds `SpanData` for the same exporter.
    Ours,
    /// `Sampler::AlwaysOff` on our own pipeline.
    OursUnsampled,
    /// Nothing installed: `traced::set_tracer_provider` is never called, and
    /// OpenTelemetry's global provider is its default no-op one. Only valid
    /// before any other pipeline is installed in the process: a provider
    /// cannot be uninstalled.
    Disabled,
}

impl Pipeline {
    pub fn name(self) -> &'static str {
        match self {
            Pipeline::SampledSimple => "sampled_simple",
            Pipeline::SampledSimpleGlobal => "sampled_simple_global",
            Pipeline::SampledBatch => "sampled_batch",
            Pipeline::Unsampled => "unsampled",
            Pipeline::TailBatch => "tail_batch",
            Pipeline::Ours => "traced_pipeline",
            Pipeline::OursUnsampled => "traced_pipeline_unsampled",
            Pipeline::Disabled => "disabled",
        }
    }

    pub fn from_name(name: &str) -> Option<Pipeline> {
        [
            Pipeline::SampledSimple,
            Pipeline::SampledSimpleGlobal,
            Pipeline::SampledBatch,
            Pipeline::Unsampled,
            Pipeline::TailBatch,
            Pipeline::Ours,
            Pipeline::OursUnsampled,
            Pipeline::Disabled,
        ]
        .into_iter()
        .find(|p| p.name() == name)
    }

    /// Whether this is one of our own pipelines.
    pub fn is_ours(self) -> bool {
        matches!(self, Pipeline::Ours | Pipeline::OursUnsampled)
    }

    /// Installs one of our own pipelines for `#[traced]` and as
    /// OpenTelemetry's global provider (`traced::set_pipeline_provider`
    /// does both), over the same exporter as the SDK pipelines. The queue
    /// holds 65,536 spans, so that a callgrind run (where the export
    /// thread barely gets scheduled) drops none. The ids come from the
    /// pipeline's default, the SDK's random generator, as in the SDK
    /// pipelines above and as `init` installs it (on the SDK's provider
    /// `init` gives its tagging `RandomRoots`, 237–271 instructions more
    /// per root, which our pipeline does without: its roots carry the W3C
    /// `random` flag themselves).
    pub fn install_ours(self) -> traced::PipelineProvider {
        let builder = traced::PipelineProvider::builder()
            .with_exporter(NoopExporter)
            .with_max_queue_size(1 << 16);
        let builder = match self {
            Pipeline::Ours => builder,
            Pipeline::OursUnsampled => builder.with_sampler(Sampler::AlwaysOff),
            _ => panic!("{} is an SDK pipeline", self.name()),
        };
        let provider = builder.build().expect("the export thread starts");
        traced::set_pipeline_provider(provider.clone());
        provider
    }

    /// Installs the pipeline for `#[traced]` and as OpenTelemetry's global
    /// provider (`traced::set_tracer_provider` does both); returns the
    /// provider, `None` for [`Pipeline::Disabled`], which installs nothing,
    /// and for our own pipelines (installed, see [`Pipeline::install_ours`]).
    pub fn install(self) -> Option<SdkTracerProvider> {
        if self.is_ours() {
            std::mem::forget(self.install_ours());
            return None;
        }
        let builder = SdkTracerProvider::builder();
        let provider = match self {
            Pipeline::SampledSimple => builder.with_simple_exporter(NoopExporter).build(),
            Pipeline::SampledSimpleGlobal => {
                let provider = builder.with_simple_exporter(NoopExporter).build();
                opentelemetry::global::set_tracer_provider(provider.clone());
                return Some(provider);
            }
            Pipeline::SampledBatch => builder
                .with_span_processor(BatchSpanProcessor::builder(NoopExporter).build())
                .build(),
            Pipeline::Unsampled => builder
                .with_sampler(Sampler::AlwaysOff)
                .with_simple_exporter(NoopExporter)
                .build(),
            Pipeline::TailBatch => builder
                .with_span_processor(traced::TailSampling::new(
                    BatchSpanProcessor::builder(NoopExporter).build(),
                    [
                        traced::TailRule::Errors,
                        traced::TailRule::SlowerThan(std::time::Duration::from_millis(200)),
                        traced::TailRule::Ratio(0.05),
                    ],
                ))
                .build(),
            Pipeline::Disabled | Pipeline::Ours | Pipeline::OursUnsampled => {
                return None;
            }
        };
        traced::set_tracer_provider(provider.clone());
        Some(provider)
    }
}

/// Turns `traced` off the way a user does, `OTEL_SDK_DISABLED=true` read by
/// `traced::init` (through the builder, with no exporter). Leaves
/// OpenTelemetry's global provider as it was.
pub fn install_sdk_disabled() {
    // SAFETY: called from the main thread before anything that reads the
    // environment runs on another thread (no batch processor exists yet,
    // criterion runs benchmarks on this thread).
    unsafe { std::env::set_var("OTEL_SDK_DISABLED", "true") };
    let telemetry = traced::builder().no_exporter().init().expect("init");
    // SAFETY: as above.
    unsafe { std::env::remove_var("OTEL_SDK_DISABLED") };
    // Nothing to flush when disabled; dropping the guard would only shut
    // down nothing. Kept so that the setting stays for the process.
    std::mem::forget(telemetry);
}

/// The tracer hand-written code uses with the SDK's own types (no boxing):
/// from the provider, obtained once, outside the measured loop.
pub fn sdk_tracer(provider: &SdkTracerProvider) -> SdkTracer {
    provider.tracer("bench")
}

/// The measured function, instrumented by `#[traced]`.
#[inline(never)]
#[traced::traced]
pub fn work(a: u64, b: &str) -> u64 {
    black_box(a).wrapping_add(b.len() as u64)
}

thread_local! {
    /// Where [`floor`] writes its two stamps.
    static FLOOR: std::cell::Cell<(u64, u64)> = const { std::cell::Cell::new((0, 0)) };
}

/// The physical floor of a sampled span with wall-clock stamps: two
/// `SystemTime::now()` around the work and one thread-local write of
/// them, with no ids, no attributes and no queue.
#[inline(never)]
pub fn floor(a: u64, b: &str) -> u64 {
    let nanos = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    };
    let start = std::time::SystemTime::now();
    let out = black_box(a).wrapping_add(b.len() as u64);
    let end = std::time::SystemTime::now();
    FLOOR.with(|f| f.set((nanos(start), nanos(end))));
    out
}

/// A span that holds only its span context and records nothing: the least
/// a span that lives in OpenTelemetry's `Context` can be.
#[derive(Debug)]
struct ContextOnly(opentelemetry::trace::SpanContext);

impl opentelemetry::trace::Span for ContextOnly {
    fn add_event_with_timestamp<T>(&mut self, _: T, _: std::time::SystemTime, _: Vec<KeyValue>)
    where
        T: Into<std::borrow::Cow<'static, str>>,
    {
    }
    fn span_context(&self) -> &opentelemetry::trace::SpanContext {
        &self.0
    }
    fn is_recording(&self) -> bool {
        true
    }
    fn set_attribute(&mut self, _: KeyValue) {}
    fn set_status(&mut self, _: opentelemetry::trace::Status) {}
    fn update_name<T>(&mut self, _: T)
    where
        T: Into<std::borrow::Cow<'static, str>>,
    {
    }
    fn add_link(&mut self, _: opentelemetry::trace::SpanContext, _: Vec<KeyValue>) {}
    fn end_with_timestamp(&mut self, _: std::time::SystemTime) {}
}

/// [`floor`] plus what OpenTelemetry's API makes any span cost that other
/// code must see as the current one (`Context::current()`,
/// `get_active_span`, a child's parent): the span put in a new `Context`
/// (its box, the mutex around it, the context's `Arc`), attached, ended
/// through the context and detached. Fixed ids, no attributes, no queue:
/// the floor for a span of `#[traced]`, or of any provider behind the
/// OpenTelemetry API.
#[inline(never)]
pub fn context_floor(a: u64, b: &str) -> u64 {
    use opentelemetry::Context;
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
    };
    let nanos = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    };
    let start = std::time::SystemTime::now();
    let span = ContextOnly(SpanContext::new(
        TraceId::from(black_box(1_u128)),
        SpanId::from(black_box(2_u64)),
        TraceFlags::SAMPLED,
        false,
        TraceState::NONE,
    ));
    let guard = Context::map_current(|cx| cx.with_span(span)).attach();
    let out = black_box(a).wrapping_add(b.len() as u64);
    let end = std::time::SystemTime::now();
    Context::map_current(|cx| cx.span().end_with_timestamp(end));
    drop(guard);
    FLOOR.with(|f| f.set((nanos(start), nanos(end))));
    out
}

/// What an unsampled span costs at the least where children must see the
/// decision (so that they are not sampled either, here and downstream):
/// its span context put in a new `Context` (the context's `Arc`, no boxed
/// span), attached and detached. Fixed ids, no clock reads.
#[inline(never)]
pub fn unsampled_context_floor(a: u64, b: &str) -> u64 {
    use opentelemetry::Context;
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
    };
    let context = SpanContext::new(
        TraceId::from(black_box(1_u128)),
        SpanId::from(black_box(2_u64)),
        TraceFlags::default(),
        false,
        TraceState::NONE,
    );
    let _guard = Context::map_current(|cx| cx.with_remote_span_context(context)).attach();
    black_box(a).wrapping_add(b.len() as u64)
}

/// The same work as OpenTelemetry's documentation writes it: the two
/// attributes on the span builder, the span made current, ended when the
/// guard drops. The tracer is obtained once per pipeline outside the
/// measured loop and passed in: `global::tracer("bench")` (a `BoxedTracer`,
/// as the docs show) for `hand_written`, the SDK's own `SdkTracer` for
/// `hand_written_sdk`.
#[inline(never)]
pub fn hand_written<T>(tracer: &T, a: u64, b: &str) -> u64
where
    T: Tracer,
    T::Span: Send + Sync + 'static,
{
    let span = tracer
        .span_builder("work")
        .with_attributes([
            KeyValue::new("a", a as i64),
            KeyValue::new("b", b.to_owned()),
        ])
        .start(tracer);
    let _guard = mark_span_as_active(span);
    black_box(a).wrapping_add(b.len() as u64)
}

/// `hand_written` plus the three attributes `#[traced]` adds to every span
/// (`code.function.name`, `code.file.path`, `code.line.number`, constants):
/// the same attributes as `#[traced]`, written by hand.
#[inline(never)]
pub fn hand_written_code_attrs<T>(tracer: &T, a: u64, b: &str) -> u64
where
    T: Tracer,
    T::Span: Send + Sync + 'static,
{
    let span = tracer
        .span_builder("work")
        .with_attributes([
            KeyValue::new("code.function.name", concat!(module_path!(), "::work")),
            KeyValue::new("code.file.path", file!()),
            KeyValue::new("code.line.number", i64::from(line!())),
            KeyValue::new("a", a as i64),
            KeyValue::new("b", b.to_owned()),
        ])
        .start(tracer);
    let _guard = mark_span_as_active(span);
    black_box(a).wrapping_add(b.len() as u64)
}

/// The same work through `tracing`, and `tracing-opentelemetry` when a
/// subscriber with its layer is installed.
#[inline(never)]
#[tracing::instrument]
pub fn tracing_work(a: u64, b: &str) -> u64 {
    black_box(a).wrapping_add(b.len() as u64)
}

/// The `tracing` subscriber for a provider: a `Registry` with an
/// `OpenTelemetryLayer` whose tracer comes from that provider.
pub fn tracing_subscriber_for(
    provider: &SdkTracerProvider,
) -> impl tracing::Subscriber + Send + Sync + 'static {
    use tracing_subscriber::layer::SubscriberExt as _;
    tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("tracing")))
}
