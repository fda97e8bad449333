//! Recording a starting span's attributes: the arguments `#[traced]`
//! records, with secrets redacted and scrubbed paths named, set on the span
//! before it becomes current.

use opentelemetry::{Key, KeyValue, StringValue, Value};

/// The value recorded for a parameter whose name marks a secret.
pub const REDACTED: &str = "[REDACTED]";

/// Sets the attributes of a span that records, before it becomes current.
pub struct Recorder<'a> {
    span: &'a mut dyn SetAttribute,
    /// Paths scrubbed from the values recorded so far.
    scrubbed: Vec<StringValue>,
}

/// A span of any backend, as the recorder sets its attributes: one
/// recorder type for all of them, so that the closure `#[traced]`
/// generates is compiled once.
pub(super) trait SetAttribute {
    fn set(&mut self, attribute: KeyValue);
}

impl<S: opentelemetry::trace::Span> SetAttribute for S {
    #[inline]
    fn set(&mut self, attribute: KeyValue) {
        self.set_attribute(attribute);
    }
}

impl<'a> Recorder<'a> {
    pub(super) fn new(span: &'a mut dyn SetAttribute) -> Self {
        Recorder {
            span,
            scrubbed: Vec::new(),
        }
    }

    /// Records one attribute; `None` records nothing.
    #[inline]
    pub fn attr(&mut self, key: &'static str, value: Option<Value>) {
        if let Some(value) = value {
            crate::redact::claim(key, &mut self.scrubbed);
            self.set(KeyValue::new(Key::from_static_str(key), value));
        }
    }

    fn set(&mut self, attribute: KeyValue) {
        self.span.set(attribute);
    }

    /// Says which paths were scrubbed, once every attribute is set.
    #[inline]
    pub(super) fn finish(mut self) {
        if !self.scrubbed.is_empty() {
            let paths = std::mem::take(&mut self.scrubbed);
            if let Some(attribute) = crate::redact::scrubbed_attribute(paths) {
                self.set(attribute);
            }
        }
    }

    /// Records a parameter whose name marks a secret.
    #[inline]
    pub fn redacted(&mut self, key: &'static str) {
        self.attr(key, Some(Value::String(StringValue::from(REDACTED))));
    }
}
