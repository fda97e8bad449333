//! OTLP protobuf (`ExportTraceServiceRequest`) written straight from our
//! pipeline's finished spans into the request buffer.
//!
//! Written here rather than through `opentelemetry-proto`'s message types:
//! that path copies the batch (for retries), then turns every span into
//! message structs that own a `String` per key and per value and a `Vec`
//! per list, and only then encodes them. Here every message's length is
//! computed from the record, and its fields are written once, borrowed
//! from the record; string values are cut to the length limit as they are
//! written, without a copy. The result decodes to what the SDK's
//! conversion makes of the same spans (tested below).

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{Event, Link, SpanContext, SpanKind, Status};
use opentelemetry::{Array, InstrumentationScope, KeyValue, Value};
use opentelemetry_sdk::Resource;

use crate::pipeline::{Finished, Scoped};

// Wire types.
const VARINT: u32 = 0;
const FIXED64: u32 = 1;
const LEN: u32 = 2;
const FIXED32: u32 = 5;

/// `SpanFlags`: the flags say whether the parent's remoteness is known
/// (always, here) and whether it was remote.
const HAS_IS_REMOTE: u32 = 0x100;
const IS_REMOTE: u32 = 0x200;

/// The bytes a varint of `v` takes.
#[inline]
fn varint_len(v: u64) -> usize {
    // 1 byte per 7 significant bits, at least one.
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// The bytes a length-delimited field of `len` bytes takes (fields up to
/// 15, so a one-byte key).
#[inline]
fn len_field(len: usize) -> usize {
    1 + varint_len(len as u64) + len
}

/// A string field proto3 leaves out when empty.
#[inline]
fn str_field(s: &str) -> usize {
    if s.is_empty() { 0 } else { len_field(s.len()) }
}

/// A `uint32` field proto3 leaves out when zero.
#[inline]
fn uint_field(v: u32) -> usize {
    if v == 0 {
        0
    } else {
        1 + varint_len(u64::from(v))
    }
}

/// A `fixed64` field proto3 leaves out when zero.
#[inline]
fn fixed64_field(v: u64) -> usize {
    if v == 0 { 0 } else { 9 }
}

fn nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos().min(u128::from(u64::MAX)) as u64)
}

fn kind(kind: &SpanKind) -> u64 {
    match kind {
        SpanKind::Internal => 1,
        SpanKind::Server => 2,
        SpanKind::Client => 3,
        SpanKind::Producer => 4,
        SpanKind::Consumer => 5,
    }
}

fn flags(context: &SpanContext, remote: bool) -> u32 {
    let mut flags = u32::from(context.trace_flags().to_u8()) | HAS_IS_REMOTE;
    if remote {
        flags |= IS_REMOTE;
    }
    flags
}

/// The buffer a request is written into.
struct Out(Vec<u8>);

impl Out {
    #[inline]
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    #[inline]
    fn key(&mut self, field: u32, wire: u32) {
        self.varint(u64::from((field << 3) | wire));
    }

    /// The key and length of a length-delimited field; its body follows.
    #[inline]
    fn open(&mut self, field: u32, len: usize) {
        self.key(field, LEN);
        self.varint(len as u64);
    }

    #[inline]
    fn bytes(&mut self, field: u32, bytes: &[u8]) {
        self.open(field, bytes.len());
        self.0.extend_from_slice(bytes);
    }

    /// A string field, left out when empty (see [`str_field`]).
    #[inline]
    fn str(&mut self, field: u32, s: &str) {
        if !s.is_empty() {
            self.bytes(field, s.as_bytes());
        }
    }

    #[inline]
    fn uint(&mut self, field: u32, v: u32) {
        if v != 0 {
            self.key(field, VARINT);
            self.varint(u64::from(v));
        }
    }

    #[inline]
    fn fixed64(&mut self, field: u32, v: u64) {
        if v != 0 {
            self.key(field, FIXED64);
            self.0.extend_from_slice(&v.to_le_bytes());
        }
    }

    #[inline]
    fn fixed32(&mut self, field: u32, v: u32) {
        self.key(field, FIXED32);
        self.0.extend_from_slice(&v.to_le_bytes());
    }
}

/// Writes requests for one pipeline: its resource, encoded once, and the
/// value length limit (`OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`).
#[derive(Debug, Default)]
pub(crate) struct Encoder {
    /// `ResourceSpans` field 1, the resource, whole (key and length included).
    resource: Vec<u8>,
    /// The resource's schema URL.
    schema_url: String,
    limit: Option<usize>,
}

/// For what is not cut: the resource and the scope's attributes, as on
/// the SDK path.
const PLAIN: Encoder = Encoder {
    resource: Vec::new(),
    schema_url: String::new(),
    limit: None,
};

impl Encoder {
    /// An encoder cutting string values to `limit` characters.
    pub(crate) fn new(limit: Option<usize>) -> Self {
        let mut encoder = Encoder {
            limit,
            ..Encoder::default()
        };
        encoder.set_resource(&Resource::builder_empty().build());
        encoder
    }

    /// The resource every request carries from now on.
    pub(crate) fn set_resource(&mut self, resource: &Resource) {
        let plain = PLAIN;
        let attributes: Vec<KeyValue> = resource
            .iter()
            .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
            .collect();
        let body: usize = attributes
            .iter()
            .map(|kv| len_field(plain.kv_len(kv)))
            .sum();
        let mut out = Out(Vec::with_capacity(len_field(body)));
        out.open(1, body);
        for kv in &attributes {
            plain.kv(&mut out, 1, kv);
        }
        self.resource = out.0;
        self.schema_url = resource.schema_url().unwrap_or_default().to_owned();
    }

    /// The request for `spans`: one `ResourceSpans`, one `ScopeSpans` per
    /// instrumentation scope, in the order the scopes first appear.
    pub(crate) fn request(&self, spans: &[Finished]) -> Vec<u8> {
        // Spans grouped by scope, with each span's length, computed once.
        let mut groups: Vec<Group<'_>> = Vec::new();
        for finished in spans {
            let tracer = &finished.open.tracer;
            let group = match groups.iter_mut().position(|g| g.is(tracer)) {
                Some(i) => &mut groups[i],
                None => {
                    groups.push(Group::new(tracer));
                    groups.last_mut().expect("pushed")
                }
            };
            // Made once: `header` joins the entries into a new string.
            let trace_state = finished.context.trace_state().header();
            let len = self.span_len(finished, &trace_state);
            group.body += len_field(len);
            group.spans.push((finished, len, trace_state));
        }
        let scope_spans = |g: &Group<'_>| {
            len_field(g.scope_len) + g.body + str_field(g.scope.schema_url().unwrap_or_default())
        };
        let resource_spans = self.resource.len()
            + groups
                .iter()
                .map(|g| len_field(scope_spans(g)))
                .sum::<usize>()
            + str_field(&self.schema_url);
        let mut out = Out(Vec::with_capacity(len_field(resource_spans)));
        out.open(1, resource_spans);
        out.0.extend_from_slice(&self.resource);
        for g in &groups {
            out.open(2, scope_spans(g));
            out.open(1, g.scope_len);
            PLAIN.scope(&mut out, g.scope);
            for (finished, len, trace_state) in &g.spans {
                out.open(2, *len);
                self.span(&mut out, finished, trace_state);
            }
            out.str(3, g.scope.schema_url().unwrap_or_default());
        }
        out.str(3, &self.schema_url);
        debug_assert_eq!(out.0.len(), len_field(resource_spans));
        out.0
    }

    fn scope_len(&self, scope: &InstrumentationScope) -> usize {
        str_field(scope.name())
            + str_field(scope.version().unwrap_or_default())
            + scope
                .attributes()
                .map(|kv| len_field(self.kv_len(kv)))
                .sum::<usize>()
    }

    fn scope(&self, out: &mut Out, scope: &InstrumentationScope) {
        out.str(1, scope.name());
        out.str(2, scope.version().unwrap_or_default());
        for kv in scope.attributes() {
            self.kv(out, 3, kv);
        }
    }

    fn span_len(&self, finished: &Finished, trace_state: &str) -> usize {
        let Finished { end, open, .. } = finished;
        let extra = open.extra();
        let parent = if open.parent == opentelemetry::trace::SpanId::INVALID {
            0
        } else {
            len_field(8)
        };
        len_field(16)
            + len_field(8)
            + str_field(trace_state)
            + parent
            + str_field(&open.name)
            + 1
            + varint_len(kind(&open.kind))
            + fixed64_field(nanos(open.start))
            + fixed64_field(nanos(*end))
            + self.kvs_len(&open.attributes)
            + uint_field(open.dropped_attributes)
            + extra
                .events
                .iter()
                .map(|e| len_field(self.event_len(e)))
                .sum::<usize>()
            + uint_field(extra.dropped_events)
            + extra
                .links
                .iter()
                .map(|l| len_field(self.link_len(l)))
                .sum::<usize>()
            + uint_field(extra.dropped_links)
            + len_field(status_len(&extra.status))
            // `flags`, field 16: a two-byte key.
            + 6
    }

    fn span(&self, out: &mut Out, finished: &Finished, trace_state: &str) {
        let Finished { context, end, open } = finished;
        let extra = open.extra();
        out.bytes(1, &context.trace_id().to_bytes());
        out.bytes(2, &context.span_id().to_bytes());
        out.str(3, trace_state);
        if open.parent != opentelemetry::trace::SpanId::INVALID {
            out.bytes(4, &open.parent.to_bytes());
        }
        out.str(5, &open.name);
        out.key(6, VARINT);
        out.varint(kind(&open.kind));
        out.fixed64(7, nanos(open.start));
        out.fixed64(8, nanos(*end));
        for kv in &open.attributes {
            self.kv(out, 9, kv);
        }
        out.uint(10, open.dropped_attributes);
        for event in &extra.events {
            out.open(11, self.event_len(event));
            out.fixed64(1, nanos(event.timestamp));
            out.str(2, &event.name);
            for kv in &event.attributes {
                self.kv(out, 3, kv);
            }
            out.uint(4, event.dropped_attributes_count);
        }
        out.uint(12, extra.dropped_events);
        for link in &extra.links {
            out.open(13, self.link_len(link));
            let sc = &link.span_context;
            out.bytes(1, &sc.trace_id().to_bytes());
            out.bytes(2, &sc.span_id().to_bytes());
            out.str(3, &sc.trace_state().header());
            for kv in &link.attributes {
                self.kv(out, 4, kv);
            }
            out.uint(5, link.dropped_attributes_count);
            out.fixed32(6, flags(sc, sc.is_remote()));
        }
        out.uint(14, extra.dropped_links);
        out.open(15, status_len(&extra.status));
        status(out, &extra.status);
        out.fixed32(16, flags(context, open.parent_is_remote));
    }

    fn event_len(&self, event: &Event) -> usize {
        fixed64_field(nanos(event.timestamp))
            + str_field(&event.name)
            + self.kvs_len(&event.attributes)
            + uint_field(event.dropped_attributes_count)
    }

    fn link_len(&self, link: &Link) -> usize {
        let sc = &link.span_context;
        len_field(16)
            + len_field(8)
            + str_field(&sc.trace_state().header())
            + self.kvs_len(&link.attributes)
            + uint_field(link.dropped_attributes_count)
            + 5
    }

    fn kvs_len(&self, kvs: &[KeyValue]) -> usize {
        kvs.iter().map(|kv| len_field(self.kv_len(kv))).sum()
    }

    /// A `KeyValue`'s body: the key and the value (always present).
    fn kv_len(&self, kv: &KeyValue) -> usize {
        str_field(kv.key.as_str()) + len_field(self.any_len(&kv.value))
    }

    fn kv(&self, out: &mut Out, field: u32, kv: &KeyValue) {
        out.open(field, self.kv_len(kv));
        out.str(1, kv.key.as_str());
        out.open(2, self.any_len(&kv.value));
        self.any(out, &kv.value);
    }

    /// A string value, cut to the limit.
    fn cut<'s>(&self, s: &'s str) -> &'s str {
        match self.limit {
            // A string of at most `limit` bytes has at most `limit` characters.
            Some(limit) if s.len() > limit => match s.char_indices().nth(limit) {
                Some((cut, _)) => &s[..cut],
                None => s,
            },
            _ => s,
        }
    }

    /// An `AnyValue`'s body: the set member of its `oneof`, written even
    /// when it holds the default.
    fn any_len(&self, value: &Value) -> usize {
        match value {
            Value::Bool(_) => 2,
            Value::I64(v) => 1 + varint_len(*v as u64),
            Value::F64(_) => 9,
            Value::String(s) => len_field(self.cut(s.as_str()).len()),
            Value::Array(array) => len_field(self.array_len(array)),
            // A kind of value newer than this code: as text.
            other => len_field(other.as_str().len()),
        }
    }

    fn any(&self, out: &mut Out, value: &Value) {
        match value {
            Value::Bool(v) => {
                out.key(2, VARINT);
                out.varint(u64::from(*v));
            }
            Value::I64(v) => {
                out.key(3, VARINT);
                out.varint(*v as u64);
            }
            Value::F64(v) => {
                out.key(4, FIXED64);
                out.0.extend_from_slice(&v.to_le_bytes());
            }
            Value::String(s) => out.bytes(1, self.cut(s.as_str()).as_bytes()),
            Value::Array(array) => {
                out.open(5, self.array_len(array));
                self.array(out, array);
            }
            other => out.bytes(1, other.as_str().as_bytes()),
        }
    }

    /// An `ArrayValue`'s body: each element an `AnyValue` in field 1.
    fn array_len(&self, array: &Array) -> usize {
        match array {
            Array::Bool(v) => v.len() * len_field(2),
            Array::I64(v) => v.iter().map(|i| len_field(1 + varint_len(*i as u64))).sum(),
            Array::F64(v) => v.len() * len_field(9),
            Array::String(v) => v
                .iter()
                .map(|s| len_field(len_field(self.cut(s.as_str()).len())))
                .sum(),
            // An array kind newer than this code: as text.
            other => len_field(len_field(other.to_string().len())),
        }
    }

    fn array(&self, out: &mut Out, array: &Array) {
        match array {
            Array::Bool(v) => {
                for b in v {
                    out.open(1, 2);
                    out.key(2, VARINT);
                    out.varint(u64::from(*b));
                }
            }
            Array::I64(v) => {
                for i in v {
                    out.open(1, 1 + varint_len(*i as u64));
                    out.key(3, VARINT);
                    out.varint(*i as u64);
                }
            }
            Array::F64(v) => {
                for f in v {
                    out.open(1, 9);
                    out.key(4, FIXED64);
                    out.0.extend_from_slice(&f.to_le_bytes());
                }
            }
            Array::String(v) => {
                for s in v {
                    let s = self.cut(s.as_str());
                    out.open(1, len_field(s.len()));
                    out.bytes(1, s.as_bytes());
                }
            }
            other => {
                let text = other.to_string();
                out.open(1, len_field(text.len()));
                out.bytes(1, text.as_bytes());
            }
        }
    }
}

/// `Status`: the message (an error's description) and the code; written
/// even when unset, as the SDK's conversion does.
fn status_len(status: &Status) -> usize {
    match status {
        Status::Unset => 0,
        Status::Ok => 2,
        Status::Error { description } => str_field(description) + 2,
    }
}

fn status(out: &mut Out, status: &Status) {
    match status {
        Status::Unset => {}
        Status::Ok => {
            out.key(3, VARINT);
            out.varint(1);
        }
        Status::Error { description } => {
            out.str(2, description);
            out.key(3, VARINT);
            out.varint(2);
        }
    }
}

/// The spans of one scope in a request.
struct Group<'a> {
    tracer: &'a Arc<Scoped>,
    scope: &'a InstrumentationScope,
    scope_len: usize,
    /// The `ScopeSpans` fields holding the spans, in bytes.
    body: usize,
    /// Each span, its length and its `tracestate` header.
    spans: Vec<(&'a Finished, usize, String)>,
}

impl<'a> Group<'a> {
    fn new(tracer: &'a Arc<Scoped>) -> Self {
        let scope = &tracer.scope;
        Group {
            tracer,
            scope,
            scope_len: PLAIN.scope_len(scope),
            body: 0,
            spans: Vec::new(),
        }
    }

    /// Whether spans of `tracer` belong here: the same tracer, or another
    /// one of the same scope (grouped as the SDK does).
    fn is(&self, tracer: &Arc<Scoped>) -> bool {
        Arc::ptr_eq(self.tracer, tracer) || self.scope == &tracer.scope
    }
}
