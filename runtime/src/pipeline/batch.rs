//! Taking batches off the queue, as the sinks take them: our records, or
//! the SDK's `SpanData` built here, on the export thread.

use std::sync::atomic::Ordering;

use opentelemetry::trace::Status;
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};

use super::limits::truncate_all;
use super::queue::Shared;
use super::span::Finished;

/// A batch as the sinks get it: our records, or, when every sink takes
/// them, the SDK's `SpanData` (string values already cut).
#[derive(Clone, Debug)]
pub(crate) enum Spans {
    Records(Vec<Finished>),
    Data(Vec<SpanData>),
}

impl Spans {
    pub(super) fn len(&self) -> usize {
        match self {
            Spans::Records(spans) => spans.len(),
            Spans::Data(spans) => spans.len(),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The records, for a sink that does not take `SpanData` (which then
    /// never gets the `Data` form: see [`Sink::takes_span_data`](super::Sink::takes_span_data)).
    #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
    pub(crate) fn records(self) -> Vec<Finished> {
        match self {
            Spans::Records(spans) => spans,
            Spans::Data(_) => Vec::new(),
        }
    }
}

/// Up to `batch` spans off the queue, as the sinks take them. Only the
/// export thread calls this, so what the queue held stays there until
/// taken; `taken` is raised before the spans leave the queue, so that a
/// flush that reads the queue's length and then `taken` misses none of
/// them (see [`Shared::force_flush`]).
pub(super) fn take(shared: &Shared, batch: usize) -> Spans {
    let n = batch.min(shared.queue.len());
    shared.taken.fetch_add(n as u64, Ordering::SeqCst);
    // `None` only when a shutdown that gave up emptied the queue itself.
    let popped = std::iter::from_fn(|| shared.queue.pop()).take(n);
    if shared.span_data_only {
        let limit = shared.config.value_length_limit;
        let mut spans = Vec::with_capacity(n);
        spans.extend(popped.map(|finished| span_data(finished, limit)));
        Spans::Data(spans)
    } else {
        let mut spans = Vec::with_capacity(n);
        spans.extend(popped);
        Spans::Records(spans)
    }
}

/// The SDK's record of a finished span, its string values cut to `limit`.
#[inline]
pub(crate) fn span_data(finished: Finished, limit: Option<usize>) -> SpanData {
    let mut data = record(finished);
    if let Some(limit) = limit {
        truncate_all(&mut data.attributes, limit);
        for event in &mut data.events.events {
            truncate_all(&mut event.attributes, limit);
        }
        for link in &mut data.links.links {
            truncate_all(&mut link.attributes, limit);
        }
    }
    data
}

fn record(finished: Finished) -> SpanData {
    let Finished {
        context,
        end,
        record: open,
    } = finished;
    let mut events = SpanEvents::default();
    let mut links = SpanLinks::default();
    let mut status = Status::Unset;
    if let Some(extra) = open.extra {
        let extra = *extra;
        events.events = extra.events;
        events.dropped_count = extra.dropped_events;
        links.links = extra.links;
        links.dropped_count = extra.dropped_links;
        status = extra.status;
    }
    SpanData {
        span_context: context,
        parent_span_id: open.parent,
        parent_span_is_remote: open.parent_is_remote,
        span_kind: open.kind,
        name: open.name,
        start_time: open.start,
        end_time: end,
        attributes: open.attributes,
        dropped_attributes_count: open.dropped_attributes,
        events,
        links,
        status,
        instrumentation_scope: open.scope.clone(),
    }
}
