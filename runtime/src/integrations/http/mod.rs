//! HTTP instrumentation with the current HTTP semantic conventions, so that
//! users don't hand-write them.
//!
//! No header value is ever copied into an attribute except `User-Agent`:
//! `Authorization`, `Cookie` and the like stay out of spans.
//!
//! Both sides start their span through [`crate::span::start_dynamic`] and
//! run the request in [`crate::span::Instrumented`], the future `#[traced]`
//! uses: the span is current while the request runs, a panic or a dropped
//! request is recorded the same way, and an unsampled request keeps the
//! caller's W3C `random` flag.
// Without the `axum` and `reqwest` features only the shared helpers are
// compiled, and nothing uses them.
#![cfg_attr(
    not(any(feature = "axum", feature = "reqwest")),
    allow(dead_code, unused_imports)
)]

#[cfg(feature = "reqwest")]
pub mod client;
#[cfg(feature = "axum")]
pub mod server;

use std::borrow::Cow;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry::trace::{Status, TraceContextExt as _};
use opentelemetry::{InstrumentationScope, KeyValue, global};

use crate::semconv::{
    ERROR_TYPE, HTTP_REQUEST_METHOD, HTTP_REQUEST_METHOD_ORIGINAL, HTTP_RESPONSE_STATUS_CODE,
};
use crate::span::ActiveSpan;

/// The tracer both sides start their spans with, in the scope `traced`.
fn tracer() -> global::BoxedTracer {
    let scope = InstrumentationScope::builder("traced")
        .with_version(env!("CARGO_PKG_VERSION"))
        .build();
    global::tracer_provider().tracer_with_scope(scope)
}

/// The method as the conventions want it: known methods as they are, any
/// other as `_OTHER` (with the original kept in `http.request.method_original`).
fn method_attributes(method: &http::Method, out: &mut Vec<KeyValue>) -> Cow<'static, str> {
    const KNOWN: [&str; 9] = [
        "CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE",
    ];
    match KNOWN.iter().find(|m| **m == method.as_str()) {
        Some(known) => {
            out.push(KeyValue::new(HTTP_REQUEST_METHOD, *known));
            Cow::Borrowed(known)
        }
        None => {
            out.push(KeyValue::new(HTTP_REQUEST_METHOD, "_OTHER"));
            out.push(KeyValue::new(
                HTTP_REQUEST_METHOD_ORIGINAL,
                method.as_str().to_owned(),
            ));
            Cow::Borrowed("HTTP")
        }
    }
}

/// Records the response status; `failed` says whether it is an error for
/// this side (5xx for servers; 4xx and 5xx for clients).
fn record_status(span: &ActiveSpan, status: http::StatusCode, failed: bool) {
    let cx = span.context();
    let span = cx.span();
    span.set_attribute(KeyValue::new(
        HTTP_RESPONSE_STATUS_CODE,
        i64::from(status.as_u16()),
    ));
    if failed {
        span.set_attribute(KeyValue::new(ERROR_TYPE, status.as_str().to_owned()));
        span.set_status(Status::error(status.to_string()));
    }
}

#[cfg(feature = "axum")]
/// `host` and `port` of an authority such as `example.com:8080` or `[::1]:80`.
fn split_authority(authority: &str, default_port: Option<u16>) -> (String, Option<u16>) {
    if let Some(rest) = authority.strip_prefix('[') {
        if let Some((host, tail)) = rest.split_once(']') {
            let port = tail
                .strip_prefix(':')
                .and_then(|p| p.parse().ok())
                .or(default_port);
            return (host.to_owned(), port);
        }
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if port.parse::<u16>().is_ok() => (host.to_owned(), port.parse().ok()),
        _ => (authority.to_owned(), default_port),
    }
}

#[cfg(feature = "axum")]
fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "axum")]
    #[test]
    fn authorities() {
        assert_eq!(
            split_authority("example.com:8080", Some(80)),
            ("example.com".into(), Some(8080))
        );
        assert_eq!(
            split_authority("example.com", Some(80)),
            ("example.com".into(), Some(80))
        );
        assert_eq!(
            split_authority("[::1]:3000", None),
            ("::1".into(), Some(3000))
        );
        assert_eq!(
            split_authority("[::1]", Some(443)),
            ("::1".into(), Some(443))
        );
    }

    #[test]
    fn methods() {
        let mut attrs = Vec::new();
        assert_eq!(method_attributes(&http::Method::POST, &mut attrs), "POST");
        assert_eq!(attrs, vec![KeyValue::new(HTTP_REQUEST_METHOD, "POST")]);
        let mut attrs = Vec::new();
        let custom = http::Method::from_bytes(b"PURGE").unwrap();
        assert_eq!(method_attributes(&custom, &mut attrs), "HTTP");
        assert_eq!(
            attrs,
            vec![
                KeyValue::new(HTTP_REQUEST_METHOD, "_OTHER"),
                KeyValue::new(HTTP_REQUEST_METHOD_ORIGINAL, "PURGE")
            ]
        );
    }
}
