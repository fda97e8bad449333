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
//! Log records join the trace named by their trace id and are shown beside
//! the span named by their span id. They delay a trace's printing like its
//! spans do, but never make it due on their own: records that arrive after
//! their trace was printed are on the web page only. A record without a
//! trace id has nothing to join and is counted, not kept.
//!
//! Memory is bounded four ways ([`Limits`]): traces kept, spans (and as
//! many log records) kept in all, spans (and records) kept per trace, and
//! the bytes they take, estimated (`size.rs`). Beyond the first, second and
//! fourth the oldest trace is let go (printed first if it was not yet);
//! beyond the third, new spans of that trace are counted and dropped.
//!
//! Spans and records are held behind `Arc`s, so the web page takes a
//! snapshot under the lock in the time it takes to copy pointers, and
//! searches it outside.

mod search;
mod size;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_sdk::trace::SpanData;

pub(crate) use search::{Summary, matches, summary, unix_ns};

/// One received span and the service that sent it.
#[derive(Debug, Clone)]
pub(crate) struct Span {
    pub(crate) data: SpanData,
    pub(crate) service: Arc<str>,
}

/// One received log record that names a trace, and the service that sent
/// it.
#[derive(Debug, Clone)]
pub(crate) struct Log {
    pub(crate) trace_id: TraceId,
    /// `SpanId::INVALID` when the record names its trace only.
    pub(crate) span_id: SpanId,
    pub(crate) service: Arc<str>,
    /// Its time, or when it was observed when it has none.
    pub(crate) time: SystemTime,
    /// `INFO`, `WARN`...: the sender's text, or named from its number.
    pub(crate) severity: String,
    pub(crate) body: String,
    pub(crate) attributes: Vec<KeyValue>,
}

/// How much the viewer keeps in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Traces kept, printed or not; the oldest goes first.
    pub max_traces: usize,
    /// Spans kept in all traces together, and as many log records.
    pub max_spans: usize,
    /// Spans kept in one trace, and as many log records; more are dropped
    /// and counted.
    pub max_spans_per_trace: usize,
    /// Bytes the spans and records kept may take, estimated; the oldest
    /// trace goes first.
    pub max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_traces: 2_000,
            max_spans: 50_000,
            max_spans_per_trace: 5_000,
            max_bytes: 256 * 1024 * 1024,
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
struct Trace {
    /// In order of arrival; `spans[..printed]` have been printed.
    spans: Vec<Arc<Span>>,
    /// In order of arrival.
    logs: Vec<Arc<Log>>,
    ids: HashSet<SpanId>,
    printed: usize,
    seq: u64,
    first_seen: Instant,
    last_seen: Instant,
    /// Spans and records beyond [`Limits::max_spans_per_trace`].
    dropped: u64,
    /// Estimated, of its spans and records.
    bytes: usize,
}

impl Trace {
    fn has_root(&self) -> bool {
        has_root(&self.spans)
    }
}

fn has_root(spans: &[Arc<Span>]) -> bool {
    spans
        .iter()
        .any(|s| s.data.parent_span_id == SpanId::INVALID)
}

/// A trace as it was when the lock was last held: for the web page, which
/// reads it without the lock.
#[derive(Debug, Clone)]
pub(crate) struct Held {
    pub(crate) id: TraceId,
    /// In order of arrival.
    pub(crate) spans: Vec<Arc<Span>>,
    /// In order of arrival.
    pub(crate) logs: Vec<Arc<Log>>,
    /// Spans and records beyond [`Limits::max_spans_per_trace`].
    pub(crate) dropped: u64,
}

impl Held {
    pub(crate) fn has_root(&self) -> bool {
        has_root(&self.spans)
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
    pub(crate) all: Vec<Arc<Span>>,
    /// How many of `all` were printed before; the rest are new.
    pub(crate) printed_before: usize,
    /// Every log record the trace holds, in order of arrival.
    pub(crate) logs: Vec<Arc<Log>>,
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
    pub(crate) logs_received: u64,
    /// Log records without a trace id: nothing to join them to.
    pub(crate) logs_without_trace: u64,
    pub(crate) duplicates: u64,
    pub(crate) dropped_over_trace_limit: u64,
    pub(crate) traces_evicted: u64,
    pub(crate) traces_held: usize,
    pub(crate) spans_held: usize,
    pub(crate) logs_held: usize,
    /// Estimated.
    pub(crate) bytes_held: usize,
}

/// The trace `id`, made (and put last in `order`) when it is new.
fn trace_mut<'a>(
    traces: &'a mut HashMap<TraceId, Trace>,
    order: &mut VecDeque<(TraceId, u64)>,
    seq: &mut u64,
    id: TraceId,
    now: Instant,
) -> &'a mut Trace {
    traces.entry(id).or_insert_with(|| {
        *seq += 1;
        order.push_back((id, *seq));
        Trace {
            spans: Vec::new(),
            logs: Vec::new(),
            ids: HashSet::new(),
            printed: 0,
            seq: *seq,
            first_seen: now,
            last_seen: now,
            dropped: 0,
            bytes: 0,
        }
    })
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
    logs: usize,
    bytes: usize,
    stats: Stats,
}

impl Joiner {
    pub(crate) fn new(limits: Limits, timing: Timing) -> Joiner {
        let limits = Limits {
            max_traces: limits.max_traces.max(1),
            max_spans: limits.max_spans.max(1),
            max_spans_per_trace: limits.max_spans_per_trace.clamp(1, limits.max_spans.max(1)),
            max_bytes: limits.max_bytes.max(1),
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
            logs: 0,
            bytes: 0,
            stats: Stats::default(),
        }
    }

    /// Joins `spans` into their traces. A span already held (the same
    /// trace and span id: an exporter retried) is counted and ignored.
    pub(crate) fn add(&mut self, spans: Vec<Span>, now: Instant) {
        let per_trace = self.limits.max_spans_per_trace;
        for span in spans {
            self.stats.spans_received += 1;
            let id = span.data.span_context.trace_id();
            let bytes = size::span(&span);
            let trace = trace_mut(&mut self.traces, &mut self.order, &mut self.seq, id, now);
            if trace.ids.contains(&span.data.span_context.span_id()) {
                self.stats.duplicates += 1;
                continue;
            }
            if trace.spans.len() >= per_trace {
                trace.dropped += 1;
                self.stats.dropped_over_trace_limit += 1;
                continue;
            }
            trace.ids.insert(span.data.span_context.span_id());
            trace.spans.push(Arc::new(span));
            trace.last_seen = now;
            trace.bytes += bytes;
            self.spans += 1;
            self.bytes += bytes;
            self.pending.insert(id);
            self.make_room();
        }
    }

    /// Joins log records into their traces; a record without a trace id
    /// is counted and let go.
    pub(crate) fn add_logs(&mut self, logs: Vec<Log>, now: Instant) {
        let per_trace = self.limits.max_spans_per_trace;
        for log in logs {
            self.stats.logs_received += 1;
            if log.trace_id == TraceId::INVALID {
                self.stats.logs_without_trace += 1;
                continue;
            }
            let bytes = size::log(&log);
            let trace = trace_mut(
                &mut self.traces,
                &mut self.order,
                &mut self.seq,
                log.trace_id,
                now,
            );
            if trace.logs.len() >= per_trace {
                trace.dropped += 1;
                self.stats.dropped_over_trace_limit += 1;
                continue;
            }
            trace.logs.push(Arc::new(log));
            trace.last_seen = now;
            trace.bytes += bytes;
            self.logs += 1;
            self.bytes += bytes;
            self.make_room();
        }
    }

    /// Lets the oldest traces go until the limits hold.
    fn make_room(&mut self) {
        while self.traces.len() > self.limits.max_traces
            || self.spans > self.limits.max_spans
            || self.logs > self.limits.max_spans
            || self.bytes > self.limits.max_bytes
        {
            let Some((id, seq)) = self.order.pop_front() else {
                break;
            };
            let Some(trace) = self.traces.remove(&id).filter(|t| t.seq == seq) else {
                continue;
            };
            self.spans -= trace.spans.len();
            self.logs -= trace.logs.len();
            self.bytes -= trace.bytes;
            self.stats.traces_evicted += 1;
            if self.pending.remove(&id) {
                self.evicted.push(Ready {
                    why: Why::Evicted,
                    printed_before: trace.printed,
                    all: trace.spans,
                    logs: trace.logs,
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
            logs: trace.logs.clone(),
        })
    }

    fn held(id: TraceId, trace: &Trace) -> Held {
        Held {
            id,
            spans: trace.spans.clone(),
            logs: trace.logs.clone(),
            dropped: trace.dropped,
        }
    }

    /// The trace `id`, if it is still held and has spans.
    pub(crate) fn trace(&self, id: TraceId) -> Option<Held> {
        let trace = self.traces.get(&id).filter(|t| !t.spans.is_empty())?;
        Some(Joiner::held(id, trace))
    }

    /// Every trace held that has spans, the newest first: pointers copied
    /// under the lock, for a search without it.
    pub(crate) fn snapshot(&self) -> Vec<Held> {
        self.order
            .iter()
            .rev()
            .filter_map(|(id, _)| {
                let trace = self.traces.get(id).filter(|t| !t.spans.is_empty())?;
                Some(Joiner::held(*id, trace))
            })
            .collect()
    }

    pub(crate) fn stats(&self) -> Stats {
        Stats {
            traces_held: self.traces.len(),
            spans_held: self.spans,
            logs_held: self.logs,
            bytes_held: self.bytes,
            ..self.stats
        }
    }
}
