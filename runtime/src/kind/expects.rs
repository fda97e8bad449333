//! The value of a semantic-convention key, checked by type.
//!
//! `#[traced(attributes(..))]`, `event!` and `attributes!` know at compile
//! time which registry key a value is for. A literal of the wrong type is
//! reported by the macro itself; any other expression is checked here, by
//! its type: the generated code calls [`expects`] with the type the registry
//! gives the key and a marker named after the key, so that a `String` for
//! `http.response.status_code` fails to compile, naming both.
//!
//! Keys of type string (and enums, whose values are strings) take any
//! recordable value: whatever is not a string becomes its `Debug` text.
//! References, smart pointers and `Option` (no attribute for `None`) are
//! looked through, as the value conversion does.

#![allow(non_camel_case_types)]

use std::borrow::Cow;
use std::rc::Rc;
use std::sync::Arc;

/// An `int` key.
pub struct an_int;
/// A `double` key.
pub struct a_double;
/// A `boolean` key.
pub struct a_boolean;
/// An `int[]` key.
pub struct an_array_of_ints;
/// A `string[]` key.
pub struct an_array_of_strings;
/// A `double[]` key.
pub struct an_array_of_doubles;
/// A `boolean[]` key.
pub struct an_array_of_booleans;

/// A value of a type the semantic-convention key `Key` can take.
#[diagnostic::on_unimplemented(
    message = "the semantic-convention key `{Key}` expects {Expected}, but this value is a `{Self}`",
    label = "expected {Expected} for `{Key}`",
    note = "`{Key}` is the key with `_` for `.`; convert the value (for example with `.parse()` or `as`), or use a key of your own outside the registry's namespaces"
)]
pub trait Fits<Expected, Key> {}

macro_rules! fits {
    ($expected:ty: $($t:ty),*) => {$(
        impl<K> Fits<$expected, K> for $t {}
    )*};
}
fits!(an_int: i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);
fits!(a_double: f32, f64);
fits!(a_boolean: bool);

/// The element type of an array key.
pub trait Element<Expected> {}
impl<T: Fits<an_int, ()>> Element<an_array_of_ints> for T {}
impl<T: Fits<a_double, ()>> Element<an_array_of_doubles> for T {}
impl<T: Fits<a_boolean, ()>> Element<an_array_of_booleans> for T {}
impl Element<an_array_of_strings> for str {}
impl Element<an_array_of_strings> for String {}
impl Element<an_array_of_strings> for Cow<'_, str> {}
impl<T: Element<an_array_of_strings> + ?Sized> Element<an_array_of_strings> for &T {}
impl<T: Element<an_array_of_strings> + ?Sized> Element<an_array_of_strings> for Arc<T> {}

macro_rules! arrays {
    ($($expected:ty),*) => {$(
        impl<K, T: Element<$expected>> Fits<$expected, K> for [T] {}
        impl<K, T: Element<$expected>, const N: usize> Fits<$expected, K> for [T; N] {}
        impl<K, T: Element<$expected>> Fits<$expected, K> for Vec<T> {}
    )*};
}
arrays!(
    an_array_of_ints,
    an_array_of_strings,
    an_array_of_doubles,
    an_array_of_booleans
);

macro_rules! look_through {
    ($($ptr:ty),*) => {$(
        impl<E, K, T: Fits<E, K> + ?Sized> Fits<E, K> for $ptr {}
    )*};
}
look_through!(&T, &mut T, Box<T>, Rc<T>, Arc<T>);
impl<E, K, T: Fits<E, K>> Fits<E, K> for Option<T> {}

/// Compiles only when `T` fits the key `Key` of registry type `Expected`;
/// does nothing at run time (generated code calls it in a closure that
/// never runs, so the value is not evaluated twice).
#[inline(always)]
pub fn expects<Expected, Key, T: Fits<Expected, Key> + ?Sized>(_value: &T) {}

#[cfg(test)]
mod tests {
    use super::*;

    struct key;

    #[test]
    fn what_fits() {
        expects::<an_int, key, _>(&200_u16);
        expects::<an_int, key, _>(&Some(&7_i64));
        expects::<a_double, key, _>(&Arc::new(0.5_f64));
        expects::<a_boolean, key, _>(&true);
        expects::<an_array_of_strings, key, _>(&vec!["a".to_owned()]);
        expects::<an_array_of_strings, key, _>(&["a", "b"]);
        expects::<an_array_of_ints, key, _>(&[1_u8, 2][..]);
    }
}
