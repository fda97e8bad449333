//! OTLP wire types into the spans the joiner holds.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{Array, InstrumentationScope, KeyValue, StringValue, Value};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue as WireKeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{Span as WireSpan, span, status};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};

use crate::join::Span;

/// `service.name` when a resource has none.
pub(crate) const UNKNOWN_SERVICE: &str = "unknown_service";
/// `SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK`: the sender says whether the
/// parent is remote.
const HAS_IS_REMOTE: u32 = 0x100;
/// `SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK`: the parent is in another process.
const IS_REMOTE: u32 = 0x200;
/// Nesting of arrays and maps followed before the rest is cut.
const VALUE_DEPTH_MAX: usize = 8;

/// What one export request held: the spans that could be read, and how
/// many could not (with the first reason) for a partial-success answer.
#[derive(Debug, Default)]
pub(crate) struct Decoded {
    pub(crate) spans: Vec<Span>,
    pub(crate) rejected: i64,
    pub(crate) error: Option<String>,
}

/// Reads every span of `request`. A span with an invalid trace or span id
/// is rejected (counted, not joined); nothing here panics on any input.
pub(crate) fn decode(request: ExportTraceServiceRequest) -> Decoded {
    let mut out = Decoded::default();
    for resource_spans in request.resource_spans {
        let service = service(resource_spans.resource);
        for scope_spans in resource_spans.scope_spans {
            let scope = scope_spans.scope.unwrap_or_default();
            let mut builder = InstrumentationScope::builder(scope.name);
            if !scope.version.is_empty() {
                builder = builder.with_version(scope.version);
            }
            let scope = builder.build();
            for wire in scope_spans.spans {
                match span(wire, &scope) {
                    Ok(data) => out.spans.push(Span {
                        data,
                        service: service.clone(),
                    }),
                    Err(why) => {
                        out.rejected += 1;
                        out.error.get_or_insert(why);
                    }
                }
            }
        }
    }
    out
}

/// The `service.name` of `resource`.
pub(super) fn service(resource: Option<Resource>) -> Arc<str> {
    resource
        .unwrap_or_default()
        .attributes
        .iter()
        .find(|kv| kv.key == "service.name")
        .and_then(|kv| match &kv.value.as_ref()?.value {
            Some(any_value::Value::StringValue(s)) if !s.is_empty() => Some(s.as_str()),
            _ => None,
        })
        .unwrap_or(UNKNOWN_SERVICE)
        .into()
}

pub(super) fn trace_id(bytes: &[u8]) -> Option<TraceId> {
    let bytes: [u8; 16] = bytes.try_into().ok()?;
    Some(TraceId::from_bytes(bytes)).filter(|id| *id != TraceId::INVALID)
}

pub(super) fn span_id(bytes: &[u8]) -> Option<SpanId> {
    let bytes: [u8; 8] = bytes.try_into().ok()?;
    Some(SpanId::from_bytes(bytes)).filter(|id| *id != SpanId::INVALID)
}

pub(super) fn time(unix_nano: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_nanos(unix_nano)
}

fn span(wire: WireSpan, scope: &InstrumentationScope) -> Result<SpanData, String> {
    let trace = trace_id(&wire.trace_id).ok_or_else(|| {
        format!(
            "span {:?} has an invalid trace id ({} bytes); it must be 16 bytes, not all zero",
            wire.name,
            wire.trace_id.len()
        )
    })?;
    let id = span_id(&wire.span_id).ok_or_else(|| {
        format!(
            "span {:?} has an invalid span id ({} bytes); it must be 8 bytes, not all zero",
            wire.name,
            wire.span_id.len()
        )
    })?;
    let parent = if wire.parent_span_id.is_empty() {
        SpanId::INVALID
    } else {
        span_id(&wire.parent_span_id).ok_or_else(|| {
            format!(
                "span {:?} has an invalid parent span id ({} bytes); it must be 8 bytes or empty",
                wire.name,
                wire.parent_span_id.len()
            )
        })?
    };
    let trace_state = TraceState::from_key_value(
        wire.trace_state
            .split(',')
            .filter_map(|member| member.trim().split_once('=')),
    )
    .unwrap_or_default();
    let context = SpanContext::new(
        trace,
        id,
        TraceFlags::SAMPLED,
        wire.flags & HAS_IS_REMOTE != 0,
        trace_state,
    );
    let kind = match span::SpanKind::try_from(wire.kind) {
        Ok(span::SpanKind::Server) => SpanKind::Server,
        Ok(span::SpanKind::Client) => SpanKind::Client,
        Ok(span::SpanKind::Producer) => SpanKind::Producer,
        Ok(span::SpanKind::Consumer) => SpanKind::Consumer,
        _ => SpanKind::Internal,
    };
    let status = match wire.status {
        Some(s) if s.code == status::StatusCode::Error as i32 => Status::Error {
            description: Cow::Owned(s.message),
        },
        Some(s) if s.code == status::StatusCode::Ok as i32 => Status::Ok,
        _ => Status::Unset,
    };
    let mut events = SpanEvents::default();
    events.dropped_count = wire.dropped_events_count;
    events.events = wire
        .events
        .into_iter()
        .map(|e| {
            opentelemetry::trace::Event::new(
                e.name,
                time(e.time_unix_nano),
                attributes(e.attributes),
                e.dropped_attributes_count,
            )
        })
        .collect();
    let mut links = SpanLinks::default();
    links.dropped_count = wire.dropped_links_count;
    links.links = wire
        .links
        .into_iter()
        .filter_map(|l| {
            let cx = SpanContext::new(
                trace_id(&l.trace_id)?,
                span_id(&l.span_id)?,
                TraceFlags::SAMPLED,
                true,
                TraceState::default(),
            );
            Some(opentelemetry::trace::Link::new(
                cx,
                attributes(l.attributes),
                l.dropped_attributes_count,
            ))
        })
        .collect();
    let start = time(wire.start_time_unix_nano);
    Ok(SpanData {
        span_context: context,
        parent_span_id: parent,
        // Without the flag, a parent is taken as remote only when the
        // joiner sees it in another service.
        parent_span_is_remote: wire.flags & HAS_IS_REMOTE != 0 && wire.flags & IS_REMOTE != 0,
        span_kind: kind,
        name: Cow::Owned(wire.name),
        start_time: start,
        end_time: time(wire.end_time_unix_nano).max(start),
        attributes: attributes(wire.attributes),
        dropped_attributes_count: wire.dropped_attributes_count,
        events,
        links,
        status,
        instrumentation_scope: scope.clone(),
    })
}

pub(super) fn attributes(wire: Vec<WireKeyValue>) -> Vec<KeyValue> {
    wire.into_iter()
        .map(|kv| KeyValue::new(kv.key, value(kv.value, 0)))
        .collect()
}

/// An OTLP value as an OpenTelemetry one. Maps, bytes and mixed arrays
/// have no counterpart there: they are kept as text.
pub(super) fn value(any: Option<AnyValue>, depth: usize) -> Value {
    match any.and_then(|a| a.value) {
        None => Value::String(StringValue::from("")),
        Some(any_value::Value::StringValue(s)) => Value::String(s.into()),
        Some(any_value::Value::BoolValue(b)) => Value::Bool(b),
        Some(any_value::Value::IntValue(i)) => Value::I64(i),
        Some(any_value::Value::DoubleValue(d)) => Value::F64(d),
        Some(any_value::Value::ArrayValue(array)) => {
            let values = array.values;
            use any_value::Value as V;
            let all = |f: fn(&V) -> bool| values.iter().all(|v| v.value.as_ref().is_some_and(f));
            if values.is_empty() {
                Value::Array(Array::String(Vec::new()))
            } else if all(|v| matches!(v, V::StringValue(_))) {
                Value::Array(Array::String(
                    values
                        .into_iter()
                        .filter_map(|v| match v.value {
                            Some(V::StringValue(s)) => Some(s.into()),
                            _ => None,
                        })
                        .collect(),
                ))
            } else if all(|v| matches!(v, V::BoolValue(_))) {
                Value::Array(Array::Bool(
                    values
                        .into_iter()
                        .filter_map(|v| match v.value {
                            Some(V::BoolValue(b)) => Some(b),
                            _ => None,
                        })
                        .collect(),
                ))
            } else if all(|v| matches!(v, V::IntValue(_))) {
                Value::Array(Array::I64(
                    values
                        .into_iter()
                        .filter_map(|v| match v.value {
                            Some(V::IntValue(i)) => Some(i),
                            _ => None,
                        })
                        .collect(),
                ))
            } else if all(|v| matches!(v, V::DoubleValue(_))) {
                Value::Array(Array::F64(
                    values
                        .into_iter()
                        .filter_map(|v| match v.value {
                            Some(V::DoubleValue(d)) => Some(d),
                            _ => None,
                        })
                        .collect(),
                ))
            } else {
                let mut text = String::new();
                show(
                    &Some(V::ArrayValue(
                        opentelemetry_proto::tonic::common::v1::ArrayValue { values },
                    )),
                    depth,
                    &mut text,
                );
                Value::String(text.into())
            }
        }
        Some(other) => {
            let mut text = String::new();
            show(&Some(other), depth, &mut text);
            Value::String(text.into())
        }
    }
}

/// A JSON-like rendering of maps, bytes and mixed arrays.
fn show(value: &Option<any_value::Value>, depth: usize, out: &mut String) {
    use any_value::Value as V;
    use std::fmt::Write as _;
    if depth > VALUE_DEPTH_MAX {
        out.push('…');
        return;
    }
    match value {
        None => out.push_str("null"),
        Some(V::StringValue(s)) => {
            let _ = write!(out, "{s:?}");
        }
        Some(V::BoolValue(b)) => {
            let _ = write!(out, "{b}");
        }
        Some(V::IntValue(i)) => {
            let _ = write!(out, "{i}");
        }
        Some(V::DoubleValue(d)) => {
            let _ = write!(out, "{d}");
        }
        // An index into a profile's string table: meaningless without it.
        Some(V::StringValueStrindex(i)) => {
            let _ = write!(out, "#{i}");
        }
        Some(V::BytesValue(bytes)) => {
            out.push_str("0x");
            for b in bytes {
                let _ = write!(out, "{b:02x}");
            }
        }
        Some(V::ArrayValue(array)) => {
            out.push('[');
            for (i, v) in array.values.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                show(&v.value, depth + 1, out);
            }
            out.push(']');
        }
        Some(V::KvlistValue(list)) => {
            out.push('{');
            for (i, kv) in list.values.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let _ = write!(out, "{:?}: ", kv.key);
                show(
                    &kv.value.as_ref().and_then(|v| v.value.clone()),
                    depth + 1,
                    out,
                );
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};

    fn request(spans: Vec<WireSpan>) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![WireKeyValue {
                        key: "service.name".into(),
                        value: Some(AnyValue {
                            value: Some(any_value::Value::StringValue("app".into())),
                        }),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    spans,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    #[test]
    fn bad_ids_are_rejected_and_counted() {
        let good = WireSpan {
            trace_id: vec![1; 16],
            span_id: vec![2; 8],
            parent_span_id: vec![3; 8],
            flags: HAS_IS_REMOTE | IS_REMOTE,
            name: "ok".into(),
            ..Default::default()
        };
        let short = WireSpan {
            trace_id: vec![1; 3],
            span_id: vec![2; 8],
            ..Default::default()
        };
        let zero = WireSpan {
            trace_id: vec![1; 16],
            span_id: vec![0; 8],
            ..Default::default()
        };
        let decoded = decode(request(vec![good, short, zero]));
        assert_eq!(decoded.spans.len(), 1);
        assert_eq!(decoded.rejected, 2);
        assert!(
            decoded
                .error
                .unwrap()
                .contains("invalid trace id (3 bytes)")
        );
        let span = &decoded.spans[0];
        assert_eq!(&*span.service, "app");
        assert!(span.data.parent_span_is_remote);
    }

    #[test]
    fn maps_and_mixed_arrays_become_text() {
        use any_value::Value as V;
        let any = |v| Some(AnyValue { value: Some(v) });
        let mixed = V::ArrayValue(opentelemetry_proto::tonic::common::v1::ArrayValue {
            values: vec![
                AnyValue {
                    value: Some(V::IntValue(1)),
                },
                AnyValue {
                    value: Some(V::StringValue("a".into())),
                },
            ],
        });
        assert_eq!(value(any(mixed), 0).as_str(), r#"[1, "a"]"#);
        assert_eq!(
            value(any(V::BytesValue(vec![0xab, 1])), 0).as_str(),
            "0xab01"
        );
        assert_eq!(value(None, 0).as_str(), "");
    }
}
