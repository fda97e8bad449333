//! Joining spans from every service into traces, and deciding when a trace
//! is complete enough to print.
//!
//! A trace is complete when its root (a span without a parent) has arrived
//! and no new span of it has come for the quiet period: services export in
//! batches on their own schedules, so the root of a request can arrive
//! before the spans of the service it called. A trace whose root never
//! comes is printed as incomplete after the timeout. Spans that arrive
//! after their trace was printed are printed on their own, as a
//! continuation, once they are quiet too; the web page always shows the
//! trace whole.
//!
//! Memory is bounded three ways ([`Limits`]): traces kept, spans kept in
//! all, and spans kept per trace. Beyond the first two the oldest trace is
//! let go (printed first if it was not yet); beyond the third, new spans
//! of that trace are counted and dropped.

mod search;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_sdk::trace::SpanData;

pub(crate) use search::{Summary, matches, summary, unix_ns};

/// One received span and the service that sent it.
#[derive(Debug, Clone)]
pub(crate) struct Span {
    pub(crate) data: SpanData,
    pub(crate) service: Arc<str>,
}

/// How much the viewer keeps in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Traces kept, printed or not; the oldest goes first.
    pub max_traces: usize,
    /// Spans kept in all traces together.
    pub max_spans: usize,
    /// Spans kept in one trace; more are dropped and counted.
    pub max_spans_per_trace: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_traces: 2_000,
            max_spans: 50_000,
            max_spans_per_trace: 5_000,
        }
    }
}

/// When traces are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timing {
    /// How long a trace with its root must receive nothing before it is
    /// printed.
    pub(crate) quiet: Duration,
    /// How long a trace without a root may wait before it is printed as
    /// incomplete.
    pub(crate) timeout: Duration,
}

/// One trace as the joiner holds it.
#[derive(Debug)]
pub(crate) struct Trace {
    pub(crate) id: TraceId,
    /// In order of arrival; `spans[..printed]` have been printed.
    pub(crate) spans: Vec<Span>,
    ids: HashSet<SpanId>,
    printed: usize,
    seq: u64,
    first_seen: Instant,
    last_seen: Instant,
    /// Spans beyond [`Limits::max_spans_per_trace`].
    pub(crate) dropped: u64,
}

impl Trace {
    pub(crate) fn has_root(&self) -> bool {
        self.spans
            .iter()
            .any(|s| s.data.parent_span_id == SpanId::INVALID)
    }
}

/// Why a trace (or part of one) is printed now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Why {
    /// Its root arrived and it has been quiet since.
    Complete,
    /// Spans that came after the trace was printed.
    Late,
    /// Its root did not arrive within the timeout.
    NoRoot,
    /// It was let go to stay within the limits.
    Evicted,
    /// The viewer is stopping, or was asked to print everything held.
    Flushed,
}

/// Spans to print: the trace's new spans, with everything the trace
/// already held to say which cross a process boundary.
#[derive(Debug)]
pub(crate) struct Ready {
    pub(crate) why: Why,
    /// Every span the trace holds, in order of arrival.
    pub(crate) all: Vec<Span>,
    /// How many of `all` were printed before; the rest are new.
    pub(crate) printed_before: usize,
}

/// In the order the traces started, so that requests print in the order
/// they were made.
fn by_start(ready: &mut [Ready]) {
    ready.sort_by_key(|r| r.all.iter().map(|s| s.data.start_time).min());
}

/// Counters since the viewer started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub(crate) struct Stats {
    pub(crate) spans_received: u64,
    pub(crate) duplicates: u64,
    pub(crate) dropped_over_trace_limit: u64,
    pub(crate) traces_evicted: u64,
    pub(crate) traces_held: usize,
    pub(crate) spans_held: usize,
}

/// Spans of every service, joined by trace id.
#[derive(Debug)]
pub(crate) struct Joiner {
    limits: Limits,
    timing: Timing,
    traces: HashMap<TraceId, Trace>,
    /// Trace ids in the order they first arrived (with their `seq`): the
    /// order they are let go in. Holds exactly the traces in `traces`.
    order: VecDeque<(TraceId, u64)>,
    /// Traces with spans not yet printed.
    pending: HashSet<TraceId>,
    /// Let go before they were printed; printed at the next [`due`](Joiner::due).
    evicted: Vec<Ready>,
    seq: u64,
    spans: usize,
    stats: Stats,
}

impl Joiner {
    pub(crate) fn new(limits: Limits, timing: Timing) -> Joiner {
        let limits = Limits {
            max_traces: limits.max_traces.max(1),
            max_spans: limits.max_spans.max(1),
            max_spans_per_trace: limits.max_spans_per_trace.clamp(1, limits.max_spans.max(1)),
        };
        Joiner {
            limits,
            timing,
            traces: HashMap::new(),
            order: VecDeque::new(),
            pending: HashSet::new(),
            evicted: Vec::new(),
            seq: 0,
            spans: 0,
            stats: Stats::default(),
        }
    }

    /// Joins `spans` into their traces. A span already held (the same
    /// trace and span id: an exporter retried) is counted and ignored.
    pub(crate) fn add(&mut self, spans: Vec<Span>, now: Instant) {
        for span in spans {
            self.stats.spans_received += 1;
            let id = span.data.span_context.trace_id();
            let trace = match self.traces.get_mut(&id) {
                Some(trace) => trace,
                None => {
                    self.seq += 1;
                    self.order.push_back((id, self.seq));
                    self.traces.entry(id).or_insert(Trace {
                        id,
                        spans: Vec::new(),
                        ids: HashSet::new(),
                        printed: 0,
                        seq: self.seq,
                        first_seen: now,
                        last_seen: now,
                        dropped: 0,
                    })
                }
            };
            if trace.ids.contains(&span.data.span_context.span_id()) {
                self.stats.duplicates += 1;
                continue;
            }
            if trace.spans.len() >= self.limits.max_spans_per_trace {
                trace.dropped += 1;
                self.stats.dropped_over_trace_limit += 1;
                continue;
            }
            trace.ids.insert(span.data.span_context.span_id());
            trace.spans.push(span);
            trace.last_seen = now;
            self.spans += 1;
            self.pending.insert(id);
            self.make_room();
        }
    }

    /// Lets the oldest traces go until the limits hold.
    fn make_room(&mut self) {
        while self.traces.len() > self.limits.max_traces || self.spans > self.limits.max_spans {
            let Some((id, seq)) = self.order.pop_front() else {
                break;
            };
            let Some(trace) = self.traces.remove(&id).filter(|t| t.seq == seq) else {
                continue;
            };
            self.spans -= trace.spans.len();
            self.stats.traces_evicted += 1;
            if self.pending.remove(&id) {
                self.evicted.push(Ready {
                    why: Why::Evicted,
                    printed_before: trace.printed,
                    all: trace.spans,
                });
            }
        }
    }

    /// The traces (and late parts of traces) to print at `now`.
    pub(crate) fn due(&mut self, now: Instant) -> Vec<Ready> {
        let mut ready = std::mem::take(&mut self.evicted);
        let timing = self.timing;
        let due: Vec<(TraceId, Why)> = self
            .pending
            .iter()
            .filter_map(|id| {
                let trace = self.traces.get(id)?;
                let quiet = now.saturating_duration_since(trace.last_seen);
                if trace.printed > 0 {
                    (quiet >= timing.quiet).then_some((*id, Why::Late))
                } else if trace.has_root() {
                    (quiet >= timing.quiet).then_some((*id, Why::Complete))
                } else {
                    (now.saturating_duration_since(trace.first_seen) >= timing.timeout
                        && quiet >= timing.quiet)
                        .then_some((*id, Why::NoRoot))
                }
            })
            .collect();
        for (id, why) in due {
            ready.extend(self.take(id, why));
        }
        by_start(&mut ready);
        ready
    }

    /// Everything not yet printed, whatever its state.
    pub(crate) fn flush(&mut self) -> Vec<Ready> {
        let mut ready = std::mem::take(&mut self.evicted);
        let ids: Vec<TraceId> = self.pending.iter().copied().collect();
        for id in ids {
            ready.extend(self.take(id, Why::Flushed));
        }
        by_start(&mut ready);
        ready
    }

    fn take(&mut self, id: TraceId, why: Why) -> Option<Ready> {
        self.pending.remove(&id);
        let trace = self.traces.get_mut(&id)?;
        let printed_before = std::mem::replace(&mut trace.printed, trace.spans.len());
        Some(Ready {
            why,
            all: trace.spans.clone(),
            printed_before,
        })
    }

    /// The trace `id`, if it is still held.
    pub(crate) fn trace(&self, id: TraceId) -> Option<&Trace> {
        self.traces.get(&id)
    }

    /// The newest traces first.
    pub(crate) fn newest(&self) -> impl Iterator<Item = &Trace> {
        self.order
            .iter()
            .rev()
            .filter_map(|(id, _)| self.traces.get(id))
    }

    pub(crate) fn stats(&self) -> Stats {
        Stats {
            traces_held: self.traces.len(),
            spans_held: self.spans,
            ..self.stats
        }
    }
}
