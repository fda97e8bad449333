//! The client side: a tower layer for tonic channels.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use opentelemetry::trace::SpanKind;
use opentelemetry::{Context, KeyValue};

use super::{BoxError, SITE, Side, TracedBody, end, record_failure, span_builder, stop, with_body};
use crate::integrations::http::split_authority;
use crate::metrics::{DurationMetric, Measured};
use crate::semconv::{SERVER_ADDRESS, SERVER_PORT, attribute, metric};
use crate::span::KeepOpen;

/// `rpc.client.call.duration`: `rpc.system.name`, `rpc.method`,
/// `server.address` and `server.port` of the span (the target, which the
/// application chose), then `rpc.response.status_code` and `error.type`.
static DURATION: DurationMetric = DurationMetric::new(
    metric::RPC_CLIENT_CALL_DURATION,
    "Measures the duration of an outgoing Remote Procedure Call (RPC).",
    &[
        attribute::RPC_SYSTEM_NAME,
        attribute::RPC_METHOD,
        attribute::SERVER_ADDRESS,
        attribute::SERVER_PORT,
        attribute::RPC_RESPONSE_STATUS_CODE,
        attribute::ERROR_TYPE,
    ],
);

/// Opens a `client` span per call, named `{package.Service}/{Method}`, as a
/// child of the current context, and writes its context into the outgoing
/// metadata (`traceparent`, `tracestate`, `baggage`). The span ends when
/// the response body ends, so a streaming call's span covers the stream.
///
/// Put it in front of a `tonic::transport::Channel` and hand the result to
/// a generated client:
///
/// ```no_run
/// # use traced_runtime as traced;
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// let target = "http://127.0.0.1:50051";
/// let channel = tonic::transport::Endpoint::from_static(target).connect().await?;
/// let channel = tower::ServiceBuilder::new()
///     .layer(traced::grpc::client::TracedLayer::new().target(target))
///     .service(channel);
/// // let mut client = GreeterClient::new(channel);
/// # Ok(()) }
/// ```
///
/// Records `rpc.system.name`, `rpc.method`, `server.address` and
/// `server.port` (from [`target`](TracedLayer::target), or else from the
/// request's URI when it has an authority), and `rpc.response.status_code`.
/// Every status but `OK` sets `error.type` and status Error, as the
/// conventions ask of clients; a call that fails before a status arrives
/// (a refused connection, a reset stream) records the status tonic makes
/// of it, with an `exception` event.
///
/// The service's errors are [`tonic::Status`]es, the ones tonic's
/// generated clients would make of the channel's errors.
///
/// With tail sampling on, a `traceresponse` in the response metadata that
/// names the caller's trace as sampled (the service called keeps the
/// trace) makes this process keep its part of the trace too. With tail
/// sampling off, it is not read.
#[derive(Debug, Clone, Default)]
pub struct TracedLayer {
    target: Option<Arc<Target>>,
}

impl TracedLayer {
    /// The layer; `server.address` comes from the request's URI, if it has
    /// an authority (a channel's requests usually don't: set a
    /// [`target`](Self::target)).
    pub fn new() -> Self {
        TracedLayer::default()
    }

    /// The target the channel was made for, as given to
    /// `tonic::transport::Endpoint` (`http://host:port`) or as a gRPC target
    /// string (`host:port`, `dns:///host:port`, `unix:///path`):
    /// `server.address` and `server.port` come from it, as the conventions
    /// ask, rather than from the connection.
    pub fn target(self, target: &str) -> Self {
        TracedLayer {
            target: Some(Arc::new(parse_target(target))),
        }
    }
}

/// `server.address` and `server.port` of a target.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    address: String,
    port: Option<u16>,
}

/// A target's address and port, per gRPC's name resolution (the
/// conventions' examples): `grpc.io:50051` and `dns://1.2.3.4/grpc.io:50051`
/// → `grpc.io`, 50051; `unix:///run/x.sock` → `/run/x.sock`, no port;
/// `http(s)://host[:port]/...` → the host and the port (80 or 443 when
/// none); anything else → the whole string, no port.
fn parse_target(target: &str) -> Target {
    let target = target.trim();
    let whole = || Target {
        address: target.to_owned(),
        port: None,
    };
    let host_port = |authority: &str, default: Option<u16>| {
        let (address, port) = split_authority(authority, default);
        if address.is_empty() {
            whole()
        } else {
            Target { address, port }
        }
    };
    for (scheme, default) in [("http://", 80), ("https://", 443)] {
        if let Some(rest) = strip_prefix_ignore_case(target, scheme) {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
            // Credentials never reach an attribute.
            let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
            return host_port(authority, Some(default));
        }
    }
    if let Some(rest) = target.strip_prefix("unix:") {
        let path = rest.strip_prefix("//").unwrap_or(rest);
        return Target {
            address: path.to_owned(),
            port: None,
        };
    }
    if let Some(rest) = target.strip_prefix("dns:") {
        // `dns:[//authority/]host[:port]`: the authority is the DNS
        // server's, not the target's.
        let name = match rest.strip_prefix("//") {
            Some(with_authority) => with_authority.split_once('/').map_or("", |(_, n)| n),
            None => rest,
        };
        return host_port(name, Some(443));
    }
    if target.contains("://") || target.contains(',') {
        return whole();
    }
    // `host:port`, `[v6]:port`; more colons are another scheme's.
    if target.starts_with('[') || target.matches(':').count() == 1 {
        if let (address, Some(port)) = split_authority(target, None) {
            if !address.is_empty() {
                return Target {
                    address,
                    port: Some(port),
                };
            }
        }
    }
    whole()
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

impl<S> tower::Layer<S> for TracedLayer {
    type Service = TracedService<S>;

    fn layer(&self, inner: S) -> TracedService<S> {
        TracedService {
            inner,
            target: self.target.clone(),
        }
    }
}

/// The service [`TracedLayer`] wraps around a channel.
#[derive(Debug, Clone)]
pub struct TracedService<S> {
    inner: S,
    target: Option<Arc<Target>>,
}

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for TracedService<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Error: Into<BoxError>,
    ResBody: http_body::Body,
{
    type Response = http::Response<TracedBody<ResBody>>;
    type Error = tonic::Status;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, task: &mut TaskContext<'_>) -> Poll<Result<(), tonic::Status>> {
        self.inner
            .poll_ready(task)
            .map_err(|err| tonic::Status::from_error(err.into()))
    }

    fn call(&mut self, mut request: http::Request<ReqBody>) -> Self::Future {
        let (builder, mut attributes) =
            span_builder(request.uri().path(), SpanKind::Client, None, 2);
        let target = self.target.as_deref().cloned().or_else(|| {
            let uri = request.uri();
            uri.authority().map(|authority| {
                let default = match uri.scheme_str() {
                    Some("https") => 443,
                    _ => 80,
                };
                let (address, port) = split_authority(authority.as_str(), Some(default));
                Target { address, port }
            })
        });
        if let Some(target) = target {
            attributes.push(KeyValue::new(SERVER_ADDRESS, target.address));
            if let Some(port) = target.port {
                attributes.push(KeyValue::new(SERVER_PORT, i64::from(port)));
            }
        }
        let measured = DURATION.start_picked(&attributes);
        let started =
            SITE.start_dynamic(&Context::current(), || builder.with_attributes(attributes));
        if let Some(cx) = started.context() {
            crate::propagation::inject_context(cx, request.headers_mut());
        }
        let inner = &mut self.inner;
        ResponseFuture {
            inner: started.keep_open(|| inner.call(request)),
            measured,
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`TracedService`]: the channel's, until the response
    /// headers arrive.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: KeepOpen<F>,
        measured: Option<Measured>,
    }
}

impl<F, E, ResBody> Future for ResponseFuture<F>
where
    F: Future<Output = Result<http::Response<ResBody>, E>>,
    E: Into<BoxError>,
    ResBody: http_body::Body,
{
    type Output = Result<http::Response<TracedBody<ResBody>>, tonic::Status>;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let (out, span) = std::task::ready!(this.inner.poll(task));
        let measured = this.measured.take();
        Poll::Ready(match out {
            Ok(response) => {
                crate::integrations::trace_response::upgrade(response.headers(), span.span());
                Ok(with_body(response, span, Side::Client, measured))
            }
            Err(err) => {
                let status = tonic::Status::from_error(err.into());
                record_failure(span.span(), Side::Client, &status);
                let code = Some(status.code() as i32);
                let stopped = stop(measured, span.span(), Side::Client, code);
                end(span, stopped);
                Err(status)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(address: &str, port: Option<u16>) -> Target {
        Target {
            address: address.to_owned(),
            port,
        }
    }

    #[test]
    fn duration_is_conventional() {
        DURATION.assert_conventional();
    }

    #[test]
    fn targets_as_the_conventions_parse_them() {
        assert_eq!(
            parse_target("grpc.io:50051"),
            target("grpc.io", Some(50051))
        );
        assert_eq!(
            parse_target("dns://1.2.3.4/grpc.io:50051"),
            target("grpc.io", Some(50051))
        );
        assert_eq!(parse_target("dns:///grpc.io"), target("grpc.io", Some(443)));
        assert_eq!(
            parse_target("unix:///run/containerd/containerd.sock"),
            target("/run/containerd/containerd.sock", None)
        );
        assert_eq!(
            parse_target("unix:relative.sock"),
            target("relative.sock", None)
        );
        assert_eq!(
            parse_target("zk://zookeeper:2181/my-server"),
            target("zk://zookeeper:2181/my-server", None)
        );
        assert_eq!(
            parse_target("ipv4:198.51.100.123:50051,198.51.100.124:50051"),
            target("ipv4:198.51.100.123:50051,198.51.100.124:50051", None)
        );
        assert_eq!(
            parse_target("http://127.0.0.1:50051"),
            target("127.0.0.1", Some(50051))
        );
        assert_eq!(
            parse_target("HTTPS://user:pw@api.example/x"),
            target("api.example", Some(443))
        );
        assert_eq!(parse_target("http://[::1]:9"), target("::1", Some(9)));
        assert_eq!(parse_target("[::1]:9"), target("::1", Some(9)));
        assert_eq!(parse_target("localhost"), target("localhost", None));
        assert_eq!(parse_target(""), target("", None));
    }
}
