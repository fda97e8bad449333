//! `greeter.proto` in Rust, written by hand so that the build runs no
//! protoc: the prost messages (same field numbers and types as the
//! `.proto`, so the bytes on the wire are the same), a tonic client and a
//! tonic server over a [`Greeter`] trait. `tests/grpc.rs` uses it too.
#![allow(dead_code)] // The example and each test use a different part.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// The service's full name, as in `package.Service`.
pub const SERVICE: &str = "traced.demo.Greeter";
/// The request paths, `/package.Service/Method`.
pub const SAY_HELLO: &str = "/traced.demo.Greeter/SayHello";
pub const COUNTDOWN: &str = "/traced.demo.Greeter/Countdown";
pub const FAIL: &str = "/traced.demo.Greeter/Fail";

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// `message HelloRequest { string name = 1; }`
#[derive(Clone, PartialEq, prost::Message)]
pub struct HelloRequest {
    #[prost(string, tag = "1")]
    pub name: String,
}

/// `message HelloReply { string message = 1; }`
#[derive(Clone, PartialEq, prost::Message)]
pub struct HelloReply {
    #[prost(string, tag = "1")]
    pub message: String,
}

/// `message CountdownRequest { uint32 count = 1; }`
#[derive(Clone, PartialEq, prost::Message)]
pub struct CountdownRequest {
    #[prost(uint32, tag = "1")]
    pub count: u32,
}

/// `message Tick { uint32 remaining = 1; }`
#[derive(Clone, PartialEq, prost::Message)]
pub struct Tick {
    #[prost(uint32, tag = "1")]
    pub remaining: u32,
}

/// `message FailRequest { int32 code = 1; }`
#[derive(Clone, PartialEq, prost::Message)]
pub struct FailRequest {
    #[prost(int32, tag = "1")]
    pub code: i32,
}

/// The stream `Countdown` answers with.
pub type TickStream = Pin<Box<dyn futures_lite::Stream<Item = Result<Tick, tonic::Status>> + Send>>;

/// What a Greeter server does, one method per RPC.
pub trait Greeter: Send + Sync + 'static {
    /// `rpc SayHello (HelloRequest) returns (HelloReply)`.
    fn say_hello(
        &self,
        request: tonic::Request<HelloRequest>,
    ) -> impl Future<Output = Result<tonic::Response<HelloReply>, tonic::Status>> + Send;

    /// `rpc Countdown (CountdownRequest) returns (stream Tick)`.
    fn countdown(
        &self,
        request: tonic::Request<CountdownRequest>,
    ) -> impl Future<Output = Result<tonic::Response<TickStream>, tonic::Status>> + Send;

    /// `rpc Fail (FailRequest) returns (HelloReply)`.
    fn fail(
        &self,
        request: tonic::Request<FailRequest>,
    ) -> impl Future<Output = Result<tonic::Response<HelloReply>, tonic::Status>> + Send;
}

/// A tonic service that routes the Greeter's paths to a [`Greeter`].
pub struct GreeterServer<G> {
    inner: Arc<G>,
}

impl<G> GreeterServer<G> {
    pub fn new(greeter: G) -> Self {
        GreeterServer {
            inner: Arc::new(greeter),
        }
    }
}

impl<G> Clone for GreeterServer<G> {
    fn clone(&self) -> Self {
        GreeterServer {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<G> tonic::server::NamedService for GreeterServer<G> {
    const NAME: &'static str = SERVICE;
}

/// One call into the [`Greeter`]; which method it is depends on the
/// request type tonic decodes.
struct Call<G>(Arc<G>);

impl<G: Greeter> tonic::server::UnaryService<HelloRequest> for Call<G> {
    type Response = HelloReply;
    type Future = BoxFuture<Result<tonic::Response<HelloReply>, tonic::Status>>;

    fn call(&mut self, request: tonic::Request<HelloRequest>) -> Self::Future {
        let greeter = Arc::clone(&self.0);
        Box::pin(async move { greeter.say_hello(request).await })
    }
}

impl<G: Greeter> tonic::server::UnaryService<FailRequest> for Call<G> {
    type Response = HelloReply;
    type Future = BoxFuture<Result<tonic::Response<HelloReply>, tonic::Status>>;

    fn call(&mut self, request: tonic::Request<FailRequest>) -> Self::Future {
        let greeter = Arc::clone(&self.0);
        Box::pin(async move { greeter.fail(request).await })
    }
}

impl<G: Greeter> tonic::server::ServerStreamingService<CountdownRequest> for Call<G> {
    type Response = Tick;
    type ResponseStream = TickStream;
    type Future = BoxFuture<Result<tonic::Response<TickStream>, tonic::Status>>;

    fn call(&mut self, request: tonic::Request<CountdownRequest>) -> Self::Future {
        let greeter = Arc::clone(&self.0);
        Box::pin(async move { greeter.countdown(request).await })
    }
}

impl<G, B> tower::Service<http::Request<B>> for GreeterServer<G>
where
    G: Greeter,
    B: http_body::Body + Send + 'static,
    B::Error: Into<BoxError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let call = Call(Arc::clone(&self.inner));
        match request.uri().path() {
            SAY_HELLO => Box::pin(async move {
                let codec = tonic_prost::ProstCodec::<HelloReply, HelloRequest>::default();
                Ok(tonic::server::Grpc::new(codec).unary(call, request).await)
            }),
            FAIL => Box::pin(async move {
                let codec = tonic_prost::ProstCodec::<HelloReply, FailRequest>::default();
                Ok(tonic::server::Grpc::new(codec).unary(call, request).await)
            }),
            COUNTDOWN => Box::pin(async move {
                let codec = tonic_prost::ProstCodec::<Tick, CountdownRequest>::default();
                Ok(tonic::server::Grpc::new(codec)
                    .server_streaming(call, request)
                    .await)
            }),
            // A method this service does not have.
            _ => Box::pin(async move { Ok(tonic::Status::unimplemented("").into_http()) }),
        }
    }
}

/// A Greeter client over any tonic channel (a traced one, say).
#[derive(Clone)]
pub struct GreeterClient<T> {
    inner: tonic::client::Grpc<T>,
}

impl<T> GreeterClient<T>
where
    T: tonic::client::GrpcService<tonic::body::Body>,
    T::Error: Into<BoxError>,
    T::ResponseBody: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    <T::ResponseBody as http_body::Body>::Error: Into<BoxError> + Send,
{
    pub fn new(channel: T) -> Self {
        GreeterClient {
            inner: tonic::client::Grpc::new(channel),
        }
    }

    async fn ready(&mut self) -> Result<(), tonic::Status> {
        self.inner.ready().await.map_err(|e| {
            tonic::Status::unavailable(format!("the channel is not ready: {}", e.into()))
        })
    }

    pub async fn say_hello(
        &mut self,
        request: impl tonic::IntoRequest<HelloRequest>,
    ) -> Result<tonic::Response<HelloReply>, tonic::Status> {
        self.ready().await?;
        let codec = tonic_prost::ProstCodec::<HelloRequest, HelloReply>::default();
        let path = http::uri::PathAndQuery::from_static(SAY_HELLO);
        self.inner.unary(request.into_request(), path, codec).await
    }

    pub async fn fail(
        &mut self,
        request: impl tonic::IntoRequest<FailRequest>,
    ) -> Result<tonic::Response<HelloReply>, tonic::Status> {
        self.ready().await?;
        let codec = tonic_prost::ProstCodec::<FailRequest, HelloReply>::default();
        let path = http::uri::PathAndQuery::from_static(FAIL);
        self.inner.unary(request.into_request(), path, codec).await
    }

    pub async fn countdown(
        &mut self,
        request: impl tonic::IntoRequest<CountdownRequest>,
    ) -> Result<tonic::Response<tonic::codec::Streaming<Tick>>, tonic::Status> {
        self.ready().await?;
        let codec = tonic_prost::ProstCodec::<CountdownRequest, Tick>::default();
        let path = http::uri::PathAndQuery::from_static(COUNTDOWN);
        self.inner
            .server_streaming(request.into_request(), path, codec)
            .await
    }
}
