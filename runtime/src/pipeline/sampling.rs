//! The sampling decision on the calling thread.
//!
//! The SDK's built-in samplers whose answer needs nothing but the parent
//! (`parentbased_always_on`, the default, and `always_on`/`always_off`) are
//! decided here in a few instructions, with the answer the SDK's `Sampler`
//! gives: no attributes, the parent's trace state. A call through
//! `ShouldSample` costs about 150 instructions a span (two dynamic calls, a
//! `SamplingResult` built and taken apart), a twentieth of the span. Any
//! other sampler is asked through `ShouldSample` as before.

use std::any::Any;

use opentelemetry::trace::{Link, SpanKind, TraceContextExt as _, TraceId};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{Sampler, SamplingDecision, SamplingResult, ShouldSample};

/// How a pipeline decides whether a span records and is sampled.
#[derive(Debug)]
pub(crate) enum Sampling {
    /// `Sampler::ParentBased(Box::new(Sampler::AlwaysOn))`: a span with a
    /// parent follows the parent's sampled flag, a root span is sampled.
    ParentBasedAlwaysOn,
    /// `Sampler::AlwaysOn`.
    AlwaysOn,
    /// `Sampler::AlwaysOff`.
    AlwaysOff,
    /// Any other sampler, asked for each span.
    Other(Box<dyn ShouldSample>),
}

impl Sampling {
    /// `sampler`, decided in place when it is one of the SDK's samplers
    /// whose answer is known.
    ///
    /// `Sampler::ParentBased` holds its root sampler as a
    /// `Box<dyn ShouldSample>`, which cannot be looked into, so it stays
    /// [`Sampling::Other`]; the pipeline's default (and `init` with the
    /// default `OTEL_TRACES_SAMPLER`) is [`Sampling::ParentBasedAlwaysOn`].
    pub(crate) fn of<S: ShouldSample + 'static>(sampler: S) -> Self {
        match (&sampler as &dyn Any).downcast_ref::<Sampler>() {
            Some(Sampler::AlwaysOn) => Sampling::AlwaysOn,
            Some(Sampler::AlwaysOff) => Sampling::AlwaysOff,
            _ => Sampling::Other(Box::new(sampler)),
        }
    }

    /// The decision for a span of `trace_id` under `parent_cx`, as the
    /// SDK's tracer asks for it.
    #[inline]
    pub(crate) fn decide(
        &self,
        parent_cx: &Context,
        trace_id: TraceId,
        name: &str,
        kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> SamplingResult {
        let decision = match self {
            Sampling::Other(sampler) => {
                return sampler.should_sample(
                    Some(parent_cx),
                    trace_id,
                    name,
                    kind,
                    attributes,
                    links,
                );
            }
            Sampling::AlwaysOn => SamplingDecision::RecordAndSample,
            Sampling::AlwaysOff => SamplingDecision::Drop,
            // As the SDK's `Sampler::ParentBased` does: any span in the
            // parent context counts as a parent (one with an invalid
            // context too, which is then not sampled).
            Sampling::ParentBasedAlwaysOn if parent_cx.has_active_span() => {
                if parent_cx.span().span_context().is_sampled() {
                    SamplingDecision::RecordAndSample
                } else {
                    SamplingDecision::Drop
                }
            }
            Sampling::ParentBasedAlwaysOn => SamplingDecision::RecordAndSample,
        };
        SamplingResult {
            decision,
            attributes: Vec::new(),
            trace_state: parent_cx.span().span_context().trace_state().clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceState};

    /// Every parent a span can have: none, an invalid span, local and
    /// remote parents sampled or not, with and without trace state.
    fn parents() -> Vec<Context> {
        let state = TraceState::from_key_value([("k", "v")]).expect("valid");
        let mut all = vec![
            Context::new(),
            Context::new().with_remote_span_context(SpanContext::empty_context()),
        ];
        for remote in [false, true] {
            for flags in [TraceFlags::SAMPLED, TraceFlags::default()] {
                for state in [TraceState::default(), state.clone()] {
                    all.push(Context::new().with_remote_span_context(SpanContext::new(
                        TraceId::from(7),
                        SpanId::from(9),
                        flags,
                        remote,
                        state,
                    )));
                }
            }
        }
        all
    }

    /// The samplers decided in place answer exactly as the SDK's.
    #[test]
    fn known_samplers_answer_as_the_sdk() {
        let cases = [
            (
                Sampling::ParentBasedAlwaysOn,
                Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
            ),
            (Sampling::of(Sampler::AlwaysOn), Sampler::AlwaysOn),
            (Sampling::of(Sampler::AlwaysOff), Sampler::AlwaysOff),
        ];
        for (ours, sdk) in &cases {
            assert!(!matches!(ours, Sampling::Other(_)), "{ours:?}");
            for cx in parents() {
                let want = sdk.should_sample(
                    Some(&cx),
                    TraceId::from(7),
                    "s",
                    &SpanKind::Internal,
                    &[],
                    &[],
                );
                let got = ours.decide(&cx, TraceId::from(7), "s", &SpanKind::Internal, &[], &[]);
                assert_eq!(got.decision, want.decision, "{sdk:?} under {cx:?}");
                assert_eq!(got.trace_state, want.trace_state, "{sdk:?} under {cx:?}");
                assert_eq!(got.attributes, want.attributes);
            }
        }
    }

    /// Any other sampler is asked.
    #[test]
    fn other_samplers_are_asked() {
        let ratio = Sampling::of(Sampler::TraceIdRatioBased(0.0));
        assert!(matches!(ratio, Sampling::Other(_)));
        let root = Context::new();
        let got = ratio.decide(&root, TraceId::from(7), "s", &SpanKind::Internal, &[], &[]);
        assert_eq!(got.decision, SamplingDecision::Drop);
        let parent_based = Sampling::of(Sampler::ParentBased(Box::new(Sampler::AlwaysOff)));
        assert!(matches!(parent_based, Sampling::Other(_)));
        let got = parent_based.decide(&root, TraceId::from(7), "s", &SpanKind::Internal, &[], &[]);
        assert_eq!(got.decision, SamplingDecision::Drop);
    }
}
