//! Our pipeline's own OTLP/gRPC exporter: requests written straight from
//! the finished spans (`encode.rs`), sent on a tonic channel (`grpc.rs`).
//! The SDK path, and OTLP/HTTP on either pipeline, use
//! `opentelemetry-otlp`'s exporters.

mod encode;
mod grpc;
#[cfg(test)]
mod tests;

pub(crate) use grpc::GrpcSink;
