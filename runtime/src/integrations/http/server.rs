//! The server side: a `tower` layer for axum.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanBuilder, SpanContext, SpanKind};

use super::{
    SITE, default_port, method_attributes, protocol_version, record_status, redact_query,
    split_authority,
};
use crate::integrations::measure::Timed;
use crate::integrations::trace_response;
use crate::metrics::{DurationMetric, Measured, Stopped};
use crate::semconv::{
    CLIENT_ADDRESS, ERROR_TYPE, HTTP_RESPONSE_STATUS_CODE, HTTP_ROUTE, NETWORK_PEER_ADDRESS,
    NETWORK_PEER_PORT, NETWORK_PROTOCOL_VERSION, SERVER_ADDRESS, SERVER_PORT, URL_PATH, URL_QUERY,
    URL_SCHEME, USER_AGENT_ORIGINAL, attribute, metric,
};
use crate::span::{ActiveSpan, Instrumented};

/// `http.server.request.duration`: from the span's attributes, the method
/// (`_OTHER` for an unknown one), `url.scheme`, `http.route` (the matched
/// template: a request no route matched has none), and
/// `network.protocol.version`; then the status code and, for a 5xx,
/// `error.type`. Never `url.path`, the query, the addresses or the user
/// agent: a series per value of those would be unbounded.
static DURATION: DurationMetric = DurationMetric::new(
    metric::HTTP_SERVER_REQUEST_DURATION,
    "Duration of HTTP server requests.",
    &[
        attribute::HTTP_REQUEST_METHOD,
        attribute::URL_SCHEME,
        attribute::HTTP_ROUTE,
        attribute::NETWORK_PROTOCOL_VERSION,
        attribute::HTTP_RESPONSE_STATUS_CODE,
        attribute::ERROR_TYPE,
    ],
);

/// Opens a `server` span per request, named `{METHOD} {route}` after the
/// matched route template (never the raw path), continuing the caller's
/// trace from `traceparent`/`tracestate`.
///
/// Add it with `Router::layer`, after the routes and the fallback: every
/// request gets a span — a matched one named `{METHOD} {route}`, a 404 or
/// any other unmatched request `{METHOD}` — so a caller's trace never breaks
/// at an unknown path. (`Router::route_layer` works too, but leaves
/// unmatched requests without a span.)
///
/// ```no_run
/// # use traced_runtime as traced;
/// use axum::{Router, routing::post};
/// let app: Router = Router::new()
///     .route("/login", post(|| async { "ok" }))
///     .layer(traced::http::server::TracedLayer::new());
/// ```
///
/// Records `http.request.method` (`_OTHER` and
/// `http.request.method_original` for a method outside the known ones,
/// which `OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS` can replace), `url.path`,
/// `url.query` (signature keys such as `X-Amz-Signature` redacted),
/// `url.scheme` (the request's, or `Forwarded: proto=` /
/// `X-Forwarded-Proto`), `http.route`, `http.response.status_code`,
/// `server.address` and `server.port` (from `Host`, the port defaulting by
/// scheme), `client.address` (from `Forwarded: for=`, `X-Forwarded-For` or
/// the peer), `network.peer.address`/`port` when the app is served with
/// `into_make_service_with_connect_info::<SocketAddr>()`,
/// `network.protocol.version` and `user_agent.original`. A 5xx response
/// (not a 4xx, per the conventions) sets `error.type` and status Error.
///
/// With a meter provider installed, each request's duration goes to the
/// histogram `http.server.request.duration` with `http.request.method`,
/// `url.scheme` (`http` or `https`), `http.route` (the route template,
/// never the path), `network.protocol.version`,
/// `http.response.status_code` and, for a 5xx, `error.type`; its exemplar
/// is the request's span when the trace is kept.
///
/// With tail sampling on, a response whose trace is known to be kept in
/// this process when it goes out (a 5xx under the `errors` rule, a span of
/// the trace that ended with an error, a rule that decided already, or a
/// service called that kept it) carries the `traceresponse` header,
/// `00-<trace-id>-<span-id>-01`, so that a caller of ours keeps its part
/// of the trace too. With tail sampling off, no header is added.
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
type Finish = fn(&ActiveSpan, &(Result<Response, Infallible>, Option<Stopped>));

/// What completes the request's timing: the response's status.
type Complete = fn(&mut Measured, &Result<Response, Infallible>);

impl<S, B> tower::Service<http::Request<B>> for TracedService<S>
where
    S: tower::Service<http::Request<B>, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, task: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(task)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let parent = crate::propagation::extract(request.headers());
        // Measured, the span's attributes are built once for both.
        let (started, measured) = if DURATION.is_on() {
            let builder = span_builder(&request);
            let measured = DURATION.start(measured_attributes(&request, &builder));
            (SITE.start_dynamic(&parent, || builder), measured)
        } else {
            (SITE.start_dynamic(&parent, || span_builder(&request)), None)
        };
        let answer = trace_response::server_span(started.context());
        let inner = &mut self.inner;
        let timed = || Timed::new(inner.call(request), measured, complete as Complete);
        ResponseFuture {
            inner: started.instrument_returned(timed, record_response as Finish),
            answer,
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`TracedService`]: the handler's, in the request's
    /// span; with tail sampling on, the response says whether the trace is
    /// kept here (`traceresponse`).
    pub struct ResponseFuture<F> {
        #[pin]
        inner: Instrumented<Timed<F, Complete>, Finish>,
        answer: Option<SpanContext>,
    }
}

impl<F> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let (mut out, stopped) = std::task::ready!(this.inner.poll(task));
        // The span has ended: tail sampling has seen how, which decides
        // whether the measurement gives an exemplar. If the span completed
        // the trace's part here, the trace is decided and the answer is
        // final.
        if let Some(stopped) = stopped {
            stopped.record();
        }
        if let (Some(span), Ok(response)) = (this.answer.take(), &mut out) {
            trace_response::answer(&span, response.headers_mut());
        }
        Poll::Ready(out)
    }
}

/// The span of `request`: its name and the attributes known before the
/// handler runs.
fn span_builder<B>(request: &http::Request<B>) -> SpanBuilder {
    let mut attributes = Vec::with_capacity(14);
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
    let headers = request.headers();
    let forwarded = forwarded(headers);
    let scheme = uri
        .scheme_str()
        .map(str::to_owned)
        .or_else(|| forwarded.as_ref().and_then(|f| f.proto.clone()))
        .or_else(|| {
            header(headers, "x-forwarded-proto").map(|p| first_entry(p).to_ascii_lowercase())
        })
        .unwrap_or_else(|| "http".to_owned());
    attributes.push(KeyValue::new(URL_PATH, uri.path().to_owned()));
    if let Some(query) = uri.query() {
        attributes.push(KeyValue::new(URL_QUERY, redact_query(query).into_owned()));
    }
    if let Some(route) = route {
        attributes.push(KeyValue::new(HTTP_ROUTE, route));
    }
    let authority = uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| header(headers, "host").map(str::to_owned));
    if let Some(authority) = authority {
        let (host, port) = split_authority(&authority, default_port(&scheme));
        attributes.push(KeyValue::new(SERVER_ADDRESS, host));
        if let Some(port) = port {
            attributes.push(KeyValue::new(SERVER_PORT, i64::from(port)));
        }
    }
    attributes.push(KeyValue::new(URL_SCHEME, scheme));
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|info| info.0);
    let client = forwarded
        .and_then(|f| f.client)
        .or_else(|| {
            header(headers, "x-forwarded-for").map(|f| host_only(first_entry(f)).to_owned())
        })
        .filter(|c| !c.is_empty())
        .or_else(|| peer.map(|p| p.ip().to_string()));
    if let Some(client) = client {
        attributes.push(KeyValue::new(CLIENT_ADDRESS, client));
    }
    if let Some(peer) = peer {
        attributes.push(KeyValue::new(NETWORK_PEER_ADDRESS, peer.ip().to_string()));
        attributes.push(KeyValue::new(NETWORK_PEER_PORT, i64::from(peer.port())));
    }
    if let Some(version) = protocol_version(request.version()) {
        attributes.push(KeyValue::new(NETWORK_PROTOCOL_VERSION, version));
    }
    if let Some(agent) = header(headers, "user-agent") {
        attributes.push(KeyValue::new(USER_AGENT_ORIGINAL, agent.to_owned()));
    }
    SpanBuilder::from_name(name)
        .with_kind(SpanKind::Server)
        .with_attributes(attributes)
}

/// The attributes of `http.server.request.duration` known when `request`
/// starts: those of its span `builder`, with a `url.scheme` a header sent
/// by the client gave replaced by the request's own unless it is `http`
/// or `https`, so that no header fills the histogram with series.
fn measured_attributes<B>(request: &http::Request<B>, builder: &SpanBuilder) -> Vec<KeyValue> {
    let mut attributes = DURATION.pick(builder.attributes.as_deref().unwrap_or_default());
    for kv in &mut attributes {
        if kv.key == URL_SCHEME && !matches!(kv.value.as_str().as_ref(), "http" | "https") {
            let own = request.uri().scheme_str().unwrap_or("http").to_owned();
            *kv = KeyValue::new(URL_SCHEME, own);
        }
    }
    attributes
}

/// The first value of header `name`, when it is text.
fn header<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// The first entry of a comma-separated list (the one the first proxy
/// added: the original client's).
fn first_entry(list: &str) -> &str {
    list.split(',').next().unwrap_or("").trim()
}

/// An address without its port: `[2001:db8::1]:4711` → `2001:db8::1`,
/// `192.0.2.60:8080` → `192.0.2.60`, `2001:db8::1` as it is.
fn host_only(address: &str) -> &str {
    let address = address.trim().trim_matches('"');
    if let Some(rest) = address.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match address.rsplit_once(':') {
        // One colon: IPv4 or a name with a port. More: a bare IPv6 address.
        Some((host, port)) if !host.contains(':') && port.parse::<u16>().is_ok() => host,
        _ => address,
    }
}

/// What the first element of a `Forwarded` header (RFC 7239) says about
/// the original request.
#[derive(Debug, Default, PartialEq)]
struct Forwarded {
    client: Option<String>,
    proto: Option<String>,
}

fn forwarded(headers: &http::HeaderMap) -> Option<Forwarded> {
    header(headers, "forwarded").map(parse_forwarded)
}

fn parse_forwarded(value: &str) -> Forwarded {
    let mut out = Forwarded::default();
    for pair in first_entry(value).split(';') {
        let Some((key, val)) = pair.split_once('=') else {
            continue;
        };
        let val = val.trim().trim_matches('"');
        match key.trim().to_ascii_lowercase().as_str() {
            // `unknown` and obfuscated `_names` are not addresses.
            "for" if val != "unknown" && !val.starts_with('_') => {
                out.client = Some(host_only(val).to_owned());
            }
            "proto" if !val.is_empty() => out.proto = Some(val.to_ascii_lowercase()),
            _ => {}
        }
    }
    out
}

/// The status code, and `error.type` for a 5xx.
fn complete(measured: &mut Measured, out: &Result<Response, Infallible>) {
    let response = match out {
        Ok(response) => response,
        Err(never) => match *never {},
    };
    let status = response.status();
    measured.set(KeyValue::new(
        HTTP_RESPONSE_STATUS_CODE,
        i64::from(status.as_u16()),
    ));
    if status.is_server_error() {
        measured.set(KeyValue::new(ERROR_TYPE, status.as_str().to_owned()));
    }
}

fn record_response(span: &ActiveSpan, out: &(Result<Response, Infallible>, Option<Stopped>)) {
    let response = match &out.0 {
        Ok(response) => response,
        Err(never) => match *never {},
    };
    let status = response.status();
    record_status(span, status, status.is_server_error());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::semconv::HTTP_REQUEST_METHOD;

    #[test]
    fn duration_is_conventional_and_bounded() {
        DURATION.assert_conventional();
        let request = http::Request::builder()
            .method("PURGE")
            .uri("/users/7?token=x")
            .header("host", "api.example:8443")
            .header("x-forwarded-proto", "made-up-scheme")
            .header("user-agent", "curl/8")
            .body(())
            .unwrap();
        let builder = span_builder(&request);
        assert_eq!(
            measured_attributes(&request, &builder),
            [
                KeyValue::new(HTTP_REQUEST_METHOD, "_OTHER"),
                KeyValue::new(URL_SCHEME, "http"),
                KeyValue::new(NETWORK_PROTOCOL_VERSION, "1.1"),
            ]
        );
        let forwarded = http::Request::builder()
            .uri("/")
            .header("x-forwarded-proto", "HTTPS")
            .body(())
            .unwrap();
        let builder = span_builder(&forwarded);
        assert_eq!(
            measured_attributes(&forwarded, &builder),
            [
                KeyValue::new(HTTP_REQUEST_METHOD, "GET"),
                KeyValue::new(URL_SCHEME, "https"),
                KeyValue::new(NETWORK_PROTOCOL_VERSION, "1.1"),
            ]
        );
    }

    #[test]
    fn addresses_without_ports() {
        assert_eq!(host_only("192.0.2.60:8080"), "192.0.2.60");
        assert_eq!(host_only("\"[2001:db8::1]:4711\""), "2001:db8::1");
        assert_eq!(host_only("[2001:db8::1]"), "2001:db8::1");
        assert_eq!(host_only("2001:db8::1"), "2001:db8::1");
        assert_eq!(host_only("client.example"), "client.example");
    }

    #[test]
    fn forwarded_first_element() {
        assert_eq!(
            parse_forwarded("for=192.0.2.60;proto=HTTPS;by=203.0.113.43, for=198.51.100.17"),
            Forwarded {
                client: Some("192.0.2.60".into()),
                proto: Some("https".into())
            }
        );
        assert_eq!(
            parse_forwarded("For=\"[2001:db8:cafe::17]:4711\""),
            Forwarded {
                client: Some("2001:db8:cafe::17".into()),
                proto: None
            }
        );
        assert_eq!(parse_forwarded("for=unknown;proto=http").client, None);
        assert_eq!(parse_forwarded("for=_hidden").client, None);
        assert_eq!(parse_forwarded("garbage;;=;"), Forwarded::default());
    }
}
