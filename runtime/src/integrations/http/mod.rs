//! HTTP instrumentation with the current HTTP semantic conventions, so that
//! users don't hand-write them.
//!
//! No header value is ever copied into an attribute except `User-Agent`:
//! `Authorization`, `Cookie` and the like stay out of spans.
//!
//! Both sides start their span through `CallSite::start_dynamic` and
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
use std::sync::OnceLock;

use opentelemetry::KeyValue;
use opentelemetry::trace::{Status, TraceContextExt as _};

use crate::semconv::{
    ERROR_TYPE, HTTP_REQUEST_METHOD, HTTP_REQUEST_METHOD_ORIGINAL, HTTP_RESPONSE_STATUS_CODE,
};
use crate::span::ActiveSpan;

/// Where both sides start their spans: the scope `traced`, the tracer
/// cached per provider.
pub(super) static SITE: crate::span::CallSite = crate::span::CallSite::integration();

/// Overrides the methods the instrumentation knows (comma-separated,
/// case-sensitive), replacing the default list, as the HTTP semantic
/// conventions specify.
pub(crate) const OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS: &str =
    "OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS";
/// The methods known without `OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS`:
/// RFC 9110's, `PATCH` (RFC 5789) and `QUERY`.
const KNOWN_METHODS_DEFAULT: [&str; 10] = [
    "CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY", "TRACE",
];

/// The known methods, read once from the environment.
fn known_methods() -> &'static [String] {
    static KNOWN: OnceLock<Vec<String>> = OnceLock::new();
    KNOWN.get_or_init(|| {
        known_methods_from(
            std::env::var(OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS)
                .ok()
                .as_deref(),
        )
    })
}

fn known_methods_from(value: Option<&str>) -> Vec<String> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .collect(),
        None => KNOWN_METHODS_DEFAULT
            .iter()
            .map(|m| (*m).to_owned())
            .collect(),
    }
}

/// The method as the conventions want it: known methods as they are, any
/// other as `_OTHER` (with the original kept in `http.request.method_original`).
/// Returns the span name's method part: the method, or `HTTP` for `_OTHER`.
fn method_attributes(method: &http::Method, out: &mut Vec<KeyValue>) -> Cow<'static, str> {
    method_attributes_in(method, known_methods(), out)
}

fn method_attributes_in(
    method: &http::Method,
    known: &[String],
    out: &mut Vec<KeyValue>,
) -> Cow<'static, str> {
    if known.iter().any(|m| m == method.as_str()) {
        out.push(KeyValue::new(
            HTTP_REQUEST_METHOD,
            method.as_str().to_owned(),
        ));
        Cow::Owned(method.as_str().to_owned())
    } else {
        out.push(KeyValue::new(HTTP_REQUEST_METHOD, "_OTHER"));
        out.push(KeyValue::new(
            HTTP_REQUEST_METHOD_ORIGINAL,
            method.as_str().to_owned(),
        ));
        Cow::Borrowed("HTTP")
    }
}

use crate::redact::SENSITIVE_QUERY_KEYS;

/// `query` with the values of [`SENSITIVE_QUERY_KEYS`], and of parameters
/// whose names mark secrets (`token`, `api_key`, ...), replaced by
/// `REDACTED`; everything else as it was.
fn redact_query(query: &str) -> Cow<'_, str> {
    let sensitive = |pair: &str| {
        let key = pair.split_once('=').map_or(pair, |(k, _)| k);
        (SENSITIVE_QUERY_KEYS.contains(&key) || crate::redact::is_secret(key)) && pair.contains('=')
    };
    if !query.split('&').any(sensitive) {
        return Cow::Borrowed(query);
    }
    let pairs: Vec<Cow<'_, str>> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if sensitive(pair) => Cow::Owned(format!("{key}=REDACTED")),
            _ => Cow::Borrowed(pair),
        })
        .collect();
    Cow::Owned(pairs.join("&"))
}

/// Records the response status; `failed` says whether it is an error for
/// this side (5xx for servers; 4xx and 5xx for clients). The status
/// description stays empty: the status code says it all.
fn record_status(span: &ActiveSpan, status: http::StatusCode, failed: bool) {
    let cx = span.context();
    let span = cx.span();
    span.set_attribute(KeyValue::new(
        HTTP_RESPONSE_STATUS_CODE,
        i64::from(status.as_u16()),
    ));
    if failed {
        span.set_attribute(KeyValue::new(ERROR_TYPE, status.as_str().to_owned()));
        span.set_status(Status::error(""));
    }
}

/// `network.protocol.version` of an HTTP version: on both sides' spans
/// and duration histograms.
fn protocol_version(version: http::Version) -> Option<&'static str> {
    Some(match version {
        http::Version::HTTP_09 => "0.9",
        http::Version::HTTP_10 => "1.0",
        http::Version::HTTP_11 => "1.1",
        http::Version::HTTP_2 => "2",
        http::Version::HTTP_3 => "3",
        _ => return None,
    })
}

/// `host` and `port` of an authority such as `example.com:8080` or `[::1]:80`.
#[cfg(any(feature = "axum", feature = "tonic"))]
pub(crate) fn split_authority(authority: &str, default_port: Option<u16>) -> (String, Option<u16>) {
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

#[cfg(any(feature = "axum", feature = "tonic"))]
pub(crate) fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(any(feature = "axum", feature = "tonic"))]
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
    fn query_keeps_all_but_signatures() {
        assert_eq!(redact_query("q=rust&page=2"), "q=rust&page=2");
        assert_eq!(
            redact_query(
                "X-Amz-Signature=abc&X-Amz-Credential=me%2F1&x=1&sig=s&X-Goog-Signature=g&X-Amz-Security-Token=t"
            ),
            "X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED&x=1&sig=REDACTED&X-Goog-Signature=REDACTED&X-Amz-Security-Token=REDACTED"
        );
        // Case-sensitive, as the conventions ask; a key without a value
        // has nothing to redact.
        assert_eq!(
            redact_query("SIG=1&signature=2&sig"),
            "SIG=1&signature=2&sig"
        );
        assert_eq!(redact_query(""), "");
        // Parameters whose names mark secrets, by whole segment.
        assert_eq!(
            redact_query("access_token=abc&page=1&author=me"),
            "access_token=REDACTED&page=1&author=me"
        );
    }

    #[test]
    fn known_methods_default_and_override() {
        let default = known_methods_from(None);
        assert!(default.iter().any(|m| m == "QUERY"), "{default:?}");
        let query = http::Method::from_bytes(b"QUERY").unwrap();
        let mut attrs = Vec::new();
        assert_eq!(method_attributes_in(&query, &default, &mut attrs), "QUERY");
        assert_eq!(attrs, vec![KeyValue::new(HTTP_REQUEST_METHOD, "QUERY")]);

        // The variable replaces the list rather than adding to it.
        let custom = known_methods_from(Some(" GET, PURGE ,"));
        assert_eq!(custom, vec!["GET".to_owned(), "PURGE".to_owned()]);
        let purge = http::Method::from_bytes(b"PURGE").unwrap();
        let mut attrs = Vec::new();
        assert_eq!(method_attributes_in(&purge, &custom, &mut attrs), "PURGE");
        let mut attrs = Vec::new();
        assert_eq!(
            method_attributes_in(&http::Method::POST, &custom, &mut attrs),
            "HTTP"
        );
        assert_eq!(
            attrs,
            vec![
                KeyValue::new(HTTP_REQUEST_METHOD, "_OTHER"),
                KeyValue::new(HTTP_REQUEST_METHOD_ORIGINAL, "POST")
            ]
        );
        // An empty value is unset.
        assert_eq!(known_methods_from(Some("  ")), default);
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
