//! Reading spans captured with `traced::testing`.

use opentelemetry::Value;
use opentelemetry::trace::Status;
use traced::testing::SpanData;

/// The value of attribute `key` on `span`.
pub fn attr<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

/// How many times attribute `key` appears on `span`.
pub fn count(span: &SpanData, key: &str) -> usize {
    span.attributes
        .iter()
        .filter(|kv| kv.key.as_str() == key)
        .count()
}

/// The events named `exception` on `span`, each as (key, value) pairs.
pub fn exceptions(span: &SpanData) -> Vec<Vec<(String, Value)>> {
    span.events
        .iter()
        .filter(|e| e.name == "exception")
        .map(|e| {
            e.attributes
                .iter()
                .map(|kv| (kv.key.to_string(), kv.value.clone()))
                .collect()
        })
        .collect()
}

/// The value of `key` in an event's attributes.
pub fn get<'a>(event: &'a [(String, Value)], key: &str) -> Option<&'a Value> {
    event.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

pub fn is_error(span: &SpanData) -> bool {
    matches!(span.status, Status::Error { .. })
}

pub fn description(span: &SpanData) -> String {
    match &span.status {
        Status::Error { description } => description.to_string(),
        _ => String::new(),
    }
}
