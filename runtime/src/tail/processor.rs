//! Where the hold runs: a span processor in front of the one that
//! exports.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use opentelemetry::Context;
use opentelemetry::trace::Span as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};

use super::hold::{Hold, Limits};
use super::registry;
use super::rule::{Policy, TailRule};
use super::stats::TailStats;

/// Tail sampling as an OpenTelemetry SDK span processor: it holds the
/// spans of each trace until the trace's local root and every span of it
/// started in this process have ended, then hands them all to the
/// processor it wraps, or none, as the rules decide.
///
/// `init` installs it for `TRACED_TAIL_SAMPLING` or
/// `Builder::tail_sampling`; a provider built by hand adds it around its
/// exporting processor (and the head sampler should record every span:
/// the SDK's default, parent-based always-on, does):
///
/// ```
/// # use traced_runtime as traced;
/// use std::time::Duration;
/// use traced::opentelemetry_sdk::trace::{BatchSpanProcessor, InMemorySpanExporter, SdkTracerProvider};
/// use traced::{TailRule, TailSampling};
///
/// let exporter = InMemorySpanExporter::default();
/// let provider = SdkTracerProvider::builder()
///     .with_span_processor(TailSampling::new(
///         BatchSpanProcessor::builder(exporter).build(),
///         [TailRule::Errors, TailRule::SlowerThan(Duration::from_millis(250)), TailRule::Ratio(0.05)],
///     ))
///     .build();
/// traced::set_tracer_provider(provider.clone());
/// # provider.shutdown().unwrap();
/// ```
///
/// Bounds (each with a `with_` method): 10,000 spans held per trace, 64
/// MiB held for all traces (estimated), 30 s of hold per trace, 65,536
/// decisions remembered. A trace that reaches one is decided at once, on
/// the spans it has, and counted in [`TailStats::evicted`]; the spans of
/// it that end later follow that decision.
///
/// The rules run while the spans of other traces wait for them: a
/// [`TailRule::Custom`] function should be quick, and must not start
/// spans.
#[derive(Debug)]
pub struct TailSampling<P> {
    inner: P,
    hold: Arc<Hold>,
    /// Whether `hold` is in the process's registry (from the first span on),
    /// for `traceresponse` in the HTTP and gRPC integrations.
    registered: AtomicBool,
}

impl<P: SpanProcessor> TailSampling<P> {
    /// Holds spans in front of `inner` and keeps the traces any of `rules`
    /// keeps. With no rule, no trace is kept.
    pub fn new(inner: P, rules: impl IntoIterator<Item = TailRule>) -> Self {
        TailSampling {
            inner,
            hold: Arc::new(Hold::new(Policy::new(rules))),
            registered: AtomicBool::new(false),
        }
    }

    /// The bounds, to change before the processor is installed.
    fn limits(&mut self) -> &mut Limits {
        if *self.registered.get_mut() {
            // Only when spans were started through it by hand before this
            // call: leave the registry so that the hold is ours alone; the
            // next span registers it again.
            registry::unregister(&self.hold);
            *self.registered.get_mut() = false;
        }
        // Out of the registry, the hold is shared at most for the moment
        // an integration that looked it up before still asks it.
        while Arc::get_mut(&mut self.hold).is_none() {
            std::thread::yield_now();
        }
        let hold = Arc::get_mut(&mut self.hold).expect("no other owner left");
        &mut hold.limits
    }

    /// Spans held for one trace at most (default 10,000, at least 1).
    #[must_use]
    pub fn with_max_spans_per_trace(mut self, spans: usize) -> Self {
        self.limits().spans_per_trace = spans.max(1);
        self
    }

    /// Bytes held for all traces at most, as estimated from each span's
    /// attributes, events and links (default 64 MiB).
    #[must_use]
    pub fn with_max_bytes(mut self, bytes: usize) -> Self {
        self.limits().bytes = bytes;
        self
    }

    /// How long a trace is held at most, from the start of its first span
    /// (default 30 s). Traces held this long are decided when the next
    /// span ends or at the next flush.
    #[must_use]
    pub fn with_max_hold(mut self, hold: Duration) -> Self {
        self.limits().hold = hold;
        self
    }

    /// Decisions remembered for spans that end, or start, after their
    /// trace was decided (default 65,536 traces).
    #[must_use]
    pub fn with_decision_cache(mut self, traces: usize) -> Self {
        self.limits().decisions = traces;
        self
    }

    /// What this processor decided so far.
    pub fn stats(&self) -> TailStats {
        self.hold.counters.read()
    }

    fn pass(&self, spans: Vec<SpanData>) {
        for span in spans {
            self.inner.on_end(span);
        }
    }
}

impl<P: SpanProcessor> SpanProcessor for TailSampling<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        if !self.registered.load(Ordering::Relaxed) && !self.registered.swap(true, Ordering::AcqRel)
        {
            registry::register(&self.hold);
        }
        self.hold
            .start(span.span_context().trace_id(), Instant::now());
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        let now = Instant::now();
        let mut out = Vec::new();
        self.hold.end(span, now, &mut out);
        self.hold.maybe_sweep(now, &mut out);
        self.pass(out);
    }

    /// Traces held for the longest hold are decided; traces still held
    /// otherwise stay held (they have not ended).
    fn force_flush(&self) -> OTelSdkResult {
        let mut out = Vec::new();
        self.hold.sweep(Instant::now(), &mut out);
        self.pass(out);
        self.inner.force_flush()
    }

    /// Every held trace is decided as it is, then `inner` shuts down.
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let mut out = Vec::new();
        self.hold.drain(Instant::now(), &mut out);
        self.pass(out);
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

impl<P> Drop for TailSampling<P> {
    fn drop(&mut self) {
        if *self.registered.get_mut() {
            registry::unregister(&self.hold);
        }
    }
}

/// Several processors behind one hold: `init` holds each span once
/// however many exporters it has.
#[cfg_attr(not(any(feature = "init", feature = "testing")), allow(dead_code))]
#[derive(Debug, Default)]
pub(crate) struct Fanout(pub(crate) Vec<Box<dyn SpanProcessor>>);

impl SpanProcessor for Fanout {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        for p in &self.0 {
            p.on_start(span, cx);
        }
    }

    fn on_end(&self, span: SpanData) {
        if let Some((last, rest)) = self.0.split_last() {
            for p in rest {
                p.on_end(span.clone());
            }
            last.on_end(span);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        first_error(self.0.iter().map(|p| p.force_flush()))
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        first_error(self.0.iter().map(|p| p.shutdown_with_timeout(timeout)))
    }

    fn set_resource(&mut self, resource: &Resource) {
        for p in &mut self.0 {
            p.set_resource(resource);
        }
    }
}

/// Runs every result to the end; the first error, if any.
#[cfg_attr(not(any(feature = "init", feature = "testing")), allow(dead_code))]
fn first_error(results: impl Iterator<Item = OTelSdkResult>) -> OTelSdkResult {
    let mut first: Option<OTelSdkError> = None;
    for result in results {
        if let Err(err) = result {
            first.get_or_insert(err);
        }
    }
    first.map_or(Ok(()), Err)
}
