//! Rate, errors and duration (#29): every `#[traced]` call's duration on a
//! histogram, the integrations' request durations by the semantic
//! conventions, and the exemplars that lead from a measurement to its
//! trace.
//!
//! | file | owns |
//! | --- | --- |
//! | `provider.rs` | the meter provider the call sites and integrations record into ([`set_meter_provider`]), and the switch of the per-function histograms ([`set_function_metrics`]) |
//! | `function.rs` | one call site's histogram, bound once per provider, and the timing of one call |
//! | `request.rs` | the integrations' duration histograms (HTTP, RPC, database, messaging) |
//! | `exemplar.rs` | the exemplars: per series and bucket, the first measurement of an interval whose trace is kept, taken by the exporter |
//!
//! The aggregation is the OpenTelemetry SDK's; the exemplars are ours, as
//! the Rust SDK keeps none (opentelemetry-rust #3369): the exporter
//! (`export/metrics`, feature `init`) adds them to the OTLP request.

mod exemplar;
mod function;
mod provider;
mod request;

#[cfg_attr(
    not(any(feature = "otlp-grpc", feature = "otlp-http")),
    allow(unused_imports)
)]
pub(crate) use exemplar::{Exemplar, value_text};
#[cfg_attr(not(feature = "init"), allow(unused_imports))]
pub(crate) use exemplar::{SeriesKey, drain_exemplars};
pub(crate) use function::{FunctionMetrics, Timing};
#[cfg_attr(not(feature = "init"), allow(unused_imports))]
pub(crate) use provider::{MeterTicket, install, uninstall};
pub use provider::{set_function_metrics, set_meter_provider};
#[cfg_attr(
    not(any(
        feature = "axum",
        feature = "reqwest",
        feature = "tonic",
        feature = "rusqlite",
        feature = "sqlx",
        feature = "lapin"
    )),
    allow(unused_imports)
)]
pub(crate) use request::{DurationMetric, Measured, Stopped};

/// The histogram every `#[traced]` call records its duration in, in
/// seconds, with `code.function.name` and, when the call failed (an `Err`,
/// a panic), `error.type`. The semantic conventions have no metric for a
/// function; this one lives in `traced`'s own namespace.
pub const FUNCTION_DURATION: &str = "traced.function.duration";

/// The bucket boundaries of every duration histogram we record, in
/// seconds: the semantic conventions' advice for
/// `http.server.request.duration`, which the RPC, database and messaging
/// durations share.
pub const DURATION_BOUNDARIES: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// Held by the crate's tests that use what is process-wide here: the
/// installed meter provider, the exemplar series (drained whole), and the
/// tail-sampling registry an exemplar consults. With it they run one at a
/// time and need no retries.
#[cfg(test)]
pub(crate) fn global_test_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The bucket of `value` among [`DURATION_BOUNDARIES`], as OTLP counts
/// them: bucket `i` holds the values in `(bounds[i-1], bounds[i]]`, the
/// last one everything above the last bound.
pub(crate) fn bucket_of(value: f64) -> usize {
    DURATION_BOUNDARIES.partition_point(|&bound| bound < value)
}

#[cfg(test)]
mod tests {
    use super::bucket_of;

    #[test]
    fn buckets_are_upper_inclusive() {
        assert_eq!(bucket_of(0.0), 0);
        assert_eq!(bucket_of(0.005), 0);
        assert_eq!(bucket_of(0.0051), 1);
        assert_eq!(bucket_of(0.3), 7);
        assert_eq!(bucket_of(10.0), 13);
        assert_eq!(bucket_of(10.5), 14);
    }
}
