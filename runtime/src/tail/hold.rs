//! The hold: the spans of each trace wait until the trace's local root has
//! ended and every span of the trace started here has ended, then go on
//! together or not at all. Bounded in spans per trace, bytes overall and
//! time; a bounded cache of decisions settles spans that come later.
//!
//! Time comes in as an argument (`now`), so that tests drive it.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use opentelemetry::KeyValue;
use opentelemetry::trace::{Status, TraceId};
use opentelemetry_sdk::trace::SpanData;

use super::rule::{Kept, Policy, is_local_root};
use super::stats::{Counters, Evicted};

/// Spans held for one trace at most; the next one decides the trace.
pub(crate) const MAX_SPANS_PER_TRACE_DEFAULT: usize = 10_000;
/// Bytes held for all traces at most (estimated, see [`estimate`]); the
/// span that goes over decides its trace.
pub(crate) const MAX_BYTES_DEFAULT: usize = 64 * 1024 * 1024;
/// How long a trace is held at most, from its first span's start; then it
/// is decided as it is (the OpenTelemetry Collector's tail sampling
/// processor waits 30 s too).
pub(crate) const MAX_HOLD_DEFAULT: Duration = Duration::from_secs(30);
/// Decisions remembered for spans that end after their trace was decided.
pub(crate) const DECISIONS_DEFAULT: usize = 65_536;

/// How the maps hash trace ids: foldhash, seeded per process. SipHash,
/// the standard map's default, was the largest single cost of a held span
/// (two lookups per span; about 1,000 instructions of 6,300 per
/// `#[traced]` call). A trace id can come from a caller's `traceparent`,
/// so the hash stays keyed with a random seed: ids cannot be chosen to
/// collide without knowing it.
type Ids = foldhash::fast::RandomState;

/// The hold's state is split by trace id, so that threads ending spans of
/// different traces rarely wait for each other.
const SHARDS: usize = 16;

/// The bounds of a hold.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub(crate) spans_per_trace: usize,
    pub(crate) bytes: usize,
    pub(crate) hold: Duration,
    pub(crate) decisions: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            spans_per_trace: MAX_SPANS_PER_TRACE_DEFAULT,
            bytes: MAX_BYTES_DEFAULT,
            hold: MAX_HOLD_DEFAULT,
            decisions: DECISIONS_DEFAULT,
        }
    }
}

/// The held traces and what was decided.
#[derive(Debug)]
pub(crate) struct Hold {
    shards: Box<[Mutex<Shard>]>,
    /// Bytes held over all shards.
    bytes: AtomicUsize,
    pub(crate) limits: Limits,
    pub(crate) policy: Policy,
    pub(crate) counters: Counters,
    /// What `next_sweep` counts from.
    epoch: Instant,
    /// When the next sweep for traces held too long is due, in
    /// nanoseconds since `epoch`.
    next_sweep: AtomicU64,
}

#[derive(Debug, Default)]
struct Shard {
    traces: HashMap<TraceId, Trace, Ids>,
    /// Decided traces none of whose spans is open, for spans that still
    /// come; `order` forgets the oldest first.
    decisions: HashMap<TraceId, bool, Ids>,
    order: VecDeque<TraceId>,
}

#[derive(Debug)]
enum Trace {
    /// Not decided yet.
    Held(Held),
    /// Decided while spans of it were open (early, or a span started after
    /// the decision): they follow the decision as they end.
    Decided {
        keep: bool,
        open: u32,
        since: Instant,
    },
}

#[derive(Debug)]
struct Held {
    /// Spans started here and not ended yet.
    open: u32,
    spans: Vec<SpanData>,
    bytes: usize,
    /// Whether a local root of the trace has ended.
    root_ended: bool,
    /// When its first span started.
    since: Instant,
    /// Whether a span of it ended with status Error.
    failed: bool,
    /// Kept whatever the rules say: a service it called kept the trace
    /// (`traceresponse`), or [`Hold::keep_now`] was called.
    forced: bool,
}

impl Hold {
    pub(crate) fn new(policy: Policy) -> Hold {
        Hold {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            bytes: AtomicUsize::new(0),
            limits: Limits::default(),
            policy,
            counters: Counters::default(),
            epoch: Instant::now(),
            next_sweep: AtomicU64::new(0),
        }
    }

    fn shard(&self, trace_id: TraceId) -> MutexGuard<'_, Shard> {
        let id = u128::from_be_bytes(trace_id.to_bytes());
        // The low bits of a trace id are random (W3C level 2).
        #[allow(clippy::cast_possible_truncation)]
        let index = (id as usize) % SHARDS;
        self.shards[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn decisions_per_shard(&self) -> usize {
        (self.limits.decisions / SHARDS).max(1)
    }

    /// `span`, kept for `kept`: with `ot.th` in its trace state when the
    /// ratio kept it (the only rule whose keeping is a probability).
    fn stamped(&self, kept: Option<Kept>, mut span: SpanData) -> SpanData {
        if let (Some(Kept::Ratio), Some(t)) = (kept, self.policy.ratio_threshold()) {
            super::rule::stamp_th(std::slice::from_mut(&mut span), t);
        }
        span
    }

    /// A span of `trace_id` started.
    pub(crate) fn start(&self, trace_id: TraceId, now: Instant) {
        let mut shard = self.shard(trace_id);
        match shard.traces.get_mut(&trace_id) {
            Some(Trace::Held(held)) => held.open += 1,
            Some(Trace::Decided { open, .. }) => *open += 1,
            None => {
                let trace = match shard.decisions.get(&trace_id) {
                    // Late: the trace was decided before this span started.
                    Some(&keep) => Trace::Decided {
                        keep,
                        open: 1,
                        since: now,
                    },
                    None => {
                        self.counters.held(1);
                        Trace::Held(Held {
                            open: 1,
                            spans: Vec::new(),
                            bytes: 0,
                            root_ended: false,
                            since: now,
                            failed: false,
                            forced: false,
                        })
                    }
                };
                shard.traces.insert(trace_id, trace);
            }
        }
    }

    /// `span` ended; what may go on now is pushed to `out`.
    pub(crate) fn end(&self, span: SpanData, now: Instant, out: &mut Vec<SpanData>) {
        let trace_id = span.span_context.trace_id();
        let cap = self.decisions_per_shard();
        let mut shard = self.shard(trace_id);
        match shard.traces.get_mut(&trace_id) {
            Some(Trace::Decided { keep, open, .. }) => {
                *open = open.saturating_sub(1);
                let keep = *keep;
                if *open == 0 {
                    shard.traces.remove(&trace_id);
                    shard.remember(trace_id, keep, cap);
                }
                drop(shard);
                if keep {
                    out.push(span);
                } else {
                    self.counters.dropped_late(1);
                }
            }
            // The whole trace here is this one span, a local root with no
            // other span started: decided at once, never held (no copy
            // into the held list, no size to count). The commonest trace
            // of a service that calls nothing instrumented.
            Some(Trace::Held(held))
                if held.open == 1 && held.spans.is_empty() && is_local_root(&span) =>
            {
                let forced = held.forced;
                shard.traces.remove(&trace_id);
                self.counters.held(-1);
                let kept = self
                    .policy
                    .decide(std::slice::from_ref(&span), None)
                    .or(forced.then_some(Kept::Downstream));
                self.counters.decided(kept, 1);
                shard.remember(trace_id, kept.is_some(), cap);
                drop(shard);
                if kept.is_some() {
                    out.push(self.stamped(kept, span));
                }
            }
            Some(Trace::Held(held)) => {
                held.open = held.open.saturating_sub(1);
                held.root_ended |= is_local_root(&span);
                held.failed |= matches!(span.status, Status::Error { .. });
                let size = estimate(&span);
                held.bytes += size;
                held.spans.push(span);
                self.counters.held_bytes(size as i64);
                let total = self.bytes.fetch_add(size, Ordering::Relaxed) + size;
                let why = if held.open == 0 && held.root_ended {
                    Some(None)
                } else if held.spans.len() >= self.limits.spans_per_trace {
                    Some(Some(Evicted::Spans))
                } else if total > self.limits.bytes {
                    Some(Some(Evicted::Bytes))
                } else {
                    None
                };
                if let Some(early) = why {
                    self.decide(&mut shard, trace_id, early, now, out);
                }
            }
            None => match shard.decisions.get(&trace_id).copied() {
                Some(true) => out.push(span),
                Some(false) => self.counters.dropped_late(1),
                // Started before this hold saw it (the processor was added
                // to a running provider), or its trace was forgotten: the
                // span is decided alone.
                None => {
                    let kept = self.policy.decide(std::slice::from_ref(&span), None);
                    self.counters.decided(kept, 1);
                    shard.remember(trace_id, kept.is_some(), cap);
                    if kept.is_some() {
                        out.push(self.stamped(kept, span));
                    }
                }
            },
        }
    }

    /// Decides the held trace `trace_id`: complete (`early` is `None`) or
    /// because a bound was reached.
    fn decide(
        &self,
        shard: &mut Shard,
        trace_id: TraceId,
        early: Option<Evicted>,
        now: Instant,
        out: &mut Vec<SpanData>,
    ) {
        let Some(Trace::Held(held)) = shard.traces.remove(&trace_id) else {
            return;
        };
        self.bytes.fetch_sub(held.bytes, Ordering::Relaxed);
        self.counters.held_bytes(-(held.bytes as i64));
        self.counters.held(-1);
        let held_for = early.map(|_| now.saturating_duration_since(held.since));
        let kept = self
            .policy
            .decide(&held.spans, held_for)
            .or(held.forced.then_some(Kept::Downstream));
        self.counters.decided(kept, held.spans.len());
        if let Some(why) = early {
            self.counters.evicted(why);
        }
        let keep = kept.is_some();
        if held.open > 0 {
            shard.traces.insert(
                trace_id,
                Trace::Decided {
                    keep,
                    open: held.open,
                    since: now,
                },
            );
        } else {
            shard.remember(trace_id, keep, self.decisions_per_shard());
        }
        if keep {
            let mut spans = held.spans;
            if let (Some(Kept::Ratio), Some(t)) = (kept, self.policy.ratio_threshold()) {
                super::rule::stamp_th(&mut spans, t);
            }
            out.extend(spans);
        }
    }

    /// Marks the held trace `trace_id` to be kept whatever the rules say
    /// (a service it called kept it). Whether the trace is kept here now:
    /// `false` when this hold does not know it, or dropped it already.
    pub(crate) fn keep_now(&self, trace_id: TraceId) -> bool {
        let mut shard = self.shard(trace_id);
        match shard.traces.get_mut(&trace_id) {
            Some(Trace::Held(held)) => {
                held.forced = true;
                true
            }
            // Decided early (a bound was reached): what was dropped is
            // gone, so the decision stands.
            Some(Trace::Decided { keep, .. }) => *keep,
            None => shard.decisions.get(&trace_id) == Some(&true),
        }
    }

    /// Whether the trace `trace_id` is known to be kept here: marked by
    /// [`keep_now`](Self::keep_now), decided to be kept, or held with a span
    /// that ended with status Error while the errors rule is on. A trace
    /// this hold does not know is not.
    pub(crate) fn is_kept(&self, trace_id: TraceId) -> bool {
        let shard = self.shard(trace_id);
        match shard.traces.get(&trace_id) {
            Some(Trace::Held(held)) => held.forced || held.failed && self.policy.keeps_errors(),
            Some(Trace::Decided { keep, .. }) => *keep,
            None => shard.decisions.get(&trace_id) == Some(&true),
        }
    }

    /// Whether the trace of `span` is known to be kept here
    /// ([`is_kept`](Self::is_kept)) or will be whatever happens in it (the
    /// ratio rule keeps its randomness). The metrics take exemplars only
    /// from such traces.
    pub(crate) fn will_keep(&self, span: &opentelemetry::trace::SpanContext) -> bool {
        self.is_kept(span.trace_id()) || self.policy.ratio_keeps(span)
    }

    /// Decides the traces held for the longest hold, if a sweep is due
    /// (every quarter of the longest hold, at least every second).
    pub(crate) fn maybe_sweep(&self, now: Instant, out: &mut Vec<SpanData>) {
        let at = nanos(now.saturating_duration_since(self.epoch));
        let due = self.next_sweep.load(Ordering::Relaxed);
        if at < due {
            return;
        }
        let every = (self.limits.hold / 4).clamp(Duration::from_millis(1), Duration::from_secs(1));
        if self
            .next_sweep
            .compare_exchange(due, at + nanos(every), Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            self.sweep(now, out);
        }
    }

    /// Decides every trace held for the longest hold, and forgets the
    /// decided traces whose open spans did not end in as long.
    pub(crate) fn sweep(&self, now: Instant, out: &mut Vec<SpanData>) {
        let limit = self.limits.hold;
        let cap = self.decisions_per_shard();
        for shard in &self.shards {
            let mut shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
            let due: Vec<(TraceId, bool)> = shard
                .traces
                .iter()
                .filter_map(|(id, trace)| match trace {
                    Trace::Held(held) if now.saturating_duration_since(held.since) >= limit => {
                        Some((*id, true))
                    }
                    Trace::Decided { since, .. }
                        if now.saturating_duration_since(*since) >= limit =>
                    {
                        Some((*id, false))
                    }
                    _ => None,
                })
                .collect();
            for (id, held) in due {
                if held {
                    self.decide(&mut shard, id, Some(Evicted::Hold), now, out);
                } else if let Some(Trace::Decided { keep, .. }) = shard.traces.remove(&id) {
                    shard.remember(id, keep, cap);
                }
            }
        }
    }

    /// Decides every held trace as it is (the processor shuts down).
    pub(crate) fn drain(&self, now: Instant, out: &mut Vec<SpanData>) {
        for shard in &self.shards {
            let mut shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
            let held: Vec<TraceId> = shard
                .traces
                .iter()
                .filter(|(_, t)| matches!(t, Trace::Held(_)))
                .map(|(id, _)| *id)
                .collect();
            for id in held {
                self.decide(&mut shard, id, Some(Evicted::Shutdown), now, out);
            }
        }
    }
}

impl Shard {
    fn remember(&mut self, trace_id: TraceId, keep: bool, cap: usize) {
        if self.decisions.insert(trace_id, keep).is_none() {
            self.order.push_back(trace_id);
            while self.order.len() > cap {
                if let Some(old) = self.order.pop_front() {
                    self.decisions.remove(&old);
                }
            }
        }
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The bytes a held span takes, estimated: the `SpanData` itself, and
/// for its attributes, events and links their entries and the text of
/// their keys and string values. Keys and names that are `'static` are
/// counted as if owned, so the estimate errs high.
pub(crate) fn estimate(span: &SpanData) -> usize {
    size_of::<SpanData>()
        + span.name.len()
        + attributes(&span.attributes)
        + span
            .events
            .events
            .iter()
            .map(|e| {
                size_of::<opentelemetry::trace::Event>() + e.name.len() + attributes(&e.attributes)
            })
            .sum::<usize>()
        + span
            .links
            .links
            .iter()
            .map(|l| size_of::<opentelemetry::trace::Link>() + attributes(&l.attributes))
            .sum::<usize>()
}

fn attributes(list: &[KeyValue]) -> usize {
    list.iter()
        .map(|kv| size_of::<KeyValue>() + kv.key.as_str().len() + value_bytes(&kv.value))
        .sum()
}

fn value_bytes(value: &opentelemetry::Value) -> usize {
    use opentelemetry::{Array, Value};
    match value {
        Value::String(s) => s.as_str().len(),
        Value::Array(Array::String(list)) => list
            .iter()
            .map(|s| size_of::<opentelemetry::StringValue>() + s.as_str().len())
            .sum(),
        Value::Array(Array::Bool(list)) => list.len(),
        Value::Array(Array::I64(list)) => list.len() * 8,
        Value::Array(Array::F64(list)) => list.len() * 8,
        _ => 0,
    }
}
