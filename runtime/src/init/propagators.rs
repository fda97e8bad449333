//! The B3 (single and multiple headers) and Jaeger (`uber-trace-id`)
//! propagators that `OTEL_PROPAGATORS` can name besides `tracecontext` and
//! `baggage`, written against the published formats: the maintained crates
//! do not fit OpenTelemetry 0.33 (`opentelemetry-jaeger-propagator` is at
//! 0.32) or come with an exporter (`opentelemetry-zipkin`).
//!
//! As the specification asks, both B3 propagators extract either form (the
//! single header first) and differ in what they inject. Jaeger baggage
//! (`uberctx-*`) is not carried: `baggage` does that in W3C form.
//!
//! They live here, next to the configuration that names them, rather than
//! in `propagation/`, which other work owns right now; they use nothing of
//! `init`, so moving them is a plain `git mv`.

use opentelemetry::Context;
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};

const B3_SINGLE: &str = "b3";
const B3_TRACE_ID: &str = "x-b3-traceid";
const B3_SPAN_ID: &str = "x-b3-spanid";
const B3_PARENT_SPAN_ID: &str = "x-b3-parentspanid";
const B3_SAMPLED: &str = "x-b3-sampled";
const B3_FLAGS: &str = "x-b3-flags";
const UBER_TRACE_ID: &str = "uber-trace-id";

/// How a [`B3`] propagator injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum B3Encoding {
    /// One `b3` header (`OTEL_PROPAGATORS=b3`).
    Single,
    /// `X-B3-TraceId`, `X-B3-SpanId`, `X-B3-Sampled` (`b3multi`).
    Multiple,
}

/// Zipkin's B3 propagation.
#[derive(Debug)]
pub(crate) struct B3 {
    encoding: B3Encoding,
    fields: Vec<String>,
}

impl B3 {
    pub(crate) fn new(encoding: B3Encoding) -> B3 {
        let fields = match encoding {
            B3Encoding::Single => vec![B3_SINGLE.to_owned()],
            B3Encoding::Multiple => [B3_TRACE_ID, B3_SPAN_ID, B3_SAMPLED]
                .map(str::to_owned)
                .to_vec(),
        };
        B3 { encoding, fields }
    }
}

/// A trace id of 16 or 32 lowercase hex digits (16 are the low half).
fn trace_id(hex: &str) -> Option<TraceId> {
    let ok = matches!(hex.len(), 16 | 32) && hex.bytes().all(|b| b.is_ascii_hexdigit());
    let id = TraceId::from_hex(hex).ok().filter(|_| ok)?;
    (id != TraceId::INVALID).then_some(id)
}

/// A span id of exactly 16 hex digits.
fn span_id(hex: &str) -> Option<SpanId> {
    let ok = hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    let id = SpanId::from_hex(hex).ok().filter(|_| ok)?;
    (id != SpanId::INVALID).then_some(id)
}

fn remote(trace: TraceId, span: SpanId, sampled: bool) -> SpanContext {
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    SpanContext::new(trace, span, flags, true, TraceState::default())
}

/// `{trace}-{span}[-{sampling}[-{parent}]]`; a lone sampling state (`0`)
/// carries no context.
fn b3_single(value: &str) -> Option<SpanContext> {
    let mut parts = value.trim().split('-');
    let trace = trace_id(parts.next()?)?;
    let span = span_id(parts.next()?)?;
    let sampled = match parts.next() {
        // Deferred: OpenTelemetry has no such state; as in the Python SDK,
        // the sampled flag stays unset.
        None => false,
        Some("1" | "d") => true,
        Some("0") => false,
        Some(_) => return None,
    };
    if let Some(parent) = parts.next() {
        span_id(parent)?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(remote(trace, span, sampled))
}

fn b3_multiple(extractor: &dyn Extractor) -> Option<SpanContext> {
    let trace = trace_id(extractor.get(B3_TRACE_ID)?.trim())?;
    let span = span_id(extractor.get(B3_SPAN_ID)?.trim())?;
    let debug = extractor.get(B3_FLAGS).map(str::trim) == Some("1");
    let sampled = match extractor.get(B3_SAMPLED).map(str::trim) {
        _ if debug => true,
        None => false,
        Some(v) if v == "1" || v.eq_ignore_ascii_case("true") => true,
        Some(v) if v == "0" || v.eq_ignore_ascii_case("false") => false,
        Some(_) => return None,
    };
    if let Some(parent) = extractor.get(B3_PARENT_SPAN_ID) {
        span_id(parent.trim())?;
    }
    Some(remote(trace, span, sampled))
}

impl TextMapPropagator for B3 {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let sc = span.span_context();
        if !sc.is_valid() {
            return;
        }
        let sampled = if sc.is_sampled() { "1" } else { "0" };
        match self.encoding {
            B3Encoding::Single => injector.set(
                B3_SINGLE,
                format!("{}-{}-{sampled}", sc.trace_id(), sc.span_id()),
            ),
            B3Encoding::Multiple => {
                injector.set(B3_TRACE_ID, sc.trace_id().to_string());
                injector.set(B3_SPAN_ID, sc.span_id().to_string());
                injector.set(B3_SAMPLED, sampled.to_owned());
            }
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let found = match extractor.get(B3_SINGLE) {
            Some(single) => b3_single(single),
            None => b3_multiple(extractor),
        };
        match found {
            Some(sc) => cx.with_remote_span_context(sc),
            None => cx.clone(),
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(&self.fields)
    }
}

/// Jaeger's `uber-trace-id: {trace}:{span}:{parent}:{flags}`.
#[derive(Debug)]
pub(crate) struct Jaeger {
    fields: Vec<String>,
}

impl Jaeger {
    pub(crate) fn new() -> Jaeger {
        Jaeger {
            fields: vec![UBER_TRACE_ID.to_owned()],
        }
    }
}

/// Up to `max` hex digits, left-padded with zeros (Jaeger drops leading
/// zeros).
fn padded(hex: &str, max: usize) -> Option<String> {
    if hex.is_empty() || hex.len() > max || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(format!("{hex:0>max$}"))
}

fn uber_trace_id(value: &str) -> Option<SpanContext> {
    // Clients may send the value URL-encoded (`%3A` for `:`).
    let value = value.trim().replace("%3A", ":").replace("%3a", ":");
    let parts: Vec<&str> = value.split(':').collect();
    let [trace, span, _parent, flags] = parts.as_slice() else {
        return None;
    };
    let trace = TraceId::from_hex(&padded(trace, 32)?).ok()?;
    let span = SpanId::from_hex(&padded(span, 16)?).ok()?;
    if trace == TraceId::INVALID || span == SpanId::INVALID {
        return None;
    }
    let flags = u8::from_str_radix(&padded(flags, 2)?, 16).ok()?;
    // Bit 1 sampled, bit 2 debug (which implies sampled).
    Some(remote(trace, span, flags & 0b11 != 0))
}

impl TextMapPropagator for Jaeger {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let sc = span.span_context();
        if !sc.is_valid() {
            return;
        }
        let flags = u8::from(sc.is_sampled());
        injector.set(
            UBER_TRACE_ID,
            format!("{}:{}:0:{flags}", sc.trace_id(), sc.span_id()),
        );
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        match extractor.get(UBER_TRACE_ID).and_then(uber_trace_id) {
            Some(sc) => cx.with_remote_span_context(sc),
            None => cx.clone(),
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(&self.fields)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const TRACE: &str = "80f198ee56343ba864fe8b2a57d3eff7";
    const SPAN: &str = "e457b5a2e4d86bd1";

    fn extract(p: &dyn TextMapPropagator, headers: &[(&str, &str)]) -> Option<SpanContext> {
        let map: HashMap<String, String> = headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned()))
            .collect();
        let cx = p.extract(&map);
        let sc = cx.span().span_context().clone();
        sc.is_valid().then_some(sc)
    }

    fn inject(p: &dyn TextMapPropagator, sampled: bool) -> HashMap<String, String> {
        let sc = remote(
            TraceId::from_hex(TRACE).unwrap(),
            SpanId::from_hex(SPAN).unwrap(),
            sampled,
        );
        let cx = Context::new().with_remote_span_context(sc);
        let mut map = HashMap::new();
        p.inject_context(&cx, &mut map);
        map
    }

    #[test]
    fn b3_single_header_values() {
        let p = B3::new(B3Encoding::Single);
        for (value, sampled) in [
            (format!("{TRACE}-{SPAN}-1"), true),
            (format!("{TRACE}-{SPAN}-d"), true),
            (format!("{TRACE}-{SPAN}-0"), false),
            (format!("{TRACE}-{SPAN}"), false),
            (format!("{TRACE}-{SPAN}-1-05e3ac9a4f6e3b90"), true),
        ] {
            let sc = extract(&p, &[("b3", &value)]).expect(&value);
            assert_eq!(sc.trace_id().to_string(), TRACE);
            assert_eq!(sc.span_id().to_string(), SPAN);
            assert_eq!(sc.is_sampled(), sampled, "{value}");
            assert!(sc.is_remote());
        }
        // A 64-bit trace id is the low half.
        let sc = extract(&p, &[("b3", &format!("64fe8b2a57d3eff7-{SPAN}-1"))]).unwrap();
        assert_eq!(
            sc.trace_id().to_string(),
            "000000000000000064fe8b2a57d3eff7"
        );
        for bad in [
            "0",
            "garbage",
            &format!("{TRACE}-{SPAN}-2"),
            &format!("{TRACE}-short-1"),
            &format!("{}-{SPAN}-1", "0".repeat(32)),
            &format!("{TRACE}-{SPAN}-1-bad"),
        ] {
            assert!(extract(&p, &[("b3", bad)]).is_none(), "{bad}");
        }
        assert_eq!(
            inject(&p, true).get("b3").map(String::as_str),
            Some(format!("{TRACE}-{SPAN}-1").as_str())
        );
        assert_eq!(
            inject(&p, false).get("b3").map(String::as_str),
            Some(format!("{TRACE}-{SPAN}-0").as_str())
        );
    }

    #[test]
    fn b3_multiple_headers() {
        let p = B3::new(B3Encoding::Multiple);
        let sc = extract(
            &p,
            &[
                ("X-B3-TraceId", TRACE),
                ("X-B3-SpanId", SPAN),
                ("X-B3-Sampled", "1"),
            ],
        )
        .unwrap();
        assert!(sc.is_sampled());
        let sc = extract(
            &p,
            &[
                ("X-B3-TraceId", TRACE),
                ("X-B3-SpanId", SPAN),
                ("X-B3-Sampled", "0"),
            ],
        )
        .unwrap();
        assert!(!sc.is_sampled());
        let sc = extract(
            &p,
            &[
                ("X-B3-TraceId", TRACE),
                ("X-B3-SpanId", SPAN),
                ("X-B3-Sampled", "0"),
                ("X-B3-Flags", "1"),
            ],
        )
        .unwrap();
        assert!(sc.is_sampled(), "debug implies sampled");
        assert!(extract(&p, &[("X-B3-TraceId", TRACE)]).is_none());
        // Either B3 propagator extracts the single header too, first.
        let sc = extract(
            &p,
            &[
                ("b3", &format!("{TRACE}-{SPAN}-0")),
                ("X-B3-TraceId", TRACE),
                ("X-B3-SpanId", SPAN),
                ("X-B3-Sampled", "1"),
            ],
        )
        .unwrap();
        assert!(!sc.is_sampled());
        let map = inject(&p, true);
        assert_eq!(map.get(B3_TRACE_ID).map(String::as_str), Some(TRACE));
        assert_eq!(map.get(B3_SPAN_ID).map(String::as_str), Some(SPAN));
        assert_eq!(map.get(B3_SAMPLED).map(String::as_str), Some("1"));
        assert!(!map.contains_key(B3_SINGLE));
        let single = B3::new(B3Encoding::Single);
        let sc = extract(
            &single,
            &[
                ("X-B3-TraceId", TRACE),
                ("X-B3-SpanId", SPAN),
                ("X-B3-Sampled", "1"),
            ],
        )
        .unwrap();
        assert_eq!(sc.span_id().to_string(), SPAN);
    }

    #[test]
    fn jaeger_uber_trace_id() {
        let p = Jaeger::new();
        let sc = extract(&p, &[("uber-trace-id", &format!("{TRACE}:{SPAN}:0:1"))]).unwrap();
        assert_eq!(sc.trace_id().to_string(), TRACE);
        assert_eq!(sc.span_id().to_string(), SPAN);
        assert!(sc.is_sampled());
        let sc = extract(
            &p,
            &[("uber-trace-id", &format!("{TRACE}%3A{SPAN}%3A0%3A0"))],
        )
        .unwrap();
        assert!(!sc.is_sampled());
        let sc = extract(&p, &[("uber-trace-id", "abc:def:0:3")]).unwrap();
        assert_eq!(
            sc.trace_id().to_string(),
            "00000000000000000000000000000abc"
        );
        assert_eq!(sc.span_id().to_string(), "0000000000000def");
        assert!(sc.is_sampled(), "debug implies sampled");
        for bad in [
            "",
            "x:y:0:1",
            "0:0:0:1",
            &format!("{TRACE}:{SPAN}:0"),
            &format!("{TRACE}:{SPAN}:0:zz"),
        ] {
            assert!(extract(&p, &[("uber-trace-id", bad)]).is_none(), "{bad}");
        }
        assert_eq!(
            inject(&p, true).get(UBER_TRACE_ID).map(String::as_str),
            Some(format!("{TRACE}:{SPAN}:0:1").as_str())
        );
        assert_eq!(
            inject(&p, false).get(UBER_TRACE_ID).map(String::as_str),
            Some(format!("{TRACE}:{SPAN}:0:0").as_str())
        );
    }
}
