//! Export failures that do not vanish: counted in [`dropped_spans`] and
//! reported on stderr.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

/// Spans an exporter failed to deliver, since the process started.
static DROPPED: AtomicU64 = AtomicU64::new(0);
/// When a failure was last reported on stderr, in seconds since the epoch.
static LAST_REPORT: AtomicU64 = AtomicU64::new(0);

/// How many finished spans could not be exported (the collector was down,
/// slow or refused them) since the process started.
pub fn dropped_spans() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

/// Wraps an exporter so that a failed export is counted and reported on
/// stderr (at most once every 10 seconds), instead of vanishing: the SDK
/// only reports it through `tracing`, which most applications don't route
/// anywhere.
#[derive(Debug)]
pub(crate) struct Reported<E> {
    inner: E,
    target: String,
}

impl<E> Reported<E> {
    pub(crate) fn new(inner: E, target: impl Into<String>) -> Self {
        Reported {
            inner,
            target: target.into(),
        }
    }
}

impl<E: SpanExporter> SpanExporter for Reported<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let count = batch.len() as u64;
        let result = self.inner.export(batch).await;
        if let Err(err) = &result {
            let total = DROPPED.fetch_add(count, Ordering::Relaxed) + count;
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let last = LAST_REPORT.load(Ordering::Relaxed);
            if now >= last + 10
                && LAST_REPORT
                    .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
            {
                eprintln!(
                    "traced: exporting {count} spans to {} failed, so they are dropped ({total} dropped so far): {err}",
                    self.target
                );
            }
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
