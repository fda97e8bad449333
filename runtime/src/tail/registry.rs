//! The holds of this process, for what crosses services (#28): a server
//! integration asks whether a trace is kept here before it answers
//! (`traceresponse`), a client integration marks the caller's trace kept
//! when the service it called kept it.
//!
//! A [`TailSampling`](super::TailSampling) registers its hold when it sees
//! its first span and leaves when dropped. With none registered, the
//! integrations check one atomic and do nothing else.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock, Weak};

use opentelemetry::trace::TraceId;

use super::hold::Hold;

/// How many holds are registered.
static ACTIVE: AtomicUsize = AtomicUsize::new(0);
/// The registered holds.
static HOLDS: RwLock<Vec<Weak<Hold>>> = RwLock::new(Vec::new());

/// Whether tail sampling runs in this process: a processor has seen spans
/// and was not dropped since.
pub(crate) fn is_on() -> bool {
    ACTIVE.load(Ordering::Relaxed) > 0
}

pub(super) fn register(hold: &Arc<Hold>) {
    let mut holds = HOLDS.write().unwrap_or_else(PoisonError::into_inner);
    holds.push(Arc::downgrade(hold));
    ACTIVE.store(holds.len(), Ordering::Relaxed);
}

pub(super) fn unregister(hold: &Arc<Hold>) {
    let mut holds = HOLDS.write().unwrap_or_else(PoisonError::into_inner);
    let gone = Arc::downgrade(hold);
    // Entries whose processor is gone without a word go too.
    holds.retain(|h| !h.ptr_eq(&gone) && h.strong_count() > 0);
    ACTIVE.store(holds.len(), Ordering::Relaxed);
}

/// Whether any registered hold says `f` of its hold.
fn any(f: impl Fn(&Hold) -> bool) -> bool {
    if !is_on() {
        return false;
    }
    let holds = HOLDS.read().unwrap_or_else(PoisonError::into_inner);
    holds
        .iter()
        .filter_map(Weak::upgrade)
        .fold(false, |found, hold| f(&hold) | found)
}

/// Keeps the trace `trace_id` in this process whatever the tail sampling
/// rules say, as a service it called asked by its `traceresponse`: every
/// [`TailSampling`](crate::TailSampling) holding the trace keeps it whole
/// when it is decided, counted in
/// [`TailStats::kept_by_downstream`](crate::TailStats::kept_by_downstream)
/// if no rule kept it.
///
/// Returns whether the trace is kept here now: `false` when no hold knows
/// it (tail sampling is off, the trace's spans here all ended long ago) or
/// a bound made a hold drop it already. The HTTP and gRPC client
/// integrations call it for you; call it yourself for a transport of your
/// own.
pub fn tail_keep_now(trace_id: TraceId) -> bool {
    any(|hold| hold.keep_now(trace_id))
}

/// Whether the trace of `span` is known to be kept in this process, or
/// will be whatever happens in it (a ratio rule keeps it): where the
/// metrics take exemplars from when tail sampling is on.
pub(crate) fn will_keep(span: &opentelemetry::trace::SpanContext) -> bool {
    any(|hold| hold.will_keep(span))
}

/// Whether the trace `trace_id` is known to be kept in this process: a
/// rule kept it already, a span of it held here ended with status Error
/// while the `errors` rule is on, or [`tail_keep_now`] marked it. `false`
/// with tail sampling off. The HTTP and gRPC server integrations ask this
/// before they answer, to send `traceresponse`.
pub fn tail_is_kept(trace_id: TraceId) -> bool {
    any(|hold| hold.is_kept(trace_id))
}
