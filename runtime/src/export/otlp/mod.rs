//! Our pipeline's own OTLP exporters: requests written straight from the
//! finished spans (`encode.rs`), sent over gRPC on a tonic channel
//! (`grpc.rs`) or posted as protobuf over HTTP (`http.rs`), retried alike
//! (`retry.rs`), the collector's answer read alike (`answer.rs`). The SDK
//! path, and `http/json` on either pipeline, use `opentelemetry-otlp`'s
//! exporters.

mod answer;
mod encode;
#[cfg(feature = "otlp-grpc")]
mod grpc;
#[cfg(feature = "otlp-http")]
mod http;
mod retry;
#[cfg(test)]
mod tests;

#[cfg(feature = "otlp-grpc")]
pub(crate) use grpc::GrpcSink;
#[cfg(feature = "otlp-http")]
pub(crate) use http::HttpSink;
