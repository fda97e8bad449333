//! Values recorded as text chosen by the user rather than by their type:
//! `fields(a = %x, b = ?y)` and `ret(Display)` / `ret(Debug)`, with
//! `tracing`'s meaning of `%` and `?`.

use std::fmt::{Debug, Display};

use opentelemetry::Value;

/// `%value`: its `Display` text.
#[inline]
pub fn display<T: Display + ?Sized>(value: &T) -> Option<Value> {
    Some(Value::String(value.to_string().into()))
}

/// `?value`: its `Debug` text, scrubbed of secrets like every `Debug`
/// string `traced` records.
#[inline]
pub fn debug<T: Debug + ?Sized>(value: &T) -> Option<Value> {
    Some(Value::String(
        crate::redact::debug_value(super::value::debug_string(value)).into(),
    ))
}

#[cfg(test)]
mod tests {
    use opentelemetry::Value;

    #[test]
    fn display_and_debug() {
        assert_eq!(super::display("a b"), Some(Value::String("a b".into())));
        assert_eq!(super::debug("a b"), Some(Value::String("\"a b\"".into())));
    }
}
