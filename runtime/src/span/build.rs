//! Building a [`Backend`] of either pipeline from the same settings and
//! exporters: how `init` and `testing` build theirs, so that tests run on
//! what users run.

use std::time::Duration;

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider, SimpleSpanProcessor,
    SpanExporter, SpanLimits, SpanProcessor, TracerProviderBuilder,
};

use super::backend::{Backend, Pipeline};
use crate::pipeline::{PipelineBuilder, PipelineProvider};

/// What every backend is built from, whichever the pipeline.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) pipeline: Pipeline,
    pub(crate) resource: Resource,
    /// `None`: parent-based always-on, the SDK's default (our pipeline
    /// decides it in place, without a call).
    pub(crate) sampler: Option<Sampler>,
    pub(crate) limits: SpanLimits,
    pub(crate) value_length_limit: Option<usize>,
    pub(crate) batch: Batch,
}

/// The batch settings (`OTEL_BSP_*`); unset ones keep the defaults.
#[derive(Debug, Default, Clone)]
pub(crate) struct Batch {
    pub(crate) schedule_delay: Option<Duration>,
    pub(crate) export_timeout: Option<Duration>,
    pub(crate) max_queue_size: Option<usize>,
    pub(crate) max_export_batch_size: Option<usize>,
    /// Batches in flight at once; our pipeline only (the SDK's batch
    /// processor exports one at a time).
    pub(crate) max_concurrent_exports: Option<usize>,
}

/// Builds a [`Backend`] of either pipeline from the same settings and
/// exporters: how `init` and `testing` build theirs.
pub(crate) enum BackendBuilder {
    /// The SDK's provider, with what its processors need.
    Sdk {
        builder: TracerProviderBuilder,
        value_length_limit: Option<usize>,
        batch: Batch,
    },
    /// Our pipeline.
    Traced(PipelineBuilder),
}

impl BackendBuilder {
    /// A builder for `settings.pipeline`, with no exporter yet.
    pub(crate) fn new(settings: Settings) -> BackendBuilder {
        match settings.pipeline {
            Pipeline::Sdk => {
                let mut builder = SdkTracerProvider::builder()
                    .with_resource(settings.resource)
                    // Tags the roots minted here, so that `inject` can flag
                    // them W3C `random` (the SDK builds a root's flags
                    // from an empty parent).
                    .with_id_generator(crate::propagation::RandomRoots::default())
                    .with_span_limits(settings.limits);
                if let Some(sampler) = settings.sampler {
                    builder = builder.with_sampler(sampler);
                }
                BackendBuilder::Sdk {
                    builder,
                    value_length_limit: settings.value_length_limit,
                    batch: settings.batch,
                }
            }
            Pipeline::Traced => {
                let b = settings.batch;
                // The pipeline's default ids: random, so its root spans
                // carry the W3C `random` flag themselves.
                let mut builder = PipelineProvider::builder()
                    .with_resource(settings.resource)
                    .with_span_limits(settings.limits)
                    .with_value_length_limit(settings.value_length_limit);
                if let Some(sampler) = settings.sampler {
                    builder = builder.with_sampler(sampler);
                }
                if let Some(v) = b.schedule_delay {
                    builder = builder.with_scheduled_delay(v);
                }
                if let Some(v) = b.max_queue_size {
                    builder = builder.with_max_queue_size(v);
                }
                if let Some(v) = b.max_export_batch_size {
                    builder = builder.with_max_export_batch_size(v);
                }
                if let Some(v) = b.max_concurrent_exports {
                    builder = builder.with_max_concurrent_exports(v);
                }
                if let Some(v) = b.export_timeout {
                    builder = builder.with_export_timeout(v);
                }
                BackendBuilder::Traced(builder)
            }
        }
    }

    /// Adds an exporter that takes spans in batches: the SDK's batch
    /// processor, or our export thread.
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    pub(crate) fn with_exporter<E: SpanExporter + 'static>(self, exporter: E) -> BackendBuilder {
        match self {
            BackendBuilder::Sdk { .. } => {
                let processor = self.batch(exporter);
                self.with_sdk_processor(processor)
            }
            BackendBuilder::Traced(builder) => {
                BackendBuilder::Traced(builder.with_exporter(exporter))
            }
        }
    }

    /// Adds an exporter for a person at a terminal: on the SDK's provider
    /// through its simple processor (each trace as its root ends, on that
    /// thread), on ours through the export thread.
    #[cfg_attr(not(feature = "console"), allow(dead_code))]
    pub(crate) fn with_simple_exporter<E: SpanExporter + 'static>(
        self,
        exporter: E,
    ) -> BackendBuilder {
        match self {
            BackendBuilder::Sdk { .. } => {
                self.with_sdk_processor(SimpleSpanProcessor::new(exporter))
            }
            BackendBuilder::Traced(builder) => {
                BackendBuilder::Traced(builder.with_exporter(exporter))
            }
        }
    }

    /// Adds what the SDK's provider needs (`sdk`, given a batch processor
    /// over an exporter) or what ours needs (`ours`, given our builder):
    /// for exporters that have a form of their own for each pipeline (OTLP).
    #[cfg_attr(
        not(any(feature = "otlp-grpc", feature = "otlp-http")),
        allow(dead_code)
    )]
    pub(crate) fn with_each<S, P, Er>(
        self,
        state: &mut S,
        sdk: impl FnOnce(&BackendBuilder, &mut S) -> Result<P, Er>,
        ours: impl FnOnce(PipelineBuilder, &mut S) -> Result<PipelineBuilder, Er>,
    ) -> Result<BackendBuilder, Er>
    where
        P: SpanProcessor + 'static,
    {
        match self {
            BackendBuilder::Sdk { .. } => {
                let processor = sdk(&self, state)?;
                Ok(self.with_sdk_processor(processor))
            }
            BackendBuilder::Traced(builder) => Ok(BackendBuilder::Traced(ours(builder, state)?)),
        }
    }

    /// The SDK's batch processor over `exporter`, with the batch settings.
    #[cfg_attr(
        not(any(feature = "testing", feature = "otlp-grpc", feature = "otlp-http")),
        allow(dead_code)
    )]
    pub(crate) fn batch<E: SpanExporter + 'static>(&self, exporter: E) -> BatchSpanProcessor {
        let mut config = BatchConfigBuilder::default();
        if let BackendBuilder::Sdk { batch: b, .. } = self {
            if let Some(v) = b.schedule_delay {
                config = config.with_scheduled_delay(v);
            }
            if let Some(v) = b.max_queue_size {
                config = config.with_max_queue_size(v);
            }
            if let Some(v) = b.max_export_batch_size {
                config = config.with_max_export_batch_size(v);
            }
        }
        BatchSpanProcessor::builder(exporter)
            .with_batch_config(config.build())
            .build()
    }

    /// Adds `processor` to the SDK's provider, behind the value-length
    /// truncation when one is set. (Our pipeline cuts values itself.)
    fn with_sdk_processor<P: SpanProcessor + 'static>(self, processor: P) -> BackendBuilder {
        match self {
            BackendBuilder::Sdk {
                builder,
                value_length_limit,
                batch,
            } => {
                let builder = match value_length_limit {
                    Some(limit) => builder.with_span_processor(
                        crate::export::truncate::TruncateValues::new(processor, limit),
                    ),
                    None => builder.with_span_processor(processor),
                };
                BackendBuilder::Sdk {
                    builder,
                    value_length_limit,
                    batch,
                }
            }
            ours @ BackendBuilder::Traced(_) => ours,
        }
    }

    /// The backend.
    ///
    /// # Errors
    ///
    /// When our pipeline's export thread cannot be spawned.
    pub(crate) fn build(self) -> std::io::Result<Backend> {
        match self {
            BackendBuilder::Sdk { builder, .. } => Ok(Backend::Sdk(builder.build())),
            BackendBuilder::Traced(builder) => builder.build().map(Backend::Traced),
        }
    }
}
