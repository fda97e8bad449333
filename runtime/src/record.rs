//! Errors, panics and cancellations on spans.
//!
//! An error returned as `Err(e)` and a panic unwinding through a span both
//! become an event named `exception` (with `exception.type` and
//! `exception.message`, as the semantic conventions define) and status Error.
//! Where `e` implements `std::error::Error`, the messages of its `source()`
//! chain, outermost first, are the event's string-array attribute
//! `exception.source_chain`.

use std::any::type_name;
use std::cell::RefCell;
use std::convert::Infallible;
use std::error::Error;
use std::fmt::{Debug, Display};
use std::sync::Once;

use opentelemetry::trace::{SpanRef, Status};
use opentelemetry::{Array, Key, KeyValue, StringValue, Value};

use crate::site::ActiveSpan;
use crate::value::debug_string;

const EXCEPTION: &str = "exception";
const EXCEPTION_TYPE: Key = Key::from_static_str("exception.type");
const EXCEPTION_MESSAGE: Key = Key::from_static_str("exception.message");
const EXCEPTION_SOURCE_CHAIN: Key = Key::from_static_str("exception.source_chain");
const ERROR_TYPE: Key = Key::from_static_str("error.type");
const CODE_FILE_PATH: Key = Key::from_static_str("code.file.path");
const CODE_LINE_NUMBER: Key = Key::from_static_str("code.line.number");
const CODE_COLUMN_NUMBER: Key = Key::from_static_str("code.column.number");
/// `exception.type` of a panic.
const PANIC_TYPE: &str = "panic";

/// Wraps the value under dispatch so that autoref dispatch sees only the
/// impls written for it, not the blanket impls for references.
pub struct Tag<'a, T: ?Sized>(pub &'a T);

// Not derived: a derive would ask `T: Copy`, and `Tag` only holds a reference.
impl<T: ?Sized> Clone for Tag<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: ?Sized> Copy for Tag<'_, T> {}

// ---- Result or not: decided by the value's type ----

/// The returned value is a `Result`.
pub trait ResultKind<T, E> {
    /// The error, if the call failed.
    fn traced_err(&self) -> Option<&E>;
    /// The value to record with `ret`: the `Ok` value.
    fn traced_ok(&self) -> Option<&T>;
}
impl<T, E> ResultKind<T, E> for Result<T, E> {
    #[inline]
    fn traced_err(&self) -> Option<&E> {
        self.as_ref().err()
    }
    #[inline]
    fn traced_ok(&self) -> Option<&T> {
        self.as_ref().ok()
    }
}

/// The returned value is anything else: never an error.
pub trait PlainKind<T: ?Sized> {
    /// Always `None`.
    fn traced_err(&self) -> Option<&Infallible>;
    /// The value itself.
    fn traced_ok(&self) -> Option<&T>;
}
impl<T: ?Sized> PlainKind<T> for &T {
    #[inline]
    fn traced_err(&self) -> Option<&Infallible> {
        None
    }
    #[inline]
    fn traced_ok(&self) -> Option<&T> {
        Some(*self)
    }
}

// ---- How to describe an error: decided by its type ----

/// `E: std::error::Error`: message, type and `source()` chain.
pub struct ErrStd;
/// `E: AsRef<dyn Error>` (`anyhow::Error`, `Box<dyn Error + Send + Sync>`).
pub struct ErrDyn;
/// `E: Display`.
pub struct ErrDisplay;
/// `E: Debug`.
pub struct ErrDebug;
/// Anything else: only the type name.
pub struct ErrOpaque;

/// Dispatch level 1.
pub trait StdErrKind {
    /// Picks [`ErrStd`].
    fn traced_err_kind(self) -> ErrStd;
}
impl<E: Error + ?Sized> StdErrKind for &&&&Tag<'_, E> {
    #[inline]
    fn traced_err_kind(self) -> ErrStd {
        ErrStd
    }
}
/// Dispatch level 2.
pub trait DynErrKind {
    /// Picks [`ErrDyn`].
    fn traced_err_kind(self) -> ErrDyn;
}
impl<E: AsRef<dyn Error + Send + Sync + 'static> + ?Sized> DynErrKind for &&&Tag<'_, E> {
    #[inline]
    fn traced_err_kind(self) -> ErrDyn {
        ErrDyn
    }
}
/// Dispatch level 3.
pub trait DisplayErrKind {
    /// Picks [`ErrDisplay`].
    fn traced_err_kind(self) -> ErrDisplay;
}
impl<E: Display + ?Sized> DisplayErrKind for &&Tag<'_, E> {
    #[inline]
    fn traced_err_kind(self) -> ErrDisplay {
        ErrDisplay
    }
}
/// Dispatch level 4.
pub trait DebugErrKind {
    /// Picks [`ErrDebug`].
    fn traced_err_kind(self) -> ErrDebug;
}
impl<E: Debug + ?Sized> DebugErrKind for &Tag<'_, E> {
    #[inline]
    fn traced_err_kind(self) -> ErrDebug {
        ErrDebug
    }
}
/// Dispatch level 5.
pub trait OpaqueErrKind {
    /// Picks [`ErrOpaque`].
    fn traced_err_kind(self) -> ErrOpaque;
}
impl<E: ?Sized> OpaqueErrKind for Tag<'_, E> {
    #[inline]
    fn traced_err_kind(self) -> ErrOpaque {
        ErrOpaque
    }
}

fn chain(mut source: Option<&(dyn Error + 'static)>) -> Vec<StringValue> {
    let mut out = Vec::new();
    while let Some(err) = source {
        out.push(err.to_string().into());
        source = err.source();
    }
    out
}

impl ErrStd {
    /// Records `err` on `span`.
    #[cold]
    pub fn record<E: Error + ?Sized>(self, span: &ActiveSpan, err: &E) {
        if span.is_recording() {
            span.record_error(type_name::<E>(), err.to_string(), chain(err.source()));
        }
    }
}
impl ErrDyn {
    /// Records `err` on `span`.
    #[cold]
    pub fn record<E: AsRef<dyn Error + Send + Sync + 'static> + ?Sized>(
        self,
        span: &ActiveSpan,
        err: &E,
    ) {
        if span.is_recording() {
            let err = err.as_ref();
            span.record_error(type_name::<E>(), err.to_string(), chain(err.source()));
        }
    }
}
impl ErrDisplay {
    /// Records `err` on `span`.
    #[cold]
    pub fn record<E: Display + ?Sized>(self, span: &ActiveSpan, err: &E) {
        if span.is_recording() {
            span.record_error(type_name::<E>(), err.to_string(), Vec::new());
        }
    }
}
impl ErrDebug {
    /// Records `err` on `span`.
    #[cold]
    pub fn record<E: Debug + ?Sized>(self, span: &ActiveSpan, err: &E) {
        if span.is_recording() {
            span.record_error(type_name::<E>(), debug_string(err), Vec::new());
        }
    }
}
impl ErrOpaque {
    /// Records `err` on `span`.
    #[cold]
    pub fn record<E: ?Sized>(self, span: &ActiveSpan, _err: &E) {
        if span.is_recording() {
            let name = type_name::<E>();
            span.record_error(name, name.to_owned(), Vec::new());
        }
    }
}

#[cold]
pub(crate) fn record_error(
    span: &SpanRef<'_>,
    type_name: &'static str,
    message: String,
    sources: Vec<StringValue>,
) {
    let mut attributes = vec![
        KeyValue::new(EXCEPTION_TYPE, type_name),
        KeyValue::new(EXCEPTION_MESSAGE, message.clone()),
    ];
    if !sources.is_empty() {
        attributes.push(KeyValue::new(
            EXCEPTION_SOURCE_CHAIN,
            Value::Array(Array::String(sources)),
        ));
    }
    span.set_attribute(KeyValue::new(ERROR_TYPE, type_name));
    span.add_event(EXCEPTION, attributes);
    span.set_status(Status::error(message));
}

// ---- Panics ----

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
    span.add_event(EXCEPTION, attributes);
    span.set_status(Status::error(message));
}

/// Name of the event that marks a future dropped before it completed.
pub const CANCELLED_EVENT: &str = "cancelled";

#[cold]
pub(crate) fn record_cancelled(span: &SpanRef<'_>) {
    span.add_event(CANCELLED_EVENT, Vec::new());
}
