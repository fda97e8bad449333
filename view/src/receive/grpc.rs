//! OTLP over gRPC: the collector's `TraceService`, `LogsService` and
//! `MetricsService`, on tonic like our exporter.
//!
//! The services are written out here rather than generated, for two
//! things the generated ones cannot do: look at the `:authority` before
//! anything else (`guard.rs`), and count an export's fields before prost
//! decodes it (`budget.rs`). An export over budget is answered
//! `RESOURCE_EXHAUSTED`, whether too large as sent, once unzipped, or in
//! fields.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::marker::PhantomData;
use std::sync::Arc;

use prost::Message as _;
use tonic::body::Body;
use tonic::codec::{CompressionEncoding, DecodeBuf, EncodeBuf};
use tonic::codegen::{BoxFuture, Service, http};
use tonic::server::NamedService;
use tonic::{Code, Status};

use super::budget::{self, MAX_MESSAGE, READ_TIMEOUT};
use super::{Logs, Metrics, Receiver, Signal, Traces};
use crate::guard::Hosts;

/// One signal's service.
struct Endpoint<S> {
    receiver: Arc<Receiver>,
    hosts: Hosts,
    signal: PhantomData<fn() -> S>,
}

impl<S> Clone for Endpoint<S> {
    fn clone(&self) -> Self {
        Endpoint {
            receiver: self.receiver.clone(),
            hosts: self.hosts,
            signal: PhantomData,
        }
    }
}

impl<S: Signal> NamedService for Endpoint<S> {
    const NAME: &'static str = S::SERVICE;
}

impl<S: Signal> Service<http::Request<Body>> for Endpoint<S> {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            if let Err(why) = this.hosts.check(request.uri(), request.headers()) {
                return Ok(Status::permission_denied(why).into_http());
            }
            if request.uri().path().strip_prefix('/') != Some(&format!("{}/Export", S::SERVICE)) {
                return Ok(Status::unimplemented("OTLP services have `Export` only").into_http());
            }
            let _turn = this.receiver.permit().await;
            let codec = Codec::<S> {
                receiver: this.receiver.clone(),
                signal: PhantomData,
            };
            let mut grpc = tonic::server::Grpc::new(codec)
                .accept_compressed(CompressionEncoding::Gzip)
                .max_decoding_message_size(MAX_MESSAGE);
            let export = Export::<S> {
                receiver: this.receiver.clone(),
                signal: PhantomData,
            };
            let Ok(mut response) =
                tokio::time::timeout(READ_TIMEOUT, grpc.unary(export, request)).await
            else {
                this.receiver.refused();
                return Ok(Status::deadline_exceeded(format!(
                    "the message did not arrive within {}s",
                    READ_TIMEOUT.as_secs()
                ))
                .into_http());
            };
            // tonic answers a message over the limit as sent with
            // `OUT_OF_RANGE` (and once unzipped with `RESOURCE_EXHAUSTED`):
            // one answer for both, the one OTLP exporters know.
            let status = response.headers().get(Status::GRPC_STATUS);
            if status.is_some_and(|s| s.as_bytes() == b"11") {
                this.receiver.refused();
                response
                    .headers_mut()
                    .insert(Status::GRPC_STATUS, (Code::ResourceExhausted as i32).into());
            }
            Ok(response)
        })
    }
}

/// The unary `Export` call itself.
struct Export<S> {
    receiver: Arc<Receiver>,
    signal: PhantomData<fn() -> S>,
}

impl<S: Signal> tonic::server::UnaryService<S::Request> for Export<S> {
    type Response = S::Response;
    type Future = Ready<Result<tonic::Response<S::Response>, Status>>;

    fn call(&mut self, request: tonic::Request<S::Request>) -> Self::Future {
        ready(Ok(tonic::Response::new(S::accept(
            &self.receiver,
            request.into_inner(),
        ))))
    }
}

/// prost, with the budget checked before decoding.
struct Codec<S> {
    receiver: Arc<Receiver>,
    signal: PhantomData<fn() -> S>,
}

impl<S: Signal> tonic::codec::Codec for Codec<S> {
    type Encode = S::Response;
    type Decode = S::Request;
    type Encoder = Encoder<S>;
    type Decoder = Codec<S>;

    fn encoder(&mut self) -> Encoder<S> {
        Encoder(PhantomData)
    }

    fn decoder(&mut self) -> Codec<S> {
        Codec {
            receiver: self.receiver.clone(),
            signal: PhantomData,
        }
    }
}

struct Encoder<S>(PhantomData<fn() -> S>);

impl<S: Signal> tonic::codec::Encoder for Encoder<S> {
    type Item = S::Response;
    type Error = Status;

    fn encode(&mut self, item: S::Response, buf: &mut EncodeBuf<'_>) -> Result<(), Status> {
        item.encode(buf)
            .map_err(|e| Status::internal(format!("the answer cannot be encoded: {e}")))
    }
}

impl<S: Signal> tonic::codec::Decoder for Codec<S> {
    type Item = S::Request;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<S::Request>, Status> {
        use prost::bytes::Buf as _;
        let body = buf.copy_to_bytes(buf.remaining());
        if let Err(why) = budget::check_protobuf(&body) {
            self.receiver.refused();
            return Err(Status::resource_exhausted(why.to_string()));
        }
        match S::Request::decode(body) {
            Ok(request) => Ok(Some(request)),
            Err(e) => {
                self.receiver.refused();
                Err(Status::invalid_argument(format!(
                    "the message is not an OTLP {}: {e}",
                    S::REQUEST
                )))
            }
        }
    }
}

/// Serves the three services on `listener` until `stop` resolves,
/// answering `hosts` only.
pub(crate) async fn serve(
    receiver: Arc<Receiver>,
    hosts: Hosts,
    listener: tokio::net::TcpListener,
    stop: impl Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    fn endpoint<S: Signal>(receiver: &Arc<Receiver>, hosts: Hosts) -> Endpoint<S> {
        Endpoint {
            receiver: receiver.clone(),
            hosts,
            signal: PhantomData,
        }
    }
    tonic::transport::Server::builder()
        .add_service(endpoint::<Traces>(&receiver, hosts))
        .add_service(endpoint::<Logs>(&receiver, hosts))
        .add_service(endpoint::<Metrics>(&receiver, hosts))
        .serve_with_incoming_shutdown(tonic::transport::server::TcpIncoming::from(listener), stop)
        .await
}
