//! HTTP instrumentation with the current HTTP semantic conventions, so that
//! users don't hand-write them.
//!
//! No header value is ever copied into an attribute except `User-Agent`:
//! `Authorization`, `Cookie` and the like stay out of spans.
// Without the `axum` and `reqwest` features only the shared helpers are
// compiled, and nothing uses them.
#![cfg_attr(
    not(any(feature = "axum", feature = "reqwest")),
    allow(dead_code, unused_imports)
)]

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use opentelemetry::trace::{
    SpanKind, Status, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, InstrumentationScope, KeyValue, global};

const METHOD: &str = "http.request.method";
const METHOD_ORIGINAL: &str = "http.request.method_original";
const STATUS_CODE: &str = "http.response.status_code";
const ERROR_TYPE: &str = "error.type";

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
            out.push(KeyValue::new(METHOD, *known));
            Cow::Borrowed(known)
        }
        None => {
            out.push(KeyValue::new(METHOD, "_OTHER"));
            out.push(KeyValue::new(METHOD_ORIGINAL, method.as_str().to_owned()));
            Cow::Borrowed("HTTP")
        }
    }
}

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

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

/// A future that keeps `cx` current while it is polled and ends the span
/// with the outcome.
struct Finish<F, R> {
    inner: Pin<Box<F>>,
    cx: Context,
    record: fn(&Context, &R),
}

impl<F, R> Future for Finish<F, R>
where
    F: Future<Output = R>,
{
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<R> {
        let this = &mut *self;
        let poll = {
            let _attached = this.cx.clone().attach();
            this.inner.as_mut().poll(task)
        };
        if let Poll::Ready(out) = &poll {
            (this.record)(&this.cx, out);
            this.cx.span().end();
        }
        poll
    }
}

/// The server side: a `tower` layer for axum.
#[cfg(feature = "axum")]
pub mod server {
    use super::*;
    use std::convert::Infallible;

    /// Opens a `server` span per request, named `{METHOD} {route}` after the
    /// matched route template (never the raw path), continuing the caller's
    /// trace from `traceparent`/`tracestate`.
    ///
    /// Add it with `Router::route_layer`, so that it runs after routing and
    /// sees the matched route:
    ///
    /// ```no_run
    /// # use traced_runtime as traced;
    /// use axum::{Router, routing::post};
    /// let app: Router = Router::new()
    ///     .route("/login", post(|| async { "ok" }))
    ///     .route_layer(traced::http::server::TracedLayer::new());
    /// ```
    ///
    /// Records `http.request.method`, `url.path`, `url.scheme`, `http.route`,
    /// `http.response.status_code`, `server.address`, `server.port`,
    /// `user_agent.original`, and for a 5xx response (not a 4xx, per the
    /// conventions) `error.type` and status Error.
    #[derive(Debug, Clone, Copy, Default)]
    pub struct TracedLayer;

    impl TracedLayer {
        /// The layer.
        pub fn new() -> Self {
            TracedLayer
        }
    }

    impl<S> tower::Layer<S> for TracedLayer {
        type Service = TracedService<S>;

        fn layer(&self, inner: S) -> TracedService<S> {
            TracedService { inner }
        }
    }

    /// The service [`TracedLayer`] wraps around yours.
    #[derive(Debug, Clone)]
    pub struct TracedService<S> {
        inner: S,
    }

    type Response = axum::response::Response;

    impl<S, B> tower::Service<http::Request<B>> for TracedService<S>
    where
        S: tower::Service<http::Request<B>, Response = Response, Error = Infallible>,
        S::Future: Send + 'static,
    {
        type Response = Response;
        type Error = Infallible;
        type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

        fn poll_ready(&mut self, task: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
            self.inner.poll_ready(task)
        }

        fn call(&mut self, request: http::Request<B>) -> Self::Future {
            let parent = crate::carrier::extract(request.headers());
            let mut attributes = Vec::with_capacity(9);
            let method = method_attributes(request.method(), &mut attributes);
            let route = request
                .extensions()
                .get::<axum::extract::MatchedPath>()
                .map(|m| m.as_str().to_owned());
            let name = match &route {
                Some(route) => format!("{method} {route}"),
                None => method.into_owned(),
            };
            let uri = request.uri();
            let scheme = uri.scheme_str().unwrap_or("http").to_owned();
            attributes.push(KeyValue::new("url.path", uri.path().to_owned()));
            if let Some(route) = route {
                attributes.push(KeyValue::new("http.route", route));
            }
            let authority = uri.authority().map(|a| a.as_str().to_owned()).or_else(|| {
                request
                    .headers()
                    .get(http::header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .map(str::to_owned)
            });
            if let Some(authority) = authority {
                let (host, port) = split_authority(&authority, default_port(&scheme));
                attributes.push(KeyValue::new("server.address", host));
                if let Some(port) = port {
                    attributes.push(KeyValue::new("server.port", i64::from(port)));
                }
            }
            attributes.push(KeyValue::new("url.scheme", scheme));
            if let Some(agent) = request
                .headers()
                .get(http::header::USER_AGENT)
                .and_then(|h| h.to_str().ok())
            {
                attributes.push(KeyValue::new("user_agent.original", agent.to_owned()));
            }
            let span = tracer()
                .span_builder(name)
                .with_kind(SpanKind::Server)
                .with_attributes(attributes)
                .start_with_context(&tracer(), &parent);
            let cx = parent.with_span(span);
            let inner = {
                let _attached = cx.clone().attach();
                self.inner.call(request)
            };
            Box::pin(Finish {
                inner: Box::pin(inner),
                cx,
                record: record_response,
            })
        }
    }

    fn record_response(cx: &Context, out: &Result<Response, Infallible>) {
        let response = match out {
            Ok(response) => response,
            Err(never) => match *never {},
        };
        let status = response.status();
        let span = cx.span();
        span.set_attribute(KeyValue::new(STATUS_CODE, i64::from(status.as_u16())));
        if status.is_server_error() {
            span.set_attribute(KeyValue::new(ERROR_TYPE, status.as_str().to_owned()));
            span.set_status(Status::error(status.to_string()));
        }
    }
}

/// The client side: `reqwest` requests in a `client` span.
#[cfg(feature = "reqwest")]
pub mod client {
    use super::*;

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
                let mut attributes = Vec::with_capacity(6);
                let method = method_attributes(request.method(), &mut attributes);
                let url = request.url();
                attributes.push(KeyValue::new("url.full", without_credentials(url)));
                if let Some(host) = url.host_str() {
                    attributes.push(KeyValue::new("server.address", host.to_owned()));
                }
                if let Some(port) = url.port_or_known_default() {
                    attributes.push(KeyValue::new("server.port", i64::from(port)));
                }
                let parent = Context::current();
                let span = tracer()
                    .span_builder(method.into_owned())
                    .with_kind(SpanKind::Client)
                    .with_attributes(attributes)
                    .start_with_context(&tracer(), &parent);
                let cx = parent.with_span(span);
                crate::carrier::inject_context(&cx, request.headers_mut());
                (request, cx)
            });
            async move {
                let (request, cx) = prepared?;
                Finish {
                    inner: Box::pin(client.execute(request)),
                    cx,
                    record: record_outcome,
                }
                .await
            }
        }
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

    fn record_outcome(cx: &Context, out: &reqwest::Result<reqwest::Response>) {
        let span = cx.span();
        match out {
            Ok(response) => {
                let status = response.status();
                span.set_attribute(KeyValue::new(STATUS_CODE, i64::from(status.as_u16())));
                if status.is_client_error() || status.is_server_error() {
                    span.set_attribute(KeyValue::new(ERROR_TYPE, status.as_str().to_owned()));
                    span.set_status(Status::error(status.to_string()));
                }
            }
            Err(err) => {
                let kind = if err.is_timeout() {
                    "timeout"
                } else if err.is_connect() {
                    "connect"
                } else {
                    "reqwest::Error"
                };
                span.set_attribute(KeyValue::new(ERROR_TYPE, kind));
                span.add_event(
                    "exception",
                    vec![
                        KeyValue::new("exception.type", "reqwest::Error"),
                        KeyValue::new("exception.message", err.to_string()),
                    ],
                );
                span.set_status(Status::error(err.to_string()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(attrs, vec![KeyValue::new(METHOD, "POST")]);
        let mut attrs = Vec::new();
        let custom = http::Method::from_bytes(b"PURGE").unwrap();
        assert_eq!(method_attributes(&custom, &mut attrs), "HTTP");
        assert_eq!(
            attrs,
            vec![
                KeyValue::new(METHOD, "_OTHER"),
                KeyValue::new(METHOD_ORIGINAL, "PURGE")
            ]
        );
    }
}
