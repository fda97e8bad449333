//! The server side: a `tower` layer for axum.

use std::convert::Infallible;
use std::task::{Context as TaskContext, Poll};

use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanBuilder, SpanKind};

use super::{default_port, method_attributes, record_status, split_authority, tracer};
use crate::semconv::{
    HTTP_ROUTE, SERVER_ADDRESS, SERVER_PORT, URL_PATH, URL_SCHEME, USER_AGENT_ORIGINAL,
};
use crate::span::{self, ActiveSpan, Instrumented};

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

/// What ends the server span: the response's status.
type Finish = fn(&ActiveSpan, &Result<Response, Infallible>);

impl<S, B> tower::Service<http::Request<B>> for TracedService<S>
where
    S: tower::Service<http::Request<B>, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Instrumented<S::Future, Finish>;

    fn poll_ready(&mut self, task: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(task)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let parent = crate::propagation::extract(request.headers());
        let builder = span_builder(&request);
        let started = span::start_dynamic(&tracer(), builder, &parent);
        let inner = &mut self.inner;
        started.instrument_returned(|| inner.call(request), record_response as Finish)
    }
}

/// The span of `request`: its name and the attributes known before routing
/// runs the handler.
fn span_builder<B>(request: &http::Request<B>) -> SpanBuilder {
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
    attributes.push(KeyValue::new(URL_PATH, uri.path().to_owned()));
    if let Some(route) = route {
        attributes.push(KeyValue::new(HTTP_ROUTE, route));
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
        attributes.push(KeyValue::new(SERVER_ADDRESS, host));
        if let Some(port) = port {
            attributes.push(KeyValue::new(SERVER_PORT, i64::from(port)));
        }
    }
    attributes.push(KeyValue::new(URL_SCHEME, scheme));
    if let Some(agent) = request
        .headers()
        .get(http::header::USER_AGENT)
        .and_then(|h| h.to_str().ok())
    {
        attributes.push(KeyValue::new(USER_AGENT_ORIGINAL, agent.to_owned()));
    }
    SpanBuilder::from_name(name)
        .with_kind(SpanKind::Server)
        .with_attributes(attributes)
}

fn record_response(span: &ActiveSpan, out: &Result<Response, Infallible>) {
    let response = match out {
        Ok(response) => response,
        Err(never) => match *never {},
    };
    let status = response.status();
    record_status(span, status, status.is_server_error());
}
