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

use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};

use crate::pipeline::Finished;

#[cfg(feature = "otlp-grpc")]
pub(crate) use grpc::{Client as GrpcClient, GrpcSink};
#[cfg(feature = "otlp-http")]
pub(crate) use http::HttpSink;

/// The largest request we send, uncompressed: the OpenTelemetry
/// Collector's OTLP receiver, like any gRPC server, refuses a message
/// larger than 4 MiB by default (`max_recv_msg_size_mib`), and with it
/// every span of the batch. A larger batch is sent as several requests.
const MAX_REQUEST_BYTES: usize = 4 << 20;

/// What both exporters keep: the encoder, with the pipeline's resource and
/// value length limit, and whether they were shut down.
#[derive(Debug)]
struct Requests {
    encoder: encode::Encoder,
    shut_down: AtomicBool,
}

impl Requests {
    fn new() -> Self {
        Requests {
            encoder: encode::Encoder::new(None),
            shut_down: AtomicBool::new(false),
        }
    }

    /// The requests for `spans`, each small enough for a collector with
    /// its default limits; after shutdown, an error. A span too large for
    /// any request is counted and reported for `target` here.
    fn encode(
        &self,
        spans: &[Finished],
        target: &str,
    ) -> Result<Vec<(Vec<u8>, u64)>, OTelSdkError> {
        if self.shut_down.load(Ordering::Acquire) {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        let split = self.encoder.requests(spans, MAX_REQUEST_BYTES);
        if split.too_big > 0 {
            crate::export::reported::report_failed(
                split.too_big,
                target,
                &format_args!(
                    "a span encodes to more than the {} MiB a collector takes in one request",
                    MAX_REQUEST_BYTES >> 20
                ),
            );
        }
        Ok(split.requests)
    }

    /// Refuses every export from now on; a second call says so.
    fn shutdown(&self) -> OTelSdkResult {
        if self.shut_down.swap(true, Ordering::AcqRel) {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        Ok(())
    }

    fn prepare(&mut self, resource: &Resource, value_length_limit: Option<usize>) {
        self.encoder = encode::Encoder::new(value_length_limit);
        self.encoder.set_resource(resource);
    }
}
