//! Flush and shutdown: a caller asks, the export thread exports what was
//! queued before the request, flushes or shuts the exporters down, and
//! answers in [`Done`]. The [`Ledger`] keeps the batches out with the
//! exporters, so that a shutdown that cannot wait for them counts each
//! span once.

use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};

use super::export::{Until, pump};
use super::queue::{Shared, count_dropped, uncount_dropped};
use super::worker::Worker;

/// The export thread's answer to the last request.
#[derive(Debug, Default)]
pub(super) struct Done {
    /// The last flush request answered.
    flushed: u64,
    /// What the exporters said to it.
    result: Option<OTelSdkError>,
    /// The export thread is gone (shut down).
    exited: bool,
}

/// The batches taken off the queue whose export has not returned.
#[derive(Debug, Default)]
pub(super) struct Ledger {
    /// Spans in them.
    in_flight: u64,
    /// Batches started so far; a batch is known by its number.
    started: u64,
    /// Set by a shutdown that could not wait: the batches numbered below
    /// it were counted dropped then, and nothing is exported after it.
    written_off: Option<u64>,
}

impl Ledger {
    /// A batch of `count` spans goes out: its number, or `None` (and the
    /// spans counted) after a shutdown gave up.
    pub(super) fn start(&mut self, count: u64) -> Option<u64> {
        if self.written_off.is_some() {
            count_dropped(count);
            return None;
        }
        self.in_flight += count;
        self.started += 1;
        Some(self.started - 1)
    }

    /// Batch `id` of `count` spans is back from every exporter: delivered,
    /// or counted by the exporter that failed. If a shutdown wrote it off,
    /// its spans are taken back out of the count.
    pub(super) fn finish(&mut self, id: u64, count: u64) {
        match self.written_off {
            Some(below) if id < below => uncount_dropped(count),
            _ => self.in_flight -= count,
        }
    }

    /// Counts every span still out as dropped: the process may go before
    /// their exports return.
    fn write_off(&mut self) {
        count_dropped(std::mem::take(&mut self.in_flight));
        self.written_off = Some(self.started);
    }
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    /// Exports every span that ended before this call (and perhaps some
    /// that ended after); waits at most the export timeout. Producers that
    /// keep the queue busy do not hold it up: it waits for the spans
    /// queued now, not for an empty queue.
    pub(crate) fn force_flush(&self) -> OTelSdkResult {
        // The spans to wait for: those the export thread has taken, and
        // those queued. The length is read first: a span taken meanwhile
        // is then counted twice (the flush waits for a span more, or for
        // an empty queue), never missed, since `taken` grows before the
        // spans leave the queue.
        let queued = self.queue.len() as u64;
        let target = queued + self.taken.load(Ordering::SeqCst);
        self.flush_target.fetch_max(target, Ordering::SeqCst);
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

    /// Whether a flush beyond the `answered` one, or the shutdown, waits
    /// for the export thread.
    pub(super) fn asked(&self, answered: u64) -> bool {
        self.flushes.load(Ordering::SeqCst) > answered || self.shut_down.load(Ordering::SeqCst)
    }

    /// Stops starting spans, exports every finished one, shuts the
    /// exporters down and ends the export thread. A second call says so.
    ///
    /// Every span is exported or counted in `dropped_spans()`, once: one
    /// that ends from now on is counted; if the time runs out, what is
    /// still queued is counted and never exported, and what is out with
    /// the exporters is counted until its export returns.
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
                drop(done);
                lock(&self.ledger).write_off();
                self.close();
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
        self.close();
        result.map_or(Ok(()), Err)
    }
}

impl Worker {
    /// Answers the flush requests up to `requested`, or the shutdown:
    /// exports until `target` spans were taken off the queue (the flushes'
    /// target: every span pushed before them) or the queue is empty, then
    /// flushes or shuts down every sink.
    pub(super) fn answer(&mut self, requested: u64, target: u64, shutting: bool, batch: usize) {
        let mut result = pump(&self.shared, &self.sinks, batch, Until::Taken(target));
        let timeout = self.shared.config.export_timeout;
        for slot in &mut self.sinks {
            result = result.and(slot.settle(shutting, timeout));
        }
        let mut done = lock(&self.shared.done);
        done.flushed = requested;
        done.result = result.err();
        done.exited = shutting;
        drop(done);
        self.shared.answered.notify_all();
    }
}

/// Lives as long as the export thread: should it die of a panic that got
/// past the sinks' guard, flushes and the shutdown are answered at once
/// instead of after their timeout, and what it leaves is counted.
pub(super) struct Exit<'a>(pub(super) &'a Shared);

impl Drop for Exit<'_> {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        let shared = self.0;
        lock(&shared.ledger).write_off();
        shared.close();
        lock(&shared.done).exited = true;
        shared.answered.notify_all();
    }
}
