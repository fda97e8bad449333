//! Autoref dispatch: choosing, from a value's type alone, how `#[traced]`
//! records it.
//!
//! A proc macro sees tokens, not types: `fn f(id: UserId)` does not say
//! whether `UserId` is an integer alias, a `Debug` struct or neither, and a
//! function returning `io::Result<T>` does not spell `Result`. So generated
//! code never decides; it calls a method through a chain of references and
//! lets method resolution pick the impl:
//!
//! ```text
//! (&&Tag(&value)).traced_kind()         // value conversion, depth 2
//!     &&Tag<T>: NativeKind  T: IntoAttr        -> AsNative      (native attribute)
//!     &Tag<O>:  OptionKind  O: Option<T> of a non-IntoAttr T
//!                                              -> AsOptionDebug (inner `Debug`, or none)
//!     Tag<T>:   DebugKind   every T            -> AsDebug       (its `Debug` string)
//!
//! (&&&&Tag(err)).traced_err_kind()      // error description, depth 4
//!     &&&&Tag<E>: StdErrKind      E: std::error::Error   message + source() chain
//!     &&&Tag<E>:  DynErrKind      E: AsRef<dyn Error>    anyhow, Box<dyn Error>
//!     &&Tag<E>:   DisplayErrKind  E: Display             message
//!     &Tag<E>:    DebugErrKind    E: Debug               Debug string
//!     Tag<E>:     OpaqueErrKind   anything               the type name
//!
//! out.traced_err() / out.traced_ok()    // is the outcome a Result?
//!     Result<T, E>: ResultKind    the error side, the Ok side
//!     &T: PlainKind               never an error, the value itself
//! ```
//!
//! Method resolution tries the receiver as written, then dereferences it
//! one `&` at a time, taking the first trait whose impl applies: the impl on
//! the most references is the most specific, so it must be listed on the
//! deepest receiver. `Tag` is ours, which keeps the blanket impls
//! that `std` has for `&T` out of the candidates. Each trait returns a zero
//! sized marker whose own method then does the work with exactly the bound
//! it needs, so only one set of bounds is ever checked against the type.
//!
//! The depth written in the call must match the impls here, so the calls
//! are written once, in this module's two macros, [`to_value!`] and
//! [`record_err!`], and both the attribute's expansion and
//! `event!`/`attributes!` invoke them (through `__private`).

pub(crate) mod expects;
pub(crate) mod format;
#[cfg(feature = "serde")]
pub(crate) mod json;
pub(crate) mod outcome;
pub(crate) mod value;

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

/// The traits autoref dispatch picks between; generated code imports them
/// all in a block of its own.
pub mod traits {
    pub use super::outcome::{
        DebugErrKind, DisplayErrKind, DynErrKind, OpaqueErrKind, PlainKind, ResultKind, StdErrKind,
    };
    pub use super::value::{DebugKind, NativeKind, OptionKind, SeqKind};
}

/// `Option<Value>` for `$value` (a reference to the value), converted by
/// its type. `$name` is the marker type the error names when the type
/// cannot be recorded: the parameter's, or [`value`](super::__private::value).
///
/// `$value` is evaluated twice: pass a plain reference or a binding.
#[doc(hidden)]
#[macro_export]
macro_rules! __traced_to_value {
    ($name:ty, $value:expr) => {{
        #[allow(unused_imports)]
        use $crate::__private::kind::*;
        (&&$crate::__private::Tag($value))
            .traced_kind()
            .to_value::<$name, _>($value)
    }};
}

/// Records the error `$err` (a reference) on the `ActiveSpan` `$span`,
/// described by what its type implements.
///
/// `$err` is evaluated twice: pass a plain reference or a binding.
#[doc(hidden)]
#[macro_export]
macro_rules! __traced_record_err {
    ($span:expr, $err:expr) => {{
        #[allow(unused_imports)]
        use $crate::__private::kind::*;
        (&&&&$crate::__private::Tag($err))
            .traced_err_kind()
            .record($span, $err)
    }};
    // `err(Debug)`: the message is the error's `Debug` text.
    (debug: $span:expr, $err:expr) => {{
        #[allow(unused_imports)]
        use $crate::__private::kind::*;
        (&&&&$crate::__private::Tag($err))
            .traced_err_kind()
            .record_debug($span, $err)
    }};
}

pub use crate::__traced_record_err as record_err;
pub use crate::__traced_to_value as to_value;
