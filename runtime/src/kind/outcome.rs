//! What a call's outcome means: whether the returned value is a `Result`
//! (and which of its sides failed), and how to describe the error by what
//! its type implements.

use std::any::type_name;
use std::convert::Infallible;
use std::error::Error;
use std::fmt::{Debug, Display};

use opentelemetry::StringValue;

use super::Tag;
use super::value::debug_string;
use crate::span::ActiveSpan;

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
    /// Picks `ErrStd`.
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
    /// Picks `ErrDyn`.
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
    /// Picks `ErrDisplay`.
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
    /// Picks `ErrDebug`.
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
    /// Picks `ErrOpaque`.
    fn traced_err_kind(self) -> ErrOpaque;
}
impl<E: ?Sized> OpaqueErrKind for Tag<'_, E> {
    #[inline]
    fn traced_err_kind(self) -> ErrOpaque {
        ErrOpaque
    }
}

fn chain(source: Option<&(dyn Error + 'static)>) -> Vec<StringValue> {
    sources(source).map(|err| err.to_string().into()).collect()
}

/// How many causes of an error are read at most.
pub(crate) const MAX_SOURCES: usize = 32;

/// The `source()` chain from `first` on, at most [`MAX_SOURCES`] long, and
/// ending where an error comes back (a cyclic chain, which a hand-written
/// `source()` can make, would otherwise be read forever).
pub(crate) fn sources<'a>(
    first: Option<&'a (dyn Error + 'static)>,
) -> impl Iterator<Item = &'a (dyn Error + 'static)> {
    let mut seen: Vec<*const ()> = Vec::new();
    let mut next = first;
    std::iter::from_fn(move || {
        let err = next?;
        let address = std::ptr::from_ref(err).cast::<()>();
        if seen.len() >= MAX_SOURCES || seen.contains(&address) {
            next = None;
            return None;
        }
        seen.push(address);
        next = err.source();
        Some(err)
    })
}

impl ErrStd {
    /// Records `err` on `span`.
    #[cold]
    pub fn record<E: Error + ?Sized>(self, span: &ActiveSpan, err: &E) {
        span.fail(type_name::<E>());
        if span.is_recording() {
            span.record_error(type_name::<E>(), err.to_string(), chain(err.source()));
        }
    }
    /// Records `err` on `span` with its `Debug` text as the message (`err(Debug)`).
    #[cold]
    pub fn record_debug<E: Error + ?Sized>(self, span: &ActiveSpan, err: &E) {
        span.fail(type_name::<E>());
        if span.is_recording() {
            span.record_error(type_name::<E>(), debug_string(err), chain(err.source()));
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
        span.fail(type_name::<E>());
        if span.is_recording() {
            let err = err.as_ref();
            span.record_error(type_name::<E>(), err.to_string(), chain(err.source()));
        }
    }
    /// Records `err` on `span` with its `Debug` text as the message (`err(Debug)`).
    #[cold]
    pub fn record_debug<E: AsRef<dyn Error + Send + Sync + 'static> + ?Sized>(
        self,
        span: &ActiveSpan,
        err: &E,
    ) {
        span.fail(type_name::<E>());
        if span.is_recording() {
            let err = err.as_ref();
            span.record_error(type_name::<E>(), debug_string(err), chain(err.source()));
        }
    }
}
impl ErrDisplay {
    /// Records `err` on `span`.
    #[cold]
    pub fn record<E: Display + ?Sized>(self, span: &ActiveSpan, err: &E) {
        span.fail(type_name::<E>());
        if span.is_recording() {
            span.record_error(type_name::<E>(), err.to_string(), Vec::new());
        }
    }
    /// Records `err` on `span` with its `Debug` text as the message (`err(Debug)`).
    #[cold]
    pub fn record_debug<E: Display + Debug + ?Sized>(self, span: &ActiveSpan, err: &E) {
        span.fail(type_name::<E>());
        if span.is_recording() {
            span.record_error(type_name::<E>(), debug_string(err), Vec::new());
        }
    }
}
impl ErrDebug {
    /// Records `err` on `span`.
    #[cold]
    pub fn record<E: Debug + ?Sized>(self, span: &ActiveSpan, err: &E) {
        span.fail(type_name::<E>());
        if span.is_recording() {
            span.record_error(type_name::<E>(), debug_string(err), Vec::new());
        }
    }
    /// Records `err` on `span` with its `Debug` text as the message (`err(Debug)`).
    #[cold]
    pub fn record_debug<E: Debug + ?Sized>(self, span: &ActiveSpan, err: &E) {
        self.record(span, err);
    }
}
impl ErrOpaque {
    /// Records `err` on `span`.
    #[cold]
    pub fn record<E: ?Sized>(self, span: &ActiveSpan, _err: &E) {
        span.fail(type_name::<E>());
        if span.is_recording() {
            let name = type_name::<E>();
            span.record_error(name, name.to_owned(), Vec::new());
        }
    }
    /// `err(Debug)` on an error that has no `Debug` text: a compile error
    /// naming the missing `Debug`, as `tracing` gives.
    #[cold]
    pub fn record_debug<E: Debug + ?Sized>(self, span: &ActiveSpan, err: &E) {
        ErrDebug.record_debug(span, err);
    }
}

// ---- `fields(otel.status_code = ..)` ----

/// Sets the status `otel.status_code` asks for, after the outcome was
/// recorded: `Ok` is final, and an error recorded already keeps its
/// description (an `Error` status never replaces another).
#[cold]
pub fn set_status(span: &ActiveSpan, ok: bool) {
    use opentelemetry::trace::{Status, TraceContextExt as _};
    if span.is_recording() {
        let status = if ok { Status::Ok } else { Status::error("") };
        span.context().span().set_status(status);
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error;
    use std::fmt;

    /// An error whose `source()` is itself: a cycle of one.
    #[derive(Debug)]
    struct Loop;

    impl fmt::Display for Loop {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("loop")
        }
    }

    impl Error for Loop {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(self)
        }
    }

    /// A chain far longer than is read.
    #[derive(Debug)]
    struct Deep(u32);

    impl fmt::Display for Deep {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "deep {}", self.0)
        }
    }

    impl Error for Deep {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            // Leaked on purpose: a test of a chain with no end in sight.
            (self.0 < 10_000).then(|| &*Box::leak(Box::new(Deep(self.0 + 1))) as _)
        }
    }

    #[test]
    fn a_cyclic_chain_ends() {
        let chain = super::chain(Some(&Loop));
        assert_eq!(chain.len(), 1, "{chain:?}");
        assert_eq!(chain[0].as_str(), "loop");
    }

    #[test]
    fn a_long_chain_is_cut() {
        let chain = super::chain(Some(&Deep(0)));
        assert_eq!(chain.len(), super::MAX_SOURCES);
        assert_eq!(chain[0].as_str(), "deep 0");
    }
}
