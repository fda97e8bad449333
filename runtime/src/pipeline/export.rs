//! Handing batches to the exporters: the [`Sink`] trait the export thread
//! drives, [`Exporting`] for any SDK exporter, [`Slot`], which keeps a
//! sink's promises (one export at a time unless it allows more; a panic is
//! caught, counted and reported), and [`pump`], which keeps several exports
//! in flight at once.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering, fence};
use std::task::{Poll, Waker};
use std::time::Duration;

use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::SpanExporter;

use super::batch::{Spans, span_data, take};
use super::flush::lock;
use super::queue::{Shared, count_dropped};
use crate::export::reported::{LEVEL_ERROR, log_enabled};

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
    /// Whether this sink may have several exports in flight at once.
    /// `SpanExporter` promises its implementations that `export` is never
    /// called again before the last call's future is done, so a sink that
    /// does not say otherwise gets one batch at a time (other sinks may
    /// export other batches meanwhile).
    fn concurrent(&self) -> bool {
        false
    }
    /// What to call this sink in a report on stderr.
    fn name(&self) -> &str {
        "an exporter"
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
    fn name(&self) -> &str {
        std::any::type_name::<E>()
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

/// A sink as the export thread holds it.
pub(crate) struct Slot {
    sink: Box<dyn Sink>,
    /// Held by the export in flight, for a sink that takes one at a time.
    busy: Option<Busy>,
}

/// Whether a sink is exporting, and the exports waiting for it. Only the
/// export thread touches it (the futures are polled there alone).
#[derive(Default)]
struct Busy {
    held: Cell<bool>,
    waiting: RefCell<Vec<Waker>>,
}

/// Releases a sink's [`Busy`] when its export is done, or is dropped.
struct Held<'a>(&'a Busy);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.held.set(false);
        // They were queued in the order they arrived, and are polled in
        // the order woken: the first one takes the sink.
        for waker in self.0.waiting.take() {
            waker.wake();
        }
    }
}

impl Busy {
    async fn hold(&self) -> Held<'_> {
        std::future::poll_fn(|cx| {
            if self.held.replace(true) {
                self.waiting.borrow_mut().push(cx.waker().clone());
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        })
        .await;
        Held(self)
    }
}

/// Whether a panicking exporter was reported on stderr: once a process.
static PANIC_REPORTED: AtomicBool = AtomicBool::new(false);

impl Slot {
    pub(super) fn new(sink: Box<dyn Sink>) -> Slot {
        let busy = (!sink.concurrent()).then(Busy::default);
        Slot { sink, busy }
    }

    /// Exports `spans` to this sink once its export in flight, if it takes
    /// one at a time, is done. A panic in the sink (in its `export`, or
    /// while its future is polled) fails this export alone: the spans are
    /// counted and the export thread goes on.
    async fn export(&self, spans: Spans) -> OTelSdkResult {
        let count = spans.len() as u64;
        let _held = match &self.busy {
            Some(busy) => Some(busy.hold().await),
            None => None,
        };
        let mut export = match catch_unwind(AssertUnwindSafe(|| self.sink.export(spans))) {
            Ok(export) => export,
            Err(panic) => return Err(self.panicked(count, &*panic)),
        };
        let result = std::future::poll_fn(|cx| {
            match catch_unwind(AssertUnwindSafe(|| export.as_mut().poll(cx))) {
                Ok(polled) => polled,
                // Not polled again: it is dropped below.
                Err(panic) => Poll::Ready(Err(self.panicked(count, &*panic))),
            }
        })
        .await;
        // A future that panicked may panic again as it is dropped.
        let _ = catch_unwind(AssertUnwindSafe(move || drop(export)));
        result
    }

    /// Flushes this sink, or shuts it down; a panic is an error.
    pub(super) fn settle(&mut self, shutting: bool, timeout: Duration) -> OTelSdkResult {
        let sink = &mut self.sink;
        let settled = catch_unwind(AssertUnwindSafe(|| {
            if shutting {
                sink.shutdown(timeout)
            } else {
                sink.flush()
            }
        }));
        settled.unwrap_or_else(|panic| Err(self.panicked(0, &*panic)))
    }

    /// Counts the `count` spans a panic of this sink lost, and says so on
    /// stderr, the first time.
    #[cold]
    fn panicked(&self, count: u64, panic: &(dyn Any + Send)) -> OTelSdkError {
        count_dropped(count);
        let why = panic
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("a panic without a message");
        if log_enabled(LEVEL_ERROR) && !PANIC_REPORTED.swap(true, Ordering::Relaxed) {
            eprintln!(
                "traced: {} panicked, so the {count} spans it was given are dropped; \
                 exporting goes on (later panics are counted in dropped_spans(), \
                 not reported): {why}",
                self.sink.name()
            );
        }
        OTelSdkError::InternalFailure(format!("{} panicked: {why}", self.sink.name()))
    }
}

/// How long [`pump`] goes on.
#[derive(Clone, Copy, Debug)]
pub(super) enum Until {
    /// While whole batches wait, and no flush (beyond the `answered`
    /// one) or shutdown is asked for.
    Batches { answered: u64 },
    /// Until the export thread has taken this many spans since it
    /// started (see [`Shared::taken`]), or the queue is empty.
    Taken(u64),
}

/// Exports batches of `batch` spans off the queue, up to
/// `max_concurrent_exports` at once, as long as `until` says, and returns
/// when none is in flight: every span taken off the queue is then exported,
/// or counted. A new batch starts as soon as there is room for it: when an
/// export returns, or, while some are still out, when a push wakes this
/// thread (`Shared::exporting`). An exporter whose future waits on the
/// network (OTLP/gRPC, whose requests share one HTTP/2 connection) so has
/// several in flight, and the throughput is not one batch per round trip;
/// one that does its work inside `poll` (the blocking HTTP client, the
/// console) exports them one after the other, in order. A sink that takes
/// one export at a time (every SDK exporter) gets the next batch when its
/// last export is done, while the others go on.
pub(super) fn pump(shared: &Shared, slots: &[Slot], batch: usize, until: Until) -> OTelSdkResult {
    let concurrent = shared.config.max_concurrent_exports;
    let mut in_flight: FuturesUnordered<Export<'_>> = FuturesUnordered::new();
    let mut result = Ok(());
    let ready = || {
        // A shutdown that gave up: whoever pushes or closes counts the rest.
        if shared.is_closed() {
            return false;
        }
        let waiting = shared.queue.len();
        match until {
            Until::Batches { answered } => waiting >= batch && !shared.asked(answered),
            Until::Taken(target) => waiting > 0 && shared.taken.load(Ordering::SeqCst) < target,
        }
    };
    futures_executor::block_on(std::future::poll_fn(|cx| {
        loop {
            while in_flight.len() < concurrent && ready() {
                let spans = take(shared, batch);
                if spans.is_empty() {
                    break;
                }
                let count = spans.len() as u64;
                // Written off (and counted) by a shutdown that gave up.
                let Some(id) = lock(&shared.ledger).start(count) else {
                    continue;
                };
                in_flight.push(Box::pin(export_everywhere(shared, slots, spans, id, count)));
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

/// Exports `spans`, batch `id` of the ledger, to every sink.
async fn export_everywhere(
    shared: &Shared,
    slots: &[Slot],
    mut spans: Spans,
    id: u64,
    count: u64,
) -> OTelSdkResult {
    let last = slots.len().saturating_sub(1);
    let mut result = Ok(());
    for (i, slot) in slots.iter().enumerate() {
        let batch = if i == last {
            std::mem::replace(&mut spans, Spans::Records(Vec::new()))
        } else {
            spans.clone()
        };
        result = result.and(slot.export(batch).await);
    }
    lock(&shared.ledger).finish(id, count);
    result
}
