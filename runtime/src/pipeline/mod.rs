//! Our own span pipeline behind the OpenTelemetry API: what
//! [`init`](crate::init) installs with `TRACED_PIPELINE=traced` or
//! [`Builder::pipeline`](crate::Builder::pipeline) (not the default while
//! it misses its targets against the SDK's batch processor; see
//! docs/performance.md).
//!
//! The SDK's provider does a span's bookkeeping on the calling thread: it
//! builds `SpanData`, takes the processor's lock and hands each span over
//! one by one. Here the calling thread does only what must happen there:
//! the ids, the sampling decision (the SDK's samplers, so
//! `OTEL_TRACES_SAMPLER` means what it always did), two clock reads, and
//! the attributes, kept in the span itself. A finished span is pushed, as
//! it is, into a bounded lock-free queue; a background thread takes batches
//! off it and hands them to the exporters with the SDK's resource: to our
//! own OTLP exporters (`export/otlp`) as they are, to an SDK exporter as
//! the SDK's `SpanData` built there (span limits were applied while the
//! span was open; string values are cut to the length limit on this
//! thread). A full queue drops the span and counts it in
//! [`dropped_spans`](crate::dropped_spans).
//!
//! Files: `provider.rs` the provider and its builder, `tracer.rs` starting
//! spans, `span.rs` the span, `limits.rs` value truncation (shared with the
//! SDK path's processor), `sampling.rs` the sampling decision, `ids.rs` the
//! ids and a root span's first flags; then the way to the exporters, one
//! job a file: `queue.rs` the bounded queue (push, drop counting, waking
//! the export thread), `batch.rs` taking batches off it (and building the
//! SDK's `SpanData`), `export.rs` the exporters as the export thread drives
//! them (`Sink`, several exports in flight), `flush.rs` the flush and
//! shutdown handshakes, `worker.rs` the export thread's loop.

mod batch;
mod export;
mod flush;
mod ids;
mod limits;
mod provider;
mod queue;
mod sampling;
mod span;
#[cfg(test)]
mod tests;
mod tracer;
mod worker;

#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
pub(crate) use batch::Spans;
#[cfg(all(test, any(feature = "otlp-grpc", feature = "otlp-http")))]
pub(crate) use batch::span_data;
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
pub(crate) use export::{Export, Sink};
pub(crate) use limits::truncate_all;
pub use provider::{PipelineBuilder, PipelineProvider};
pub(crate) use queue::dropped;
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
pub(crate) use span::Finished;
pub use span::PipelineSpan;
pub use tracer::PipelineTracer;
pub(crate) use tracer::Start;
