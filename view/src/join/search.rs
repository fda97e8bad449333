//! What the web page lists about a trace, and the search over traces.

use std::time::SystemTime;

use opentelemetry::trace::{SpanId, Status};
use serde::Serialize;

use super::Held;

/// One line of the trace list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Summary {
    pub(crate) trace_id: String,
    /// The root's service, or the earliest span's when the root is missing.
    pub(crate) service: String,
    /// Every service in the trace, in order of first start.
    pub(crate) services: Vec<String>,
    pub(crate) root: String,
    pub(crate) has_root: bool,
    pub(crate) spans: usize,
    /// Log records of the trace.
    pub(crate) logs: usize,
    pub(crate) errors: usize,
    pub(crate) start_unix_ns: u128,
    pub(crate) duration_ns: u128,
}

pub(crate) fn unix_ns(t: SystemTime) -> u128 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos()
}

/// The list line of `trace`.
pub(crate) fn summary(trace: &Held) -> Summary {
    let mut by_start: Vec<&super::Span> = trace.spans.iter().map(|s| &**s).collect();
    by_start.sort_by_key(|s| s.data.start_time);
    let root = by_start
        .iter()
        .find(|s| s.data.parent_span_id == SpanId::INVALID)
        .or(by_start.first());
    let mut services: Vec<String> = Vec::new();
    for span in &by_start {
        if !services.iter().any(|s| **s == *span.service) {
            services.push(span.service.to_string());
        }
    }
    let start = by_start.first().map(|s| s.data.start_time);
    let end = trace.spans.iter().map(|s| s.data.end_time).max();
    Summary {
        trace_id: trace.id.to_string(),
        service: root.map(|s| s.service.to_string()).unwrap_or_default(),
        services,
        root: root.map(|s| s.data.name.to_string()).unwrap_or_default(),
        has_root: trace.has_root(),
        spans: trace.spans.len(),
        logs: trace.logs.len(),
        errors: trace
            .spans
            .iter()
            .filter(|s| matches!(s.data.status, Status::Error { .. }))
            .count(),
        start_unix_ns: start.map_or(0, unix_ns),
        duration_ns: match (start, end) {
            (Some(start), Some(end)) => end.duration_since(start).unwrap_or_default().as_nanos(),
            _ => 0,
        },
    }
}

/// Whether `trace` matches every word of `query` (case-insensitive): a
/// word matches the start of the trace id, part of a service or span name,
/// of an attribute value or of a log record's text, and `key=value` matches
/// an attribute `key` (of a span or a record) whose value contains `value`.
pub(crate) fn matches(trace: &Held, query: &str) -> bool {
    query.split_whitespace().all(|word| {
        let word = word.to_lowercase();
        if trace.id.to_string().starts_with(&word) {
            return true;
        }
        let contains = |text: &str| text.to_lowercase().contains(&word);
        let (key, value) = match word.split_once('=') {
            Some((key, value)) => (Some(key), value),
            None => (None, word.as_str()),
        };
        let attribute = |kv: &opentelemetry::KeyValue| {
            key.is_none_or(|k| kv.key.as_str().eq_ignore_ascii_case(k))
                && kv.value.as_str().to_lowercase().contains(value)
        };
        trace.spans.iter().any(|span| {
            if key.is_none() && (contains(&span.service) || contains(&span.data.name)) {
                return true;
            }
            span.data.attributes.iter().any(attribute)
        }) || trace.logs.iter().any(|log| {
            (key.is_none() && contains(&log.body)) || log.attributes.iter().any(attribute)
        })
    })
}
