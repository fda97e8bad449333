//! Finished spans held until the local root of their tree ends.

use std::collections::{HashMap, HashSet, VecDeque};

use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_sdk::trace::SpanData;

/// Spans held while waiting for their root; beyond it the oldest trace is
/// printed early, so memory stays bounded.
pub(super) const BUFFER_MAX: usize = 10_000;
/// Printed span ids remembered, so that a span outliving its parent is
/// printed when it ends instead of waiting for a flush.
pub(super) const PRINTED_MAX: usize = 10_000;

/// Finished spans waiting for the root of their tree.
#[derive(Default)]
pub(super) struct Buffer {
    pub(super) traces: HashMap<TraceId, Vec<SpanData>>,
    /// Trace ids in the order their first held span arrived; may still
    /// name traces that were printed since (skipped, and compacted away).
    pub(super) order: VecDeque<TraceId>,
    pub(super) count: usize,
    pub(super) printed: HashSet<(TraceId, SpanId)>,
    pub(super) printed_order: VecDeque<(TraceId, SpanId)>,
}

impl Buffer {
    /// Holds `batch`; returns the trees it completed, and the oldest
    /// traces when too much is held.
    pub(super) fn add(&mut self, batch: Vec<SpanData>) -> Vec<Vec<SpanData>> {
        let arrived: Vec<(TraceId, SpanId, SpanId, bool)> = batch
            .iter()
            .map(|s| {
                let cx = &s.span_context;
                let (trace, id) = (cx.trace_id(), cx.span_id());
                (trace, id, s.parent_span_id, s.parent_span_is_remote)
            })
            .collect();
        for span in batch {
            let trace = span.span_context.trace_id();
            let held = self.traces.entry(trace).or_default();
            if held.is_empty() {
                self.order.push_back(trace);
            }
            held.push(span);
            self.count += 1;
        }
        let mut trees = Vec::new();
        for (trace, id, parent, remote) in arrived {
            let top = parent == SpanId::INVALID
                || remote
                || parent == id
                || self.printed.contains(&(trace, parent));
            if !top {
                continue;
            }
            if let Some(tree) = self.take_tree(trace, id) {
                self.remember(&tree);
                trees.push(tree);
            }
        }
        while self.count > BUFFER_MAX {
            let Some(trace) = self.order.pop_front() else {
                break;
            };
            if let Some(spans) = self.take_trace(trace) {
                self.remember(&spans);
                trees.push(spans);
            }
        }
        trees
    }

    /// Everything held, oldest trace first.
    pub(super) fn take_all(&mut self) -> Vec<Vec<SpanData>> {
        let mut trees = Vec::new();
        while let Some(trace) = self.order.pop_front() {
            if let Some(spans) = self.take_trace(trace) {
                self.remember(&spans);
                trees.push(spans);
            }
        }
        trees
    }

    pub(super) fn take_trace(&mut self, trace: TraceId) -> Option<Vec<SpanData>> {
        let spans = self.traces.remove(&trace)?;
        self.count -= spans.len();
        Some(spans)
    }

    /// Takes the span `root` and every held descendant of it out of its
    /// trace; `None` if it was taken already (with an earlier root).
    pub(super) fn take_tree(&mut self, trace: TraceId, root: SpanId) -> Option<Vec<SpanData>> {
        let held = self.traces.get_mut(&trace)?;
        let mut children: HashMap<SpanId, Vec<usize>> = HashMap::new();
        for (i, span) in held.iter().enumerate() {
            children.entry(span.parent_span_id).or_default().push(i);
        }
        let mut taken = vec![false; held.len()];
        let mut todo: Vec<usize> = (0..held.len())
            .filter(|&i| held[i].span_context.span_id() == root)
            .collect();
        if todo.is_empty() {
            return None;
        }
        while let Some(i) = todo.pop() {
            if std::mem::replace(&mut taken[i], true) {
                continue;
            }
            let id = held[i].span_context.span_id();
            if let Some(kids) = children.get(&id) {
                todo.extend(kids.iter().filter(|&&k| !taken[k]));
            }
        }
        let (tree, rest): (Vec<_>, Vec<_>) = std::mem::take(held)
            .into_iter()
            .zip(taken)
            .partition(|(_, taken)| *taken);
        *held = rest.into_iter().map(|(span, _)| span).collect();
        if held.is_empty() {
            self.traces.remove(&trace);
            if self.order.len() > 2 * self.traces.len() + 64 {
                let traces = &self.traces;
                self.order.retain(|t| traces.contains_key(t));
            }
        }
        self.count -= tree.len();
        Some(tree.into_iter().map(|(span, _)| span).collect())
    }

    pub(super) fn remember(&mut self, spans: &[SpanData]) {
        for span in spans {
            let cx = &span.span_context;
            if self.printed.insert((cx.trace_id(), cx.span_id())) {
                self.printed_order.push_back((cx.trace_id(), cx.span_id()));
            }
        }
        while self.printed_order.len() > PRINTED_MAX {
            if let Some(old) = self.printed_order.pop_front() {
                self.printed.remove(&old);
            }
        }
    }
}
