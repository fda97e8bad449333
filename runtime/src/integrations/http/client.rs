//! The client side: `reqwest` requests in a `client` span.

use std::future::Future;

use opentelemetry::trace::{SpanBuilder, SpanKind, TraceContextExt as _};
use opentelemetry::{Context, KeyValue};

use super::{method_attributes, record_status, tracer};
use crate::semconv::{SERVER_ADDRESS, SERVER_PORT, URL_FULL};
use crate::span::{self, ActiveSpan};

/// Sends `reqwest` requests in a `client` span.
pub trait SendTraced {
    /// Sends the request in a `client` span named `{METHOD}`, with
    /// `traceparent` (and `tracestate`, `baggage`) injected. Records
    /// `http.request.method`, `url.full` (without credentials),
    /// `server.address`, `server.port`, `http.response.status_code`; a
    /// 4xx or 5xx response or a failed request sets `error.type` and
    /// status Error, as the conventions ask of clients.
    fn send_traced(self) -> impl Future<Output = reqwest::Result<reqwest::Response>> + Send;
}

impl SendTraced for reqwest::RequestBuilder {
    fn send_traced(self) -> impl Future<Output = reqwest::Result<reqwest::Response>> + Send {
        let (client, request) = self.build_split();
        let prepared = request.map(|mut request| {
            let builder = span_builder(&request);
            let started = span::start_dynamic(&tracer(), builder, &Context::current());
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
    attributes.push(KeyValue::new(URL_FULL, without_credentials(url)));
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

fn without_credentials(url: &reqwest::Url) -> String {
    let mut url = url.clone();
    if !url.username().is_empty() || url.password().is_some() {
        // Both only fail for URLs that cannot have credentials at all.
        let _ = url.set_username("REDACTED");
        let _ = url.set_password(Some("REDACTED"));
    }
    url.to_string()
}

fn record_outcome(span: &ActiveSpan, out: &reqwest::Result<reqwest::Response>) {
    match out {
        Ok(response) => {
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
            span.record_error("reqwest::Error", err.to_string(), Vec::new());
            // `error.type` says what kind of failure it was, more precisely
            // than the exception's type.
            span.context()
                .span()
                .set_attribute(KeyValue::new(crate::semconv::ERROR_TYPE, kind));
        }
    }
}
