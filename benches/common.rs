//! Pipelines shared by the benchmarks: an SDK tracer provider with an
//! exporter that drops everything, installed for every variant at once.
#![allow(dead_code)]

use std::hint::black_box;

use opentelemetry::KeyValue;
use opentelemetry::global;
use opentelemetry::trace::noop::NoopTracerProvider;
use opentelemetry::trace::{Tracer as _, mark_span_as_active};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchSpanProcessor, Sampler, SdkTracerProvider, SpanData, SpanExporter,
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
    /// Sampled, simple (synchronous) processor.
    SampledSimple,
    /// Sampled, batch processor (a background thread).
    SampledBatch,
    /// `Sampler::AlwaysOff`.
    Unsampled,
    /// No provider: OpenTelemetry's global no-op one, and
    /// `OTEL_SDK_DISABLED=true` for `traced`.
    Disabled,
}

impl Pipeline {
    pub const ALL: [Pipeline; 4] = [
        Pipeline::SampledSimple,
        Pipeline::SampledBatch,
        Pipeline::Unsampled,
        Pipeline::Disabled,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Pipeline::SampledSimple => "sampled_simple",
            Pipeline::SampledBatch => "sampled_batch",
            Pipeline::Unsampled => "unsampled",
            Pipeline::Disabled => "disabled",
        }
    }

    /// Installs the pipeline for `traced` and as OpenTelemetry's global
    /// provider; returns the provider (`None` when disabled).
    pub fn install(self) -> Option<SdkTracerProvider> {
        let builder = SdkTracerProvider::builder();
        let provider = match self {
            Pipeline::SampledSimple => builder.with_simple_exporter(NoopExporter).build(),
            Pipeline::SampledBatch => builder
                .with_span_processor(BatchSpanProcessor::builder(NoopExporter).build())
                .build(),
            Pipeline::Unsampled => builder
                .with_sampler(Sampler::AlwaysOff)
                .with_simple_exporter(NoopExporter)
                .build(),
            Pipeline::Disabled => {
                // SAFETY: the benchmark runs on one thread and has spawned no
                // other that could read the environment at the same time
                // (a batch processor's thread is gone with its provider).
                unsafe { std::env::set_var("OTEL_SDK_DISABLED", "true") };
                let telemetry = traced::builder().no_exporter().init().expect("init");
                // SAFETY: as above.
                unsafe { std::env::remove_var("OTEL_SDK_DISABLED") };
                // Nothing to flush when disabled; keep it installed.
                std::mem::forget(telemetry);
                global::set_tracer_provider(NoopTracerProvider::new());
                return None;
            }
        };
        traced::set_tracer_provider(provider.clone());
        Some(provider)
    }
}

/// The measured function, instrumented by `#[traced]`.
#[inline(never)]
#[traced::traced]
pub fn work(a: u64, b: &str) -> u64 {
    black_box(a).wrapping_add(b.len() as u64)
}

/// The same work as OpenTelemetry's documentation writes it: a tracer from
/// the global provider, attributes on the builder, the span made current.
#[inline(never)]
pub fn hand_written(tracer: &global::BoxedTracer, a: u64, b: &str) -> u64 {
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

/// The same work through `tracing` (and `tracing-opentelemetry` when a
/// subscriber with its layer is installed).
#[inline(never)]
#[tracing::instrument]
pub fn tracing_work(a: u64, b: &str) -> u64 {
    black_box(a).wrapping_add(b.len() as u64)
}
