//! The server side: a tower layer for tonic servers.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanContext, SpanKind};

use super::{BoxError, SITE, Side, TracedBody, end, record_code, span_builder, stop, with_body};
use crate::integrations::http::{default_port, split_authority};
use crate::integrations::measure::exemplar_span;
use crate::integrations::trace_response;
use crate::metrics::{DurationMetric, Measured};
use crate::semconv::{ERROR_TYPE, SERVER_ADDRESS, SERVER_PORT, attribute, metric};
use crate::span::KeepOpen;

/// `rpc.server.call.duration`: `rpc.system.name` and `rpc.method` of the
/// span, then `rpc.response.status_code` and `error.type`. Not the
/// server's address and port, opt-in in the conventions: they come from
/// the caller's `:authority`.
static DURATION: DurationMetric = DurationMetric::new(
    metric::RPC_SERVER_CALL_DURATION,
    "Measures the duration of an incoming Remote Procedure Call (RPC).",
    &[
        attribute::RPC_SYSTEM_NAME,
        attribute::RPC_METHOD,
        attribute::RPC_RESPONSE_STATUS_CODE,
        attribute::ERROR_TYPE,
    ],
);

/// Opens a `server` span per call, named `{package.Service}/{Method}`,
/// continuing the caller's trace from the `traceparent`/`tracestate`
/// metadata (through the propagators `traced::init` installed). The span
/// is current while the handler runs, and while a streaming response's
/// messages are produced; it ends when the response body ends.
///
/// ```no_run
/// # use traced_runtime as traced;
/// # async fn f(routes: tonic::service::Routes) -> Result<(), tonic::transport::Error> {
/// tonic::transport::Server::builder()
///     .layer(traced::grpc::server::TracedLayer::new())
///     .add_routes(routes)
///     .serve("127.0.0.1:50051".parse().unwrap())
///     .await
/// # }
/// ```
///
/// Records `rpc.system.name`, `rpc.method`, `server.address` and
/// `server.port` (from the request's `:authority`), and
/// `rpc.response.status_code`. `UNKNOWN`, `DEADLINE_EXCEEDED`,
/// `UNIMPLEMENTED`, `INTERNAL`, `UNAVAILABLE` and `DATA_LOSS` set
/// `error.type` and status Error; the other codes are the caller's
/// business and leave the status unset. See [the module](super).
///
/// With tail sampling on, a response whose trace is known to be kept in
/// this process when its headers go out (an error status in a
/// trailers-only response under the `errors` rule, a span of the trace
/// that ended with an error, a rule that decided already, or a service
/// called that kept it) carries `traceresponse` in its metadata, so that
/// a caller of ours keeps its part of the trace too. An error that comes
/// only in the trailers of a stream is too late for it. With tail sampling
/// off, nothing is added.
///
/// A layer sees requests before tonic's router does, so it cannot tell a
/// method the server implements from one it does not (tonic answers those
/// with `UNIMPLEMENTED`): every well-formed path is recorded as the method
/// it names. Give the layer [`known`](TracedLayer::known) services or
/// methods and any other is recorded as the conventions ask for an
/// unrecognised method: `rpc.method` = `_OTHER`, `rpc.method_original`,
/// the span named `grpc`, so a caller cannot fill a dashboard with made-up
/// method names.
#[derive(Debug, Clone, Default)]
pub struct TracedLayer {
    known: Option<Arc<[String]>>,
}

impl TracedLayer {
    /// The layer.
    pub fn new() -> Self {
        TracedLayer::default()
    }

    /// The services (`package.Service`, e.g. a generated server's
    /// `NamedService::NAME`) and methods (`package.Service/Method`) this
    /// server implements; calls to anything else are `_OTHER`.
    pub fn known<I, S>(self, known: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        TracedLayer {
            known: Some(known.into_iter().map(Into::into).collect()),
        }
    }
}

impl<S> tower::Layer<S> for TracedLayer {
    type Service = TracedService<S>;

    fn layer(&self, inner: S) -> TracedService<S> {
        TracedService {
            inner,
            known: self.known.clone(),
        }
    }
}

/// The service [`TracedLayer`] wraps around yours.
#[derive(Debug, Clone)]
pub struct TracedService<S> {
    inner: S,
    known: Option<Arc<[String]>>,
}

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for TracedService<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Error: Into<BoxError>,
    ResBody: http_body::Body,
{
    type Response = http::Response<TracedBody<ResBody>>;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future, S::Error>;

    fn poll_ready(&mut self, task: &mut TaskContext<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(task).map_err(Into::into)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let parent = crate::propagation::extract(request.headers());
        let (builder, mut attributes) = span_builder(
            request.uri().path(),
            SpanKind::Server,
            self.known.as_deref(),
            2,
        );
        let uri = request.uri();
        let authority = uri.authority().map(|a| a.as_str().to_owned()).or_else(|| {
            request
                .headers()
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned)
        });
        if let Some(authority) = authority {
            let (host, port) =
                split_authority(&authority, default_port(uri.scheme_str().unwrap_or("http")));
            attributes.push(KeyValue::new(SERVER_ADDRESS, host));
            if let Some(port) = port {
                attributes.push(KeyValue::new(SERVER_PORT, i64::from(port)));
            }
        }
        let measured = DURATION.start_picked(&attributes);
        let started = SITE.start_dynamic(&parent, || builder.with_attributes(attributes));
        let answer = trace_response::server_span(started.context());
        let inner = &mut self.inner;
        ResponseFuture {
            inner: started.keep_open(|| inner.call(request)),
            answer,
            measured,
            _error: std::marker::PhantomData,
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`TracedService`]: the handler's, with the span
    /// current while it runs.
    pub struct ResponseFuture<F, E> {
        #[pin]
        inner: KeepOpen<F>,
        answer: Option<SpanContext>,
        measured: Option<Measured>,
        _error: std::marker::PhantomData<fn() -> E>,
    }
}

impl<F, E, ResBody> Future for ResponseFuture<F, E>
where
    F: Future<Output = Result<http::Response<ResBody>, E>>,
    E: Into<BoxError>,
    ResBody: http_body::Body,
{
    type Output = Result<http::Response<TracedBody<ResBody>>, BoxError>;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let (out, span) = std::task::ready!(this.inner.poll(task));
        Poll::Ready(match out {
            Ok(response) => {
                // A trailers-only response ends the span here, so an error
                // status is in the hold before the headers go out.
                let mut response = with_body(response, span, Side::Server, this.measured.take());
                if let Some(span) = this.answer.take() {
                    trace_response::answer(&span, response.headers_mut());
                }
                Ok(response)
            }
            Err(err) => {
                let err: BoxError = err.into();
                // tonic answers a `Status` error with that status; anything
                // else is an error of the service's own.
                let measured = this.measured.take();
                let stopped = match err.downcast_ref::<tonic::Status>() {
                    Some(status) => {
                        let code = status.code() as i32;
                        record_code(span.span(), Side::Server, code);
                        stop(measured, span.span(), Side::Server, Some(code))
                    }
                    None => {
                        if span.span().is_recording() {
                            span.span().record_error_as(
                                std::any::type_name::<E>(),
                                None,
                                err.to_string(),
                                Vec::new(),
                            );
                        }
                        measured.map(|mut measured| {
                            measured.set(KeyValue::new(ERROR_TYPE, std::any::type_name::<E>()));
                            measured.stop(exemplar_span(span.span()))
                        })
                    }
                };
                end(span, stopped);
                Err(err)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_is_conventional_and_bounded() {
        DURATION.assert_conventional();
        let known = vec!["a.Svc".to_owned()];
        let (_, attributes) = span_builder("/b.Made/Up", SpanKind::Server, Some(&known), 0);
        // `rpc.method_original` (what the caller sent) stays on the span.
        assert_eq!(
            DURATION.pick(&attributes),
            [
                KeyValue::new(crate::semconv::RPC_SYSTEM_NAME, "grpc"),
                KeyValue::new(crate::semconv::RPC_METHOD, "_OTHER"),
            ]
        );
    }
}
