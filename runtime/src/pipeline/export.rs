//! Handing batches to the exporters: the [`Sink`] trait the export thread
//! drives, [`Exporting`] for any SDK exporter, and [`pump`], which keeps
//! several exports in flight at once.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{Ordering, fence};
use std::task::Poll;
use std::time::Duration;

use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::SpanExporter;

use super::batch::{Spans, span_data, take};
use super::queue::Shared;

/// One export in flight.
pub(crate) type Export<'a> = Pin<Box<dyn Future<Output = OTelSdkResult> + 'a>>;

/// An exporter, as the export thread drives it.
pub(crate) trait Sink: Send {
    /// Exports `spans`. The export thread polls several of these futures
    /// together (see [`pump`]).
    fn export(&self, spans: Spans) -> Export<'_>;
    /// Whether this sink takes the SDK's `SpanData`. When every sink does,
    /// the export thread builds them as it takes spans off the queue (one
    /// move of each record fewer than building them in the sink).
    fn takes_span_data(&self) -> bool {
        false
    }
    fn flush(&mut self) -> OTelSdkResult;
    fn shutdown(&mut self, timeout: Duration) -> OTelSdkResult;
    /// Called once, before the first export: the pipeline's resource and
    /// the length string values are cut to (`OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`).
    fn prepare(&mut self, resource: &Resource, value_length_limit: Option<usize>);
}

/// Any SDK exporter, given the SDK's `SpanData`; its futures run to
/// completion on the export thread (as the SDK's own batch processor does).
pub(crate) struct Exporting<E> {
    exporter: E,
    limit: Option<usize>,
}

impl<E> Exporting<E> {
    pub(crate) fn new(exporter: E) -> Self {
        Exporting {
            exporter,
            limit: None,
        }
    }
}

impl<E: SpanExporter> Sink for Exporting<E> {
    fn export(&self, spans: Spans) -> Export<'_> {
        let batch = match spans {
            Spans::Data(batch) => batch,
            Spans::Records(spans) => spans
                .into_iter()
                .map(|finished| span_data(finished, self.limit))
                .collect(),
        };
        Box::pin(self.exporter.export(batch))
    }
    fn takes_span_data(&self) -> bool {
        true
    }
    fn flush(&mut self) -> OTelSdkResult {
        self.exporter.force_flush()
    }
    fn shutdown(&mut self, timeout: Duration) -> OTelSdkResult {
        self.exporter.shutdown_with_timeout(timeout)
    }
    fn prepare(&mut self, resource: &Resource, value_length_limit: Option<usize>) {
        self.exporter.set_resource(resource);
        self.limit = value_length_limit;
    }
}

/// Exports batches of `batch` spans off the queue, up to
/// `max_concurrent_exports` at once, until none is in flight and fewer
/// than a whole batch wait (with `all`, until the queue is empty). A
/// new batch starts as soon as there is room for it: when an export returns, or, while some are
/// still out, when a push wakes this thread (`Shared::exporting`). An
/// exporter whose future waits on the network (OTLP/gRPC, whose
/// requests share one HTTP/2 connection) so has several in flight, and
/// the throughput is not one batch per round trip; one that does its
/// work inside `poll` (the blocking HTTP client, the console) exports
/// them one after the other, in order.
pub(super) fn pump(
    shared: &Shared,
    sinks: &[Box<dyn Sink>],
    batch: usize,
    all: bool,
) -> OTelSdkResult {
    let concurrent = shared.config.max_concurrent_exports;
    let mut in_flight: FuturesUnordered<Export<'_>> = FuturesUnordered::new();
    let mut result = Ok(());
    let ready = || {
        let waiting = shared.queue.len();
        waiting >= batch || (all && waiting > 0)
    };
    futures_executor::block_on(std::future::poll_fn(|cx| {
        loop {
            while in_flight.len() < concurrent && ready() {
                let spans = take(shared, batch);
                if spans.is_empty() {
                    break;
                }
                in_flight.push(Box::pin(export_everywhere(shared, sinks, spans)));
            }
            match in_flight.poll_next_unpin(cx) {
                Poll::Ready(Some(exported)) => {
                    // The first failure is the answer.
                    if result.is_ok() {
                        result = exported;
                    }
                }
                Poll::Ready(None) => return Poll::Ready(()),
                // A full window waits for an export to return.
                Poll::Pending if in_flight.len() >= concurrent => return Poll::Pending,
                Poll::Pending => {
                    shared.exporting.register(cx.waker());
                    shared.wants_batch.store(true, Ordering::SeqCst);
                    // Either a push after this sees `wants_batch`, or
                    // this sees what it pushed.
                    fence(Ordering::SeqCst);
                    if !ready() {
                        return Poll::Pending;
                    }
                    shared.wants_batch.store(false, Ordering::SeqCst);
                }
            }
        }
    }));
    result
}

/// Exports `spans` to every sink, counted in flight until they return.
async fn export_everywhere(
    shared: &Shared,
    sinks: &[Box<dyn Sink>],
    mut spans: Spans,
) -> OTelSdkResult {
    let count = spans.len() as u64;
    shared.in_flight.fetch_add(count, Ordering::SeqCst);
    let last = sinks.len().saturating_sub(1);
    let mut result = Ok(());
    for (i, sink) in sinks.iter().enumerate() {
        let batch = if i == last {
            std::mem::replace(&mut spans, Spans::Records(Vec::new()))
        } else {
            spans.clone()
        };
        result = result.and(sink.export(batch).await);
    }
    // A shutdown that gave up on these spans already counted them.
    let _ = shared
        .in_flight
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| {
            Some(v.saturating_sub(count))
        });
    result
}
