//! The export thread's loop.
//!
//! The thread wakes when a whole batch is waiting (a push wakes it), every
//! schedule delay, and at once for a flush or shutdown, which it answers
//! once the spans queued before the request are exported (or counted) and
//! the exporters have returned. Its own work makes no telemetry: it runs
//! in a context with telemetry suppressed, as the SDK's batch processor.

use std::sync::Arc;
use std::sync::atomic::{Ordering, fence};
use std::time::{Duration, Instant};

use super::export::{Slot, Until, pump};
use super::flush::Exit;
use super::queue::Shared;

/// The export thread.
pub(super) struct Worker {
    pub(super) shared: Arc<Shared>,
    pub(super) sinks: Vec<Slot>,
}

impl Worker {
    pub(super) fn run(mut self) {
        // Spans an exporter (or what it calls: an HTTP client, a
        // `tracing` bridge) would start here are not recorded; otherwise
        // each export would make spans to export.
        let _suppressed = opentelemetry::Context::enter_telemetry_suppressed_scope();
        let shared = self.shared.clone();
        let _exit = Exit(&shared);
        let delay = shared.config.scheduled_delay;
        let batch = shared.config.max_export_batch_size.max(1);
        let mut answered = 0;
        let mut next = Instant::now() + delay;
        loop {
            let requested = shared.flushes.load(Ordering::SeqCst);
            let shutting = shared.shut_down.load(Ordering::SeqCst);
            if requested > answered || shutting {
                // Read after `flushes`: covers every request counted there.
                let target = if shutting {
                    u64::MAX
                } else {
                    shared.flush_target.load(Ordering::SeqCst)
                };
                self.answer(requested, target, shutting, batch);
                answered = requested;
                if shutting {
                    return;
                }
                next = Instant::now() + delay;
                continue;
            }
            if shared.queue.len() >= batch {
                // A failed export is counted and reported by the exporter's
                // wrapper (`Reported`), as on the SDK path.
                let _ = pump(&shared, &self.sinks, batch, Until::Batches { answered });
                continue;
            }
            let now = Instant::now();
            if now >= next {
                // What is queued now, not what producers add meanwhile.
                let target = shared.taken.load(Ordering::SeqCst) + shared.queue.len() as u64;
                let _ = pump(&shared, &self.sinks, batch, Until::Taken(target));
                next = now + delay;
                continue;
            }
            self.sleep(next - now, batch, answered);
        }
    }

    /// Parks until woken or `timeout`, unless there is work already.
    fn sleep(&self, timeout: Duration, batch: usize, answered: u64) {
        let shared = &self.shared;
        shared.awake.store(false, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        let work = shared.queue.len() >= batch || shared.asked(answered);
        if !work {
            std::thread::park_timeout(timeout);
        }
        shared.awake.store(true, Ordering::SeqCst);
    }
}
