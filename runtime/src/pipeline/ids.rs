//! Span and trace ids on the calling thread, and the flags a root span
//! starts with.
//!
//! On the SDK's provider a root span's flags are built from an empty
//! parent, so the W3C `random` flag of a trace we start cannot ride in its
//! span context: the SDK path tags the trace ids it mints instead
//! (`RandomRoots`, a keyed SipHash of the id's random bytes, which
//! `inject` checks). Our pipeline builds the flags itself, so a root span
//! of the default generator carries `random` from the start, and its trace
//! id needs no tag: 237–271 instructions less per root span on the calling
//! thread (callgrind; docs/performance.md).

use opentelemetry::trace::{SpanId, TraceFlags, TraceId};
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator};

use crate::propagation::TRACE_FLAG_RANDOM;

/// Where a pipeline's ids come from.
pub(crate) enum Ids {
    /// The SDK's random generator, called directly: its trace ids are
    /// random, so root spans carry the W3C `random` flag.
    Random(RandomIdGenerator),
    /// A generator the user gave, whose ids may not be random: root spans
    /// start with no flag set besides the sampling decision.
    Custom(Box<dyn IdGenerator>),
}

impl Default for Ids {
    fn default() -> Self {
        Ids::Random(RandomIdGenerator::default())
    }
}

impl std::fmt::Debug for Ids {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Ids::Random(_) => "Random",
            Ids::Custom(_) => "Custom",
        })
    }
}

impl Ids {
    /// A new span id.
    #[inline]
    pub(crate) fn new_span_id(&self) -> SpanId {
        match self {
            Ids::Random(ids) => ids.new_span_id(),
            Ids::Custom(ids) => ids.new_span_id(),
        }
    }

    /// A new trace id, for a root span, with the flags the root starts
    /// with before the sampler decides.
    #[inline]
    pub(crate) fn new_root(&self) -> (TraceId, TraceFlags) {
        match self {
            Ids::Random(ids) => loop {
                // The all-zero id is invalid; a random one is that once in
                // 2^128, but a span must never carry it.
                let id = ids.new_trace_id();
                if id != TraceId::INVALID {
                    return (id, TRACE_FLAG_RANDOM);
                }
            },
            Ids::Custom(ids) => (ids.new_trace_id(), TraceFlags::default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ids differ call to call, and the default's roots are flagged random.
    /// (That a generator of the user's gives unflagged roots is checked
    /// through the public API, in tests/pipeline.rs.)
    #[test]
    fn roots_of_the_default_generator_are_random() {
        let ids = Ids::default();
        let (a, flags) = ids.new_root();
        let (b, _) = ids.new_root();
        assert_ne!(a, b);
        assert_ne!(a, TraceId::INVALID);
        assert_eq!(flags, TRACE_FLAG_RANDOM);
        assert_ne!(ids.new_span_id(), ids.new_span_id());
    }
}
