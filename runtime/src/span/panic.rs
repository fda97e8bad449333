//! The panic hook that remembers each panic's message and location, and
//! the writer that records it on the spans it unwinds through.

use std::cell::RefCell;
use std::sync::Once;

use std::backtrace::{Backtrace, BacktraceStatus};
use std::sync::Arc;

use opentelemetry::KeyValue;
use opentelemetry::trace::SpanRef;

use crate::semconv::{CODE_COLUMN_NUMBER, CODE_FILE_PATH, CODE_LINE_NUMBER, EXCEPTION_STACKTRACE};

/// `exception.type` of a panic.
pub(super) const PANIC_TYPE: &str = "panic";

/// What the panic hook saw of the panic unwinding on this thread.
#[derive(Clone)]
struct PanicSeen {
    message: Option<String>,
    file: String,
    line: u32,
    column: u32,
    /// `exception.stacktrace`: captured only when the user enabled
    /// backtraces (`RUST_BACKTRACE`/`RUST_LIB_BACKTRACE`), as the standard
    /// library decides; shared by every span the panic unwinds through.
    backtrace: Option<Arc<str>>,
}

thread_local! {
    static LAST_PANIC: RefCell<Option<PanicSeen>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

/// Installs, once per process, a panic hook that remembers the panic's
/// message and location for the spans it unwinds through, then runs the hook
/// that was installed before it.
#[inline]
pub(crate) fn ensure_panic_hook() {
    if !HOOK.is_completed() {
        install_panic_hook();
    }
}

#[cold]
fn install_panic_hook() {
    // `set_hook` panics when called on a thread that is panicking, and a
    // panic there aborts the process (#25): a first `#[traced]` call made
    // from a `Drop` during an unwind leaves the hook to a later call.
    if std::thread::panicking() {
        return;
    }
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned());
            let seen = PanicSeen {
                message,
                file: info
                    .location()
                    .map(|l| l.file().to_owned())
                    .unwrap_or_default(),
                line: info.location().map_or(0, |l| l.line()),
                column: info.location().map_or(0, |l| l.column()),
                backtrace: captured_backtrace(),
            };
            // `try_with`: the hook may run while thread locals are torn down.
            let _ = LAST_PANIC.try_with(|last| *last.borrow_mut() = Some(seen));
            previous(info);
        }));
    });
}

/// The stack trace of the panic now being raised, when backtraces are on.
fn captured_backtrace() -> Option<Arc<str>> {
    let trace = Backtrace::capture();
    (trace.status() == BacktraceStatus::Captured).then(|| Arc::from(trace.to_string()))
}

#[cold]
pub(crate) fn record_panic(span: &SpanRef<'_>, since: u64) {
    if !span.is_recording() {
        return;
    }
    let seen = LAST_PANIC
        .try_with(|last| last.borrow().clone())
        .ok()
        .flatten();
    let message = seen
        .as_ref()
        .and_then(|s| s.message.clone())
        .unwrap_or_else(|| "panic with a non-string payload".to_owned());
    let mut extra = Vec::new();
    if let Some(seen) = seen {
        extra.push(KeyValue::new(CODE_FILE_PATH, seen.file));
        extra.push(KeyValue::new(CODE_LINE_NUMBER, i64::from(seen.line)));
        extra.push(KeyValue::new(CODE_COLUMN_NUMBER, i64::from(seen.column)));
        if let Some(trace) = seen.backtrace {
            extra.push(KeyValue::new(
                EXCEPTION_STACKTRACE,
                opentelemetry::Value::String(trace.into()),
            ));
        }
    }
    super::exception::record(
        span,
        since,
        super::exception::Exception {
            type_name: PANIC_TYPE,
            error_type: None,
            message,
            sources: Vec::new(),
            extra,
        },
    );
}
