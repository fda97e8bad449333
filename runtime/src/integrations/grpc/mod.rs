//! gRPC through `tonic` (feature `tonic`), with the RPC semantic
//! conventions: tower layers for servers ([`server::TracedLayer`]) and
//! clients ([`client::TracedLayer`]).
//!
//! ```no_run
//! # use traced_runtime as traced;
//! # async fn f(routes: tonic::service::Routes, channel: tonic::transport::Channel) {
//! // Server: a `server` span per call, continuing the caller's trace.
//! tonic::transport::Server::builder()
//!     .layer(traced::grpc::server::TracedLayer::new())
//!     .add_routes(routes);
//! // Client: a `client` span per call, the context in the metadata.
//! let channel = tower::ServiceBuilder::new()
//!     .layer(traced::grpc::client::TracedLayer::new().target("http://127.0.0.1:50051"))
//!     .service(channel);
//! # }
//! ```
//!
//! Each call is one span named after its method, `{package.Service}/{Method}`
//! as the request path `/package.Service/Method` says, with
//! `rpc.system.name` = `grpc`, `rpc.method`, `server.address`,
//! `server.port` and `rpc.response.status_code`, the name of the gRPC status
//! (`OK`, `NOT_FOUND`, ...). A path that is not of that shape, or on a
//! server given the services it [knows](server::TracedLayer::known) a
//! method outside them, is recorded as `rpc.method` = `_OTHER` with
//! `rpc.method_original`, in a span named `grpc`.
//!
//! The status comes from the `grpc-status` of the response headers (a
//! trailers-only response, as errors usually are) or of the trailers at
//! the end of the response body; the span ends then, so a streaming call's
//! span covers the whole stream. A response body dropped before its end
//! (the caller went away, or stopped reading) ends the span with the
//! `traced.cancelled` event ([`CANCELLED_EVENT`](crate::CANCELLED_EVENT))
//! and `rpc.response.status_code` = `CANCELLED`.
//!
//! Errors follow the conventions' rules: on a server, `UNKNOWN`,
//! `DEADLINE_EXCEEDED`, `UNIMPLEMENTED`, `INTERNAL`, `UNAVAILABLE` and
//! `DATA_LOSS` are errors (the others are the caller's business); on a
//! client, every status but `OK`. An error sets status Error (without a
//! description: the code says it) and `error.type` = the status name; a
//! call that fails before any status arrives (the connection is refused, a
//! stream is reset) also gets an `exception` event with tonic's message.
//!
//! Metadata values never become attributes. Malformed or missing trace
//! context in the metadata starts a new trace.
//!
//! With a meter provider installed, each call's duration, up to when its
//! span ends, goes to the histogram `rpc.server.call.duration` or
//! `rpc.client.call.duration` with `rpc.system.name`, `rpc.method`,
//! `rpc.response.status_code` (when a status came), `error.type` (by the
//! rules above) and, on a client, `server.address` and `server.port`; its
//! exemplar is the call's span when the trace is kept. On a server, a call
//! answered `UNIMPLEMENTED` counts under `rpc.method` = `_OTHER`, so that
//! made-up method names cannot fill the histogram with series.
//!
//! In a handler, [`Headers`](crate::Headers) is implemented for tonic's
//! `MetadataMap`, so `traced::extract(request.metadata())` and
//! `traced::inject(request.metadata_mut())` work there too.

pub mod client;
mod metadata;
pub mod server;

mod body;

pub use body::TracedBody;

use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanBuilder, SpanKind, Status, TraceContextExt as _};

use crate::integrations::measure::exemplar_span;
use crate::metrics::{Measured, Stopped};
use crate::semconv::{
    ERROR_TYPE, RPC_METHOD, RPC_METHOD_ORIGINAL, RPC_RESPONSE_STATUS_CODE, RPC_SYSTEM_NAME,
};
use crate::span::{ActiveSpan, OpenSpan};

/// The error type of the server layer's service: the wrapped service's
/// error, boxed (tonic boxes it all the same).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Where both sides start their spans: the scope `traced`, the tracer
/// cached per provider.
static SITE: crate::span::CallSite = crate::span::CallSite::integration();

/// `rpc.system.name`, also the span name when the method is `_OTHER`.
const GRPC: &str = "grpc";
/// `rpc.method` for a method the request does not name properly.
const OTHER: &str = "_OTHER";

/// Which end of the call a span is: the error rules differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Server,
    Client,
}

/// The gRPC status codes by number, as `rpc.response.status_code` spells
/// them (gRPC's `doc/statuscodes.md`).
const CODE_NAMES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

const CANCELLED: i32 = 1;
const UNKNOWN: i32 = 2;
const UNIMPLEMENTED: i32 = 12;

/// The name of status `code`; codes gRPC does not define are `UNKNOWN`,
/// as gRPC itself treats them.
fn code_name(code: i32) -> &'static str {
    usize::try_from(code)
        .ok()
        .and_then(|i| CODE_NAMES.get(i))
        .copied()
        .unwrap_or(CODE_NAMES[UNKNOWN as usize])
}

/// The status in `grpc-status` of `headers` (response headers or
/// trailers); a value that is not a number is `UNKNOWN`.
fn status_in(headers: &http::HeaderMap) -> Option<i32> {
    let value = headers.get("grpc-status")?;
    Some(
        std::str::from_utf8(value.as_bytes())
            .ok()
            .and_then(|v| v.trim().parse::<i32>().ok())
            .filter(|code| usize::try_from(*code).is_ok_and(|i| i < CODE_NAMES.len()))
            .unwrap_or(UNKNOWN),
    )
}

/// Whether status `code` makes this side's span an error.
fn is_error(side: Side, code: i32) -> bool {
    match side {
        Side::Client => code != 0,
        // UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE,
        // DATA_LOSS: the server's own failures, not the caller's.
        Side::Server => matches!(code, 2 | 4 | 12 | 13 | 14 | 15),
    }
}

/// Records the call's status: `rpc.response.status_code` and, when it is
/// an error for `side`, `error.type` and status Error.
fn record_code(span: &ActiveSpan, side: Side, code: i32) {
    if !span.is_recording() {
        return;
    }
    let name = code_name(code);
    let cx = span.context();
    let span = cx.span();
    span.set_attribute(KeyValue::new(RPC_RESPONSE_STATUS_CODE, name));
    if is_error(side, code) {
        span.set_attribute(KeyValue::new(ERROR_TYPE, name));
        span.set_status(Status::error(""));
    }
}

/// Records a call that failed before a status arrived, as tonic reports
/// it: the status it made of the failure, and an `exception` event with
/// its message.
fn record_failure(span: &ActiveSpan, side: Side, status: &tonic::Status) {
    if !span.is_recording() {
        return;
    }
    let code = status.code() as i32;
    let name = code_name(code);
    span.context()
        .span()
        .set_attribute(KeyValue::new(RPC_RESPONSE_STATUS_CODE, name));
    if is_error(side, code) {
        span.record_error_as(
            "tonic::Status",
            Some(name),
            status.message().to_owned(),
            Vec::new(),
        );
    }
}

/// Records a body dropped before its end: `CANCELLED`, an error for a
/// client only; the `traced.cancelled` event comes with the end.
fn record_cancelled(span: &ActiveSpan, side: Side) {
    record_code(span, side, CANCELLED);
}

/// Stops the call's timing, before its span ends:
/// `rpc.response.status_code` when a status `code` came, with
/// `error.type` when it is an error for `side`. A server's
/// `UNIMPLEMENTED` call counts under `rpc.method` = `_OTHER`.
fn stop(
    measured: Option<Measured>,
    span: &ActiveSpan,
    side: Side,
    code: Option<i32>,
) -> Option<Stopped> {
    let mut measured = measured?;
    if let Some(code) = code {
        let name = code_name(code);
        measured.set(KeyValue::new(RPC_RESPONSE_STATUS_CODE, name));
        if is_error(side, code) {
            measured.set(KeyValue::new(ERROR_TYPE, name));
        }
        if side == Side::Server && code == UNIMPLEMENTED {
            measured.set(KeyValue::new(RPC_METHOD, OTHER));
        }
    }
    Some(measured.stop(exemplar_span(span)))
}

/// Ends the call's span, then records its duration: tail sampling has
/// then seen how the span ended (see `crate::metrics`).
fn end(span: OpenSpan, stopped: Option<Stopped>) {
    span.end();
    if let Some(stopped) = stopped {
        stopped.record();
    }
}

/// The code gRPC gives a response whose HTTP status is not 200 and that
/// has no `grpc-status` (a proxy's answer, say), per gRPC's
/// `doc/http-grpc-status-mapping.md`.
fn code_of_http(status: http::StatusCode) -> i32 {
    match status.as_u16() {
        400 => 13,             // INTERNAL
        401 => 16,             // UNAUTHENTICATED
        403 => 7,              // PERMISSION_DENIED
        404 => 12,             // UNIMPLEMENTED
        429 | 502..=504 => 14, // UNAVAILABLE
        _ => UNKNOWN,
    }
}

/// Hands `response` on with its body carrying the span. A response that
/// already says its status (a trailers-only response, as most errors
/// are), that is not an HTTP 200, or that has no body ends the span now.
fn with_body<B: http_body::Body>(
    response: http::Response<B>,
    span: OpenSpan,
    side: Side,
    measured: Option<Measured>,
) -> http::Response<TracedBody<B>> {
    let (parts, body) = response.into_parts();
    let code = status_in(&parts.headers)
        .or_else(|| (parts.status != http::StatusCode::OK).then(|| code_of_http(parts.status)));
    if let Some(code) = code {
        record_code(span.span(), side, code);
        let stopped = stop(measured, span.span(), side, Some(code));
        end(span, stopped);
        return http::Response::from_parts(parts, TracedBody::ended(body, side));
    }
    if body.is_end_stream() {
        let stopped = stop(measured, span.span(), side, None);
        end(span, stopped);
        return http::Response::from_parts(parts, TracedBody::ended(body, side));
    }
    http::Response::from_parts(parts, TracedBody::new(body, span, side, measured))
}

/// `package.Service/Method` from the path `/package.Service/Method`, or
/// `None` when the path is not of that shape.
fn method_of(path: &str) -> Option<&str> {
    let method = path.strip_prefix('/')?;
    let (service, name) = method.split_once('/')?;
    (!service.is_empty() && !name.is_empty() && !name.contains('/')).then_some(method)
}

/// Whether `method` (`package.Service/Method`) is one of `known`: named
/// itself, or by its service (`package.Service`). No list knows them all.
fn is_known(method: &str, known: Option<&[String]>) -> bool {
    let Some(known) = known else {
        return true;
    };
    let service = method
        .split_once('/')
        .map_or(method, |(service, _)| service);
    known.iter().any(|k| k == method || k == service)
}

/// The span of a call to `path`: named after its method, with
/// `rpc.system.name` and `rpc.method` (`_OTHER` and `rpc.method_original`
/// for a path that names no method, or one outside `known`), and room for
/// `extra` more attributes.
fn span_builder(
    path: &str,
    kind: SpanKind,
    known: Option<&[String]>,
    extra: usize,
) -> (SpanBuilder, Vec<KeyValue>) {
    let mut attributes = Vec::with_capacity(4 + extra);
    attributes.push(KeyValue::new(RPC_SYSTEM_NAME, GRPC));
    let name = match method_of(path).filter(|m| is_known(m, known)) {
        Some(method) => {
            attributes.push(KeyValue::new(RPC_METHOD, method.to_owned()));
            method.to_owned()
        }
        None => {
            attributes.push(KeyValue::new(RPC_METHOD, OTHER));
            // The path without its leading `/`, as `rpc.method` would
            // have been; a path of another shape as it came.
            let original = method_of(path).unwrap_or(path);
            attributes.push(KeyValue::new(RPC_METHOD_ORIGINAL, original.to_owned()));
            GRPC.to_owned()
        }
    };
    (SpanBuilder::from_name(name).with_kind(kind), attributes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_from_paths() {
        assert_eq!(
            method_of("/traced.demo.Greeter/SayHello"),
            Some("traced.demo.Greeter/SayHello")
        );
        assert_eq!(method_of("/Echo/Echo"), Some("Echo/Echo"));
        for bad in ["", "/", "//", "/a/", "//b", "/a/b/c", "a/b", "/ab"] {
            assert_eq!(method_of(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn known_methods() {
        let known = vec!["a.Svc".to_owned(), "b.Other/Only".to_owned()];
        assert!(is_known("a.Svc/Any", Some(&known)));
        assert!(is_known("b.Other/Only", Some(&known)));
        assert!(!is_known("b.Other/Else", Some(&known)));
        assert!(!is_known("c.Svc/Any", Some(&known)));
        assert!(is_known("c.Svc/Any", None));
        let (_, attributes) = span_builder("/b.Other/Else", SpanKind::Server, Some(&known), 0);
        assert_eq!(
            attributes,
            vec![
                KeyValue::new(RPC_SYSTEM_NAME, GRPC),
                KeyValue::new(RPC_METHOD, OTHER),
                KeyValue::new(RPC_METHOD_ORIGINAL, "b.Other/Else"),
            ]
        );
    }

    #[test]
    fn status_codes() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(status_in(&headers), None);
        for (value, code) in [
            ("0", 0),
            ("5", 5),
            ("16", 16),
            ("17", 2),
            ("-1", 2),
            ("x", 2),
        ] {
            headers.insert("grpc-status", http::HeaderValue::from_static(value));
            assert_eq!(status_in(&headers), Some(code), "{value}");
        }
        headers.insert(
            "grpc-status",
            http::HeaderValue::from_bytes(b"\xff").unwrap(),
        );
        assert_eq!(status_in(&headers), Some(UNKNOWN));
        assert_eq!(code_name(0), "OK");
        assert_eq!(code_name(5), "NOT_FOUND");
        assert_eq!(code_name(16), "UNAUTHENTICATED");
        assert_eq!(code_name(99), "UNKNOWN");
        assert_eq!(code_name(-3), "UNKNOWN");
        // Our table agrees with tonic's numbering.
        assert_eq!(tonic::Code::NotFound as i32, 5);
        assert_eq!(tonic::Code::Unauthenticated as i32, 16);
        assert_eq!(tonic::Code::DataLoss as i32, 15);
    }

    #[test]
    fn error_rules() {
        let server: Vec<&str> = (0..17)
            .filter(|c| is_error(Side::Server, *c))
            .map(code_name)
            .collect();
        assert_eq!(
            server,
            [
                "UNKNOWN",
                "DEADLINE_EXCEEDED",
                "UNIMPLEMENTED",
                "INTERNAL",
                "UNAVAILABLE",
                "DATA_LOSS"
            ]
        );
        assert!(!is_error(Side::Client, 0));
        assert!((1..17).all(|c| is_error(Side::Client, c)));
    }
}
