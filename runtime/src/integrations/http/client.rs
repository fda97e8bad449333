//! The client side: `reqwest` requests in a `client` span.

use std::future::Future;

use opentelemetry::trace::{SpanBuilder, SpanKind};
use opentelemetry::{Context, KeyValue};

use super::{SITE, method_attributes, protocol_version, record_status, redact_query};
use crate::integrations::measure::instrument_measured;
use crate::metrics::{DurationMetric, Measured};
use crate::semconv::{
    ERROR_TYPE, HTTP_RESPONSE_STATUS_CODE, NETWORK_PROTOCOL_VERSION, SERVER_ADDRESS, SERVER_PORT,
    URL_FULL, attribute, metric,
};
use crate::span::ActiveSpan;

/// `http.client.request.duration`: from the span's attributes, the method
/// (`_OTHER` for an unknown one), `server.address` and `server.port`; then
/// the status code, `network.protocol.version` of the response, and
/// `error.type` for a 4xx, a 5xx or a failed request. Never the URL.
static DURATION: DurationMetric = DurationMetric::new(
    metric::HTTP_CLIENT_REQUEST_DURATION,
    "Duration of HTTP client requests.",
    &[
        attribute::HTTP_REQUEST_METHOD,
        attribute::SERVER_ADDRESS,
        attribute::SERVER_PORT,
        attribute::HTTP_RESPONSE_STATUS_CODE,
        attribute::NETWORK_PROTOCOL_VERSION,
        attribute::ERROR_TYPE,
    ],
);

/// Sends `reqwest` requests in a `client` span.
pub trait SendTraced {
    /// Sends the request in a `client` span named `{METHOD}`, with
    /// `traceparent` (and `tracestate`, `baggage`) injected. Records
    /// `http.request.method`, `url.full` (credentials and signature query
    /// values redacted), `server.address`, `server.port`,
    /// `http.response.status_code`; a 4xx or 5xx response or a failed
    /// request sets `error.type` and status Error, as the conventions ask
    /// of clients. A failed request's exception message and status say
    /// what failed and why, without the URL.
    ///
    /// With a meter provider installed, the request's duration goes to
    /// the histogram `http.client.request.duration` with
    /// `http.request.method`, `server.address`, `server.port`,
    /// `http.response.status_code`, `network.protocol.version` and, for a
    /// 4xx, a 5xx or a failure, `error.type` (the status code, or
    /// `timeout`, `connect`, `reqwest::Error`).
    ///
    /// With tail sampling on, a `traceresponse` header in the response
    /// that names the caller's trace as sampled (the service called keeps
    /// the trace) makes this process keep its part of the trace too.
    /// With tail sampling off, the header is not read.
    fn send_traced(self) -> impl Future<Output = reqwest::Result<reqwest::Response>> + Send;
}

impl SendTraced for reqwest::RequestBuilder {
    fn send_traced(self) -> impl Future<Output = reqwest::Result<reqwest::Response>> + Send {
        let (client, request) = self.build_split();
        let prepared = request.map(|mut request| {
            // Measured, the span's attributes are built once for both.
            let (started, measured) = if DURATION.is_on() {
                let builder = span_builder(&request);
                let measured =
                    DURATION.start_picked(builder.attributes.as_deref().unwrap_or_default());
                (
                    SITE.start_dynamic(&Context::current(), || builder),
                    measured,
                )
            } else {
                let started = SITE.start_dynamic(&Context::current(), || span_builder(&request));
                (started, None)
            };
            if let Some(cx) = started.context() {
                crate::propagation::inject_context(cx, request.headers_mut());
            }
            (request, started, measured)
        });
        async move {
            let (request, started, measured) = prepared?;
            instrument_measured(
                started,
                client.execute(request),
                measured,
                complete,
                record_outcome,
            )
            .await
        }
    }
}

fn span_builder(request: &reqwest::Request) -> SpanBuilder {
    let mut attributes = Vec::with_capacity(6);
    let method = method_attributes(request.method(), &mut attributes);
    let url = request.url();
    attributes.push(KeyValue::new(URL_FULL, redacted_url(url)));
    if let Some(host) = url.host_str() {
        attributes.push(KeyValue::new(SERVER_ADDRESS, host.to_owned()));
    }
    if let Some(port) = url.port_or_known_default() {
        attributes.push(KeyValue::new(SERVER_PORT, i64::from(port)));
    }
    SpanBuilder::from_name(method.into_owned())
        .with_kind(SpanKind::Client)
        .with_attributes(attributes)
}

/// `url.full` as the conventions want it: credentials replaced by
/// `REDACTED:REDACTED`, and the values of signature query keys by
/// `REDACTED`.
fn redacted_url(url: &reqwest::Url) -> String {
    let mut url = url.clone();
    if !url.username().is_empty() || url.password().is_some() {
        // Both only fail for URLs that cannot have credentials at all.
        let _ = url.set_username("REDACTED");
        let _ = url.set_password(Some("REDACTED"));
    }
    if let Some(query) = url.query() {
        if let std::borrow::Cow::Owned(redacted) = redact_query(query) {
            url.set_query(Some(&redacted));
        }
    }
    url.to_string()
}

/// What went wrong, without the URL: `reqwest`'s own message names the
/// full URL, credentials and signed query included, which must not reach
/// the exception or the status.
fn describe(err: &reqwest::Error) -> String {
    let what = if err.is_timeout() {
        "the request timed out"
    } else if err.is_connect() {
        "the connection failed"
    } else if err.is_redirect() {
        "too many redirects"
    } else if err.is_body() || err.is_decode() {
        "reading the response failed"
    } else if err.is_builder() {
        "the request could not be built"
    } else {
        "the request failed"
    };
    let mut message = what.to_owned();
    for cause in crate::kind::outcome::sources(std::error::Error::source(err)) {
        message.push_str(": ");
        message.push_str(&cause.to_string());
    }
    // Belt and braces: a cause that quotes the URL gets the redacted one.
    if let Some(url) = err.url() {
        message = message.replace(url.as_str(), &redacted_url(url));
    }
    message
}

fn record_outcome(span: &ActiveSpan, out: &reqwest::Result<reqwest::Response>) {
    match out {
        Ok(response) => {
            crate::integrations::trace_response::upgrade(response.headers(), span);
            let status = response.status();
            record_status(
                span,
                status,
                status.is_client_error() || status.is_server_error(),
            );
        }
        Err(err) => {
            // `error.type` says what kind of failure it was, more precisely
            // than the exception's type.
            span.record_error_as(
                "reqwest::Error",
                Some(error_kind(err)),
                describe(err),
                Vec::new(),
            );
        }
    }
}

/// The `error.type` of a failed request.
fn error_kind(err: &reqwest::Error) -> &'static str {
    if err.is_timeout() {
        "timeout"
    } else if err.is_connect() {
        "connect"
    } else {
        "reqwest::Error"
    }
}

/// Completes the request's timing: the response's status and protocol
/// version, or the failure's kind.
fn complete(measured: &mut Measured, out: &reqwest::Result<reqwest::Response>) {
    match out {
        Ok(response) => {
            let status = response.status();
            measured.set(KeyValue::new(
                HTTP_RESPONSE_STATUS_CODE,
                i64::from(status.as_u16()),
            ));
            if let Some(version) = protocol_version(response.version()) {
                measured.set(KeyValue::new(NETWORK_PROTOCOL_VERSION, version));
            }
            if status.is_client_error() || status.is_server_error() {
                measured.set(KeyValue::new(ERROR_TYPE, status.as_str().to_owned()));
            }
        }
        Err(err) => measured.set(KeyValue::new(ERROR_TYPE, error_kind(err))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_is_conventional_and_bounded() {
        DURATION.assert_conventional();
        let client = reqwest::Client::new();
        let request = client
            .get("https://user:pw@api.example/users/7?token=x")
            .build()
            .unwrap();
        let builder = span_builder(&request);
        assert_eq!(
            DURATION.pick(builder.attributes.as_deref().unwrap_or_default()),
            [
                KeyValue::new(crate::semconv::HTTP_REQUEST_METHOD, "GET"),
                KeyValue::new(SERVER_ADDRESS, "api.example"),
                KeyValue::new(SERVER_PORT, 443_i64),
            ]
        );
    }

    #[test]
    fn url_full_hides_credentials_and_signatures() {
        let url = reqwest::Url::parse(
            "https://user:pass@bucket.example/obj?X-Amz-Signature=abc&part=1&sig=zz",
        )
        .unwrap();
        assert_eq!(
            redacted_url(&url),
            "https://REDACTED:REDACTED@bucket.example/obj?X-Amz-Signature=REDACTED&part=1&sig=REDACTED"
        );
        let plain = reqwest::Url::parse("http://127.0.0.1:8080/users/42?x=1").unwrap();
        assert_eq!(redacted_url(&plain), "http://127.0.0.1:8080/users/42?x=1");
    }
}
