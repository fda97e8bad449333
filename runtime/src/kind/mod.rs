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
//! (&Tag(&value)).traced_kind()          // value conversion, depth 1
//!     Tag<T>: NativeKind   when T: IntoAttr   -> AsNative (native attribute)
//!     &Tag<T>: DebugKind   for every T        -> AsDebug  (its `Debug` string)
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
//! Method resolution tries the receiver as written, then with one more
//! auto-reference, and so on, taking the first trait whose impl applies: the
//! impl on the most references is the most specific, so it must be listed
//! on the deepest receiver. `Tag` is ours, which keeps the blanket impls
//! that `std` has for `&T` out of the candidates. Each trait returns a zero
//! sized marker whose own method then does the work with exactly the bound
//! it needs, so only one set of bounds is ever checked against the type.
//!
//! The depth written in the call is part of the contract between this
//! module and the code `#[traced]`, `event!` and `attributes!` generate.

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
    pub use super::value::{DebugKind, NativeKind};
}
