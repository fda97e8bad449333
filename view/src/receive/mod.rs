//! The OTLP endpoints: gRPC (`grpc.rs`) and HTTP with protobuf or JSON
//! (`http.rs`), for traces, logs and metrics alike ([`Signal`]). Spans
//! (`convert.rs`) and log records (`logs.rs`) go to the joiner; the
//! duration histograms (`metrics.rs`) to the RED table (`red/`), every
//! other metric is counted.
//!
//! An export is answered as soon as its spans are in the joiner: decoding
//! happens before the lock is taken, and the lock only covers inserting
//! into a hash map, so the services are never slowed by the viewer. What
//! an export may cost is checked before it is decoded (`budget.rs`), and
//! only [`budget::CONCURRENT`] are read and decoded at once.

pub(crate) mod budget;
pub(crate) mod convert;
pub(crate) mod grpc;
pub(crate) mod http;
mod logs;
mod metrics;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::join::Joiner;
use crate::red::{SERIES_MAX, Store};

/// One kind of telemetry as both endpoints receive it: its gRPC service,
/// its HTTP path, its request and answer, and what is done with it.
pub(crate) trait Signal: Send + Sync + 'static {
    /// The gRPC service's full name.
    const SERVICE: &'static str;
    /// The OTLP/HTTP path.
    const PATH: &'static str;
    /// For error messages: `ExportTraceServiceRequest`.
    const REQUEST: &'static str;
    type Request: prost::Message + Default + DeserializeOwned + Send + 'static;
    type Response: prost::Message + Serialize + Send + 'static;

    fn accept(receiver: &Receiver, request: Self::Request) -> Self::Response;
}

/// Spans.
pub(crate) struct Traces;
/// Log records.
pub(crate) struct Logs;
/// Metrics.
pub(crate) struct Metrics;

impl Signal for Traces {
    const SERVICE: &'static str = "opentelemetry.proto.collector.trace.v1.TraceService";
    const PATH: &'static str = "/v1/traces";
    const REQUEST: &'static str = "ExportTraceServiceRequest";
    type Request = ExportTraceServiceRequest;
    type Response = ExportTraceServiceResponse;

    fn accept(receiver: &Receiver, request: Self::Request) -> Self::Response {
        receiver.accept_traces(request)
    }
}

impl Signal for Logs {
    const SERVICE: &'static str = "opentelemetry.proto.collector.logs.v1.LogsService";
    const PATH: &'static str = "/v1/logs";
    const REQUEST: &'static str = "ExportLogsServiceRequest";
    type Request = ExportLogsServiceRequest;
    type Response = ExportLogsServiceResponse;

    fn accept(receiver: &Receiver, request: Self::Request) -> Self::Response {
        receiver.accept_logs(request)
    }
}

impl Signal for Metrics {
    const SERVICE: &'static str = "opentelemetry.proto.collector.metrics.v1.MetricsService";
    const PATH: &'static str = "/v1/metrics";
    const REQUEST: &'static str = "ExportMetricsServiceRequest";
    type Request = metrics::MetricsRequest;
    type Response = metrics::MetricsResponse;

    fn accept(receiver: &Receiver, request: Self::Request) -> Self::Response {
        receiver.accept_metrics(request)
    }
}

/// Where every endpoint delivers, and how delivering goes.
#[derive(Debug)]
pub(crate) struct Receiver {
    joiner: Arc<Mutex<Joiner>>,
    red: Mutex<Store>,
    permits: Semaphore,
    exports: AtomicU64,
    refused: AtomicU64,
    rejected_spans: AtomicU64,
    rejected_logs: AtomicU64,
    metrics: AtomicU64,
    metric_points: AtomicU64,
    handling_ns: AtomicU64,
    handling_max_ns: AtomicU64,
}

/// How the exports went, for `/api/stats` and the load test.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct ExportStats {
    pub(crate) exports: u64,
    /// Exports refused whole: too large, or not OTLP.
    pub(crate) refused: u64,
    pub(crate) rejected_spans: u64,
    pub(crate) rejected_logs: u64,
    /// Metrics received, of any kind (the duration histograms are kept:
    /// `/api/metrics`).
    pub(crate) metrics: u64,
    pub(crate) metric_points: u64,
    /// Mean time from a decoded request to its answer, in nanoseconds.
    pub(crate) handling_mean_ns: u64,
    pub(crate) handling_max_ns: u64,
}

impl Receiver {
    pub(crate) fn new(joiner: Arc<Mutex<Joiner>>) -> Receiver {
        Receiver {
            joiner,
            red: Mutex::new(Store::default()),
            permits: Semaphore::new(budget::CONCURRENT),
            exports: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            rejected_spans: AtomicU64::new(0),
            rejected_logs: AtomicU64::new(0),
            metrics: AtomicU64::new(0),
            metric_points: AtomicU64::new(0),
            handling_ns: AtomicU64::new(0),
            handling_max_ns: AtomicU64::new(0),
        }
    }

    pub(crate) fn joiner(&self) -> MutexGuard<'_, Joiner> {
        self.joiner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The RED table's series.
    pub(crate) fn red(&self) -> MutexGuard<'_, Store> {
        self.red.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for a turn to read and decode an export.
    pub(crate) async fn permit(&self) -> SemaphorePermit<'_> {
        self.permits
            .acquire()
            .await
            .unwrap_or_else(|_| unreachable!("the semaphore is never closed"))
    }

    /// An export refused whole, before it was decoded or because it could
    /// not be.
    pub(crate) fn refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }

    fn timed<T>(&self, f: impl FnOnce() -> T) -> T {
        let began = Instant::now();
        let out = f();
        let took = u64::try_from(began.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.exports.fetch_add(1, Ordering::Relaxed);
        self.handling_ns.fetch_add(took, Ordering::Relaxed);
        self.handling_max_ns.fetch_max(took, Ordering::Relaxed);
        out
    }

    /// Joins the spans of `request` and says which could not be read.
    fn accept_traces(&self, request: ExportTraceServiceRequest) -> ExportTraceServiceResponse {
        let (rejected, error) = self.timed(|| {
            let decoded = convert::decode(request);
            self.joiner().add(decoded.spans, Instant::now());
            (decoded.rejected, decoded.error)
        });
        if rejected == 0 {
            return ExportTraceServiceResponse::default();
        }
        self.rejected_spans
            .fetch_add(rejected.unsigned_abs(), Ordering::Relaxed);
        ExportTraceServiceResponse {
            partial_success: Some(ExportTracePartialSuccess {
                rejected_spans: rejected,
                error_message: error.unwrap_or_default(),
            }),
        }
    }

    /// Joins the log records of `request` and says which could not be read.
    fn accept_logs(&self, request: ExportLogsServiceRequest) -> ExportLogsServiceResponse {
        let (rejected, error) = self.timed(|| {
            let decoded = logs::decode(request);
            self.joiner().add_logs(decoded.logs, Instant::now());
            (decoded.rejected, decoded.error)
        });
        if rejected == 0 {
            return ExportLogsServiceResponse::default();
        }
        self.rejected_logs
            .fetch_add(rejected.unsigned_abs(), Ordering::Relaxed);
        ExportLogsServiceResponse {
            partial_success: Some(ExportLogsPartialSuccess {
                rejected_log_records: rejected,
                error_message: error.unwrap_or_default(),
            }),
        }
    }

    /// Counts the metrics of `request`, keeps its duration histograms, and
    /// says which points could not be read or kept.
    fn accept_metrics(&self, request: metrics::MetricsRequest) -> metrics::MetricsResponse {
        let (metrics, points) = request.count();
        self.metrics.fetch_add(metrics, Ordering::Relaxed);
        self.metric_points.fetch_add(points, Ordering::Relaxed);
        let (rejected, error) = self.timed(|| {
            let decoded = metrics::decode(request);
            let dropped = self
                .red()
                .add(decoded.points, decoded.rejected, Instant::now());
            let error = decoded.error.or_else(|| {
                (dropped > 0).then(|| {
                    format!(
                        "{dropped} data points of new series were dropped: traced-view keeps {SERIES_MAX} series"
                    )
                })
            });
            (decoded.rejected + dropped, error)
        });
        if rejected == 0 {
            return metrics::MetricsResponse::default();
        }
        metrics::MetricsResponse {
            partial_success: Some(metrics::PartialSuccess {
                rejected_data_points: i64::try_from(rejected).unwrap_or(i64::MAX),
                error_message: error.unwrap_or_default(),
            }),
        }
    }

    pub(crate) fn stats(&self) -> ExportStats {
        let exports = self.exports.load(Ordering::Relaxed);
        let load = |n: &AtomicU64| n.load(Ordering::Relaxed);
        ExportStats {
            exports,
            refused: load(&self.refused),
            rejected_spans: load(&self.rejected_spans),
            rejected_logs: load(&self.rejected_logs),
            metrics: load(&self.metrics),
            metric_points: load(&self.metric_points),
            handling_mean_ns: load(&self.handling_ns).checked_div(exports).unwrap_or(0),
            handling_max_ns: load(&self.handling_max_ns),
        }
    }
}
