//! Starting a span on the calling thread: ids, the sampler, one clock read.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::SystemTime;

use opentelemetry::trace::{
    Link, SpanBuilder, SpanContext, SpanKind, TraceContextExt as _, TraceState,
};
use opentelemetry::{Context, KeyValue};

use opentelemetry_sdk::trace::SamplingDecision;

use super::span::{Extra, Open, PipelineSpan, Record, Scoped};

/// The tracer of a [`PipelineProvider`](super::PipelineProvider) for one
/// instrumentation scope; cheap to clone.
#[derive(Clone, Debug)]
pub struct PipelineTracer(pub(super) Arc<Scoped>);

/// What a span starts with besides its parent.
pub(crate) struct Start {
    pub(crate) name: Cow<'static, str>,
    pub(crate) kind: SpanKind,
    pub(crate) attributes: Vec<KeyValue>,
    pub(crate) start: Option<SystemTime>,
    /// Links or events given at the start; `None` when there is none of
    /// them (the common case, which then drops no lists).
    pub(crate) extra: Option<Extra>,
}

impl Start {
    /// The span a `SpanBuilder` describes (as our tracer's
    /// `build_with_context` reads it).
    pub(crate) fn from_builder(builder: SpanBuilder) -> Start {
        let SpanBuilder {
            name,
            span_kind,
            start_time,
            attributes,
            events,
            links,
            ..
        } = builder;
        let (events, links) = (events.unwrap_or_default(), links.unwrap_or_default());
        let extra = if events.is_empty() && links.is_empty() {
            None
        } else {
            Some(Extra {
                events,
                links,
                ..Extra::default()
            })
        };
        Start {
            name,
            kind: span_kind.unwrap_or(SpanKind::Internal),
            attributes: attributes.unwrap_or_default(),
            start: start_time,
            extra,
        }
    }

    /// A span named `name` of `kind` with `attributes` and `links`.
    #[inline]
    pub(crate) fn new(
        name: Cow<'static, str>,
        kind: SpanKind,
        attributes: Vec<KeyValue>,
        links: Vec<Link>,
    ) -> Self {
        let extra = if links.is_empty() {
            None
        } else {
            Some(Extra {
                links,
                ..Extra::default()
            })
        };
        Start {
            name,
            kind,
            attributes,
            start: None,
            extra,
        }
    }
}

impl PipelineTracer {
    /// Starts a span as a child of the span in `parent_cx`, as the SDK's
    /// tracer does: the parent's trace and flags, or a new trace; the
    /// sampler decides; a span that is dropped keeps only its context.
    #[inline]
    pub(crate) fn start_span(&self, start: Start, parent_cx: &Context) -> PipelineSpan {
        self.start_then(start, parent_cx, PipelineSpan::dropped, |span| span)
    }

    /// [`PipelineTracer::start_span`], going on with `dropped` (given only
    /// the span context of a span that is dropped) or `started` (given the
    /// recording span). A caller that needs nothing but the context of an
    /// unsampled span (`#[traced]`, for its children) then builds and takes
    /// apart no span for it, and the recording span is handed on where it
    /// was built, not moved out of an intermediate value (each move of a
    /// span is a `memcpy` call of its ~180 bytes).
    #[inline]
    pub(crate) fn start_then<T>(
        &self,
        start: Start,
        parent_cx: &Context,
        dropped: impl FnOnce(SpanContext) -> T,
        started: impl FnOnce(PipelineSpan) -> T,
    ) -> T {
        let shared = &self.0.shared;
        if parent_cx.is_telemetry_suppressed() || shared.is_shut_down() {
            return dropped(SpanContext::empty_context());
        }
        let config = &shared.config;
        let span_id = config.ids.new_span_id();
        let parent_span = parent_cx.span();
        let parent = parent_span.span_context();
        let parent = parent.is_valid().then_some(parent);
        let (trace_id, flags) = match parent {
            Some(parent) => (parent.trace_id(), parent.trace_flags()),
            None => config.ids.new_root(),
        };
        let sampled = config.sampler.decide(
            parent_cx,
            trace_id,
            &start.name,
            &start.kind,
            &start.attributes,
            start.extra.as_ref().map_or(&[], |extra| &extra.links),
        );
        let trace_state: TraceState = sampled.trace_state;
        let flags = match sampled.decision {
            SamplingDecision::Drop => {
                drop_empty_cheaply(sampled.attributes);
                drop_empty_cheaply(start.attributes);
                // Not sampled, but the parent's other flags kept: the W3C
                // `random` flag says how the trace's id was made, which
                // does not change with the decision. (The SDK clears all
                // of them; `#[traced]` put `random` back afterwards.)
                return dropped(SpanContext::new(
                    trace_id,
                    span_id,
                    flags.with_sampled(false),
                    false,
                    trace_state,
                ));
            }
            SamplingDecision::RecordOnly => flags.with_sampled(false),
            SamplingDecision::RecordAndSample => flags.with_sampled(true),
        };
        let context = SpanContext::new(trace_id, span_id, flags, false, trace_state);
        let limits = &config.limits;
        let Start {
            name,
            kind,
            mut attributes,
            start,
            extra,
        } = start;
        // Only a sampler asked through `ShouldSample` may add any; taking
        // an empty list apart costs about 60 instructions a span.
        if !sampled.attributes.is_empty() {
            attributes.extend(sampled.attributes);
        }
        let max = limits.max_attributes_per_span as usize;
        let dropped_attributes = attributes.len().saturating_sub(max) as u32;
        attributes.truncate(max);
        let extra = extra.map(|mut extra| {
            extra.limit(limits);
            Box::new(extra)
        });
        let (parent, parent_is_remote) = match parent {
            Some(parent) => (parent.span_id(), parent.is_remote()),
            None => (opentelemetry::trace::SpanId::INVALID, false),
        };
        started(PipelineSpan {
            context,
            open: Some(Open {
                shared: self.0.shared.clone(),
                record: Record {
                    scope: self.0.scope,
                    parent,
                    parent_is_remote,
                    kind,
                    name,
                    start: start.unwrap_or_else(opentelemetry::time::now),
                    attributes,
                    dropped_attributes,
                    extra,
                },
            }),
        })
    }
}

/// Drops `list`; an empty one that holds no memory without a call. (The
/// drop of a `Vec<KeyValue>` calls out to drop its elements even when it
/// has none, about 24 instructions, twice for every unsampled span.)
#[inline(always)]
fn drop_empty_cheaply(list: Vec<KeyValue>) {
    if list.capacity() == 0 {
        // Nothing to free and no element to drop: forgetting it is
        // exactly what dropping it would do.
        std::mem::forget(list);
    }
}

impl opentelemetry::trace::Tracer for PipelineTracer {
    type Span = PipelineSpan;

    fn build_with_context(&self, builder: SpanBuilder, parent_cx: &Context) -> PipelineSpan {
        self.start_span(Start::from_builder(builder), parent_cx)
    }
}
