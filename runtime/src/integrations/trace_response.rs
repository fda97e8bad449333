//! `traceresponse` across services (#28): a server whose process keeps the
//! trace says so in its response, and a client whose callee kept it keeps
//! the caller's part too, so a failure deep in a call chain keeps the
//! whole path from the root to it.
//!
//! Only with tail sampling on (a [`TailSampling`](crate::TailSampling)
//! has seen spans): otherwise the server writes nothing and the client
//! reads nothing, at the cost of one atomic load per request.

use opentelemetry::Context;
use opentelemetry::trace::{SpanContext, TraceContextExt as _};

use crate::propagation::{TRACERESPONSE, format_traceresponse, read_traceresponse};
use crate::span::ActiveSpan;
use crate::tail::registry;

/// The server span to answer for, taken when it starts: `None` unless tail
/// sampling is on and the span records.
#[cfg_attr(not(any(feature = "axum", feature = "tonic")), allow(dead_code))]
pub(crate) fn server_span(cx: Option<&Context>) -> Option<SpanContext> {
    if !registry::is_on() {
        return None;
    }
    let span = cx?.span().span_context().clone();
    (span.is_valid() && span.is_sampled()).then_some(span)
}

/// Writes `traceresponse` (sampled) into the response `headers` when the
/// trace of `span` is known to be kept in this process by the time the
/// response goes out: a rule kept it, a span of it ended with status
/// Error under the `errors` rule (the server span itself, for a 5xx or a
/// gRPC error, when it ended first), or a service it called kept it.
/// Otherwise nothing is written: whether the trace will be kept is not
/// known yet.
#[cfg_attr(not(any(feature = "axum", feature = "tonic")), allow(dead_code))]
pub(crate) fn answer(span: &SpanContext, headers: &mut http::HeaderMap) {
    if !crate::tail::tail_is_kept(span.trace_id()) {
        return;
    }
    let value = format_traceresponse(span.trace_id(), span.span_id(), true);
    if let Ok(value) = http::HeaderValue::from_str(&value) {
        headers.insert(TRACERESPONSE, value);
    }
}

/// Reads `traceresponse` from the response `headers` of a call made in
/// `caller`'s span: when it names the caller's trace with the `sampled`
/// flag, the callee kept the trace, and so does this process.
#[cfg_attr(not(any(feature = "reqwest", feature = "tonic")), allow(dead_code))]
pub(crate) fn upgrade(headers: &http::HeaderMap, caller: &ActiveSpan) {
    if !registry::is_on() {
        return;
    }
    let Some((trace_id, _, flags)) = read_traceresponse(headers) else {
        return;
    };
    let cx = caller.context();
    let ours = cx.span().span_context().trace_id();
    if flags.is_sampled() && trace_id == ours {
        crate::tail::tail_keep_now(trace_id);
    }
}
