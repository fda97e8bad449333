//! Turning Rust values into OpenTelemetry attribute values.
//!
//! The conversion is chosen by the value's type, never by how the type is
//! spelled: generated code calls `(&&Tag(&value)).traced_kind()`, and autoref
//! dispatch picks [`AsNative`] for types that implement [`IntoAttr`] and
//! [`AsDebug`] for every other type. `AsDebug` asks for [`Recordable`], whose
//! diagnostic is what a user sees for a parameter that cannot be recorded.

use std::borrow::Cow;
use std::fmt::{Debug, Write as _};
use std::rc::Rc;
use std::sync::Arc;

use opentelemetry::{Array, StringValue, Value};

use super::Tag;

/// A value with a native OpenTelemetry attribute representation.
///
/// Implemented for integers, floats, `bool`, strings, slices, arrays and
/// `Vec`s of those, `Option<T>` (no attribute for `None`) and references and
/// smart pointers to any of them. Implement it for your own type to record it
/// as something other than its `Debug` string.
pub trait IntoAttr {
    /// The attribute value, or `None` for no attribute at all.
    fn to_attr(&self) -> Option<Value>;
}

/// The element of a homogeneous attribute array.
///
/// Implemented for the scalar types that [`IntoAttr`] records natively.
pub trait ArrayElem: Sized {
    /// Builds the array of a slice of these values.
    fn to_array(items: &[Self]) -> Array;
}

macro_rules! small_int {
    ($($t:ty),*) => {$(
        impl IntoAttr for $t {
            #[inline]
            fn to_attr(&self) -> Option<Value> {
                Some(Value::I64(i64::from(*self)))
            }
        }
        impl ArrayElem for $t {
            fn to_array(items: &[Self]) -> Array {
                Array::I64(items.iter().map(|v| i64::from(*v)).collect())
            }
        }
    )*};
}
small_int!(i8, i16, i32, i64, u16, u32);

impl IntoAttr for u8 {
    #[inline]
    fn to_attr(&self) -> Option<Value> {
        Some(Value::I64(i64::from(*self)))
    }
}

/// Bytes are recorded as their length, `"[42 bytes]"`: never one number per
/// byte (a body or a key would become a huge array nobody can read, and that
/// no scrubber can see into), and never their content, which may be a key.
impl IntoAttr for [u8] {
    fn to_attr(&self) -> Option<Value> {
        Some(Value::String(format!("[{} bytes]", self.len()).into()))
    }
}
impl<const N: usize> IntoAttr for [u8; N] {
    fn to_attr(&self) -> Option<Value> {
        self.as_slice().to_attr()
    }
}
impl IntoAttr for Vec<u8> {
    fn to_attr(&self) -> Option<Value> {
        self.as_slice().to_attr()
    }
}

macro_rules! wide_int {
    ($($t:ty),*) => {$(
        impl IntoAttr for $t {
            #[inline]
            fn to_attr(&self) -> Option<Value> {
                // Values beyond `i64` become strings: an int attribute is
                // signed 64-bit, and wrapping would record a wrong number.
                Some(match i64::try_from(*self) {
                    Ok(v) => Value::I64(v),
                    Err(_) => Value::String(self.to_string().into()),
                })
            }
        }
        impl ArrayElem for $t {
            fn to_array(items: &[Self]) -> Array {
                let ints: Result<Vec<i64>, _> = items.iter().map(|v| i64::try_from(*v)).collect();
                match ints {
                    Ok(ints) => Array::I64(ints),
                    // One value out of range makes the whole array strings,
                    // since attribute arrays are homogeneous.
                    Err(_) => Array::String(items.iter().map(|v| v.to_string().into()).collect()),
                }
            }
        }
    )*};
}
wide_int!(u64, usize, isize, i128, u128);

impl IntoAttr for f64 {
    #[inline]
    fn to_attr(&self) -> Option<Value> {
        Some(Value::F64(*self))
    }
}
impl ArrayElem for f64 {
    fn to_array(items: &[Self]) -> Array {
        Array::F64(items.to_vec())
    }
}
impl IntoAttr for f32 {
    #[inline]
    fn to_attr(&self) -> Option<Value> {
        Some(Value::F64(f64::from(*self)))
    }
}
impl ArrayElem for f32 {
    fn to_array(items: &[Self]) -> Array {
        Array::F64(items.iter().map(|v| f64::from(*v)).collect())
    }
}
impl IntoAttr for bool {
    #[inline]
    fn to_attr(&self) -> Option<Value> {
        Some(Value::Bool(*self))
    }
}
impl ArrayElem for bool {
    fn to_array(items: &[Self]) -> Array {
        Array::Bool(items.to_vec())
    }
}

impl IntoAttr for str {
    #[inline]
    fn to_attr(&self) -> Option<Value> {
        Some(Value::String(StringValue::from(self.to_owned())))
    }
}
impl IntoAttr for String {
    #[inline]
    fn to_attr(&self) -> Option<Value> {
        self.as_str().to_attr()
    }
}
impl IntoAttr for Cow<'_, str> {
    #[inline]
    fn to_attr(&self) -> Option<Value> {
        (**self).to_attr()
    }
}
impl IntoAttr for char {
    fn to_attr(&self) -> Option<Value> {
        Some(Value::String(self.to_string().into()))
    }
}

fn strings<'a>(items: impl Iterator<Item = &'a str>) -> Array {
    Array::String(items.map(|s| StringValue::from(s.to_owned())).collect())
}
impl ArrayElem for &str {
    fn to_array(items: &[Self]) -> Array {
        strings(items.iter().copied())
    }
}
impl ArrayElem for String {
    fn to_array(items: &[Self]) -> Array {
        strings(items.iter().map(String::as_str))
    }
}
impl ArrayElem for Cow<'_, str> {
    fn to_array(items: &[Self]) -> Array {
        strings(items.iter().map(|s| &**s))
    }
}

/// How many items of a slice, `Vec` or array are recorded (#25): a big
/// collection passed to an instrumented function would otherwise make one
/// span too big for the collector to take (it rejects the whole request).
/// Typed arrays keep their first items; a list recorded through `Debug`
/// says how many more there were.
pub const MAX_ARRAY_ITEMS: usize = 1024;

impl<T: ArrayElem> IntoAttr for [T] {
    fn to_attr(&self) -> Option<Value> {
        Some(Value::Array(T::to_array(
            &self[..self.len().min(MAX_ARRAY_ITEMS)],
        )))
    }
}
impl<T: ArrayElem, const N: usize> IntoAttr for [T; N] {
    fn to_attr(&self) -> Option<Value> {
        self.as_slice().to_attr()
    }
}
impl<T: ArrayElem> IntoAttr for Vec<T> {
    fn to_attr(&self) -> Option<Value> {
        self.as_slice().to_attr()
    }
}

impl<T: IntoAttr> IntoAttr for Option<T> {
    #[inline]
    fn to_attr(&self) -> Option<Value> {
        self.as_ref().and_then(T::to_attr)
    }
}

macro_rules! pointer {
    ($($ptr:ty),*) => {$(
        impl<T: IntoAttr + ?Sized> IntoAttr for $ptr {
            #[inline]
            fn to_attr(&self) -> Option<Value> {
                (**self).to_attr()
            }
        }
    )*};
}
pointer!(&T, &mut T, Box<T>, Rc<T>, Arc<T>);

/// A value `#[traced]` can record: anything that implements `Debug`.
///
/// Types with a native attribute representation ([`IntoAttr`]) are recorded
/// natively; every other `Debug` type is recorded as its `Debug` string.
/// `Name` is a marker type named after the parameter, so that the error for
/// a type that cannot be recorded names the parameter.
#[diagnostic::on_unimplemented(
    message = "`#[traced]` cannot record `{Name}` as a span attribute: its type `{Self}` implements neither `Debug` nor `traced::IntoAttr`",
    label = "`{Name}` cannot be recorded",
    note = "derive or implement `Debug` for `{Self}` (or implement `traced::IntoAttr` for it), or leave `{Name}` out with `#[traced(skip({Name}))]`"
)]
pub trait Recordable<Name = value> {
    /// The value's `Debug` string.
    fn debug_string(&self) -> String;
}
impl<T: Debug + ?Sized, Name> Recordable<Name> for T {
    fn debug_string(&self) -> String {
        debug_string(self)
    }
}

/// The name errors give a value that is not a parameter (an `attributes(..)`
/// expression, a returned value, an `event!` attribute).
#[doc(hidden)]
#[allow(non_camel_case_types)]
pub struct value {}

impl value {
    /// A parameter's value as `#[traced]` records it, once the run-time
    /// lists had their say: `TRACED_SCRUB_EXTRA` can make a parameter the
    /// macro records a secret (`[REDACTED]`). A parameter the macro redacted
    /// is never formatted at all, so `TRACED_SCRUB_ALLOW` cannot reveal it;
    /// rename it or record it with `attributes(..)` instead.
    #[inline]
    pub fn param(key: &'static str, recorded: Option<Value>) -> Option<Value> {
        match crate::redact::run_time_override(key) {
            Some(true) => {
                recorded.map(|_| Value::String(StringValue::from(crate::redact::REDACTED)))
            }
            _ => recorded,
        }
    }
}

/// Chosen for values that implement [`IntoAttr`].
#[derive(Clone, Copy)]
pub struct AsNative;
/// Chosen for an `Option` of a value that is not [`IntoAttr`]: the inner
/// value's `Debug` string, or no attribute for `None`.
#[derive(Clone, Copy)]
pub struct AsOptionDebug;
/// Chosen for a sequence (`Vec`, slice, array) of values that are not
/// [`IntoAttr`]: the items' `Debug` strings as a list, so that an item type
/// without `Debug` is named in the error, with the `skip(..)` hint.
#[derive(Clone, Copy)]
pub struct AsSeqDebug;
/// Chosen for every other value; requires [`Recordable`].
#[derive(Clone, Copy)]
pub struct AsDebug;

/// Dispatch level 1, the highest priority: the value converts natively.
pub trait NativeKind {
    /// Picks the native conversion.
    fn traced_kind(self) -> AsNative;
}
impl<T: IntoAttr + ?Sized> NativeKind for &&Tag<'_, T> {
    #[inline]
    fn traced_kind(self) -> AsNative {
        AsNative
    }
}

/// Dispatch level 2: an `Option` (or a reference to one) whose inner value
/// is recorded through `Debug`.
pub trait OptionKind {
    /// Picks the inner value's `Debug` conversion.
    fn traced_kind(self) -> AsOptionDebug;
}
impl<O: DebugOption + ?Sized> OptionKind for &Tag<'_, O> {
    #[inline]
    fn traced_kind(self) -> AsOptionDebug {
        AsOptionDebug
    }
}

/// Dispatch level 2, beside [`OptionKind`] (no type is both): a sequence
/// whose items are recorded through `Debug`.
pub trait SeqKind {
    /// Picks the items' `Debug` conversion.
    fn traced_kind(self) -> AsSeqDebug;
}
impl<S: DebugSeq + ?Sized> SeqKind for &Tag<'_, S> {
    #[inline]
    fn traced_kind(self) -> AsSeqDebug {
        AsSeqDebug
    }
}

/// A sequence, seen through references: what [`AsSeqDebug`] records is its
/// items, so that the error for an item type without `Debug` names it.
pub trait DebugSeq {
    /// The type of the items.
    type Item;
    /// The items.
    fn items(&self) -> &[Self::Item];
}
impl<T> DebugSeq for Vec<T> {
    type Item = T;
    #[inline]
    fn items(&self) -> &[T] {
        self
    }
}
impl<T> DebugSeq for [T] {
    type Item = T;
    #[inline]
    fn items(&self) -> &[T] {
        self
    }
}
impl<T, const N: usize> DebugSeq for [T; N] {
    type Item = T;
    #[inline]
    fn items(&self) -> &[T] {
        self
    }
}
impl<S: DebugSeq + ?Sized> DebugSeq for &S {
    type Item = S::Item;
    #[inline]
    fn items(&self) -> &[S::Item] {
        (**self).items()
    }
}
impl<S: DebugSeq + ?Sized> DebugSeq for &mut S {
    type Item = S::Item;
    #[inline]
    fn items(&self) -> &[S::Item] {
        (**self).items()
    }
}

/// Dispatch level 3, the fallback: the value is recorded as its `Debug`
/// string.
pub trait DebugKind {
    /// Picks the `Debug` conversion.
    fn traced_kind(self) -> AsDebug;
}
impl<T: ?Sized> DebugKind for Tag<'_, T> {
    #[inline]
    fn traced_kind(self) -> AsDebug {
        AsDebug
    }
}

/// An `Option`, seen through references: what [`AsOptionDebug`] records is
/// the inner value, so that `Some(x)` and `x` record alike.
pub trait DebugOption {
    /// The type inside the `Option`.
    type Inner: ?Sized;
    /// The inner value; `None` for no attribute.
    fn inner(&self) -> Option<&Self::Inner>;
}
impl<T> DebugOption for Option<T> {
    type Inner = T;
    #[inline]
    fn inner(&self) -> Option<&T> {
        self.as_ref()
    }
}
impl<O: DebugOption + ?Sized> DebugOption for &O {
    type Inner = O::Inner;
    #[inline]
    fn inner(&self) -> Option<&O::Inner> {
        (**self).inner()
    }
}
impl<O: DebugOption + ?Sized> DebugOption for &mut O {
    type Inner = O::Inner;
    #[inline]
    fn inner(&self) -> Option<&O::Inner> {
        (**self).inner()
    }
}

// `Name` is unused by the native conversion, but generated code names it
// for every kind: the call is the same whichever one autoref dispatch picks.
impl AsNative {
    /// Converts a natively representable value.
    #[inline]
    #[allow(clippy::extra_unused_type_parameters)]
    pub fn to_value<Name, T: IntoAttr + ?Sized>(self, value: &T) -> Option<Value> {
        value.to_attr().map(scrub_strings)
    }
}

impl AsOptionDebug {
    /// Converts the inner value through its `Debug` string; `None` records
    /// nothing.
    #[inline]
    pub fn to_value<Name, O>(self, value: &O) -> Option<Value>
    where
        O: DebugOption + ?Sized,
        O::Inner: Recordable<Name>,
    {
        value.inner().map(|inner| {
            Value::String(
                crate::redact::debug_value(Recordable::<Name>::debug_string(inner)).into(),
            )
        })
    }
}

impl AsSeqDebug {
    /// Converts the items through their `Debug` strings, as `Debug` lists
    /// them (`[a, b]`).
    #[inline]
    pub fn to_value<Name, S>(self, value: &S) -> Option<Value>
    where
        S: DebugSeq + ?Sized,
        S::Item: Recordable<Name>,
    {
        let items = value.items();
        let mut out = String::from("[");
        for (i, item) in items.iter().take(MAX_ARRAY_ITEMS).enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(&Recordable::<Name>::debug_string(item));
        }
        if items.len() > MAX_ARRAY_ITEMS {
            out.push_str(&format!(", … {} more", items.len() - MAX_ARRAY_ITEMS));
        }
        out.push(']');
        Some(Value::String(crate::redact::debug_value(out).into()))
    }
}

impl AsDebug {
    /// Converts any other value through its `Debug` string.
    #[inline]
    pub fn to_value<Name, T: Recordable<Name> + ?Sized>(self, value: &T) -> Option<Value> {
        Some(Value::String(
            crate::redact::debug_value(Recordable::<Name>::debug_string(value)).into(),
        ))
    }
}

/// A native value with the secrets in its strings replaced (a URL's
/// password, `token=..`), the paths waiting for the attribute to claim them.
/// Numbers and booleans pass untouched.
fn scrub_strings(value: Value) -> Value {
    match value {
        Value::String(text) => match crate::redact::scrub_text(text.as_str()) {
            None => Value::String(text),
            Some((clean, paths)) => {
                crate::redact::pending(paths);
                Value::String(clean.into())
            }
        },
        Value::Array(Array::String(items)) => {
            let mut paths = Vec::new();
            let items = items
                .into_iter()
                .enumerate()
                .map(
                    |(index, item)| match crate::redact::scrub_text(item.as_str()) {
                        None => item,
                        Some((clean, found)) => {
                            paths.extend(found.into_iter().map(|p| format!("[{index}].{p}")));
                            clean.into()
                        }
                    },
                )
                .collect();
            crate::redact::pending(paths);
            Value::Array(Array::String(items))
        }
        other => other,
    }
}

pub(crate) fn debug_string(value: &(impl Debug + ?Sized)) -> String {
    let mut out = String::new();
    // Writing into a `String` only fails if the `Debug` impl itself reports
    // an error; what it wrote so far is still the best description we have.
    let _ = write!(out, "{value:?}");
    out
}

/// A value as `traced` shows it to people (the console, test trees):
/// strings quoted, so that `1` is an int and `"1"` a string.
#[cfg(any(feature = "console", feature = "testing"))]
pub(crate) fn show(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{:?}", s.as_str()),
        Value::Array(Array::String(items)) => {
            let items: Vec<String> = items.iter().map(|s| format!("{:?}", s.as_str())).collect();
            format!("[{}]", items.join(", "))
        }
        other => other.to_string(),
    }
}
