//! The bounded queue between the calling threads and the export thread.
//!
//! A calling thread pushes a finished span (one compare-and-swap) and, only
//! when a whole batch is waiting and the export thread sleeps, wakes it. A
//! full queue drops the span and counts it, and so does a pipeline that is
//! shut down: every span that ends is exported or counted in
//! [`dropped_spans`](crate::dropped_spans), once.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering, fence};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread::{JoinHandle, Thread};
use std::time::Duration;

use crossbeam_queue::ArrayQueue;
use futures_util::task::AtomicWaker;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SpanLimits;

use super::export::{Sink, Slot};
use super::flush::{Done, Ledger, lock};
use super::ids::Ids;
use super::sampling::Sampling;
use super::span::Finished;
use super::worker::Worker;

/// Spans our pipelines dropped since the process started: their queue was
/// full, they ended after shutdown, a shutdown could not wait for them, or
/// an exporter panicked on them. (An exporter that fails counts its own:
/// `export/reported.rs`, `export/otlp`.)
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// Spans dropped by any of our pipelines.
pub(crate) fn dropped() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

/// Counts `count` spans that will never be exported.
#[inline]
pub(super) fn count_dropped(count: u64) {
    DROPPED.fetch_add(count, Ordering::Relaxed);
}

/// Takes back `count` spans [`count_dropped`] wrote off ahead of time (a
/// shutdown that could not wait for their export), now that their export
/// has returned: delivered, or counted by the exporter that failed.
pub(super) fn uncount_dropped(count: u64) {
    let _ = DROPPED.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
        Some(v.saturating_sub(count))
    });
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

/// What the calling threads and the export thread share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: Config,
    /// Every sink takes the SDK's `SpanData` (see [`Sink::takes_span_data`]).
    pub(super) span_data_only: bool,
    pub(super) queue: ArrayQueue<Finished>,
    /// The export thread is not parked (or is about to look again).
    pub(super) awake: AtomicBool,
    /// The export thread while it waits on exports in flight with room
    /// for one more: woken when a whole batch is waiting.
    pub(super) exporting: AtomicWaker,
    /// Whether `exporting` waits for a batch. A push reads this (one
    /// plain load) instead of waking `exporting` every time, which cost
    /// about 35 instructions per span on the calling thread while the
    /// export thread lagged.
    pub(super) wants_batch: AtomicBool,
    pub(super) shut_down: AtomicBool,
    /// The export thread takes nothing more: a span pushed from now on is
    /// taken back off the queue by whoever sees this, and counted.
    closed: AtomicBool,
    /// Spans the export thread has taken off the queue so far; raised
    /// before they leave it (see [`batch::take`](super::batch::take)).
    pub(super) taken: AtomicU64,
    /// Flush requests so far; the export thread answers them in `done`.
    pub(super) flushes: AtomicU64,
    /// What the flushes asked for: the most spans any of them wants taken
    /// and exported (see [`Shared::force_flush`]).
    pub(super) flush_target: AtomicU64,
    /// The batches out with the exporters.
    pub(super) ledger: Mutex<Ledger>,
    pub(super) done: Mutex<Done>,
    pub(super) answered: Condvar,
    thread: OnceLock<Thread>,
    pub(super) handle: Mutex<Option<JoinHandle<()>>>,
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
            closed: AtomicBool::new(false),
            taken: AtomicU64::new(0),
            flushes: AtomicU64::new(0),
            flush_target: AtomicU64::new(0),
            ledger: Mutex::new(Ledger::default()),
            done: Mutex::new(Done::default()),
            answered: Condvar::new(),
            thread: OnceLock::new(),
            handle: Mutex::new(None),
        });
        let worker = Worker {
            shared: shared.clone(),
            sinks: sinks.into_iter().map(Slot::new).collect(),
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
            // As the SDK: a span that ends after shutdown goes nowhere;
            // unlike it, we count it.
            count_dropped(1);
            return;
        }
        if self.queue.push(span).is_err() {
            count_dropped(1);
            self.wake();
            return;
        }
        // Pairs with `close`: the queue's push is a sequentially consistent
        // compare-and-swap, so either `close` empties the queue after this
        // span is in, or this sees `closed` (a span that passed the check
        // above while the shutdown finished would otherwise stay in the
        // queue, neither exported nor counted).
        if self.closed.load(Ordering::SeqCst) {
            self.discard();
            return;
        }
        if self.queue.len() >= self.config.max_export_batch_size {
            self.wake();
        }
    }

    /// Whether the export thread takes nothing more.
    pub(super) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// From now on nothing is exported: what is queued, and what is
    /// pushed later, is counted dropped.
    pub(super) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.discard();
    }

    /// Takes every span off the queue and counts it. Whoever pops a span
    /// owns it, so none is counted twice.
    #[cold]
    fn discard(&self) {
        let mut count = 0;
        while self.queue.pop().is_some() {
            count += 1;
        }
        count_dropped(count);
    }

    /// Unparks the export thread if it sleeps.
    fn wake(&self) {
        // Pairs with the fence in `Worker::sleep`: either the thread sees
        // the span pushed, or this sees it asleep.
        fence(Ordering::SeqCst);
        if !self.awake.swap(true, Ordering::SeqCst) {
            self.unpark();
        }
        // Pairs with the fence in `export::pump` as above.
        if self.wants_batch.load(Ordering::SeqCst) && self.wants_batch.swap(false, Ordering::SeqCst)
        {
            self.exporting.wake();
        }
    }

    pub(super) fn unpark(&self) {
        if let Some(thread) = self.thread.get() {
            thread.unpark();
        }
    }
}
