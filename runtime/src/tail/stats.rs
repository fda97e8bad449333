//! What tail sampling decided: counters per [`TailSampling`](super::TailSampling)
//! and for the whole process ([`tail_stats`]).

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use super::rule::Kept;

/// What tail sampling did since it started: [`tail_stats`] for the whole
/// process, [`TailSampling::stats`](super::TailSampling::stats) for one
/// processor.
///
/// A trace here is the fragment of it held in this process. Every decided
/// trace is counted once, as kept by one rule (the first that matches, in
/// the order of the fields) or dropped; a trace decided early because a
/// bound was reached is counted there too, and once in `evicted`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TailStats {
    /// Traces held now, waiting for their local root and every span
    /// started here to end.
    pub held: u64,
    /// The estimated bytes of the spans held now.
    pub held_bytes: u64,
    /// Traces kept because a span ended with status Error.
    pub kept_errors: u64,
    /// Traces kept because a local root lasted at least `slower_than`.
    pub kept_slow: u64,
    /// Traces kept because an attribute matched.
    pub kept_attribute: u64,
    /// Traces kept because the function of `tail_sampling_fn` said so.
    pub kept_custom: u64,
    /// Traces kept by the ratio alone.
    pub kept_ratio: u64,
    /// Traces no rule kept, kept because a service they called kept them
    /// (its `traceresponse` said so) or [`tail_keep_now`](crate::tail_keep_now)
    /// marked them.
    pub kept_by_downstream: u64,
    /// Traces dropped: no rule kept them.
    pub dropped: u64,
    /// Spans dropped with them, including spans that ended after their
    /// trace was decided. Not in [`dropped_spans`](crate::dropped_spans),
    /// which counts spans lost for any other reason.
    pub dropped_spans: u64,
    /// Traces decided before their local root and every span ended,
    /// because a bound was reached (the sum of the four below).
    pub evicted: u64,
    /// ... the fragment reached the spans-per-trace bound.
    pub evicted_spans: u64,
    /// ... the held spans of all traces reached the bytes bound.
    pub evicted_bytes: u64,
    /// ... the fragment was held for the longest hold.
    pub evicted_hold: u64,
    /// ... the processor shut down.
    pub evicted_shutdown: u64,
}

/// Why a trace was decided before it was complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Evicted {
    Spans,
    Bytes,
    Hold,
    Shutdown,
}

/// The counters behind [`TailStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    held: AtomicI64,
    held_bytes: AtomicI64,
    kept: [AtomicU64; 6],
    dropped: AtomicU64,
    dropped_spans: AtomicU64,
    evicted: [AtomicU64; 4],
}

/// Every processor's counts, added up.
static PROCESS: Counters = Counters {
    held: AtomicI64::new(0),
    held_bytes: AtomicI64::new(0),
    kept: [const { AtomicU64::new(0) }; 6],
    dropped: AtomicU64::new(0),
    dropped_spans: AtomicU64::new(0),
    evicted: [const { AtomicU64::new(0) }; 4],
};

/// What tail sampling decided in this process since it started, over
/// every [`TailSampling`](super::TailSampling) processor (the one `init`
/// installs for `TRACED_TAIL_SAMPLING` and any added by hand).
pub fn tail_stats() -> TailStats {
    PROCESS.read()
}

impl Counters {
    /// Runs `f` on these counters and on the process's.
    fn both(&self, f: impl Fn(&Counters)) {
        f(self);
        f(&PROCESS);
    }

    pub(crate) fn held(&self, delta: i64) {
        self.both(|c| {
            c.held.fetch_add(delta, Ordering::Relaxed);
        });
    }

    pub(crate) fn held_bytes(&self, delta: i64) {
        self.both(|c| {
            c.held_bytes.fetch_add(delta, Ordering::Relaxed);
        });
    }

    /// A trace decided: kept by `kept`, or dropped with `spans` spans.
    pub(crate) fn decided(&self, kept: Option<Kept>, spans: usize) {
        self.both(|c| match kept {
            Some(rule) => {
                c.kept[rule as usize].fetch_add(1, Ordering::Relaxed);
            }
            None => {
                c.dropped.fetch_add(1, Ordering::Relaxed);
                c.dropped_spans.fetch_add(spans as u64, Ordering::Relaxed);
            }
        });
    }

    /// Spans that ended after their trace was dropped.
    pub(crate) fn dropped_late(&self, spans: u64) {
        self.both(|c| {
            c.dropped_spans.fetch_add(spans, Ordering::Relaxed);
        });
    }

    pub(crate) fn evicted(&self, why: Evicted) {
        self.both(|c| {
            c.evicted[why as usize].fetch_add(1, Ordering::Relaxed);
        });
    }

    pub(crate) fn read(&self) -> TailStats {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let gauge = |a: &AtomicI64| a.load(Ordering::Relaxed).max(0).unsigned_abs();
        let evicted: Vec<u64> = self.evicted.iter().map(get).collect();
        TailStats {
            held: gauge(&self.held),
            held_bytes: gauge(&self.held_bytes),
            kept_errors: get(&self.kept[Kept::Errors as usize]),
            kept_slow: get(&self.kept[Kept::Slow as usize]),
            kept_attribute: get(&self.kept[Kept::Attribute as usize]),
            kept_custom: get(&self.kept[Kept::Custom as usize]),
            kept_ratio: get(&self.kept[Kept::Ratio as usize]),
            kept_by_downstream: get(&self.kept[Kept::Downstream as usize]),
            dropped: get(&self.dropped),
            dropped_spans: get(&self.dropped_spans),
            evicted: evicted.iter().sum(),
            evicted_spans: evicted[Evicted::Spans as usize],
            evicted_bytes: evicted[Evicted::Bytes as usize],
            evicted_hold: evicted[Evicted::Hold as usize],
            evicted_shutdown: evicted[Evicted::Shutdown as usize],
        }
    }
}

impl TailStats {
    /// Traces kept, by any rule.
    pub fn kept(&self) -> u64 {
        self.kept_errors
            + self.kept_slow
            + self.kept_attribute
            + self.kept_custom
            + self.kept_ratio
            + self.kept_by_downstream
    }
}
