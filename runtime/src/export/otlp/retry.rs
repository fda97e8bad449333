//! When to try an export again: the OTLP exporters' recommended policy
//! (as `opentelemetry-otlp`'s), 3 retries after the first attempt, with
//! exponential back-off from 100 ms up to 1.6 s, up to 100 ms of jitter,
//! all within the export timeout.

use std::time::{Duration, Instant};

const RETRIES: u32 = 3;
const FIRST_DELAY: Duration = Duration::from_millis(100);
const MAX_DELAY: Duration = Duration::from_millis(1600);
const MAX_JITTER_MS: u64 = 100;

/// The retries of one export.
#[derive(Debug)]
pub(crate) struct Backoff {
    start: Instant,
    timeout: Duration,
    delay: Duration,
    retries: u32,
}

impl Backoff {
    /// Starts the clock of an export that may take `timeout` in all.
    pub(crate) fn new(timeout: Duration) -> Self {
        Backoff {
            start: Instant::now(),
            timeout,
            delay: FIRST_DELAY,
            retries: 0,
        }
    }

    /// What is left of the timeout.
    pub(crate) fn left(&self) -> Duration {
        self.timeout.saturating_sub(self.start.elapsed())
    }

    /// The pause before the next attempt, or `None` when no attempt is
    /// left or the pause would use up the timeout.
    pub(crate) fn next(&mut self) -> Option<Duration> {
        if self.retries >= RETRIES {
            return None;
        }
        let pause = (self.delay + jitter()).min(MAX_DELAY);
        if self.start.elapsed() + pause >= self.timeout {
            return None;
        }
        self.retries += 1;
        self.delay = (self.delay * 2).min(MAX_DELAY);
        Some(pause)
    }
}

/// Up to [`MAX_JITTER_MS`] of jitter, so that exporters that failed
/// together do not retry together.
fn jitter() -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::from(d.subsec_nanos()));
    Duration::from_millis(nanos % (MAX_JITTER_MS + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_retries_growing_within_the_cap() {
        let mut backoff = Backoff::new(Duration::from_secs(60));
        let pauses: Vec<Duration> = std::iter::from_fn(|| backoff.next()).collect();
        assert_eq!(pauses.len(), 3);
        for (pause, least) in pauses.iter().zip([100, 200, 400]) {
            assert!(*pause >= Duration::from_millis(least), "{pauses:?}");
            assert!(
                *pause <= Duration::from_millis(least + MAX_JITTER_MS),
                "{pauses:?}"
            );
        }
    }

    #[test]
    fn no_retry_that_would_outlast_the_timeout() {
        let mut backoff = Backoff::new(Duration::from_millis(50));
        assert_eq!(backoff.next(), None);
    }
}
