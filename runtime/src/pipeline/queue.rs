//! The bounded queue between the calling threads and the export thread.
//!
//! A calling thread pushes a finished span (one compare-and-swap) and, only
//! when a whole batch is waiting and the export thread sleeps, wakes it. A
//! full queue drops the span and counts it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering, fence};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread::{JoinHandle, Thread};
use std::time::Duration;

use crossbeam_queue::ArrayQueue;
use futures_util::task::AtomicWaker;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SpanLimits;

use super::export::Sink;
use super::flush::{Done, lock};
use super::ids::Ids;
use super::sampling::Sampling;
use super::span::Finished;
use super::worker::Worker;

/// Spans our pipelines dropped because their queue was full, since the
/// process started.
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// Spans dropped by a full queue of any of our pipelines.
pub(crate) fn dropped() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

/// Counts `count` spans that will never be exported.
#[inline]
pub(super) fn count_dropped(count: u64) {
    DROPPED.fetch_add(count, Ordering::Relaxed);
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
    /// Flush requests so far; the export thread answers them in `done`.
    pub(super) flushes: AtomicU64,
    /// Spans taken off the queue whose export has not returned yet.
    pub(super) in_flight: AtomicU64,
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
            count_dropped(1);
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
