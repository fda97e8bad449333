//! The export thread's loop.
//!
//! The thread wakes when a whole batch is waiting (a push wakes it), every
//! schedule delay, and at once for a flush or shutdown, which it answers
//! only when the queue is empty and the exporters have returned: every span
//! that ended before the request is exported by then.

use std::sync::Arc;
use std::sync::atomic::{Ordering, fence};
use std::time::{Duration, Instant};

use opentelemetry_sdk::error::OTelSdkResult;

use super::export::{Sink, pump};
use super::queue::Shared;

/// The export thread.
pub(super) struct Worker {
    pub(super) shared: Arc<Shared>,
    pub(super) sinks: Vec<Box<dyn Sink>>,
}

impl Worker {
    pub(super) fn run(mut self) {
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
                let _ = pump(&self.shared, &self.sinks, batch, false);
            }
            if requested > flushed || shutting {
                self.answer(requested, shutting, batch);
                flushed = requested;
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
    pub(super) fn drain(&mut self, batch: usize) -> OTelSdkResult {
        pump(&self.shared, &self.sinks, batch, true)
    }
}
