//! OTLP over gRPC: the collector's `TraceService`, on tonic like our
//! exporter.

use std::sync::Arc;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tonic::codec::CompressionEncoding;

use super::Receiver;

/// Largest export accepted, decoded; the SDKs' batches are far smaller.
pub(crate) const MAX_MESSAGE: usize = 64 * 1024 * 1024;

struct Service(Arc<Receiver>);

#[tonic::async_trait]
impl TraceService for Service {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        Ok(tonic::Response::new(self.0.accept(request.into_inner())))
    }
}

/// Serves `TraceService` on `listener` until `stop` resolves.
pub(crate) async fn serve(
    receiver: Arc<Receiver>,
    listener: tokio::net::TcpListener,
    stop: impl Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    let service = TraceServiceServer::new(Service(receiver))
        .accept_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(MAX_MESSAGE);
    tonic::transport::Server::builder()
        .add_service(service)
        .serve_with_incoming_shutdown(tonic::transport::server::TcpIncoming::from(listener), stop)
        .await
}
