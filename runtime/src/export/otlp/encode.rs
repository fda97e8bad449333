//! OTLP protobuf (`ExportTraceServiceRequest`) written straight from our
//! pipeline's finished spans into the request buffer.
//!
//! Written here rather than through `opentelemetry-proto`'s message types:
//! that path copies the batch (for retries), then turns every span into
//! message structs that own a `String` per key and per value and a `Vec`
//! per list, and only then encodes them. Here every field is written once,
//! borrowed from the record; a nested message's length is filled in after
//! its body (see [`Out::begin`]); string values are cut to the length
//! limit as they are written, without a copy. The result is byte for byte
//! what `prost` writes for the SDK's conversion of the same spans
//! (`tests.rs`).

use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{Event, Link, SpanContext, SpanKind, Status};
use opentelemetry::{Array, InstrumentationScope, KeyValue, Value};
use opentelemetry_sdk::Resource;

use crate::pipeline::Finished;

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

/// A length-delimited field being written: where the bytes set aside for
/// its length are, and how many.
#[derive(Clone, Copy)]
struct Open {
    at: usize,
    reserved: usize,
}

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

    /// The key and length of a length-delimited field whose length is
    /// known; its body follows.
    #[inline]
    fn open(&mut self, field: u32, len: usize) {
        self.key(field, LEN);
        self.varint(len as u64);
    }

    /// Starts a length-delimited field whose length is known only once
    /// its body is written: the key, then `reserved` bytes set aside for
    /// the length, the guess for its size. Each field is so written once,
    /// and no length is computed ahead.
    #[inline]
    fn begin(&mut self, field: u32, reserved: usize) -> Open {
        self.key(field, LEN);
        let at = self.0.len();
        self.0.extend_from_slice(&[0; 3][..reserved]);
        Open { at, reserved }
    }

    /// Ends the field `open` started: writes its length, as a minimal
    /// varint, where it was set aside. A length of another size than the
    /// guess moves the body (a long string value, say).
    #[inline]
    fn end(&mut self, open: Open) {
        let len = self.0.len() - (open.at + open.reserved);
        match (open.reserved, len) {
            (1, 0..0x80) => self.0[open.at] = len as u8,
            (2, 0x80..0x4000) => {
                self.0[open.at] = (len as u8) | 0x80;
                self.0[open.at + 1] = (len >> 7) as u8;
            }
            _ => self.end_moved(open, len),
        }
    }

    #[cold]
    #[inline(never)]
    fn end_moved(&mut self, open: Open, len: usize) {
        let body = open.at + open.reserved;
        let need = varint_len(len as u64);
        if need > open.reserved {
            let more = need - open.reserved;
            let end = self.0.len();
            self.0.resize(end + more, 0);
            self.0.copy_within(body..end, body + more);
        } else if need < open.reserved {
            let less = open.reserved - need;
            self.0.copy_within(body.., body - less);
            self.0.truncate(self.0.len() - less);
        }
        let mut v = len as u64;
        for byte in &mut self.0[open.at..open.at + need] {
            *byte = (v as u8 & 0x7f) | if v >= 0x80 { 0x80 } else { 0 };
            v >>= 7;
        }
    }

    #[inline]
    fn bytes(&mut self, field: u32, bytes: &[u8]) {
        self.open(field, bytes.len());
        self.0.extend_from_slice(bytes);
    }

    /// A string field, left out when empty, as proto3 does.
    #[inline]
    fn str(&mut self, field: u32, s: &str) {
        if !s.is_empty() {
            self.bytes(field, s.as_bytes());
        }
    }

    /// A `uint32` field, left out when zero.
    #[inline]
    fn uint(&mut self, field: u32, v: u32) {
        if v != 0 {
            self.key(field, VARINT);
            self.varint(u64::from(v));
        }
    }

    /// A `fixed64` field, left out when zero.
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

/// A guess at a span's size in a request, for the buffer's first size.
const SPAN_BYTES: usize = 256;

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
        let mut out = Out(Vec::new());
        let open = out.begin(1, 2);
        for (key, value) in resource.iter() {
            PLAIN.kv(&mut out, 1, &KeyValue::new(key.clone(), value.clone()));
        }
        out.end(open);
        self.resource = out.0;
        self.schema_url = resource.schema_url().unwrap_or_default().to_owned();
    }

    /// The request for `spans`: one `ResourceSpans`, one `ScopeSpans` per
    /// instrumentation scope, in the order the scopes first appear.
    pub(crate) fn request(&self, spans: &[Finished]) -> Vec<u8> {
        self.write(spans.iter(), spans.len())
    }

    /// The request for the `n` spans of `spans`.
    fn write<'a>(&self, spans: impl Iterator<Item = &'a Finished>, n: usize) -> Vec<u8> {
        let mut groups: Vec<Group<'_>> = Vec::new();
        for finished in spans {
            let scope = finished.record.scope;
            match groups.iter_mut().find(|g| std::ptr::eq(g.scope, scope)) {
                Some(group) => group.spans.push(finished),
                None => groups.push(Group {
                    scope,
                    spans: vec![finished],
                }),
            }
        }
        let mut out = Out(Vec::with_capacity(
            self.resource.len() + 64 + n * SPAN_BYTES,
        ));
        let resource_spans = out.begin(1, 3);
        out.0.extend_from_slice(&self.resource);
        for group in &groups {
            let scope = group.scope;
            let scope_spans = out.begin(2, 3);
            let open = out.begin(1, 1);
            out.str(1, scope.name());
            out.str(2, scope.version().unwrap_or_default());
            for kv in scope.attributes() {
                PLAIN.kv(&mut out, 3, kv);
            }
            out.end(open);
            for finished in &group.spans {
                self.span(&mut out, finished);
            }
            out.str(3, scope.schema_url().unwrap_or_default());
            out.end(scope_spans);
        }
        out.str(3, &self.schema_url);
        out.end(resource_spans);
        out.0
    }

    /// The requests for `spans`, each at most `max` bytes: one request
    /// when it fits (nearly always); else the spans packed in order by the
    /// size of each one's request alone (which carries the resource and
    /// its scope as well: more than its share). A span that does not fit
    /// alone is left out and counted in [`Split::too_big`].
    pub(crate) fn requests(&self, spans: &[Finished], max: usize) -> Split {
        let mut split = Split::default();
        let request = self.request(spans);
        if request.len() <= max {
            split.requests.push((request, spans.len() as u64));
            return split;
        }
        let mut group: Vec<&Finished> = Vec::new();
        let mut size = 0;
        for span in spans {
            let alone = self.request(std::slice::from_ref(span)).len();
            if alone > max {
                split.too_big += 1;
                continue;
            }
            if size + alone > max {
                self.halve(&group, max, &mut split);
                (group, size) = (Vec::new(), 0);
            }
            group.push(span);
            size += alone;
        }
        self.halve(&group, max, &mut split);
        split
    }

    /// The request for `spans` if it fits in `max` bytes, else those of
    /// each half, and so on.
    fn halve(&self, spans: &[&Finished], max: usize, split: &mut Split) {
        if spans.is_empty() {
            return;
        }
        let request = self.write(spans.iter().copied(), spans.len());
        if request.len() <= max {
            split.requests.push((request, spans.len() as u64));
        } else if spans.len() == 1 {
            split.too_big += 1;
        } else {
            let (first, second) = spans.split_at(spans.len() / 2);
            self.halve(first, max, split);
            self.halve(second, max, split);
        }
    }

    /// A `Span`, as field 2 of its `ScopeSpans`.
    fn span(&self, out: &mut Out, finished: &Finished) {
        let Finished {
            context,
            end,
            record,
        } = finished;
        let extra = record.extra();
        let span = out.begin(2, 2);
        out.bytes(1, &context.trace_id().to_bytes());
        out.bytes(2, &context.span_id().to_bytes());
        if context.trace_state() != &opentelemetry::trace::TraceState::NONE {
            out.str(3, &context.trace_state().header());
        }
        if record.parent != opentelemetry::trace::SpanId::INVALID {
            out.bytes(4, &record.parent.to_bytes());
        }
        out.str(5, &record.name);
        out.key(6, VARINT);
        out.varint(kind(&record.kind));
        out.fixed64(7, nanos(record.start));
        out.fixed64(8, nanos(*end));
        for kv in &record.attributes {
            self.kv(out, 9, kv);
        }
        out.uint(10, record.dropped_attributes);
        for event in &extra.events {
            self.event(out, event);
        }
        out.uint(12, extra.dropped_events);
        for link in &extra.links {
            self.link(out, link);
        }
        out.uint(14, extra.dropped_links);
        status(out, &extra.status);
        out.fixed32(16, flags(context, record.parent_is_remote));
        out.end(span);
    }

    fn event(&self, out: &mut Out, event: &Event) {
        let open = out.begin(11, 1);
        out.fixed64(1, nanos(event.timestamp));
        out.str(2, &event.name);
        for kv in &event.attributes {
            self.kv(out, 3, kv);
        }
        out.uint(4, event.dropped_attributes_count);
        out.end(open);
    }

    fn link(&self, out: &mut Out, link: &Link) {
        let sc = &link.span_context;
        let open = out.begin(13, 1);
        out.bytes(1, &sc.trace_id().to_bytes());
        out.bytes(2, &sc.span_id().to_bytes());
        if sc.trace_state() != &opentelemetry::trace::TraceState::NONE {
            out.str(3, &sc.trace_state().header());
        }
        for kv in &link.attributes {
            self.kv(out, 4, kv);
        }
        out.uint(5, link.dropped_attributes_count);
        out.fixed32(6, flags(sc, sc.is_remote()));
        out.end(open);
    }

    /// A `KeyValue` as `field`: the key, and the value (always present).
    fn kv(&self, out: &mut Out, field: u32, kv: &KeyValue) {
        let open = out.begin(field, 1);
        out.str(1, kv.key.as_str());
        self.any(out, 2, &kv.value);
        out.end(open);
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

    /// An `AnyValue` as `field`: the set member of its `oneof`, written
    /// even when it holds the default.
    fn any(&self, out: &mut Out, field: u32, value: &Value) {
        match value {
            Value::Bool(v) => {
                out.open(field, 2);
                out.key(2, VARINT);
                out.varint(u64::from(*v));
            }
            Value::I64(v) => {
                out.open(field, 1 + varint_len(*v as u64));
                out.key(3, VARINT);
                out.varint(*v as u64);
            }
            Value::F64(v) => {
                out.open(field, 9);
                out.key(4, FIXED64);
                out.0.extend_from_slice(&v.to_le_bytes());
            }
            Value::String(s) => {
                let s = self.cut(s.as_str());
                out.open(field, len_field(s.len()));
                out.bytes(1, s.as_bytes());
            }
            Value::Array(array) => {
                let any = out.begin(field, 1);
                let values = out.begin(5, 1);
                self.array(out, array);
                out.end(values);
                out.end(any);
            }
            // A kind of value newer than this code: as text.
            other => {
                let text = other.as_str();
                out.open(field, len_field(text.len()));
                out.bytes(1, text.as_bytes());
            }
        }
    }

    /// An `ArrayValue`'s body: each element an `AnyValue` in field 1.
    fn array(&self, out: &mut Out, array: &Array) {
        match array {
            Array::Bool(v) => {
                for b in v {
                    self.any(out, 1, &Value::Bool(*b));
                }
            }
            Array::I64(v) => {
                for i in v {
                    self.any(out, 1, &Value::I64(*i));
                }
            }
            Array::F64(v) => {
                for f in v {
                    self.any(out, 1, &Value::F64(*f));
                }
            }
            Array::String(v) => {
                for s in v {
                    let s = self.cut(s.as_str());
                    out.open(1, len_field(s.len()));
                    out.bytes(1, s.as_bytes());
                }
            }
            // An array kind newer than this code: as text.
            other => {
                let text = other.to_string();
                out.open(1, len_field(text.len()));
                out.bytes(1, text.as_bytes());
            }
        }
    }
}

/// `Status`, field 15: the message (an error's description) and the code;
/// written even when unset, as the SDK's conversion does.
fn status(out: &mut Out, status: &Status) {
    match status {
        Status::Unset => out.open(15, 0),
        Status::Ok => {
            out.open(15, 2);
            out.key(3, VARINT);
            out.varint(1);
        }
        Status::Error { description } => {
            let message = if description.is_empty() {
                0
            } else {
                len_field(description.len())
            };
            out.open(15, message + 2);
            out.str(2, description);
            out.key(3, VARINT);
            out.varint(2);
        }
    }
}

/// A batch as requests small enough for the collector.
#[derive(Debug, Default)]
pub(crate) struct Split {
    /// Each request, and how many spans it holds.
    pub(crate) requests: Vec<(Vec<u8>, u64)>,
    /// Spans left out: each alone makes a request larger than allowed.
    pub(crate) too_big: u64,
}

/// The spans of one scope in a request. Scopes are interned, so spans of
/// equal scopes (from different tracers too) share one group, as the SDK
/// groups them.
struct Group<'a> {
    scope: &'static InstrumentationScope,
    spans: Vec<&'a Finished>,
}
