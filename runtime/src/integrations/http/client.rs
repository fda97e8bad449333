//! The client side: `reqwest` requests in a `client` span.

use std::future::Future;

use opentelemetry::trace::{SpanBuilder, SpanKind};
use opentelemetry::{Context, KeyValue};

use super::{SITE, method_attributes, record_status, redact_query};
use crate::semconv::{SERVER_ADDRESS, SERVER_PORT, URL_FULL};
use crate::span::ActiveSpan;

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
            let started = SITE.start_dynamic(&Context::current(), || span_builder(&request));
            if let Some(cx) = started.context() {
                crate::propagation::inject_context(cx, request.headers_mut());
            }
            (request, started)
        });
        async move {
            let (request, started) = prepared?;
            started
                .instrument(client.execute(request), record_outcome)
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
            let kind = if err.is_timeout() {
                "timeout"
            } else if err.is_connect() {
                "connect"
            } else {
                "reqwest::Error"
            };
            // `error.type` says what kind of failure it was, more precisely
            // than the exception's type.
            span.record_error_as("reqwest::Error", Some(kind), describe(err), Vec::new());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
