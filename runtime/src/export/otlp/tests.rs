//! The OTLP our pipeline writes decodes to what the SDK's conversion
//! (`opentelemetry-proto`, as `opentelemetry-otlp`'s exporter uses it)
//! makes of the same spans.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{
    Span as _, SpanContext, SpanId, SpanKind, Status, TraceContextExt as _, TraceFlags, TraceId,
    TraceState, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Array, Context, InstrumentationScope, KeyValue, Value};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use prost::Message as _;

use super::encode::Encoder;
use crate::pipeline::{Export, Finished, PipelineProvider, Sink, Spans, span_data};

/// Keeps what it is given.
struct Capture(Arc<Mutex<Vec<Finished>>>);

impl Sink for Capture {
    fn export(&self, spans: Spans) -> Export<'_> {
        let spans = spans.records();
        self.0.lock().unwrap().extend(spans);
        Box::pin(std::future::ready(Ok(())))
    }
    fn flush(&mut self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown(&mut self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
    fn prepare(&mut self, _resource: &Resource, _limit: Option<usize>) {}
}

/// One resource for both encoders: its attributes are kept in a hash map,
/// whose order differs between two resources built alike.
fn resource() -> &'static Resource {
    static RESOURCE: std::sync::OnceLock<Resource> = std::sync::OnceLock::new();
    RESOURCE.get_or_init(|| {
        Resource::builder_empty()
            .with_service_name("encode-test")
            .with_attributes([
                KeyValue::new("host.name", "h"),
                KeyValue::new("process.pid", 42_i64),
            ])
            .with_schema_url([], "https://opentelemetry.io/schemas/1.44.0")
            .build()
    })
}

fn remote_parent() -> Context {
    Context::new().with_remote_span_context(SpanContext::new(
        TraceId::from(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef_u128),
        SpanId::from(0x0102_0304_0506_0708_u64),
        TraceFlags::SAMPLED,
        true,
        TraceState::from_key_value([("vendor", "v1"), ("other", "x")]).unwrap(),
    ))
}

/// Spans of every shape, from two scopes (one of them twice), through a
/// real pipeline into `Capture`.
pub(super) fn spans() -> Vec<Finished> {
    let captured = Arc::new(Mutex::new(Vec::new()));
    let provider = PipelineProvider::builder()
        .with_sink(Box::new(Capture(captured.clone())))
        .build()
        .unwrap();
    let app = provider.tracer_with_scope(
        InstrumentationScope::builder("app")
            .with_version("1.2.3")
            .with_schema_url("https://example.com/schema")
            .with_attributes([KeyValue::new("scope.attr", true)])
            .build(),
    );
    let app_again = provider.tracer_with_scope(
        InstrumentationScope::builder("app")
            .with_version("1.2.3")
            .with_schema_url("https://example.com/schema")
            .with_attributes([KeyValue::new("scope.attr", true)])
            .build(),
    );
    let db = provider.tracer("db");

    let mut root = app
        .span_builder("root ünïcode")
        .with_kind(SpanKind::Server)
        .with_attributes([
            KeyValue::new("s", "héllo wörld, a longer text"),
            KeyValue::new("empty", ""),
            KeyValue::new("", "empty key"),
            KeyValue::new("t", true),
            KeyValue::new("f", false),
            KeyValue::new("i", -7_i64),
            KeyValue::new("zero", 0_i64),
            KeyValue::new("big", i64::MAX),
            KeyValue::new("d", 2.5_f64),
            KeyValue::new("bools", Value::Array(Array::Bool(vec![true, false]))),
            KeyValue::new("ints", Value::Array(Array::I64(vec![1, -1, 300]))),
            KeyValue::new("floats", Value::Array(Array::F64(vec![0.0, -1.5]))),
            KeyValue::new(
                "strings",
                Value::Array(Array::String(vec!["ümlaut-long".into(), "".into()])),
            ),
            KeyValue::new("no strings", Value::Array(Array::String(vec![]))),
        ])
        .start_with_context(&app, &remote_parent());
    root.add_event(
        "with attributes",
        vec![
            KeyValue::new("e", "long event value"),
            KeyValue::new("n", 1_i64),
        ],
    );
    root.add_event_with_timestamp("at the epoch", SystemTime::UNIX_EPOCH, vec![]);
    root.add_link(
        SpanContext::new(
            TraceId::from(9_u128),
            SpanId::from(10_u64),
            TraceFlags::default(),
            true,
            TraceState::from_key_value([("k", "v")]).unwrap(),
        ),
        vec![KeyValue::new("link", "a long link value")],
    );
    root.set_status(Status::error("it broke"));
    let root_cx = Context::new().with_remote_span_context(root.span_context().clone());

    let mut child = db
        .span_builder("query")
        .with_kind(SpanKind::Client)
        .start_with_context(&db, &root_cx);
    child.set_status(Status::Ok);
    child.end();
    let mut other = app_again.start_with_context("same scope, other tracer", &Context::new());
    other.update_name("renamed");
    other.end();
    for kind in [SpanKind::Internal, SpanKind::Producer, SpanKind::Consumer] {
        app.span_builder("kinds")
            .with_kind(kind)
            .start_with_context(&app, &Context::new())
            .end();
    }
    root.end();
    provider.force_flush().unwrap();
    provider.shutdown().unwrap();
    let spans = std::mem::take(&mut *captured.lock().unwrap());
    assert_eq!(spans.len(), 6);
    spans
}

/// Our request for `spans`, decoded. Its bytes are also checked to be the
/// very bytes `prost` writes for the SDK's conversion: the same fields in
/// the same order, every length a minimal varint.
fn ours(spans: &[Finished], limit: Option<usize>) -> ExportTraceServiceRequest {
    let mut encoder = Encoder::new(limit);
    encoder.set_resource(resource());
    let bytes = encoder.request(spans);
    assert!(
        bytes == sdks(spans, limit).encode_to_vec(),
        "our bytes are not prost's for the same request"
    );
    ExportTraceServiceRequest::decode(bytes.as_slice()).expect("our request decodes")
}

fn sdks(spans: &[Finished], limit: Option<usize>) -> ExportTraceServiceRequest {
    let data = spans
        .iter()
        .map(|finished| span_data(finished.clone(), limit))
        .collect();
    let resource = ResourceAttributesWithSchema::from(resource());
    ExportTraceServiceRequest {
        resource_spans: group_spans_by_resource_and_scope(data, &resource),
    }
}

#[test]
fn our_request_is_the_sdks() {
    let spans = spans();
    let ours = ours(&spans, None);
    assert_eq!(ours, sdks(&spans, None));
    // Two scopes: `app` (both tracers) and `db`, in the order first seen.
    let scopes: Vec<_> = ours.resource_spans[0]
        .scope_spans
        .iter()
        .map(|s| (s.scope.as_ref().unwrap().name.clone(), s.spans.len()))
        .collect();
    assert_eq!(scopes, [("db".to_owned(), 1), ("app".to_owned(), 5)]);
}

#[test]
fn values_are_cut_to_the_limit_as_the_sdk_path_cuts_them() {
    let spans = spans();
    for limit in [0, 1, 4, 11, 100] {
        let ours = ours(&spans, Some(limit));
        assert_eq!(ours, sdks(&spans, Some(limit)), "limit {limit}");
    }
    let cut = ours(&spans, Some(4));
    let root = cut.resource_spans[0].scope_spans[1]
        .spans
        .iter()
        .find(|s| s.name == "root ünïcode")
        .unwrap();
    let s = root.attributes.iter().find(|kv| kv.key == "s").unwrap();
    assert_eq!(
        s.value,
        Some(opentelemetry_proto::tonic::common::v1::AnyValue {
            value: Some(
                opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(
                    "héll".into()
                )
            )
        })
    );
}

#[test]
fn an_empty_batch_still_carries_the_resource() {
    let ours = ours(&[], None);
    assert_eq!(ours, sdks(&[], None));
    assert_eq!(ours.resource_spans.len(), 1);
    assert!(ours.resource_spans[0].scope_spans.is_empty());
}

#[test]
fn long_requests_have_multi_byte_lengths() {
    // Enough spans for lengths past one and two varint bytes.
    let one = spans();
    let many: Vec<Finished> = (0..300).flat_map(|_| one.iter().cloned()).collect();
    assert_eq!(ours(&many, Some(3)), sdks(&many, Some(3)));
}

/// Any value of any kind, as a span, event or link attribute: finite
/// floats only, since NaN is not equal to itself.
fn value() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let text = "[a-zé€😀 ]{0,12}";
    let float = -1e300_f64..1e300_f64;
    prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::I64),
        float.clone().prop_map(Value::F64),
        text.prop_map(Value::from),
        proptest::collection::vec(any::<bool>(), 0..4).prop_map(|v| Value::Array(Array::Bool(v))),
        proptest::collection::vec(any::<i64>(), 0..4).prop_map(|v| Value::Array(Array::I64(v))),
        proptest::collection::vec(float, 0..4).prop_map(|v| Value::Array(Array::F64(v))),
        proptest::collection::vec(text, 0..4)
            .prop_map(|v| Value::Array(Array::String(v.into_iter().map(Into::into).collect()))),
    ]
}

fn attributes() -> impl proptest::strategy::Strategy<Value = Vec<KeyValue>> {
    use proptest::prelude::*;
    proptest::collection::vec(
        ("[a-z._]{0,10}", value()).prop_map(|(k, v)| KeyValue::new(k, v)),
        0..6,
    )
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Whatever a span holds, and whatever the limit: our request decodes
    /// to the SDK's.
    #[test]
    fn any_span_encodes_as_the_sdk_converts_it(
        span in attributes(),
        event in attributes(),
        link in attributes(),
        name in "[a-zü ]{0,20}",
        limit in proptest::option::of(0_usize..16),
    ) {
        let captured = Arc::new(Mutex::new(Vec::new()));
        let provider = PipelineProvider::builder()
            .with_sink(Box::new(Capture(captured.clone())))
            .build()
            .unwrap();
        let tracer = provider.tracer("any");
        let mut s = tracer
            .span_builder(name)
            .with_attributes(span)
            .start_with_context(&tracer, &Context::new());
        s.add_event("e", event);
        s.add_link(remote_parent().span().span_context().clone(), link);
        s.end();
        provider.shutdown().unwrap();
        let spans = std::mem::take(&mut *captured.lock().unwrap());
        proptest::prop_assert_eq!(spans.len(), 1);
        proptest::prop_assert_eq!(ours(&spans, limit), sdks(&spans, limit));
    }
}

/// Values long enough that a length takes more bytes than the encoder set
/// aside for it (a key-value past 127 bytes, a span past 16,383), and a
/// request so short that its outer lengths take fewer.
#[test]
fn lengths_of_every_size_are_minimal() {
    let captured = Arc::new(Mutex::new(Vec::new()));
    let provider = PipelineProvider::builder()
        .with_sink(Box::new(Capture(captured.clone())))
        .build()
        .unwrap();
    let tracer = provider.tracer("sizes");
    for size in [0, 1, 127, 128, 200, 16_383, 16_384, 20_000, 2_100_000] {
        tracer
            .span_builder("s")
            .with_attributes([KeyValue::new("v", "x".repeat(size))])
            .start_with_context(&tracer, &Context::new())
            .end();
    }
    provider.shutdown().unwrap();
    let spans = std::mem::take(&mut *captured.lock().unwrap());
    assert_eq!(spans.len(), 9);
    // Each alone (short outer lengths), and all together (long ones).
    for span in &spans {
        let one = std::slice::from_ref(span);
        assert_eq!(ours(one, None), sdks(one, None));
    }
    assert_eq!(ours(&spans, None), sdks(&spans, None));
    assert_eq!(ours(&spans, Some(150)), sdks(&spans, Some(150)));
}

/// Spans named `name`, each with a string attribute of the given size,
/// through a real pipeline into `Capture`.
pub(super) fn sized(sizes: &[usize]) -> Vec<Finished> {
    let captured = Arc::new(Mutex::new(Vec::new()));
    let provider = PipelineProvider::builder()
        .with_sink(Box::new(Capture(captured.clone())))
        .build()
        .unwrap();
    let tracer = provider.tracer("sized");
    for (i, size) in sizes.iter().enumerate() {
        let mut span = tracer.start(format!("span {i}"));
        span.set_attribute(KeyValue::new("blob", "x".repeat(*size)));
        span.end();
    }
    provider.shutdown().unwrap();
    std::mem::take(&mut *captured.lock().unwrap())
}

/// The names of the spans of `request`.
fn names(request: &[u8]) -> Vec<String> {
    let request = ExportTraceServiceRequest::decode(request).expect("a request decodes");
    request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .map(|s| s.name.clone())
        .collect()
}

// Regression for #25: one oversize span made the collector refuse the
// whole request, and every span in it.
#[test]
fn a_batch_too_large_for_one_request_is_split_and_only_what_cannot_fit_is_left_out() {
    let mut spans = spans();
    spans.extend(sized(&[10, 3000, 500, 9000, 40, 2000]));
    let mut encoder = Encoder::new(None);
    encoder.set_resource(resource());
    let alone: Vec<usize> = spans
        .iter()
        .map(|s| encoder.request(std::slice::from_ref(s)).len())
        .collect();
    // Every span fits alone but the one with 9000 bytes.
    let max = 5000;
    let too_big = alone.iter().filter(|len| **len > max).count();
    assert_eq!(too_big, 1);
    let split = encoder.requests(&spans, max);
    assert_eq!(split.too_big, 1);
    assert!(
        split.requests.len() > 1,
        "{} requests",
        split.requests.len()
    );
    let mut sent = Vec::new();
    for (request, count) in &split.requests {
        assert!(request.len() <= max, "{} bytes", request.len());
        let names = names(request);
        assert_eq!(names.len() as u64, *count);
        sent.extend(names);
    }
    let mut want: Vec<String> = spans
        .iter()
        .zip(&alone)
        .filter(|(_, len)| **len <= max)
        .map(|(s, _)| s.record.name.to_string())
        .collect();
    sent.sort();
    want.sort();
    assert_eq!(sent, want, "every span that fits, once");
    // A batch that fits is one request, byte for byte the unsplit one.
    let small = &spans[..6];
    let split = encoder.requests(small, 1 << 22);
    assert_eq!(split.requests.len(), 1);
    assert_eq!(split.requests[0].0, encoder.request(small));
}
