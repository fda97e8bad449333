//! The value of a semantic-convention key, checked by type.
//!
//! `#[traced(attributes(..))]`, `event!` and `attributes!` know at compile
//! time which registry key a value is for. A literal of the wrong type is
//! reported by the macro itself; any other expression is checked here, by
//! its type: the generated code calls the check for the type the registry
//! gives the key, with a marker type named after the key, so that a
//! `String` for `http.response.status_code` fails to compile, naming both.
//!
//! Keys of type string (and enums, whose values are strings) take any
//! recordable value: whatever is not a string becomes its `Debug` text.
//! References, smart pointers and `Option` (no attribute for `None`) are
//! looked through, as the value conversion does.

use std::borrow::Cow;
use std::rc::Rc;
use std::sync::Arc;

/// Defines a trait a value of `Key`'s registry type implements, with the
/// pointer and `Option` look-through.
macro_rules! registry_type {
    ($(#[$doc:meta])* $name:ident, $message:literal, $label:literal) => {
        $(#[$doc])*
        #[diagnostic::on_unimplemented(
            message = $message,
            label = $label,
            note = "`{Key}` is the key with `_` for `.`; convert the value (with `.parse()`, `as` or `into()`), or record it under a key of your own outside the registry's namespaces"
        )]
        pub trait $name<Key> {}

        impl<K, T: $name<K> + ?Sized> $name<K> for &T {}
        impl<K, T: $name<K> + ?Sized> $name<K> for &mut T {}
        impl<K, T: $name<K> + ?Sized> $name<K> for Box<T> {}
        impl<K, T: $name<K> + ?Sized> $name<K> for Rc<T> {}
        impl<K, T: $name<K> + ?Sized> $name<K> for Arc<T> {}
        impl<K, T: $name<K>> $name<K> for Option<T> {}
    };
}

registry_type!(
    /// A value for an `int` key.
    Int,
    "the semantic-convention key `{Key}` expects an int, but this value is a `{Self}`",
    "expected an int for `{Key}`"
);
registry_type!(
    /// A value for a `double` key.
    Double,
    "the semantic-convention key `{Key}` expects a double, but this value is a `{Self}`",
    "expected a double for `{Key}`"
);
registry_type!(
    /// A value for a `boolean` key.
    Boolean,
    "the semantic-convention key `{Key}` expects a boolean, but this value is a `{Self}`",
    "expected a boolean for `{Key}`"
);
registry_type!(
    /// A value for an `int[]` key.
    Ints,
    "the semantic-convention key `{Key}` expects an array of ints, but this value is a `{Self}`",
    "expected an array of ints for `{Key}`"
);
registry_type!(
    /// A value for a `double[]` key.
    Doubles,
    "the semantic-convention key `{Key}` expects an array of doubles, but this value is a `{Self}`",
    "expected an array of doubles for `{Key}`"
);
registry_type!(
    /// A value for a `boolean[]` key.
    Booleans,
    "the semantic-convention key `{Key}` expects an array of booleans, but this value is a `{Self}`",
    "expected an array of booleans for `{Key}`"
);
registry_type!(
    /// A value for a `string[]` key.
    Strings,
    "the semantic-convention key `{Key}` expects an array of strings, but this value is a `{Self}`",
    "expected an array of strings for `{Key}`"
);

// The checks generated code calls: each compiles only when the value's
// type fits the key `Key`, and does nothing at run time.

/// Checks a value for an `int` key.
#[inline(always)]
pub fn int<Key, T: Int<Key> + ?Sized>(_: &T) {}
/// Checks a value for a `double` key.
#[inline(always)]
pub fn double<Key, T: Double<Key> + ?Sized>(_: &T) {}
/// Checks a value for a `boolean` key.
#[inline(always)]
pub fn boolean<Key, T: Boolean<Key> + ?Sized>(_: &T) {}
/// Checks a value for an `int[]` key.
#[inline(always)]
pub fn ints<Key, T: Ints<Key> + ?Sized>(_: &T) {}
/// Checks a value for a `double[]` key.
#[inline(always)]
pub fn doubles<Key, T: Doubles<Key> + ?Sized>(_: &T) {}
/// Checks a value for a `boolean[]` key.
#[inline(always)]
pub fn booleans<Key, T: Booleans<Key> + ?Sized>(_: &T) {}
/// Checks a value for a `string[]` key.
#[inline(always)]
pub fn strings<Key, T: Strings<Key> + ?Sized>(_: &T) {}

macro_rules! scalars {
    ($trait:ident: $($t:ty),*) => {$(
        impl<K> $trait<K> for $t {}
    )*};
}
scalars!(Int: i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);
scalars!(Double: f32, f64);
scalars!(Boolean: bool);

/// A string, for the elements of `string[]` keys.
pub trait Text {}
impl Text for str {}
impl Text for String {}
impl Text for Cow<'_, str> {}
impl<T: Text + ?Sized> Text for &T {}
impl<T: Text + ?Sized> Text for Arc<T> {}
impl<T: Text + ?Sized> Text for Box<T> {}

/// The arrays of `$element`s: slices, arrays and `Vec`s.
macro_rules! arrays {
    ($trait:ident of $($element:tt)+) => {
        impl<K, T: $($element)+> $trait<K> for [T] {}
        impl<K, T: $($element)+, const N: usize> $trait<K> for [T; N] {}
        impl<K, T: $($element)+> $trait<K> for Vec<T> {}
    };
}
arrays!(Ints of Int<()>);
arrays!(Doubles of Double<()>);
arrays!(Booleans of Boolean<()>);
arrays!(Strings of Text);

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(non_camel_case_types)]
    struct key;

    #[test]
    fn what_fits() {
        int::<key, _>(&200_u16);
        int::<key, _>(&Some(&7_i64));
        double::<key, _>(&Arc::new(0.5_f64));
        boolean::<key, _>(&true);
        strings::<key, _>(&vec!["a".to_owned()]);
        strings::<key, _>(&["a", "b"]);
        ints::<key, _>(&[1_u8, 2][..]);
        doubles::<key, _>(&vec![0.5_f32]);
        booleans::<key, _>(&[true]);
    }
}
