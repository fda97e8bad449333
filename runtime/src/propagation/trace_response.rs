//! The `traceresponse` header proposed for W3C Trace Context Level 2
//! ("Trace Context: HTTP response header format", w3c/trace-context
//! #365, #476, #560): a service tells its caller which trace and span
//! served the request, and with the `sampled` flag whether it records
//! (for us: keeps) the trace.
//!
//! The value has the grammar of `traceparent`: `00-<trace-id>-<child-id>-<flags>`,
//! lowercase hex, version `ff` invalid, a higher version read by its first
//! four fields; `child-id` is the callee's span. Two headers, or a
//! malformed one, mean no response context.

use opentelemetry::trace::{SpanId, TraceFlags, TraceId};

use super::trace_context::parse_traceparent;

/// The header's name (lowercase, as the draft asks senders to write it).
pub(crate) const TRACERESPONSE: &str = "traceresponse";

/// A `traceresponse` value: version `00`, the trace, the callee's span
/// and the `sampled` flag when `sampled`.
#[cfg_attr(not(any(feature = "axum", feature = "tonic")), allow(dead_code))]
pub(crate) fn format_traceresponse(trace_id: TraceId, span_id: SpanId, sampled: bool) -> String {
    let flags = if sampled { "01" } else { "00" };
    format!("00-{trace_id}-{span_id}-{flags}")
}

/// A `traceresponse` value's trace id, callee span id and flags (`sampled`
/// and `random` kept, other bits zero); `None` when it is not valid.
#[cfg_attr(not(any(feature = "reqwest", feature = "tonic")), allow(dead_code))]
pub(crate) fn parse_traceresponse(value: &str) -> Option<(TraceId, SpanId, TraceFlags)> {
    // The same four fields and rules as `traceparent`.
    parse_traceparent(value)
}

/// The one `traceresponse` of `headers`, parsed; `None` when there is none,
/// more than one, or it is not valid.
#[cfg_attr(not(any(feature = "reqwest", feature = "tonic")), allow(dead_code))]
pub(crate) fn read_traceresponse(
    headers: &http::HeaderMap,
) -> Option<(TraceId, SpanId, TraceFlags)> {
    let mut values = headers.get_all(TRACERESPONSE).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    parse_traceresponse(value.to_str().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const SPAN: &str = "00f067aa0ba902b7";

    fn ids() -> (TraceId, SpanId) {
        (
            TraceId::from_hex(TRACE).unwrap(),
            SpanId::from_hex(SPAN).unwrap(),
        )
    }

    #[test]
    fn formats_like_traceparent() {
        let (trace, span) = ids();
        assert_eq!(
            format_traceresponse(trace, span, true),
            format!("00-{TRACE}-{SPAN}-01")
        );
        assert_eq!(
            format_traceresponse(trace, span, false),
            format!("00-{TRACE}-{SPAN}-00")
        );
    }

    #[test]
    fn round_trips() {
        let (trace, span) = ids();
        for sampled in [true, false] {
            let value = format_traceresponse(trace, span, sampled);
            let (t, s, flags) = parse_traceresponse(&value).unwrap();
            assert_eq!((t, s, flags.is_sampled()), (trace, span, sampled));
        }
    }

    #[test]
    fn reads_flags_and_later_versions() {
        let (trace, span) = ids();
        // `random` (02) with `sampled`; unknown bits are dropped.
        let (_, _, flags) = parse_traceresponse(&format!("00-{TRACE}-{SPAN}-ff")).unwrap();
        assert!(flags.is_sampled());
        assert_eq!(flags.to_u8(), 0x03);
        let (_, _, flags) = parse_traceresponse(&format!("00-{TRACE}-{SPAN}-02")).unwrap();
        assert!(!flags.is_sampled());
        // A later version may carry more fields after a `-`.
        let (t, s, flags) = parse_traceresponse(&format!("01-{TRACE}-{SPAN}-01-extra")).unwrap();
        assert_eq!((t, s, flags.is_sampled()), (trace, span, true));
        // Surrounding spaces and tabs are allowed (optional white space).
        assert!(parse_traceresponse(&format!(" \t00-{TRACE}-{SPAN}-01 ")).is_some());
    }

    #[test]
    fn rejects_malformed() {
        let zeros_trace = "0".repeat(32);
        let zeros_span = "0".repeat(16);
        for bad in [
            String::new(),
            "garbage".to_owned(),
            format!("ff-{TRACE}-{SPAN}-01"),       // version ff
            format!("0-{TRACE}-{SPAN}-01"),        // short version
            format!("00-{TRACE}-{SPAN}-01-extra"), // 00 is exactly 55
            format!("00-{TRACE}-{SPAN}-1"),        // short flags
            format!("00-{}-{SPAN}-01", TRACE.to_uppercase()), // uppercase hex
            format!("00-{}-{SPAN}-01", &TRACE[1..]), // short trace id
            format!("00-{TRACE}-{}-01", &SPAN[1..]), // short span id
            format!("00-{zeros_trace}-{SPAN}-01"), // invalid trace id
            format!("00-{TRACE}-{zeros_span}-01"), // invalid span id
            format!("00_{TRACE}_{SPAN}_01"),       // wrong delimiter
            format!("00-{TRACE}-{SPAN}-0g"),       // not hex
            format!("01-{TRACE}-{SPAN}-01extra"),  // no `-` before more
        ] {
            assert_eq!(parse_traceresponse(&bad), None, "{bad:?}");
        }
    }

    #[test]
    fn one_header_or_none() {
        let (trace, span) = ids();
        let value = format_traceresponse(trace, span, true);
        let mut headers = http::HeaderMap::new();
        assert_eq!(read_traceresponse(&headers), None);
        headers.insert("TraceResponse", value.parse().unwrap());
        assert_eq!(read_traceresponse(&headers).map(|(t, ..)| t), Some(trace));
        headers.append(TRACERESPONSE, value.parse().unwrap());
        assert_eq!(read_traceresponse(&headers), None);
        let mut headers = http::HeaderMap::new();
        headers.insert(
            TRACERESPONSE,
            http::HeaderValue::from_bytes(b"00-\xff").unwrap(),
        );
        assert_eq!(read_traceresponse(&headers), None);
    }
}
