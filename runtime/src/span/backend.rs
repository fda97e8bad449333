//! The span backend: the one type that knows whether spans go to the
//! OpenTelemetry SDK's provider or to our own pipeline.
//!
//! Everything above it (call sites, the `tracing` bridge, `init`'s guard,
//! `testing`'s captures) is written once against [`Backend`]: a call site
//! holds a [`BackendTracer`] and starts its span through one generic
//! function, handed to [`BackendTracer::visit`], which is where the two
//! pipelines part. `build.rs` builds either from the same settings and
//! exporters, so that `init` and `testing` build theirs the same way.

use opentelemetry::global::BoxedTracer;
use opentelemetry::trace::{
    SpanBuilder, SpanContext, TraceContextExt as _, TraceFlags, TracerProvider as _,
};
use opentelemetry::{Context, InstrumentationScope};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};

use crate::pipeline::{PipelineProvider, PipelineTracer, Start};
use crate::propagation::TRACE_FLAG_RANDOM;

/// Which span pipeline a `Backend` runs: what
/// [`Builder::pipeline`](https://docs.rs/traced/latest/traced/struct.Builder.html#method.pipeline)
/// and `TRACED_PIPELINE` choose, and what `traced::testing` captures run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pipeline {
    /// The OpenTelemetry SDK's provider, with its batch (OTLP) and simple
    /// (console) processors.
    Sdk,
    /// Our own pipeline ([`PipelineProvider`]): the calling thread only
    /// starts and ends spans; an export thread hands them in batches to
    /// the exporters (OTLP over gRPC and `http/protobuf` by exporters of
    /// ours, encoded straight from the spans; `http/json` and the console
    /// by the SDK's).
    Traced,
}

impl Pipeline {
    /// The pipeline `init` installs and `testing` captures run on unless
    /// one is asked for: the one place that says which.
    ///
    /// The SDK's (#24): our pipeline is the default only while it meets its
    /// targets against the SDK's batch processor under glibc's malloc
    /// (calling thread at most 0.6×, CPU of all threads at most 0.8×, no
    /// more spans dropped at full speed), and it does not yet: in
    /// `benches/yardstick.rs` it costs about as much as the SDK's on the
    /// calling thread and drops more at full speed (docs/performance.md).
    /// `TRACED_PIPELINE=traced` or `Builder::pipeline` choose it.
    #[cfg_attr(not(any(feature = "init", feature = "testing")), allow(dead_code))]
    pub(crate) const BY_DEFAULT: Pipeline = Pipeline::Sdk;

    /// The pipeline `TRACED_PIPELINE` names (`sdk` or `traced`, any case),
    /// if it is set to one of them.
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    pub(crate) fn from_env() -> Option<Pipeline> {
        let value = std::env::var("TRACED_PIPELINE").ok()?;
        Pipeline::parse(&value)
    }

    /// `sdk` or `traced`, in any case.
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    pub(crate) fn parse(value: &str) -> Option<Pipeline> {
        match value.trim().to_ascii_lowercase().as_str() {
            "sdk" => Some(Pipeline::Sdk),
            "traced" => Some(Pipeline::Traced),
            _ => None,
        }
    }
}

/// A span backend: the SDK's provider or our pipeline. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) enum Backend {
    /// The OpenTelemetry SDK's provider.
    Sdk(SdkTracerProvider),
    /// Our own pipeline.
    Traced(PipelineProvider),
}

impl Backend {
    /// The tracer a call site of `scope` keeps.
    pub(crate) fn tracer(&self, scope: InstrumentationScope) -> BackendTracer {
        match self {
            Backend::Sdk(provider) => BackendTracer::Sdk(provider.tracer_with_scope(scope)),
            Backend::Traced(provider) => BackendTracer::Traced(provider.tracer_with_scope(scope)),
        }
    }

    /// A type-erased tracer of `scope`, for code that needs OpenTelemetry's
    /// `Tracer` trait (the `tracing` bridge).
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    pub(crate) fn boxed_tracer(&self, scope: InstrumentationScope) -> BoxedTracer {
        match self {
            Backend::Sdk(provider) => BoxedTracer::new(Box::new(provider.tracer_with_scope(scope))),
            Backend::Traced(provider) => {
                BoxedTracer::new(Box::new(provider.tracer_with_scope(scope)))
            }
        }
    }

    /// Which pipeline this is.
    #[cfg_attr(not(any(feature = "init", feature = "testing")), allow(dead_code))]
    pub(crate) fn pipeline(&self) -> Pipeline {
        match self {
            Backend::Sdk(_) => Pipeline::Sdk,
            Backend::Traced(_) => Pipeline::Traced,
        }
    }

    /// Exports every span that has ended.
    ///
    /// # Errors
    ///
    /// What an exporter or processor returned.
    #[cfg_attr(not(any(feature = "init", feature = "testing")), allow(dead_code))]
    pub(crate) fn force_flush(&self) -> OTelSdkResult {
        match self {
            Backend::Sdk(provider) => provider.force_flush(),
            Backend::Traced(provider) => provider.force_flush(),
        }
    }

    /// Exports every span that has ended and shuts the exporters down.
    ///
    /// # Errors
    ///
    /// As [`Backend::force_flush`].
    #[cfg_attr(not(any(feature = "init", feature = "testing")), allow(dead_code))]
    pub(crate) fn shutdown(&self) -> OTelSdkResult {
        match self {
            Backend::Sdk(provider) => provider.shutdown(),
            Backend::Traced(provider) => provider.shutdown(),
        }
    }

    /// Puts this backend into OpenTelemetry's global slot, wrapped by
    /// `wrap` (which keeps the provider's tracers and adds a watch).
    pub(super) fn set_global<W: Wrap>(&self, wrap: W) {
        match self {
            Backend::Sdk(provider) => wrap.set(provider.clone()),
            Backend::Traced(provider) => wrap.set(provider.clone()),
        }
    }
}

/// Puts a provider of either kind into the global slot (see `provider.rs`).
pub(super) trait Wrap {
    fn set<P>(self, provider: P)
    where
        P: opentelemetry::trace::TracerProvider + std::fmt::Debug + Send + Sync + 'static,
        P::Tracer: Send + Sync + 'static,
        <P::Tracer as opentelemetry::trace::Tracer>::Span: Send + Sync + 'static;
}

/// A call site's tracer: the backend's, for the call site's scope.
#[derive(Debug)]
pub(crate) enum BackendTracer {
    /// The SDK's tracer.
    Sdk(SdkTracer),
    /// Our pipeline's tracer.
    Traced(PipelineTracer),
}

impl BackendTracer {
    /// Runs `visitor` on the tracer this is: the one branch between the
    /// two pipelines on the hot path, into code written once for both.
    #[inline]
    pub(crate) fn visit<V: Visit>(&self, visitor: V) -> V::Output {
        match self {
            BackendTracer::Sdk(tracer) => visitor.visit(tracer),
            BackendTracer::Traced(tracer) => visitor.visit(tracer),
        }
    }
}

/// Code written once for every tracer (a closure generic over the tracer).
pub(crate) trait Visit {
    /// What the visit gives back.
    type Output;
    /// Does the work with `tracer`.
    fn visit<T: StartSpan>(self, tracer: &T) -> Self::Output;
}

/// Starting a span: what a call site needs of a tracer.
pub(crate) trait StartSpan {
    /// The span a recording start hands on.
    type Span: opentelemetry::trace::Span + Send + Sync + 'static;

    /// Starts a span as a child of the span in `parent`, going on with
    /// `dropped` (given only the span context of a span that does not
    /// record, with the parent's W3C `random` flag kept) or `started`
    /// (given the recording span, where it was built).
    fn start_then<R>(
        &self,
        start: Start,
        parent: &Context,
        dropped: impl FnOnce(SpanContext) -> R,
        started: impl FnOnce(Self::Span) -> R,
    ) -> R;
}

impl StartSpan for PipelineTracer {
    type Span = crate::pipeline::PipelineSpan;

    #[inline]
    fn start_then<R>(
        &self,
        start: Start,
        parent: &Context,
        dropped: impl FnOnce(SpanContext) -> R,
        started: impl FnOnce(Self::Span) -> R,
    ) -> R {
        // Our tracer keeps the caller's `random` flag itself.
        PipelineTracer::start_then(self, start, parent, dropped, started)
    }
}

/// `StartSpan` for a tracer of OpenTelemetry's `Tracer` trait: the SDK's
/// and the global one.
macro_rules! through_the_tracer_trait {
    ($($tracer:ty => $span:ty),*) => {$(
        impl StartSpan for $tracer {
            type Span = $span;

            #[inline]
            fn start_then<R>(
                &self,
                start: Start,
                parent: &Context,
                dropped: impl FnOnce(SpanContext) -> R,
                started: impl FnOnce(Self::Span) -> R,
            ) -> R {
                through_builder(self, start, parent, dropped, started)
            }
        }
    )*};
}

through_the_tracer_trait!(
    SdkTracer => opentelemetry_sdk::trace::Span,
    BoxedTracer => opentelemetry::global::BoxedSpan
);

/// [`StartSpan::start_then`] through OpenTelemetry's `Tracer` trait.
#[inline]
fn through_builder<T, R>(
    tracer: &T,
    start: Start,
    parent: &Context,
    dropped: impl FnOnce(SpanContext) -> R,
    started: impl FnOnce(T::Span) -> R,
) -> R
where
    T: opentelemetry::trace::Tracer,
{
    let span = tracer.build_with_context(start.into_builder(), parent);
    if !opentelemetry::trace::Span::is_recording(&span) {
        return dropped(keep_random(
            parent,
            opentelemetry::trace::Span::span_context(&span),
        ));
    }
    started(span)
}

impl Start {
    /// The same span as OpenTelemetry's `SpanBuilder`.
    pub(crate) fn into_builder(self) -> SpanBuilder {
        let mut builder = SpanBuilder::from_name(self.name).with_kind(self.kind);
        if !self.attributes.is_empty() {
            builder.attributes = Some(self.attributes);
        }
        builder.start_time = self.start;
        if let Some(extra) = self.extra {
            if !extra.links.is_empty() {
                builder.links = Some(extra.links);
            }
            if !extra.events.is_empty() {
                builder.events = Some(extra.events);
            }
        }
        builder
    }
}

/// The span context of a span that does not record, with the caller's W3C
/// `random` flag put back: the SDK builds a dropped span's flags from
/// scratch, but the trace is the caller's.
fn keep_random(cx: &Context, sc: &SpanContext) -> SpanContext {
    let parent_span = cx.span();
    let parent = parent_span.span_context();
    let random = TRACE_FLAG_RANDOM.to_u8();
    if parent.is_valid()
        && parent.trace_id() == sc.trace_id()
        && parent.trace_flags().to_u8() & random != 0
        && sc.trace_flags().to_u8() & random == 0
    {
        SpanContext::new(
            sc.trace_id(),
            sc.span_id(),
            TraceFlags::new(sc.trace_flags().to_u8() | random),
            sc.is_remote(),
            sc.trace_state().clone(),
        )
    } else {
        sc.clone()
    }
}
