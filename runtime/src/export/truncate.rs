//! `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`: the SDK reads no value-length limit,
//! so a processor in front of the exporter's truncates string values.

use std::time::Duration;

use opentelemetry::{Array, KeyValue, StringValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};

/// Truncates string attribute values (and the strings in string arrays) of
/// spans, events and links to `limit` characters, then hands the span on.
#[derive(Debug)]
pub(crate) struct TruncateValues<P> {
    inner: P,
    limit: usize,
}

impl<P> TruncateValues<P> {
    pub(crate) fn new(inner: P, limit: usize) -> Self {
        TruncateValues { inner, limit }
    }
}

fn truncate_str(s: &StringValue, limit: usize) -> Option<StringValue> {
    let text = s.as_str();
    let cut = text.char_indices().nth(limit)?.0;
    Some(StringValue::from(text[..cut].to_owned()))
}

pub(crate) fn truncate_all(attributes: &mut [KeyValue], limit: usize) {
    for kv in attributes {
        match &mut kv.value {
            Value::String(s) => {
                if let Some(short) = truncate_str(s, limit) {
                    *s = short;
                }
            }
            Value::Array(Array::String(items)) => {
                for item in items {
                    if let Some(short) = truncate_str(item, limit) {
                        *item = short;
                    }
                }
            }
            _ => {}
        }
    }
}

impl<P: SpanProcessor> SpanProcessor for TruncateValues<P> {
    fn on_start(&self, span: &mut Span, cx: &opentelemetry::Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, mut span: SpanData) {
        truncate_all(&mut span.attributes, self.limit);
        for event in &mut span.events.events {
            truncate_all(&mut event.attributes, self.limit);
        }
        for link in &mut span.links.links {
            truncate_all(&mut link.attributes, self.limit);
        }
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_strings_by_characters() {
        let mut attrs = vec![
            KeyValue::new("a", "héllo wörld"),
            KeyValue::new("b", "ok"),
            KeyValue::new("n", 123_456_789_i64),
            KeyValue::new(
                "arr",
                Value::Array(Array::String(vec!["abcdef".into(), "x".into()])),
            ),
        ];
        truncate_all(&mut attrs, 4);
        assert_eq!(attrs[0].value, Value::String("héll".into()));
        assert_eq!(attrs[1].value, Value::String("ok".into()));
        assert_eq!(attrs[2].value, Value::I64(123_456_789));
        assert_eq!(
            attrs[3].value,
            Value::Array(Array::String(vec!["abcd".into(), "x".into()]))
        );
    }
}
