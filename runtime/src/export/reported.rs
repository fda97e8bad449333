//! Export failures that do not vanish: counted in [`dropped_spans`] and
//! reported on stderr.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
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
    detail: Option<Detail>,
}

/// Why the last export failed, in more words than the exporter's error:
/// the OTLP/HTTP exporter replaces every transport error with "network
/// error", so its client records the cause here (e.g. `UnknownIssuer`).
pub(crate) type Detail = Arc<Mutex<Option<String>>>;

impl<E> Reported<E> {
    pub(crate) fn new(inner: E, target: impl Into<String>) -> Self {
        Reported {
            inner,
            target: target.into(),
            detail: None,
        }
    }

    /// Appends what `detail` holds to the report of a failure.
    pub(crate) fn with_detail(mut self, detail: Option<Detail>) -> Self {
        self.detail = detail;
        self
    }
}

/// An error and its sources, joined with `: `.
#[cfg(feature = "otlp-http")]
pub(crate) fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}

impl<E: SpanExporter> SpanExporter for Reported<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let count = batch.len() as u64;
        let result = self.inner.export(batch).await;
        if let Err(err) = &result {
            let detail = self
                .detail
                .as_ref()
                .and_then(|d| d.lock().ok().and_then(|mut d| d.take()))
                .map_or_else(String::new, |d| format!(" ({d})"));
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
                    "traced: exporting {count} spans to {} failed, so they are dropped ({total} dropped so far): {err}{detail}",
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
