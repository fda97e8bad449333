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
use crate::tail::{Fanout, TailRule, TailSampling};

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
    /// Tail sampling's rules (`TRACED_TAIL_SAMPLING`,
    /// `Builder::tail_sampling`); `None`: none, no hold installed. The SDK's
    /// pipeline only: `init` refuses ours with it.
    pub(crate) tail: Option<Vec<TailRule>>,
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
        /// With tail sampling, the exporting processors wait here for
        /// `build`, which puts one hold in front of them all.
        tail: Option<Tail>,
    },
    /// Our pipeline.
    Traced(PipelineBuilder),
}

/// Tail sampling's rules and the processors its hold goes in front of.
pub(crate) struct Tail {
    rules: Vec<TailRule>,
    processors: Vec<Box<dyn SpanProcessor>>,
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
                // With tail sampling every span records (the SDK's default
                // sampler, parent-based always-on): the decision is taken
                // at the tail.
                if let Some(sampler) = settings.sampler.filter(|_| settings.tail.is_none()) {
                    builder = builder.with_sampler(sampler);
                }
                BackendBuilder::Sdk {
                    builder,
                    value_length_limit: settings.value_length_limit,
                    batch: settings.batch,
                    tail: settings.tail.map(|rules| Tail {
                        rules,
                        processors: Vec::new(),
                    }),
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
    /// truncation when one is set (our pipeline cuts values itself); with
    /// tail sampling, keeps it for `build`.
    fn with_sdk_processor<P: SpanProcessor + 'static>(self, processor: P) -> BackendBuilder {
        match self {
            BackendBuilder::Sdk {
                builder,
                value_length_limit,
                batch,
                tail: Some(mut tail),
            } => {
                tail.processors.push(Box::new(processor));
                BackendBuilder::Sdk {
                    builder,
                    value_length_limit,
                    batch,
                    tail: Some(tail),
                }
            }
            BackendBuilder::Sdk {
                builder,
                value_length_limit,
                batch,
                tail: None,
            } => BackendBuilder::Sdk {
                builder: with_truncated(builder, value_length_limit, processor),
                value_length_limit,
                batch,
                tail: None,
            },
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
            BackendBuilder::Sdk {
                builder,
                value_length_limit,
                tail: Some(tail),
                ..
            } if !tail.processors.is_empty() => {
                // One hold in front of every exporter, each span held
                // once; values are cut before they are held.
                let hold = TailSampling::new(Fanout(tail.processors), tail.rules);
                let builder = with_truncated(builder, value_length_limit, hold);
                Ok(Backend::Sdk(builder.build()))
            }
            BackendBuilder::Sdk { builder, .. } => Ok(Backend::Sdk(builder.build())),
            BackendBuilder::Traced(builder) => builder.build().map(Backend::Traced),
        }
    }
}

/// `processor` on `builder`, behind the value-length truncation when one
/// is set.
fn with_truncated<P: SpanProcessor + 'static>(
    builder: TracerProviderBuilder,
    value_length_limit: Option<usize>,
    processor: P,
) -> TracerProviderBuilder {
    match value_length_limit {
        Some(limit) => builder.with_span_processor(crate::export::truncate::TruncateValues::new(
            processor, limit,
        )),
        None => builder.with_span_processor(processor),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use opentelemetry::trace::{
        Span as _, Status, TraceContextExt as _, Tracer as _, TracerProvider as _,
    };
    use opentelemetry::{Context, KeyValue};
    use opentelemetry_sdk::error::OTelSdkResult;
    use opentelemetry_sdk::trace::{SpanData, SpanExporter};

    use super::*;

    #[derive(Debug, Clone, Default)]
    struct Collect(Arc<Mutex<Vec<SpanData>>>);

    impl SpanExporter for Collect {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            self.0.lock().unwrap().extend(batch);
            Ok(())
        }
    }

    fn settings(tail: Option<Vec<TailRule>>) -> Settings {
        Settings {
            pipeline: Pipeline::Sdk,
            resource: Resource::builder_empty().build(),
            // Dropped with tail sampling: every span records.
            sampler: Some(Sampler::AlwaysOff),
            limits: SpanLimits::default(),
            value_length_limit: Some(4),
            batch: Batch::default(),
            tail,
        }
    }

    // #28: with tail sampling, one hold in front of every exporter, behind
    // the value truncation; the head sampler records every span.
    #[test]
    fn tail_sampling_holds_in_front_of_every_exporter() {
        let _global = crate::metrics::global_test_lock();
        let (a, b) = (Collect::default(), Collect::default());
        let Ok(Backend::Sdk(provider)) =
            BackendBuilder::new(settings(Some(vec![TailRule::Errors])))
                .with_exporter(a.clone())
                .with_simple_exporter(b.clone())
                .build()
        else {
            panic!("the SDK's provider")
        };
        let tracer = provider.tracer("t");
        for fail in [false, true] {
            let root = tracer.start("root");
            let cx = Context::new().with_span(root);
            let mut child = tracer.start_with_context("child", &cx);
            child.set_attribute(KeyValue::new("text", "abcdefgh"));
            if fail {
                child.set_status(Status::error("boom"));
            }
            child.end();
            cx.span().end();
        }
        provider.force_flush().unwrap();
        for exporter in [&a, &b] {
            let spans = exporter.0.lock().unwrap();
            assert_eq!(spans.len(), 2, "the failed trace only, whole");
            let child = spans.iter().find(|s| s.name == "child").unwrap();
            assert_eq!(child.attributes[0].value.as_str(), "abcd");
        }
        provider.shutdown().unwrap();
    }

    #[test]
    fn without_tail_sampling_nothing_is_held() {
        let a = Collect::default();
        let settings = Settings {
            sampler: None,
            ..settings(None)
        };
        let Ok(Backend::Sdk(provider)) = BackendBuilder::new(settings)
            .with_simple_exporter(a.clone())
            .build()
        else {
            panic!("the SDK's provider")
        };
        provider.tracer("t").start("root").end();
        assert_eq!(a.0.lock().unwrap().len(), 1);
        provider.shutdown().unwrap();
    }
}
