//! The exception writer: what an error, a panic or a cancellation leaves on
//! a span. One writer for `#[traced]` and the integrations alike.
//!
//! # Recorded once
//!
//! The semantic conventions ask that an exception be recorded once. An
//! error that `?` carries up through `a → b → c → d` leaves four spans, so
//! the `exception` event goes on the span it first leaves (the innermost,
//! `d`), and the spans it then passes through get status Error and
//! `error.type` only.
//!
//! "The same error" is recognised without looking inside it: the last
//! exception recorded on this thread has the same type and message, and was
//! recorded after the span now ending started — by a span that ran inside
//! it. Each recorded exception takes a number from a process-wide counter,
//! and a recording span remembers the counter's value when it started, so
//! the comparison also holds for an `async fn` that started on one thread
//! and ends on another (the child's error is recorded in the same poll that
//! ends the parent, on the same thread). A span that handles a child's error
//! and then fails with a new error of the same type and message is taken
//! for a pass-through: its child carries the event.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use opentelemetry::trace::{SpanRef, Status};
use opentelemetry::{Array, KeyValue, StringValue, Value};

use crate::semconv::{
    ERROR_TYPE, EXCEPTION_EVENT, EXCEPTION_MESSAGE, EXCEPTION_TYPE, TRACED_CANCELLED_EVENT,
    TRACED_ERROR_SOURCE_CHAIN,
};

/// How many exceptions were recorded in this process: the number of the
/// last one.
static RECORDED: AtomicU64 = AtomicU64::new(0);

/// The last exception recorded on this thread.
struct Last {
    number: u64,
    type_name: String,
    message: String,
}

thread_local! {
    static LAST: RefCell<Option<Last>> = const { RefCell::new(None) };
}

/// Where an exception goes: `OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN`, the
/// semantic conventions' opt-in for the move from span events to logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(not(feature = "init"), allow(dead_code))]
pub(crate) enum ExceptionSignal {
    /// The `exception` span event (the default).
    #[default]
    SpanEvent,
    /// `logs`: an `exception` log record linked to the span, no span event.
    Logs,
    /// `logs/dup`: both the log record and the span event.
    LogsAndSpanEvent,
}

/// The [`ExceptionSignal`] in force, as a number: read once per recorded
/// exception (a cold path), never on the span hot path.
static SIGNAL: AtomicU8 = AtomicU8::new(0);

/// Sets where exceptions go from now on (`init` does, from the opt-in).
#[cfg_attr(not(feature = "init"), allow(dead_code))]
pub(crate) fn set_exception_signal(signal: ExceptionSignal) {
    let n = match signal {
        ExceptionSignal::SpanEvent => 0,
        ExceptionSignal::Logs => 1,
        ExceptionSignal::LogsAndSpanEvent => 2,
    };
    SIGNAL.store(n, Ordering::Relaxed);
}

/// The number of the last exception recorded in this process, for a span
/// that starts now: exceptions with a higher number were recorded inside it.
#[inline]
pub(crate) fn mark() -> u64 {
    RECORDED.load(Ordering::Relaxed)
}

/// An exception about to be recorded on a span that started at `since`
/// (its [`mark`]).
pub(crate) struct Exception<'a> {
    /// `exception.type`.
    pub(crate) type_name: &'a str,
    /// `error.type` of the span, when it says more than the type (a
    /// transport failure's kind).
    pub(crate) error_type: Option<&'a str>,
    pub(crate) message: String,
    /// The `source()` chain, outermost first.
    pub(crate) sources: Vec<StringValue>,
    /// More attributes of the event (a panic's location and stack trace).
    pub(crate) extra: Vec<KeyValue>,
}

/// Records `exception` on `span`: `error.type` and status Error always; the
/// `exception` event only when the same exception was not already recorded
/// inside the span (see the module docs).
#[cold]
pub(crate) fn record(span: &SpanRef<'_>, since: u64, exception: Exception<'_>) {
    let Exception {
        type_name,
        error_type,
        message,
        mut sources,
        mut extra,
    } = exception;
    // Messages may quote what failed: `password=..` in them is scrubbed.
    let mut scrubbed = Vec::new();
    let message = match crate::redact::scrub_text(&message) {
        None => message,
        Some((clean, paths)) => {
            scrubbed.extend(
                paths
                    .into_iter()
                    .map(|p| StringValue::from(format!("exception.message.{p}"))),
            );
            clean
        }
    };
    for (index, source) in sources.iter_mut().enumerate() {
        if let Some((clean, paths)) = crate::redact::scrub_text(source.as_str()) {
            scrubbed.extend(
                paths
                    .into_iter()
                    .map(|p| StringValue::from(format!("traced.error.source_chain.[{index}].{p}"))),
            );
            *source = clean.into();
        }
    }
    extra.extend(crate::redact::scrubbed_attribute(scrubbed));
    let passing_through = LAST
        .try_with(|last| {
            last.borrow().as_ref().is_some_and(|last| {
                last.number > since && last.type_name == type_name && last.message == message
            })
        })
        .unwrap_or(false);
    span.set_attribute(KeyValue::new(
        ERROR_TYPE,
        error_type.unwrap_or(type_name).to_owned(),
    ));
    if !passing_through {
        let mut attributes = Vec::with_capacity(3 + extra.len());
        attributes.push(KeyValue::new(EXCEPTION_TYPE, type_name.to_owned()));
        attributes.push(KeyValue::new(EXCEPTION_MESSAGE, message.clone()));
        if !sources.is_empty() {
            attributes.push(KeyValue::new(
                TRACED_ERROR_SOURCE_CHAIN,
                Value::Array(Array::String(sources)),
            ));
        }
        attributes.extend(extra);
        let signal = SIGNAL.load(Ordering::Relaxed);
        let logged = signal != 0 && emit_log(span, &attributes, &message);
        // `logs` alone drops the event, unless no logger took the record:
        // then the event stays, so that the exception is not lost.
        if signal != 1 || !logged {
            span.add_event(EXCEPTION_EVENT, attributes);
        }
        let number = RECORDED.fetch_add(1, Ordering::Relaxed) + 1;
        let _ = LAST.try_with(|last| {
            *last.borrow_mut() = Some(Last {
                number,
                type_name: type_name.to_owned(),
                message: message.clone(),
            });
        });
    }
    span.set_status(Status::error(message));
}

/// Name of the event that marks a future dropped before it completed.
pub const CANCELLED_EVENT: &str = TRACED_CANCELLED_EVENT;

#[cold]
pub(crate) fn record_cancelled(span: &SpanRef<'_>) {
    span.add_event(CANCELLED_EVENT, Vec::new());
}

/// Emits the exception as an `exception` log record (severity ERROR, the
/// same attributes as the event, the message as its body) linked to
/// `span`; `false` when no logger provider takes it.
#[cfg(feature = "tracing")]
#[cold]
fn emit_log(span: &SpanRef<'_>, attributes: &[KeyValue], message: &str) -> bool {
    use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, Severity};

    let logger = super::logger::traced_logger();
    if !logger.event_enabled(Severity::Error, "traced", Some(EXCEPTION_EVENT)) {
        return false;
    }
    let mut record = logger.create_log_record();
    record.set_event_name(EXCEPTION_EVENT);
    record.set_severity_number(Severity::Error);
    record.set_severity_text("ERROR");
    record.set_body(AnyValue::from(message.to_owned()));
    let sc = span.span_context();
    record.set_trace_context(sc.trace_id(), sc.span_id(), Some(sc.trace_flags()));
    for kv in attributes {
        record.add_attribute(kv.key.clone(), any_value(&kv.value));
    }
    logger.emit(record);
    true
}

/// Without the logs pipeline (feature `tracing`) there is no logger: the
/// span event stays.
#[cfg(not(feature = "tracing"))]
fn emit_log(_span: &SpanRef<'_>, _attributes: &[KeyValue], _message: &str) -> bool {
    false
}

/// An attribute value as a log attribute value (arrays become lists).
#[cfg(feature = "tracing")]
fn any_value(value: &Value) -> opentelemetry::logs::AnyValue {
    use opentelemetry::logs::AnyValue;
    match value {
        Value::Bool(b) => AnyValue::Boolean(*b),
        Value::I64(i) => AnyValue::Int(*i),
        Value::F64(f) => AnyValue::Double(*f),
        Value::String(s) => AnyValue::String(s.clone()),
        Value::Array(Array::Bool(v)) => v.iter().copied().collect(),
        Value::Array(Array::I64(v)) => v.iter().copied().collect(),
        Value::Array(Array::F64(v)) => v.iter().copied().collect(),
        Value::Array(Array::String(v)) => v.iter().cloned().collect(),
        other => AnyValue::String(other.as_str().into_owned().into()),
    }
}

#[cfg(all(test, feature = "tracing", feature = "testing"))]
mod tests {
    use opentelemetry::logs::AnyValue;
    use opentelemetry::trace::{TraceContextExt as _, Tracer as _};
    use opentelemetry::{Context, global};
    use opentelemetry_sdk::logs::{InMemoryLogExporter, SdkLoggerProvider};

    use super::*;

    /// Records one exception on a fresh span under `signal`; returns how
    /// many `exception` events the span got and the log records emitted.
    fn run(
        signal: ExceptionSignal,
    ) -> (
        usize,
        Vec<opentelemetry_sdk::logs::in_memory_exporter::LogDataWithResource>,
        opentelemetry::trace::SpanContext,
    ) {
        let capture = crate::testing::Capture::start();
        let exporter = InMemoryLogExporter::default();
        let logs = SdkLoggerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let previous = crate::span::logger::set_logger_provider(logs.clone());
        set_exception_signal(signal);
        let span = global::tracer("test").start("op");
        let cx = Context::current_with_span(span);
        let sc = cx.span().span_context().clone();
        record(
            &cx.span(),
            mark(),
            Exception {
                type_name: "io::Error",
                error_type: None,
                message: format!("disk full {signal:?}"),
                sources: vec!["no space left".into()],
                extra: Vec::new(),
            },
        );
        cx.span().end();
        set_exception_signal(ExceptionSignal::SpanEvent);
        crate::span::logger::replace(previous);
        let spans = capture.spans();
        let events = spans
            .one("op")
            .events
            .iter()
            .filter(|e| e.name == EXCEPTION_EVENT)
            .count();
        (events, exporter.get_emitted_logs().unwrap_or_default(), sc)
    }

    #[test]
    fn the_opt_in_decides_between_the_event_and_the_log() {
        let (events, logs, _) = run(ExceptionSignal::SpanEvent);
        assert_eq!((events, logs.len()), (1, 0), "default: the span event only");

        let (events, logs, sc) = run(ExceptionSignal::Logs);
        assert_eq!((events, logs.len()), (0, 1), "`logs`: the log record only");
        let record = &logs[0].record;
        assert_eq!(record.event_name(), Some(EXCEPTION_EVENT));
        assert_eq!(
            record.severity_number(),
            Some(opentelemetry::logs::Severity::Error)
        );
        assert_eq!(record.severity_text(), Some("ERROR"));
        let tc = record.trace_context().expect("linked to the span");
        assert_eq!((tc.trace_id, tc.span_id), (sc.trace_id(), sc.span_id()));
        let attr = |key: &str| {
            record
                .attributes_iter()
                .find(|(k, _)| k.as_str() == key)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(
            attr("exception.type"),
            Some(AnyValue::String("io::Error".into()))
        );
        assert_eq!(
            attr("exception.message"),
            Some(AnyValue::String("disk full Logs".into()))
        );
        assert!(attr("traced.error.source_chain").is_some());
        assert_eq!(logs[0].instrumentation.name(), "traced");

        let (events, logs, _) = run(ExceptionSignal::LogsAndSpanEvent);
        assert_eq!((events, logs.len()), (1, 1), "`logs/dup`: both");
    }

    #[test]
    fn logs_without_a_logger_keep_the_event() {
        let capture = crate::testing::Capture::start();
        let previous = crate::span::logger::replace(None);
        set_exception_signal(ExceptionSignal::Logs);
        let span = global::tracer("test").start("lonely");
        let cx = Context::current_with_span(span);
        record(
            &cx.span(),
            mark(),
            Exception {
                type_name: "E",
                error_type: None,
                message: "no logger".to_owned(),
                sources: Vec::new(),
                extra: Vec::new(),
            },
        );
        cx.span().end();
        set_exception_signal(ExceptionSignal::SpanEvent);
        crate::span::logger::replace(previous);
        let spans = capture.spans();
        assert!(
            spans
                .one("lonely")
                .events
                .iter()
                .any(|e| e.name == EXCEPTION_EVENT)
        );
    }
}
