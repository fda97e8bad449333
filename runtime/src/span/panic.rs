//! The panic hook that remembers each panic's message and location, and
//! the writer that records it on the spans it unwinds through.

use std::cell::RefCell;
use std::sync::Once;

use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanRef, Status};

use crate::semconv::{
    CODE_COLUMN_NUMBER, CODE_FILE_PATH, CODE_LINE_NUMBER, ERROR_TYPE, EXCEPTION_EVENT,
    EXCEPTION_MESSAGE, EXCEPTION_TYPE,
};

/// `exception.type` of a panic.
const PANIC_TYPE: &str = "panic";

/// What the panic hook saw of the panic unwinding on this thread.
#[derive(Clone)]
struct PanicSeen {
    message: Option<String>,
    file: String,
    line: u32,
    column: u32,
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
            };
            // `try_with`: the hook may run while thread locals are torn down.
            let _ = LAST_PANIC.try_with(|last| *last.borrow_mut() = Some(seen));
            previous(info);
        }));
    });
}

#[cold]
pub(crate) fn record_panic(span: &SpanRef<'_>) {
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
    let mut attributes = vec![
        KeyValue::new(EXCEPTION_TYPE, PANIC_TYPE),
        KeyValue::new(EXCEPTION_MESSAGE, message.clone()),
    ];
    if let Some(seen) = seen {
        attributes.push(KeyValue::new(CODE_FILE_PATH, seen.file));
        attributes.push(KeyValue::new(CODE_LINE_NUMBER, i64::from(seen.line)));
        attributes.push(KeyValue::new(CODE_COLUMN_NUMBER, i64::from(seen.column)));
    }
    span.set_attribute(KeyValue::new(ERROR_TYPE, PANIC_TYPE));
    span.add_event(EXCEPTION_EVENT, attributes);
    span.set_status(Status::error(message));
}
