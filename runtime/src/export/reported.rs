//! Export failures that do not vanish: counted in [`dropped_spans`] and
//! reported on stderr.

use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::Context;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};

/// Spans an exporter failed to deliver, since the process started.
static DROPPED: AtomicU64 = AtomicU64::new(0);
/// When rejected spans were last reported on stderr, in seconds since the
/// epoch.
static LAST_REJECTED: AtomicU64 = AtomicU64::new(0);

/// How many finished spans could not be exported (the collector was down,
/// slow or refused them) since the process started.
///
/// With our own pipeline (`TRACED_PIPELINE=traced`), this includes the
/// spans it dropped because its queue was full.
pub fn dropped_spans() -> u64 {
    DROPPED.load(Ordering::Relaxed) + crate::pipeline::dropped()
}

/// Tests that count on the process-wide drop counter take this, so that
/// one test's dropped spans do not land in another's count.
#[cfg(test)]
pub(crate) fn counter_test_lock() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Wraps an exporter so that a failed export is counted and reported on
/// stderr (once per outage, see [`report_failed`]), instead of vanishing: the SDK
/// only reports it through `tracing`, which most applications don't route
/// anywhere.
#[derive(Debug)]
pub(crate) struct Reported<E> {
    inner: E,
    target: String,
    detail: Option<Detail>,
    tally: Option<Arc<Tally>>,
}

/// Why the last export failed, in more words than the exporter's error:
/// the OTLP/HTTP exporter replaces every transport error with "network
/// error", so its client records the cause here (e.g. `UnknownIssuer`).
pub(crate) type Detail = Arc<Mutex<Option<String>>>;

impl<E> Reported<E> {
    pub(crate) fn new(inner: E, target: impl Into<String>) -> Self {
        Reported {
            inner,
            target: shown_target(target.into()),
            detail: None,
            tally: None,
        }
    }

    /// Counts every span this exporter is given into `tally`.
    #[cfg_attr(
        not(any(feature = "otlp-grpc", feature = "otlp-http")),
        allow(dead_code)
    )]
    pub(crate) fn with_tally(mut self, tally: Arc<Tally>) -> Self {
        self.tally = Some(tally);
        self
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
    with_causes(err.to_string(), err.source())
}

/// `out`, then each cause from `source` on, joined with `: `; a cause
/// whose text is already there (hyper and tonic repeat a cause in the
/// error above it) is left out.
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
pub(crate) fn with_causes(
    mut out: String,
    source: Option<&(dyn std::error::Error + 'static)>,
) -> String {
    for cause in crate::kind::outcome::sources(source) {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
    }
    out
}

/// An endpoint as diagnostics name it: without its userinfo (#25).
pub(crate) fn shown_target(target: String) -> String {
    crate::redact::scrub_text(&target).map_or(target, |(clean, _)| clean)
}

/// Counts `count` spans that could not be delivered to `target` in
/// [`dropped_spans`], and says so on stderr once per outage: the first
/// failure is one line (for a collector that is not there, what to do
/// about it), the failures after it are only counted, until an export to
/// `target` succeeds ([`delivered`]), which is said too.
pub(crate) fn report_failed(count: u64, target: &str, why: &dyn std::fmt::Display) {
    let total = DROPPED.fetch_add(count, Ordering::Relaxed) + count;
    let first = {
        let mut outages = lock(&OUTAGES);
        match outages.iter_mut().find(|o| o.target == target) {
            Some(outage) => {
                outage.dropped += count;
                false
            }
            None => {
                outages.push(Outage {
                    target: target.to_owned(),
                    dropped: count,
                });
                FAILING.fetch_add(1, Ordering::Relaxed);
                true
            }
        }
    };
    if first && diagnostics_on() {
        // The endpoint's userinfo and whatever the error quotes of the
        // request (a URL, a header) are scrubbed before stderr sees them.
        let line = failure_line(count, total, target, &why.to_string());
        let line = crate::redact::scrub_text(&line).map_or(line, |(clean, _)| clean);
        eprintln!("{line}");
    }
}

/// An export to `target` succeeded: if its failures were reported, says
/// that they are over. Costs one load while nothing fails.
pub(crate) fn delivered(target: &str) {
    if FAILING.load(Ordering::Relaxed) == 0 {
        return;
    }
    let over = {
        let mut outages = lock(&OUTAGES);
        let index = outages.iter().position(|o| o.target == target);
        index.map(|i| {
            FAILING.fetch_sub(1, Ordering::Relaxed);
            outages.swap_remove(i)
        })
    };
    if let (Some(over), true) = (over, diagnostics_on()) {
        eprintln!(
            "traced: exporting spans to {} works again ({} spans were dropped while it failed)",
            shown_target(over.target),
            over.dropped
        );
    }
}

/// Whether an export failure was reported and no export to its target has
/// succeeded since: a failed flush or shutdown then has nothing new to say.
#[cfg_attr(
    not(any(feature = "otlp-grpc", feature = "otlp-http")),
    allow(dead_code)
)]
pub(crate) fn failing() -> bool {
    FAILING.load(Ordering::Relaxed) > 0
}

/// The targets whose last export failed, and what they dropped since.
static OUTAGES: Mutex<Vec<Outage>> = Mutex::new(Vec::new());
/// How many entries `OUTAGES` has, read without its lock.
static FAILING: AtomicUsize = AtomicUsize::new(0);

/// Exports to `target` fail; `dropped` spans so far.
#[derive(Debug)]
struct Outage {
    target: String,
    dropped: u64,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The line the first failure of an outage prints. When nothing listens at
/// `target` (the first program, with no collector started), it says what
/// to do instead of the transport's error chain.
fn failure_line(count: u64, total: u64, target: &str, why: &str) -> String {
    match unreachable(why) {
        Some(cause) if is_loopback(target) => format!(
            "traced: no collector at {target} ({cause}), so spans are dropped; \
             start `traced-view` to see them, or set OTEL_TRACES_EXPORTER=console to print them \
             (said once until an export succeeds)"
        ),
        Some(cause) => format!(
            "traced: no collector at {target} ({cause}), so spans are dropped; \
             check OTEL_EXPORTER_OTLP_ENDPOINT, or set OTEL_TRACES_EXPORTER=console to print them \
             (said once until an export succeeds; traced::dropped_spans() counts them)"
        ),
        None => format!(
            "traced: exporting {count} spans to {target} failed, so they are dropped \
             ({total} dropped so far; said once until an export succeeds): {why}"
        ),
    }
}

/// The cause, in a few words, when `why` says that no connection could be
/// made at all. The transports' errors are read as text: tonic and reqwest
/// nest the `io::Error` a few sources down, each in its own type.
pub(crate) fn unreachable(why: &str) -> Option<&'static str> {
    let why = why.to_ascii_lowercase();
    if why.contains("connection refused") {
        Some("connection refused")
    } else if why.contains("dns error") || why.contains("failed to lookup address") {
        Some("its host name does not resolve")
    } else if why.contains("network is unreachable") || why.contains("no route to host") {
        Some("no route to it")
    } else {
        None
    }
}

/// Whether `target` is on this machine, where a viewer can be started.
pub(crate) fn is_loopback(target: &str) -> bool {
    let authority = target.split("://").nth(1).unwrap_or(target);
    let host = authority.split('/').next().unwrap_or(authority);
    let host = host.rsplit_once('@').map_or(host, |(_, host)| host);
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => host.rsplit_once(':').map_or(host, |(host, _)| host),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Counts spans the collector at `target` said it rejected, and says so
/// on stderr at most once every 10 seconds: the export itself arrived.
pub(crate) fn report_rejected(count: u64, target: &str, why: &dyn std::fmt::Display) {
    let total = DROPPED.fetch_add(count, Ordering::Relaxed) + count;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let last = LAST_REJECTED.load(Ordering::Relaxed);
    if diagnostics_on()
        && now >= last + 10
        && LAST_REJECTED
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        let line = format!(
            "traced: {count} spans sent to {target} were rejected, so they are dropped ({total} dropped so far): {why}"
        );
        let line = crate::redact::scrub_text(&line).map_or(line, |(clean, _)| clean);
        eprintln!("{line}");
    }
}

impl<E: SpanExporter> SpanExporter for Reported<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let count = batch.len() as u64;
        if let Some(tally) = &self.tally {
            tally.exported.fetch_add(count, Ordering::Relaxed);
            tally.in_flight.fetch_add(count, Ordering::Relaxed);
        }
        let result = self.inner.export(batch).await;
        if result.is_ok() {
            delivered(&self.target);
        }
        // What shutdown wrote off while this export hung is not counted
        // again.
        let count = match &self.tally {
            Some(tally) => tally.settle_in_flight(count),
            None => count,
        };
        if let (Err(err), true) = (&result, count > 0) {
            let detail = self
                .detail
                .as_ref()
                .and_then(|d| d.lock().ok().and_then(|mut d| d.take()))
                .map_or_else(String::new, |d| format!(" ({d})"));
            report_failed(count, &self.target, &format_args!("{err}{detail}"));
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

/// What one batch pipeline was given and what reached its exporter: the
/// difference, once the queue is flushed, is what the batch processor
/// dropped because its queue was full (the SDK only counts those
/// internally and reports them through `tracing` at shutdown).
#[derive(Debug, Default)]
#[cfg_attr(
    not(any(feature = "otlp-grpc", feature = "otlp-http")),
    allow(dead_code)
)]
pub(crate) struct Tally {
    ended: AtomicU64,
    exported: AtomicU64,
    settled: AtomicU64,
    /// Handed to the exporter, whose export has not returned yet.
    in_flight: AtomicU64,
}

impl Tally {
    /// `count` spans' export returned: takes them off `in_flight`, and
    /// returns how many of them were still there (not written off by a
    /// shutdown that could not wait for them).
    fn settle_in_flight(&self, count: u64) -> u64 {
        let before = self
            .in_flight
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                Some(v.saturating_sub(count))
            })
            .unwrap_or(0);
        before.min(count)
    }
}

/// A batch processor, counting the sampled spans it is handed into a
/// [`Tally`]; after each flush and at shutdown the spans that never
/// reached the exporter are counted in [`dropped_spans`] and reported.
#[derive(Debug)]
#[cfg_attr(
    not(any(feature = "otlp-grpc", feature = "otlp-http")),
    allow(dead_code)
)]
pub(crate) struct Counted<P> {
    inner: P,
    tally: Arc<Tally>,
    target: String,
}

#[cfg_attr(
    not(any(feature = "otlp-grpc", feature = "otlp-http")),
    allow(dead_code)
)]
impl<P> Counted<P> {
    pub(crate) fn new(inner: P, tally: Arc<Tally>, target: impl Into<String>) -> Self {
        Counted {
            inner,
            tally,
            target: shown_target(target.into()),
        }
    }

    /// `ended` is read before the flush: every span counted there has been
    /// exported or dropped once the flush returns. A span ended meanwhile
    /// can only make the difference smaller, never a false drop; the next
    /// settlement counts what this one missed.
    fn settle(&self, ended_before: u64) {
        let t = &self.tally;
        let exported = t.exported.load(Ordering::Relaxed);
        let settled = t.settled.load(Ordering::Relaxed);
        let missing = ended_before.saturating_sub(exported + settled);
        if missing > 0 {
            t.settled.fetch_add(missing, Ordering::Relaxed);
            let total = DROPPED.fetch_add(missing, Ordering::Relaxed) + missing;
            if diagnostics_on() {
                eprintln!(
                    "traced: {missing} spans for {} were dropped because the batch queue was full \
                     (raise OTEL_BSP_MAX_QUEUE_SIZE) ({total} dropped so far)",
                    self.target
                );
            }
        }
    }
}

impl<P: SpanProcessor> SpanProcessor for Counted<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        if span.span_context.is_sampled() {
            self.tally.ended.fetch_add(1, Ordering::Relaxed);
        }
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        let ended = self.tally.ended.load(Ordering::Relaxed);
        let result = self.inner.force_flush();
        self.settle(ended);
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let ended = self.tally.ended.load(Ordering::Relaxed);
        let result = self.inner.shutdown_with_timeout(timeout);
        self.settle(ended);
        // An export still hanging (a collector that accepts connections
        // and never answers) will not deliver before the process goes.
        let stuck = self.tally.in_flight.swap(0, Ordering::Relaxed);
        if stuck > 0 {
            let total = DROPPED.fetch_add(stuck, Ordering::Relaxed) + stuck;
            if diagnostics_on() {
                eprintln!(
                    "traced: {stuck} spans for {} were still being exported at shutdown, \
                     with no answer from the collector, so they are dropped ({total} dropped so far)",
                    self.target
                );
            }
        }
        result
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// Our own diagnostics on stderr, by `OTEL_LOG_LEVEL`: failures (export
/// failures, dropped spans) are [`LEVEL_ERROR`], ignored configuration
/// values [`LEVEL_WARN`]; a level of [`LEVEL_NONE`] silences both.
static LOG_LEVEL: AtomicU8 = AtomicU8::new(LEVEL_INFO);
/// Nothing on stderr.
pub(crate) const LEVEL_NONE: u8 = 0;
/// Failures only.
pub(crate) const LEVEL_ERROR: u8 = 1;
/// Failures and ignored configuration values.
pub(crate) const LEVEL_WARN: u8 = 2;
/// The default: everything we print (we print nothing below warnings).
pub(crate) const LEVEL_INFO: u8 = 3;

/// Sets the level `init` read from `OTEL_LOG_LEVEL`.
#[cfg_attr(not(feature = "init"), allow(dead_code))]
pub(crate) fn set_log_level(level: u8) {
    LOG_LEVEL.store(level, Ordering::Relaxed);
}

/// Whether a diagnostic of `level` is printed.
pub(crate) fn log_enabled(level: u8) -> bool {
    level <= LOG_LEVEL.load(Ordering::Relaxed)
}

fn diagnostics_on() -> bool {
    log_enabled(LEVEL_ERROR)
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use opentelemetry::trace::{Tracer as _, TracerProvider as _};
    use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider};

    use super::*;

    #[test]
    fn no_collector_on_this_machine_says_what_to_do() {
        let why = "gRPC status Unavailable: transport error: tcp connect error: Connection refused (os error 111)";
        let line = failure_line(3, 3, "http://localhost:4317", why);
        assert!(line.contains("no collector at http://localhost:4317 (connection refused)"));
        assert!(line.contains("start `traced-view`"), "{line}");
        assert!(line.contains("OTEL_TRACES_EXPORTER=console"), "{line}");
        assert!(!line.contains("os error"), "no transport chain: {line}");
        let far = failure_line(3, 3, "https://collector.example:4317", why);
        assert!(far.contains("check OTEL_EXPORTER_OTLP_ENDPOINT"), "{far}");
        let other = failure_line(3, 7, "http://[::1]:4318/v1/traces", "HTTP status 401");
        assert!(
            other.starts_with("traced: exporting 3 spans to http://[::1]:4318/v1/traces failed"),
            "{other}"
        );
        assert!(other.ends_with(": HTTP status 401"), "{other}");
    }

    #[test]
    fn loopback_targets() {
        for target in [
            "http://localhost:4317",
            "http://127.0.0.1:4318/v1/traces",
            "http://[::1]:4317",
            "https://user:pw@LOCALHOST",
            "localhost:4317",
        ] {
            assert!(is_loopback(target), "{target}");
        }
        for target in [
            "http://collector:4317",
            "https://api.honeycomb.io",
            "http://10.0.0.1:4317",
        ] {
            assert!(!is_loopback(target), "{target}");
        }
    }

    #[test]
    fn an_outage_is_one_report_until_an_export_succeeds() {
        // It adds to `dropped_spans()`, which other tests read.
        let _serial = counter_test_lock();
        let target = "http://outage.test:4317";
        let find = || {
            lock(&OUTAGES)
                .iter()
                .find(|o| o.target == target)
                .map(|o| o.dropped)
        };
        delivered(target);
        assert_eq!(find(), None);
        report_failed(2, target, &"Connection refused");
        report_failed(3, target, &"Connection refused");
        assert_eq!(find(), Some(5), "one outage, counted");
        assert!(failing());
        delivered(target);
        assert_eq!(find(), None, "over once an export succeeded");
    }

    /// Blocks its first export until told to go on.
    #[derive(Debug)]
    struct Stuck(Mutex<Option<mpsc::Receiver<()>>>);

    impl SpanExporter for Stuck {
        async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
            let rx = self.0.lock().unwrap().take();
            if let Some(rx) = rx {
                let _ = rx.recv_timeout(Duration::from_secs(10));
            }
            Ok(())
        }
    }

    #[test]
    fn spans_dropped_by_a_full_queue_are_counted() {
        let _serial = counter_test_lock();
        let (go, wait) = mpsc::channel();
        let tally = Arc::new(Tally::default());
        let exporter =
            Reported::new(Stuck(Mutex::new(Some(wait))), "test").with_tally(tally.clone());
        let batch = BatchSpanProcessor::builder(exporter)
            .with_batch_config(
                BatchConfigBuilder::default()
                    .with_max_queue_size(2)
                    .with_max_export_batch_size(1)
                    .with_scheduled_delay(Duration::from_millis(1))
                    .build(),
            )
            .build();
        let provider = SdkTracerProvider::builder()
            .with_span_processor(Counted::new(batch, tally.clone(), "test"))
            .build();
        let tracer = provider.tracer("t");
        let before = dropped_spans();
        for _ in 0..50 {
            tracer.in_span("s", |_| {});
        }
        go.send(()).unwrap();
        provider.force_flush().unwrap();
        let dropped = dropped_spans() - before;
        let exported = tally.exported.load(Ordering::Relaxed);
        assert!(dropped > 0, "the queue of 2 overflowed");
        assert_eq!(dropped + exported, 50);
        provider.shutdown().unwrap();
        assert_eq!(dropped_spans() - before, dropped, "counted once");
    }

    /// Hangs in its export until told to go on, then fails.
    #[derive(Debug)]
    struct HangsThenFails(Mutex<mpsc::Receiver<()>>);

    impl SpanExporter for HangsThenFails {
        async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
            let _ = self.0.lock().unwrap().recv_timeout(Duration::from_secs(10));
            Err(opentelemetry_sdk::error::OTelSdkError::InternalFailure(
                "no answer".into(),
            ))
        }
    }

    /// Says when the export of the exporter it wraps has returned.
    #[derive(Debug)]
    struct SaysWhenDone<E>(E, Mutex<mpsc::Sender<()>>);

    impl<E: SpanExporter> SpanExporter for SaysWhenDone<E> {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            let result = self.0.export(batch).await;
            let _ = self.1.lock().unwrap().send(());
            result
        }
    }

    #[test]
    fn an_export_still_hanging_at_shutdown_is_counted_once() {
        let _serial = counter_test_lock();
        let (go, wait) = mpsc::channel();
        let (returned, has_returned) = mpsc::channel();
        let tally = Arc::new(Tally::default());
        let reported =
            Reported::new(HangsThenFails(Mutex::new(wait)), "test").with_tally(tally.clone());
        let exporter = SaysWhenDone(reported, Mutex::new(returned));
        let batch = BatchSpanProcessor::builder(exporter)
            .with_batch_config(
                BatchConfigBuilder::default()
                    .with_max_export_batch_size(3)
                    .with_scheduled_delay(Duration::from_millis(1))
                    .build(),
            )
            .build();
        let provider = SdkTracerProvider::builder()
            .with_span_processor(Counted::new(batch, tally.clone(), "test"))
            .build();
        let tracer = provider.tracer("t");
        let before = dropped_spans();
        for _ in 0..3 {
            tracer.in_span("s", |_| {});
        }
        // The batch of 3 reaches the exporter, which hangs.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while tally.in_flight.load(Ordering::Relaxed) < 3 {
            assert!(std::time::Instant::now() < deadline, "the export started");
            std::thread::yield_now();
        }
        let _ = provider.shutdown_with_timeout(Duration::from_millis(50));
        assert_eq!(
            dropped_spans() - before,
            3,
            "the hanging export is written off"
        );
        // Its export fails after all: those spans are not counted again.
        go.send(()).unwrap();
        has_returned
            .recv_timeout(Duration::from_secs(10))
            .expect("the export returned");
        assert_eq!(dropped_spans() - before, 3);
        assert_eq!(tally.in_flight.load(Ordering::Relaxed), 0);
    }
}
