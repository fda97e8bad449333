//! The OTLP endpoints: gRPC (`grpc.rs`) and HTTP with protobuf or JSON
//! (`http.rs`), both handing decoded spans (`convert.rs`) to the joiner.
//!
//! An export is answered as soon as its spans are in the joiner: decoding
//! happens before the lock is taken, and the lock only covers inserting
//! into a hash map, so the services are never slowed by the viewer.

pub(crate) mod convert;
pub(crate) mod grpc;
pub(crate) mod http;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use serde::Serialize;

use crate::join::Joiner;

/// Where both endpoints deliver, and how long delivering takes.
#[derive(Debug)]
pub(crate) struct Receiver {
    joiner: Arc<Mutex<Joiner>>,
    exports: AtomicU64,
    rejected_spans: AtomicU64,
    handling_ns: AtomicU64,
    handling_max_ns: AtomicU64,
}

/// How the exports went, for `/api/stats` and the load test.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct ExportStats {
    pub(crate) exports: u64,
    pub(crate) rejected_spans: u64,
    /// Mean time from a decoded request to its answer, in nanoseconds.
    pub(crate) handling_mean_ns: u64,
    pub(crate) handling_max_ns: u64,
}

impl Receiver {
    pub(crate) fn new(joiner: Arc<Mutex<Joiner>>) -> Receiver {
        Receiver {
            joiner,
            exports: AtomicU64::new(0),
            rejected_spans: AtomicU64::new(0),
            handling_ns: AtomicU64::new(0),
            handling_max_ns: AtomicU64::new(0),
        }
    }

    pub(crate) fn joiner(&self) -> MutexGuard<'_, Joiner> {
        self.joiner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Joins the spans of `request` and says which could not be read.
    pub(crate) fn accept(&self, request: ExportTraceServiceRequest) -> ExportTraceServiceResponse {
        let began = Instant::now();
        let decoded = convert::decode(request);
        self.joiner().add(decoded.spans, Instant::now());
        let took = u64::try_from(began.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.exports.fetch_add(1, Ordering::Relaxed);
        self.handling_ns.fetch_add(took, Ordering::Relaxed);
        self.handling_max_ns.fetch_max(took, Ordering::Relaxed);
        let rejected = decoded.rejected;
        if rejected == 0 {
            return ExportTraceServiceResponse::default();
        }
        self.rejected_spans
            .fetch_add(rejected.unsigned_abs(), Ordering::Relaxed);
        ExportTraceServiceResponse {
            partial_success: Some(ExportTracePartialSuccess {
                rejected_spans: rejected,
                error_message: decoded.error.unwrap_or_default(),
            }),
        }
    }

    pub(crate) fn stats(&self) -> ExportStats {
        let exports = self.exports.load(Ordering::Relaxed);
        ExportStats {
            exports,
            rejected_spans: self.rejected_spans.load(Ordering::Relaxed),
            handling_mean_ns: self
                .handling_ns
                .load(Ordering::Relaxed)
                .checked_div(exports)
                .unwrap_or(0),
            handling_max_ns: self.handling_max_ns.load(Ordering::Relaxed),
        }
    }
}
