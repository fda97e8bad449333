//! The bounded queue between the calling threads and the export thread,
//! and the export thread itself.
//!
//! A calling thread pushes a finished span (one compare-and-swap) and, only
//! when a whole batch is waiting and the export thread sleeps, wakes it.
//! The export thread also wakes every schedule delay, and at once for a
//! flush or shutdown, which it answers only when the queue is empty and
//! the exporters have returned: every span that ended before the request
//! is exported by then.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering, fence};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::task::Poll;
use std::thread::{JoinHandle, Thread};
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;
use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;
use futures_util::task::AtomicWaker;
use opentelemetry::trace::Status;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanExporter, SpanLimits, SpanLinks};

use super::ids::Ids;
use super::limits::truncate_all;
use super::sampling::Sampling;
use super::span::Finished;

/// Spans our pipelines dropped because their queue was full, since the
/// process started.
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// Spans dropped by a full queue of any of our pipelines.
pub(crate) fn dropped() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

/// Fixed when the pipeline is built.
pub(crate) struct Config {
    pub(crate) sampler: Sampling,
    pub(crate) ids: Ids,
    pub(crate) limits: SpanLimits,
    pub(crate) value_length_limit: Option<usize>,
    pub(crate) max_queue_size: usize,
    pub(crate) max_export_batch_size: usize,
    /// How many batches may be in flight at once (`OTEL_BSP_MAX_CONCURRENT_EXPORTS`);
    /// at least 1 (the builder sees to it).
    pub(crate) max_concurrent_exports: usize,
    pub(crate) scheduled_delay: Duration,
    pub(crate) export_timeout: Duration,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("sampler", &self.sampler)
            .field("limits", &self.limits)
            .field("max_queue_size", &self.max_queue_size)
            .finish_non_exhaustive()
    }
}

/// One export in flight.
pub(crate) type Export<'a> = Pin<Box<dyn Future<Output = OTelSdkResult> + 'a>>;

/// An exporter, as the export thread drives it.
pub(crate) trait Sink: Send {
    /// Exports `spans`. The export thread polls several of these futures
    /// together (see [`Worker::pump`]).
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

/// A batch as the sinks get it: our records, or, when every sink takes
/// them, the SDK's `SpanData` (string values already cut).
#[derive(Clone, Debug)]
pub(crate) enum Spans {
    Records(Vec<Finished>),
    Data(Vec<SpanData>),
}

impl Spans {
    fn len(&self) -> usize {
        match self {
            Spans::Records(spans) => spans.len(),
            Spans::Data(spans) => spans.len(),
        }
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The records, for a sink that does not take `SpanData` (which then
    /// never gets the `Data` form: see [`Sink::takes_span_data`]).
    #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
    pub(crate) fn records(self) -> Vec<Finished> {
        match self {
            Spans::Records(spans) => spans,
            Spans::Data(_) => Vec::new(),
        }
    }
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

/// What the calling threads and the export thread share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: Config,
    /// Every sink takes the SDK's `SpanData` (see [`Sink::takes_span_data`]).
    span_data_only: bool,
    queue: ArrayQueue<Finished>,
    /// The export thread is not parked (or is about to look again).
    awake: AtomicBool,
    /// The export thread while it waits on exports in flight with room
    /// for one more: woken when a whole batch is waiting.
    exporting: AtomicWaker,
    /// Whether `exporting` waits for a batch. A push reads this (one
    /// plain load) instead of waking `exporting` every time, which cost
    /// about 35 instructions per span on the calling thread while the
    /// export thread lagged.
    wants_batch: AtomicBool,
    shut_down: AtomicBool,
    /// Flush requests so far; the export thread answers them in `done`.
    flushes: AtomicU64,
    /// Spans taken off the queue whose export has not returned yet.
    in_flight: AtomicU64,
    done: Mutex<Done>,
    answered: Condvar,
    thread: OnceLock<Thread>,
    handle: Mutex<Option<JoinHandle<()>>>,
}

#[derive(Debug, Default)]
struct Done {
    /// The last flush request answered.
    flushed: u64,
    /// What the exporters said to it.
    result: Option<OTelSdkError>,
    /// The export thread is gone (shut down).
    exited: bool,
}

impl Shared {
    /// Starts the export thread over `sinks`.
    pub(crate) fn start(
        config: Config,
        mut sinks: Vec<Box<dyn Sink>>,
        resource: &Resource,
    ) -> std::io::Result<Arc<Shared>> {
        for sink in &mut sinks {
            sink.prepare(resource, config.value_length_limit);
        }
        let span_data_only = sinks.iter().all(|sink| sink.takes_span_data());
        let shared = Arc::new(Shared {
            span_data_only,
            queue: ArrayQueue::new(config.max_queue_size.max(1)),
            config,
            awake: AtomicBool::new(true),
            exporting: AtomicWaker::new(),
            wants_batch: AtomicBool::new(false),
            shut_down: AtomicBool::new(false),
            flushes: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            done: Mutex::new(Done::default()),
            answered: Condvar::new(),
            thread: OnceLock::new(),
            handle: Mutex::new(None),
        });
        let worker = Worker {
            shared: shared.clone(),
            sinks,
        };
        let handle = std::thread::Builder::new()
            .name("traced-export".into())
            .spawn(move || worker.run())?;
        let _ = shared.thread.set(handle.thread().clone());
        *lock(&shared.handle) = Some(handle);
        Ok(shared)
    }

    /// Whether the pipeline was shut down: spans are no longer started.
    #[inline]
    pub(crate) fn is_shut_down(&self) -> bool {
        self.shut_down.load(Ordering::Relaxed)
    }

    /// Hands a finished span to the export thread, or counts it dropped
    /// when the queue is full.
    #[inline]
    pub(crate) fn push(&self, span: Finished) {
        if self.is_shut_down() {
            // As the SDK: a span that ends after shutdown goes nowhere.
            return;
        }
        if self.queue.push(span).is_err() {
            DROPPED.fetch_add(1, Ordering::Relaxed);
            self.wake();
            return;
        }
        if self.queue.len() >= self.config.max_export_batch_size {
            self.wake();
        }
    }

    /// Unparks the export thread if it sleeps.
    fn wake(&self) {
        // Pairs with the fence in `Worker::sleep`: either the thread sees
        // the span pushed, or this sees it asleep.
        fence(Ordering::SeqCst);
        if !self.awake.swap(true, Ordering::SeqCst) {
            self.unpark();
        }
        // Pairs with the fence in `Worker::pump` as above.
        if self.wants_batch.load(Ordering::SeqCst) && self.wants_batch.swap(false, Ordering::SeqCst)
        {
            self.exporting.wake();
        }
    }

    fn unpark(&self) {
        if let Some(thread) = self.thread.get() {
            thread.unpark();
        }
    }

    /// Exports every span that ended before this call; waits at most the
    /// export timeout.
    pub(crate) fn force_flush(&self) -> OTelSdkResult {
        let ticket = self.flushes.fetch_add(1, Ordering::SeqCst) + 1;
        self.awake.store(true, Ordering::SeqCst);
        self.unpark();
        let deadline = Instant::now() + self.config.export_timeout;
        let mut done = lock(&self.done);
        loop {
            if done.flushed >= ticket {
                return done.result.take().map_or(Ok(()), Err);
            }
            if done.exited {
                return Err(OTelSdkError::AlreadyShutdown);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(OTelSdkError::Timeout(self.config.export_timeout));
            }
            done = self
                .answered
                .wait_timeout(done, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Stops starting spans, exports every finished one, shuts the
    /// exporters down and ends the export thread. A second call says so.
    pub(crate) fn shutdown(&self, timeout: Duration) -> OTelSdkResult {
        if self.shut_down.swap(true, Ordering::SeqCst) {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        self.awake.store(true, Ordering::SeqCst);
        self.unpark();
        let deadline = Instant::now() + timeout;
        let mut done = lock(&self.done);
        while !done.exited {
            let now = Instant::now();
            if now >= deadline {
                // What is still queued, or still being exported with no
                // answer, will not be delivered before the process goes.
                let left = self.queue.len() as u64 + self.in_flight.swap(0, Ordering::SeqCst);
                DROPPED.fetch_add(left, Ordering::Relaxed);
                return Err(OTelSdkError::Timeout(timeout));
            }
            done = self
                .answered
                .wait_timeout(done, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        let result = done.result.take();
        drop(done);
        if let Some(handle) = lock(&self.handle).take() {
            let _ = handle.join();
        }
        // Spans that ended while the last batch went out: too late.
        let late = self.queue.len() as u64;
        DROPPED.fetch_add(late, Ordering::Relaxed);
        result.map_or(Ok(()), Err)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// The export thread.
struct Worker {
    shared: Arc<Shared>,
    sinks: Vec<Box<dyn Sink>>,
}

impl Worker {
    fn run(mut self) {
        let delay = self.shared.config.scheduled_delay;
        let batch = self.shared.config.max_export_batch_size.max(1);
        let mut flushed = 0;
        let mut next = Instant::now() + delay;
        loop {
            let requested = self.shared.flushes.load(Ordering::SeqCst);
            let shutting = self.shared.shut_down.load(Ordering::SeqCst);
            if self.shared.queue.len() >= batch {
                // A failed export is counted and reported by the exporter's
                // wrapper (`Reported`), as on the SDK path.
                let _ = self.pump(batch, false);
            }
            if requested > flushed || shutting {
                // Everything pushed before the request is in the queue now.
                let mut result = self.drain(batch);
                for sink in &mut self.sinks {
                    let flushed = if shutting {
                        sink.shutdown(self.shared.config.export_timeout)
                    } else {
                        sink.flush()
                    };
                    result = result.and(flushed);
                }
                flushed = requested;
                let mut done = lock(&self.shared.done);
                done.flushed = requested;
                done.result = result.err();
                done.exited = shutting;
                drop(done);
                self.shared.answered.notify_all();
                if shutting {
                    return;
                }
                next = Instant::now() + delay;
                continue;
            }
            let now = Instant::now();
            if now >= next {
                let _ = self.drain(batch);
                next = now + delay;
                continue;
            }
            self.sleep(next - now, batch, flushed);
        }
    }

    /// Parks until woken or `timeout`, unless there is work already.
    fn sleep(&self, timeout: Duration, batch: usize, flushed: u64) {
        let shared = &self.shared;
        shared.awake.store(false, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        let work = shared.queue.len() >= batch
            || shared.flushes.load(Ordering::SeqCst) > flushed
            || shared.shut_down.load(Ordering::SeqCst);
        if !work {
            std::thread::park_timeout(timeout);
        }
        shared.awake.store(true, Ordering::SeqCst);
    }

    /// Exports until the queue is empty.
    fn drain(&mut self, batch: usize) -> OTelSdkResult {
        self.pump(batch, true)
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
    fn pump(&mut self, batch: usize, all: bool) -> OTelSdkResult {
        let shared = &*self.shared;
        let concurrent = shared.config.max_concurrent_exports;
        let sinks = &self.sinks;
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

/// Up to `batch` spans off the queue, as the sinks take them.
fn take(shared: &Shared, batch: usize) -> Spans {
    let n = batch.min(shared.queue.len());
    if shared.span_data_only {
        let limit = shared.config.value_length_limit;
        let mut spans = Vec::with_capacity(n);
        while spans.len() < batch {
            let Some(finished) = shared.queue.pop() else {
                break;
            };
            spans.push(span_data(finished, limit));
        }
        Spans::Data(spans)
    } else {
        let mut spans = Vec::with_capacity(n);
        while spans.len() < batch {
            let Some(finished) = shared.queue.pop() else {
                break;
            };
            spans.push(finished);
        }
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
