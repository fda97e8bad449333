//! Flush and shutdown: a caller asks, the export thread exports what is
//! queued, flushes or shuts the exporters down, and answers in [`Done`].

use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};

use super::queue::{Shared, count_dropped};
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

pub(super) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
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
                count_dropped(left);
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
        count_dropped(late);
        result.map_or(Ok(()), Err)
    }
}

impl Worker {
    /// Answers the flush requests up to `requested`, or the shutdown:
    /// exports everything queued (which holds every span pushed before the
    /// request), then flushes or shuts down every sink.
    pub(super) fn answer(&mut self, requested: u64, shutting: bool, batch: usize) {
        let mut result = self.drain(batch);
        for sink in &mut self.sinks {
            let flushed = if shutting {
                sink.shutdown(self.shared.config.export_timeout)
            } else {
                sink.flush()
            };
            result = result.and(flushed);
        }
        let mut done = lock(&self.shared.done);
        done.flushed = requested;
        done.result = result.err();
        done.exited = shutting;
        drop(done);
        self.shared.answered.notify_all();
    }
}
