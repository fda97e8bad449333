//! The provider of our pipeline and its builder.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{IdGenerator, ShouldSample, SpanExporter, SpanLimits};

use super::export::{Exporting, Sink};
use super::ids::Ids;
use super::queue::{Config, Shared};
use super::sampling::Sampling;
use super::span::Scoped;
use super::tracer::PipelineTracer;

/// A tracer provider whose spans go to the SDK's exporters through a
/// queue and an export thread of ours (see `TRACED_PIPELINE` in
/// [`init`](crate::init)).
///
/// Cheap to clone; the last clone to go shuts the pipeline down (as the
/// SDK's provider does), exporting every finished span first.
#[derive(Clone, Debug)]
pub struct PipelineProvider(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    shared: Arc<Shared>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if !self.shared.is_shut_down() {
            let _ = self.shared.shutdown(self.shared.config.export_timeout);
        }
    }
}

impl PipelineProvider {
    /// Starts configuring a pipeline: parent-based always-on sampling, the
    /// SDK's default span limits, its batch defaults, no exporter.
    pub fn builder() -> PipelineBuilder {
        PipelineBuilder::default()
    }

    /// Exports every span that has ended; waits for the exporters.
    ///
    /// # Errors
    ///
    /// What an exporter returned, a timeout after the export timeout, or
    /// `AlreadyShutdown`.
    pub fn force_flush(&self) -> OTelSdkResult {
        self.0.shared.force_flush()
    }

    /// Exports every span that has ended and shuts the exporters down;
    /// spans started from now on do not record.
    ///
    /// # Errors
    ///
    /// As [`PipelineProvider::force_flush`].
    pub fn shutdown(&self) -> OTelSdkResult {
        self.shutdown_with_timeout(self.0.shared.config.export_timeout)
    }

    /// [`PipelineProvider::shutdown`], waiting at most `timeout`: what is
    /// still queued then is counted in [`dropped_spans`](crate::dropped_spans).
    ///
    /// # Errors
    ///
    /// As [`PipelineProvider::force_flush`].
    pub fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shared.shutdown(timeout)
    }
}

impl opentelemetry::trace::TracerProvider for PipelineProvider {
    type Tracer = PipelineTracer;

    fn tracer_with_scope(&self, scope: InstrumentationScope) -> PipelineTracer {
        PipelineTracer(Arc::new(Scoped {
            scope: super::span::intern(scope),
            shared: self.0.shared.clone(),
        }))
    }
}

/// How many batches our pipeline exports at once unless told otherwise
/// (`OTEL_BSP_MAX_CONCURRENT_EXPORTS`, `PipelineBuilder::with_max_concurrent_exports`).
/// The SDK's default is 1. With 4, our pipeline delivered 100k spans/s
/// through a collector on loopback with the default queue and batch
/// sizes and none dropped, where one at a time dropped about a quarter
/// (`benches/throughput.rs`, `docs/performance.md`).
const DEFAULT_CONCURRENT_EXPORTS: usize = 4;

/// Configures a [`PipelineProvider`].
#[must_use]
pub struct PipelineBuilder {
    sampler: Sampling,
    ids: Ids,
    limits: SpanLimits,
    value_length_limit: Option<usize>,
    max_queue_size: usize,
    max_export_batch_size: usize,
    max_concurrent_exports: usize,
    scheduled_delay: Duration,
    export_timeout: Duration,
    resource: Option<Resource>,
    sinks: Vec<Box<dyn Sink>>,
}

impl std::fmt::Debug for PipelineBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineBuilder")
            .field("sampler", &self.sampler)
            .field("exporters", &self.sinks.len())
            .finish_non_exhaustive()
    }
}

impl Default for PipelineBuilder {
    fn default() -> Self {
        PipelineBuilder {
            // `Sampler::ParentBased(Box::new(Sampler::AlwaysOn))`, decided in place.
            sampler: Sampling::ParentBasedAlwaysOn,
            ids: Ids::default(),
            limits: SpanLimits::default(),
            value_length_limit: None,
            // The SDK's batch defaults.
            max_queue_size: 2048,
            max_export_batch_size: 512,
            max_concurrent_exports: DEFAULT_CONCURRENT_EXPORTS,
            scheduled_delay: Duration::from_secs(5),
            export_timeout: Duration::from_secs(30),
            resource: None,
            sinks: Vec::new(),
        }
    }
}

impl PipelineBuilder {
    /// Adds an exporter; every exporter gets every sampled span, as the
    /// SDK's `SpanData`. ([`init`](crate::init) gives the pipeline OTLP
    /// exporters of our own instead, which encode each batch straight from
    /// our records: about a quarter of the export side's CPU per span, see
    /// docs/performance.md.)
    pub fn with_exporter<E: SpanExporter + 'static>(mut self, exporter: E) -> Self {
        self.sinks.push(Box::new(Exporting::new(exporter)));
        self
    }

    /// Adds an exporter of ours, which takes the finished spans as they are.
    #[cfg_attr(
        not(any(feature = "otlp-grpc", feature = "otlp-http")),
        allow(dead_code)
    )]
    pub(crate) fn with_sink(mut self, sink: Box<dyn Sink>) -> Self {
        self.sinks.push(sink);
        self
    }

    /// The sampler (any of the SDK's); the default is
    /// `Sampler::ParentBased(Box::new(Sampler::AlwaysOn))`, as the SDK's.
    pub fn with_sampler<S: ShouldSample + 'static>(mut self, sampler: S) -> Self {
        self.sampler = Sampling::of(sampler);
        self
    }

    /// The id generator; the default is the SDK's random one, whose root
    /// spans carry the W3C `random` flag. Root spans of any other
    /// generator do not, since its ids may not be random.
    pub fn with_id_generator<G: IdGenerator + 'static>(mut self, ids: G) -> Self {
        self.ids = Ids::Custom(Box::new(ids));
        self
    }

    /// The span limits.
    pub fn with_span_limits(mut self, limits: SpanLimits) -> Self {
        self.limits = limits;
        self
    }

    /// String values are cut to this many characters.
    pub fn with_value_length_limit(mut self, limit: Option<usize>) -> Self {
        self.value_length_limit = limit;
        self
    }

    /// The resource the exporters are given; the SDK's default when unset.
    pub fn with_resource(mut self, resource: Resource) -> Self {
        self.resource = Some(resource);
        self
    }

    /// How many finished spans may wait for export; more are dropped
    /// (and counted).
    pub fn with_max_queue_size(mut self, size: usize) -> Self {
        self.max_queue_size = size;
        self
    }

    /// How many spans go to an exporter at once.
    pub fn with_max_export_batch_size(mut self, size: usize) -> Self {
        self.max_export_batch_size = size.max(1);
        self
    }

    /// How many batches may be exported at once (at least 1; the default
    /// is 4, where the SDK's is 1). When a whole batch or more is
    /// waiting, the export thread takes up to this many and has them in
    /// flight together, starting the next as soon as there is room, so that
    /// an exporter that waits on the network (OTLP/gRPC) is not limited to
    /// one batch per round trip. Batches may then arrive out of order; 1
    /// exports them one after the other, as the SDK's batch processor.
    pub fn with_max_concurrent_exports(mut self, exports: usize) -> Self {
        self.max_concurrent_exports = exports.max(1);
        self
    }

    /// How long a span may wait before its batch is exported anyway.
    pub fn with_scheduled_delay(mut self, delay: Duration) -> Self {
        self.scheduled_delay = delay;
        self
    }

    /// How long a flush or shutdown waits for the exporters.
    pub fn with_export_timeout(mut self, timeout: Duration) -> Self {
        self.export_timeout = timeout;
        self
    }

    /// Starts the export thread.
    ///
    /// # Errors
    ///
    /// When the thread cannot be spawned.
    pub fn build(self) -> std::io::Result<PipelineProvider> {
        let resource = self.resource.unwrap_or_else(|| Resource::builder().build());
        let config = Config {
            sampler: self.sampler,
            ids: self.ids,
            limits: self.limits,
            value_length_limit: self.value_length_limit,
            max_queue_size: self.max_queue_size,
            max_export_batch_size: self.max_export_batch_size.min(self.max_queue_size.max(1)),
            max_concurrent_exports: self.max_concurrent_exports,
            scheduled_delay: self.scheduled_delay,
            export_timeout: self.export_timeout,
        };
        let shared = Shared::start(config, self.sinks, &resource)?;
        Ok(PipelineProvider(Arc::new(Inner { shared })))
    }
}
