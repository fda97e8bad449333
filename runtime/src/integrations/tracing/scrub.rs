//! `tracing` fields scrubbed like `#[traced]` values (#25): a field whose
//! name marks a secret becomes `[REDACTED]`, and a string field (what `%x`
//! and `?x` record) goes through the scrubber, on the span's first
//! attributes, on the attributes recorded later and on its events.

use std::borrow::Cow;
use std::time::SystemTime;

use opentelemetry::global::BoxedSpan;
use opentelemetry::trace::{Span, SpanBuilder, SpanContext, Status};
use opentelemetry::{KeyValue, StringValue, Value};

use crate::redact::{REDACTED, is_secret, scrub_value};

/// One field, scrubbed.
pub(crate) fn attribute(kv: KeyValue) -> KeyValue {
    if is_secret(kv.key.as_str()) {
        return KeyValue::new(kv.key, Value::String(StringValue::from(REDACTED)));
    }
    match &kv.value {
        Value::String(text) => match scrub_value(text.as_str()) {
            Some((clean, _)) => KeyValue::new(kv.key, Value::String(clean.into())),
            None => kv,
        },
        _ => kv,
    }
}

fn attributes(list: Vec<KeyValue>) -> Vec<KeyValue> {
    list.into_iter().map(attribute).collect()
}

/// A span's builder with its fields and events scrubbed.
pub(crate) fn builder(mut builder: SpanBuilder) -> SpanBuilder {
    builder.attributes = builder.attributes.take().map(attributes);
    if let Some(events) = &mut builder.events {
        for event in events {
            event.attributes = attributes(std::mem::take(&mut event.attributes));
        }
    }
    builder
}

/// A started span whose later fields and events are scrubbed as they come.
#[derive(Debug)]
pub(crate) struct ScrubbedSpan(pub(crate) BoxedSpan);

impl Span for ScrubbedSpan {
    fn add_event_with_timestamp<T>(&mut self, name: T, timestamp: SystemTime, list: Vec<KeyValue>)
    where
        T: Into<Cow<'static, str>>,
    {
        self.0
            .add_event_with_timestamp(name, timestamp, attributes(list));
    }

    fn span_context(&self) -> &SpanContext {
        self.0.span_context()
    }

    fn is_recording(&self) -> bool {
        self.0.is_recording()
    }

    fn set_attribute(&mut self, kv: KeyValue) {
        self.0.set_attribute(attribute(kv));
    }

    fn set_status(&mut self, status: Status) {
        self.0.set_status(status);
    }

    fn update_name<T>(&mut self, new_name: T)
    where
        T: Into<Cow<'static, str>>,
    {
        self.0.update_name(new_name);
    }

    fn add_link(&mut self, span_context: SpanContext, list: Vec<KeyValue>) {
        self.0.add_link(span_context, list);
    }

    fn end_with_timestamp(&mut self, timestamp: SystemTime) {
        self.0.end_with_timestamp(timestamp);
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::SpanBuilder;
    use opentelemetry::{KeyValue, Value};

    // Regression for #25: `#[tracing::instrument]` arguments and event
    // fields reached spans unscrubbed.
    #[test]
    fn issue25_fields_are_scrubbed() {
        let built = super::builder(
            SpanBuilder::from_name("login")
                .with_attributes([
                    KeyValue::new("password", "hunter2"),
                    KeyValue::new("dsn", "postgres://app:hunter2@db/prod"),
                    KeyValue::new("form", r#"Form { user: "ann", api_key: "hunter2" }"#),
                    KeyValue::new("user", "ann"),
                    KeyValue::new("attempts", 3_i64),
                ])
                .with_events(vec![opentelemetry::trace::Event::with_name("retry")]),
        );
        let shown = format!("{:?}", built.attributes);
        assert!(!shown.contains("hunter2"), "{shown}");
        let attrs = built.attributes.unwrap();
        assert_eq!(attrs[0].value, Value::from("[REDACTED]"));
        assert_eq!(
            attrs[1].value,
            Value::from("postgres://app:[REDACTED]@db/prod")
        );
        assert_eq!(attrs[3].value, Value::from("ann"));
        assert_eq!(attrs[4].value, Value::I64(3));
        assert_eq!(
            super::attribute(KeyValue::new("message", "login failed: token=hunter2")).value,
            Value::from("login failed: token=[REDACTED]")
        );
    }
}
