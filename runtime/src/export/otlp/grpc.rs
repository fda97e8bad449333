//! OTLP/gRPC for our pipeline: each batch is encoded on the export thread
//! straight from the finished spans (`encode.rs`) and sent on a tonic
//! channel as bytes, by a task on the exporters' tokio runtime.
//!
//! Written here rather than taken from `opentelemetry-otlp`, whose gRPC
//! exporter takes the SDK's `SpanData`: it clones every batch (so that a
//! retry can convert it again) and turns it into `opentelemetry-proto`'s
//! message structs before encoding, which was most of the export thread's
//! work per span. The encoded request is kept for retries instead, so a
//! retry costs no conversion at all. What stays the same as the SDK's
//! exporter: the channel (tonic over hyper, rustls for `https://`), the
//! headers, gzip, the timeout for the whole export, and retries with
//! exponential back-off on the codes the OTLP specification calls
//! retryable.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf as _, BufMut as _};
use opentelemetry::context::FutureExt as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use tonic::codec::{Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::metadata::MetadataMap;
use tonic::transport::Channel;
use tonic::{Code, Status};

use super::Requests;
use super::answer::{Answer, parse_answer};
use super::retry::Backoff;
use crate::export::reported::{delivered, report_failed, with_causes};
use crate::pipeline::{Export, Sink, Spans};

/// The method every OTLP/gRPC trace export calls.
const EXPORT: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

/// Our pipeline's OTLP/gRPC exporter.
pub(crate) struct GrpcSink {
    requests: Requests,
    client: Arc<Client>,
    runtime: tokio::runtime::Handle,
    /// The endpoint, for reports.
    target: String,
}

/// What a send needs, shared with the task that sends. The metrics
/// exporter (`export/metrics.rs`) sends on one too.
#[derive(Debug)]
pub(crate) struct Client {
    channel: Channel,
    metadata: MetadataMap,
    gzip: bool,
    /// For the whole export, retries included.
    timeout: Duration,
}

impl GrpcSink {
    /// An exporter sending on `channel` (built, with its TLS and timeout,
    /// by `init`), whose sends run on `runtime`.
    pub(crate) fn new(
        channel: Channel,
        metadata: MetadataMap,
        gzip: bool,
        timeout: Duration,
        runtime: tokio::runtime::Handle,
        target: String,
    ) -> Self {
        GrpcSink {
            requests: Requests::new(),
            client: Arc::new(Client::new(channel, metadata, gzip, timeout)),
            runtime,
            target,
        }
    }
}

impl Sink for GrpcSink {
    fn export(&self, spans: Spans) -> Export<'_> {
        let spans = spans.records();
        let requests = match self.requests.encode(&spans, &self.target) {
            Ok(requests) => requests,
            Err(err) => return Box::pin(std::future::ready(Err(err))),
        };
        // The records are freed here, on the export thread, not on the runtime.
        drop(spans);
        // One request, unless the batch was too large for one (see
        // `Requests::encode`): each is sent by a task of its own.
        let sent: Vec<_> = requests
            .into_iter()
            .map(|(body, count)| {
                let client = self.client.clone();
                let body = Arc::new(body);
                // The export thread's context, whose telemetry is
                // suppressed: what tonic and hyper might record of this
                // send is not exported.
                let task = self
                    .runtime
                    .spawn(async move { client.send(body).await }.with_current_context());
                (task, count)
            })
            .collect();
        Box::pin(async move {
            let mut result = Ok(());
            for (task, count) in sent {
                let answer = match task.await {
                    Ok(answer) => answer,
                    Err(join) => Err(Failure::Task(join.to_string())),
                };
                match answer {
                    Ok(answer) => {
                        delivered(&self.target);
                        answer.settle(count, &self.target);
                    }
                    Err(failure) => {
                        let why = failure.to_string();
                        report_failed(count, &self.target, &why);
                        if result.is_ok() {
                            result = Err(OTelSdkError::InternalFailure(why));
                        }
                    }
                }
            }
            result
        })
    }

    fn concurrent(&self) -> bool {
        // Each export is a request of its own on the shared channel.
        true
    }

    fn name(&self) -> &str {
        &self.target
    }

    fn flush(&mut self) -> OTelSdkResult {
        // Nothing is buffered here: an export has returned when its future has.
        Ok(())
    }

    fn shutdown(&mut self, _timeout: Duration) -> OTelSdkResult {
        self.requests.shutdown()
    }

    fn prepare(&mut self, resource: &Resource, value_length_limit: Option<usize>) {
        self.requests.prepare(resource, value_length_limit);
    }
}

impl Client {
    pub(crate) fn new(
        channel: Channel,
        metadata: MetadataMap,
        gzip: bool,
        timeout: Duration,
    ) -> Self {
        Client {
            channel,
            metadata,
            gzip,
            timeout,
        }
    }

    /// Sends `body`, retrying what may succeed later, within the timeout.
    async fn send(&self, body: Arc<Vec<u8>>) -> Result<Answer, Failure> {
        self.send_to(EXPORT, body).await
    }

    /// Sends `body` to the gRPC method `path` (an OTLP `Export`), retrying
    /// what may succeed later, within the timeout.
    pub(crate) async fn send_to(
        &self,
        path: &'static str,
        body: Arc<Vec<u8>>,
    ) -> Result<Answer, Failure> {
        let mut backoff = Backoff::new(self.timeout);
        loop {
            let status =
                match tokio::time::timeout(backoff.left(), self.once(path, body.clone())).await {
                    Ok(Ok(answer)) => return Ok(answer),
                    Ok(Err(status)) => status,
                    Err(_) => return Err(Failure::Timeout(self.timeout)),
                };
            if !retryable(status.code()) {
                return Err(Failure::Status(status));
            }
            match backoff.next() {
                Some(pause) => tokio::time::sleep(pause).await,
                None => return Err(Failure::Status(status)),
            }
        }
    }

    async fn once(&self, path: &'static str, body: Arc<Vec<u8>>) -> Result<Answer, Status> {
        let mut grpc = tonic::client::Grpc::new(self.channel.clone());
        if self.gzip {
            grpc = grpc.send_compressed(CompressionEncoding::Gzip);
        }
        grpc.ready().await.map_err(|err| {
            let mut status = Status::unavailable("the channel is not ready");
            status.set_source(Arc::new(err));
            status
        })?;
        let mut request = tonic::Request::new(body);
        *request.metadata_mut() = self.metadata.clone();
        let path = http::uri::PathAndQuery::from_static(path);
        grpc.unary(request, path, Raw)
            .await
            .map(tonic::Response::into_inner)
    }
}

/// The codes the OTLP specification says to retry. (`RESOURCE_EXHAUSTED`
/// only when the server says when to, in details this exporter does not
/// read: it is not retried.)
fn retryable(code: Code) -> bool {
    matches!(
        code,
        Code::Cancelled
            | Code::DeadlineExceeded
            | Code::Aborted
            | Code::OutOfRange
            | Code::Unavailable
            | Code::DataLoss
    )
}

/// Why an export failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// What the server or the transport answered.
    Status(Status),
    /// No answer within the export timeout, retries included.
    Timeout(Duration),
    /// The task sending it failed (the runtime is shutting down).
    Task(String),
}

impl std::fmt::Display for Failure {
    /// For a status: its code, and, for a failure of the transport, the
    /// causes. A server's message is left out, as `opentelemetry-otlp`
    /// does: servers echo credentials in it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Status(status) => f.write_str(&with_causes(
                format!("gRPC status {:?}", status.code()),
                std::error::Error::source(status),
            )),
            Failure::Timeout(timeout) => {
                write!(f, "no answer within the export timeout ({timeout:?})")
            }
            Failure::Task(why) => write!(f, "the task sending the export failed: {why}"),
        }
    }
}

/// The request is sent as the bytes `encode.rs` wrote; the answer is read
/// by hand (below) for its partial success.
#[derive(Clone, Copy, Debug, Default)]
struct Raw;

impl Codec for Raw {
    type Encode = Arc<Vec<u8>>;
    type Decode = Answer;
    type Encoder = Raw;
    type Decoder = Raw;

    fn encoder(&mut self) -> Raw {
        Raw
    }

    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl Encoder for Raw {
    type Item = Arc<Vec<u8>>;
    type Error = Status;

    fn encode(&mut self, item: Arc<Vec<u8>>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Answer;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Answer>, Status> {
        let bytes = src.copy_to_bytes(src.remaining());
        parse_answer(&bytes).map(Some).ok_or_else(|| {
            Status::internal("the collector's answer is not an ExportTraceServiceResponse")
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
        TraceService, TraceServiceServer,
    };
    use opentelemetry_proto::tonic::collector::trace::v1::{
        ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
    };

    use super::*;
    use crate::pipeline::Spans;

    /// Answers each export with the next code of its script (`Ok` for a
    /// success with 2 spans rejected) and keeps the requests.
    struct Scripted {
        script: Mutex<Vec<Code>>,
        requests: Arc<Mutex<Vec<ExportTraceServiceRequest>>>,
    }

    #[tonic::async_trait]
    impl TraceService for Scripted {
        async fn export(
            &self,
            request: tonic::Request<ExportTraceServiceRequest>,
        ) -> Result<tonic::Response<ExportTraceServiceResponse>, Status> {
            self.requests.lock().unwrap().push(request.into_inner());
            match self.script.lock().unwrap().remove(0) {
                Code::Ok => Ok(tonic::Response::new(ExportTraceServiceResponse {
                    partial_success: Some(ExportTracePartialSuccess {
                        rejected_spans: 2,
                        error_message: "two too many".into(),
                    }),
                })),
                code => Err(Status::new(code, "scripted")),
            }
        }
    }

    /// Exports the test spans through a `GrpcSink` to a collector on
    /// loopback that answers with `script`; returns the export's result
    /// and the requests the collector got.
    fn export_to(script: Vec<Code>) -> (OTelSdkResult, Vec<ExportTraceServiceRequest>) {
        let _counter = crate::export::reported::counter_test_lock();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let service = TraceServiceServer::new(Scripted {
            script: Mutex::new(script),
            requests: requests.clone(),
        });
        let addr = runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(
                tonic::transport::Server::builder()
                    .add_service(service)
                    .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
            );
            addr
        });
        let channel = {
            let _entered = runtime.enter();
            tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
                .unwrap()
                .connect_lazy()
        };
        let sink = GrpcSink::new(
            channel,
            MetadataMap::new(),
            false,
            Duration::from_secs(10),
            runtime.handle().clone(),
            format!("http://{addr}"),
        );
        let spans = super::super::tests::spans();
        let result = futures_executor::block_on(sink.export(Spans::Records(spans)));
        let requests = requests.lock().unwrap().clone();
        (result, requests)
    }

    #[test]
    fn unavailable_is_retried_with_the_same_request_until_it_is_taken() {
        let (result, requests) = export_to(vec![Code::Unavailable, Code::Unavailable, Code::Ok]);
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(requests.len(), 3, "one request and two retries");
        assert!(
            requests.iter().all(|r| r == &requests[0]),
            "retries resend it"
        );
        let spans: usize = requests[0].resource_spans[0]
            .scope_spans
            .iter()
            .map(|s| s.spans.len())
            .sum();
        assert_eq!(spans, 6);
    }

    #[test]
    fn a_refusal_is_not_retried() {
        let (result, requests) = export_to(vec![Code::InvalidArgument, Code::Ok]);
        assert!(
            matches!(&result, Err(OTelSdkError::InternalFailure(why)) if why == "gRPC status InvalidArgument"),
            "{result:?}"
        );
        assert_eq!(requests.len(), 1);
    }

    #[test]
    fn retries_stop_after_three() {
        let (result, requests) = export_to(vec![Code::Unavailable; 5]);
        assert!(result.is_err());
        assert_eq!(requests.len(), 4, "the first attempt and three retries");
    }

    #[test]
    fn retryable_codes_are_the_specifications() {
        assert!(retryable(Code::Unavailable));
        assert!(retryable(Code::DeadlineExceeded));
        assert!(!retryable(Code::InvalidArgument));
        assert!(!retryable(Code::Unauthenticated));
        assert!(!retryable(Code::ResourceExhausted));
    }
}
