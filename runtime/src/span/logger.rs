//! The logger provider log records go to (feature `tracing`): the records
//! the `tracing` bridge makes of events and `log` records, and the
//! exceptions `OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN=logs` turns into logs.
//!
//! Like the tracer provider (see `provider`), one slot with a generation:
//! loggers handed out before a provider is installed, or across a
//! replacement, find the current one on their next record. That lets the
//! `tracing` layer be built before `init` (or installed once and kept
//! across several `init`s in one process) and still reach the provider.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use arc_swap::ArcSwapOption;
use opentelemetry::InstrumentationScope;
use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry_sdk::logs::{SdkLogRecord, SdkLogger, SdkLoggerProvider};

/// `0`: nothing was ever installed. Each installation bumps it.
static GENERATION: AtomicU64 = AtomicU64::new(0);
/// The provider, with the ticket of the install that put it there.
static INSTALLED: RwLock<Option<(LoggerTicket, SdkLoggerProvider)>> = RwLock::new(None);
/// The last ticket handed out.
static TICKETS: AtomicU64 = AtomicU64::new(0);

/// Names one install, so that `init`'s guard takes out only the provider
/// it installed.
#[cfg_attr(not(feature = "init"), allow(dead_code))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LoggerTicket(u64);

/// Installs `provider` as the logger provider the `tracing` bridge and the
/// exceptions-as-logs opt-in emit to; returns the one it replaced (call its
/// `shutdown()` to flush what it still holds).
///
/// [`init`](crate::init) calls this for you when logs are on; call it
/// yourself when you build the SDK's logger provider by hand (or with an
/// in-memory exporter in tests). Loggers already handed out, such as the
/// ones in [`tracing_layer`](crate::tracing_layer), see it on their next
/// record.
pub fn set_logger_provider(provider: SdkLoggerProvider) -> Option<SdkLoggerProvider> {
    replace(Some(provider))
}

/// Puts `next` into the slot and returns what was there.
pub(crate) fn replace(next: Option<SdkLoggerProvider>) -> Option<SdkLoggerProvider> {
    let ticket = LoggerTicket(TICKETS.fetch_add(1, Ordering::Relaxed) + 1);
    let mut slot = INSTALLED
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let previous = std::mem::replace(&mut *slot, next.map(|next| (ticket, next)));
    GENERATION.fetch_add(1, Ordering::Release);
    previous.map(|(_, previous)| previous)
}

/// Installs `provider`; returns the ticket that takes it out again.
#[cfg_attr(not(feature = "init"), allow(dead_code))]
pub(crate) fn install(provider: SdkLoggerProvider) -> LoggerTicket {
    let ticket = LoggerTicket(TICKETS.fetch_add(1, Ordering::Relaxed) + 1);
    let mut slot = INSTALLED
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    *slot = Some((ticket, provider));
    GENERATION.fetch_add(1, Ordering::Release);
    ticket
}

/// Empties the slot if it still holds what the install of `ticket` put
/// there; a provider installed since stays.
#[cfg_attr(not(feature = "init"), allow(dead_code))]
pub(crate) fn uninstall(ticket: LoggerTicket) {
    let mut slot = INSTALLED
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if matches!(&*slot, Some((current, _)) if *current == ticket) {
        *slot = None;
        GENERATION.fetch_add(1, Ordering::Release);
    }
}

/// A [`LoggerProvider`](opentelemetry::logs::LoggerProvider) whose loggers
/// follow the slot above.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SlotLoggerProvider;

impl opentelemetry::logs::LoggerProvider for SlotLoggerProvider {
    type Logger = SlotLogger;

    fn logger_with_scope(&self, scope: InstrumentationScope) -> SlotLogger {
        SlotLogger {
            scope,
            cache: ArcSwapOption::const_empty(),
        }
    }
}

/// A logger for one scope: the installed provider's logger, cached per
/// generation; without a provider every record is disabled.
#[derive(Debug)]
pub(crate) struct SlotLogger {
    scope: InstrumentationScope,
    cache: ArcSwapOption<(u64, Option<SdkLogger>)>,
}

impl SlotLogger {
    /// The current provider's logger, if one is installed.
    fn current(&self) -> Option<Arc<(u64, Option<SdkLogger>)>> {
        let generation = GENERATION.load(Ordering::Acquire);
        if generation == 0 {
            return None;
        }
        let cached = self.cache.load_full();
        if let Some(cached) = cached.filter(|c| c.0 == generation) {
            return Some(cached);
        }
        let slot = INSTALLED
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let fresh = Arc::new((
            GENERATION.load(Ordering::Acquire),
            slot.as_ref()
                .map(|(_, p)| p.logger_with_scope(self.scope.clone())),
        ));
        drop(slot);
        self.cache.store(Some(fresh.clone()));
        Some(fresh)
    }
}

impl opentelemetry::logs::Logger for SlotLogger {
    type LogRecord = SdkLogRecord;

    fn create_log_record(&self) -> SdkLogRecord {
        match self.current().as_deref() {
            Some((_, Some(logger))) => logger.create_log_record(),
            // Only reached when the provider went away between
            // `event_enabled` and here: a record of an empty provider,
            // which `emit` then drops.
            _ => empty().create_log_record(),
        }
    }

    fn emit(&self, record: SdkLogRecord) {
        if let Some((_, Some(logger))) = self.current().as_deref() {
            logger.emit(scrubbed(logger, record));
        }
    }

    fn event_enabled(&self, level: Severity, target: &str, name: Option<&str>) -> bool {
        match self.current().as_deref() {
            Some((_, Some(logger))) => logger.event_enabled(level, target, name),
            _ => false,
        }
    }
}

/// A logger of a provider without processors: makes records, emits none.
fn empty() -> &'static SdkLogger {
    static EMPTY: std::sync::OnceLock<SdkLogger> = std::sync::OnceLock::new();
    EMPTY.get_or_init(|| SdkLoggerProvider::builder().build().logger("traced"))
}

/// The logger exceptions are emitted with, in the scope `traced`.
pub(crate) fn traced_logger() -> &'static SlotLogger {
    static LOGGER: std::sync::OnceLock<SlotLogger> = std::sync::OnceLock::new();
    LOGGER.get_or_init(|| {
        SlotLoggerProvider.logger_with_scope(
            InstrumentationScope::builder("traced")
                .with_version(env!("CARGO_PKG_VERSION"))
                .build(),
        )
    })
}

/// A value of a log record scrubbed like a span's (#25): text through the
/// scrubber; `None` when nothing in it changes.
fn scrub_any(value: &AnyValue) -> Option<AnyValue> {
    match value {
        AnyValue::String(text) => crate::redact::scrub_value(text.as_str())
            .map(|(clean, _)| AnyValue::String(clean.into())),
        _ => None,
    }
}

/// `record` with the values of secret keys replaced and its texts
/// scrubbed, as `#[traced]` values are: the records the `tracing` bridge
/// makes of events (`info!(password = %p, "login {url}")`) and of `log`
/// records reach no exporter unscrubbed. Rebuilt only when something
/// changes (the SDK's record has no way to change an attribute in place).
fn scrubbed(logger: &SdkLogger, record: SdkLogRecord) -> SdkLogRecord {
    let body = record.body().and_then(scrub_any);
    let attributes: Vec<Option<AnyValue>> = record
        .attributes_iter()
        .map(|(key, value)| {
            if crate::redact::is_secret(key.as_str()) {
                Some(AnyValue::String(crate::span::REDACTED.into()))
            } else {
                scrub_any(value)
            }
        })
        .collect();
    if body.is_none() && attributes.iter().all(Option::is_none) {
        return record;
    }
    let mut out = logger.create_log_record();
    if let Some(name) = record.event_name() {
        out.set_event_name(name);
    }
    if let Some(target) = record.target() {
        out.set_target(target.clone());
    }
    if let Some(at) = record.timestamp() {
        out.set_timestamp(at);
    }
    if let Some(at) = record.observed_timestamp() {
        out.set_observed_timestamp(at);
    }
    if let Some(text) = record.severity_text() {
        out.set_severity_text(text);
    }
    if let Some(number) = record.severity_number() {
        out.set_severity_number(number);
    }
    if let Some(cx) = record.trace_context() {
        out.set_trace_context(cx.trace_id, cx.span_id, cx.trace_flags);
    }
    match body {
        Some(body) => out.set_body(body),
        None => {
            if let Some(body) = record.body() {
                out.set_body(body.clone());
            }
        }
    }
    for ((key, value), clean) in record.attributes_iter().zip(attributes) {
        out.add_attribute(key.clone(), clean.unwrap_or_else(|| value.clone()));
    }
    out
}
