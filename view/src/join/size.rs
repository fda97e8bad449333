//! What a span or a log record takes in memory, estimated: its structs and
//! the text they own. Allocator overhead and shared scope names are left
//! out; the estimate is for the byte budget, not for accounting.

use std::mem::size_of;
use std::sync::Arc;

use opentelemetry::{Array, KeyValue, Value};

use super::{Log, Span};

/// The `Arc`, the trace's id set entry and the `Vec` slot that hold one
/// span or record.
const HOLDING: usize = 2 * size_of::<usize>() + 16 + size_of::<Arc<Span>>();

pub(super) fn span(span: &Span) -> usize {
    let data = &span.data;
    HOLDING
        + size_of::<Span>()
        + data.name.len()
        + attributes(&data.attributes)
        + data
            .events
            .iter()
            .map(|e| size_of_val(e) + e.name.len() + attributes(&e.attributes))
            .sum::<usize>()
        + data
            .links
            .iter()
            .map(|l| size_of_val(l) + attributes(&l.attributes))
            .sum::<usize>()
        + match &data.status {
            opentelemetry::trace::Status::Error { description } => description.len(),
            _ => 0,
        }
}

pub(super) fn log(log: &Log) -> usize {
    HOLDING + size_of::<Log>() + log.severity.len() + log.body.len() + attributes(&log.attributes)
}

fn attributes(attributes: &[KeyValue]) -> usize {
    attributes
        .iter()
        .map(|kv| size_of::<KeyValue>() + kv.key.as_str().len() + value(&kv.value))
        .sum()
}

fn value(value: &Value) -> usize {
    match value {
        Value::String(s) => s.as_str().len(),
        Value::Array(Array::String(v)) => v.iter().map(|s| size_of_val(s) + s.as_str().len()).sum(),
        Value::Array(Array::I64(v)) => size_of_val(v.as_slice()),
        Value::Array(Array::F64(v)) => size_of_val(v.as_slice()),
        Value::Array(Array::Bool(v)) => size_of_val(v.as_slice()),
        _ => 0,
    }
}
