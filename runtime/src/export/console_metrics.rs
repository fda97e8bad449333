//! `OTEL_METRICS_EXPORTER=console`: at each export, one line per histogram
//! series on stdout, with its count, errors' share when the series is a
//! failed one, mean and the exemplars' trace ids.

use std::fmt::Write as _;
use std::time::Duration;

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;

use crate::metrics::{SeriesKey, drain_exemplars};

/// Prints the histograms we record, a line per series.
#[derive(Debug, Default)]
pub(crate) struct ConsoleMetricExporter;

impl PushMetricExporter for ConsoleMetricExporter {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let text = render(metrics);
        if text.is_empty() {
            return Ok(());
        }
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|err| OTelSdkError::InternalFailure(err.to_string()))
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }

    fn temporality(&self) -> Temporality {
        // Each line tells the interval: what a reader of the terminal wants.
        Temporality::Delta
    }
}

/// The lines for `metrics`: `name{attributes} count=… mean=…ms exemplar=…`.
pub(crate) fn render(metrics: &ResourceMetrics) -> String {
    let mut exemplars = drain_exemplars();
    let mut out = String::new();
    for scope in metrics.scope_metrics() {
        for metric in scope.metrics() {
            let AggregatedMetrics::F64(MetricData::Histogram(histogram)) = metric.data() else {
                continue;
            };
            for point in histogram.data_points() {
                if point.count() == 0 {
                    continue;
                }
                let attributes: Vec<opentelemetry::KeyValue> =
                    point.attributes().cloned().collect();
                let key = SeriesKey::new(metric.name(), &attributes);
                let shown: Vec<String> = key
                    .attributes
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                #[allow(clippy::cast_precision_loss)] // a mean for people to read
                let mean_ms = point.sum() / point.count() as f64 * 1e3;
                let _ = write!(
                    out,
                    "{}{{{}}} count={} mean={mean_ms:.3}ms",
                    metric.name(),
                    shown.join(","),
                    point.count(),
                );
                if let Some(taken) = exemplars.remove(&key) {
                    let traces: Vec<String> =
                        taken.iter().map(|e| e.trace_id.to_string()).collect();
                    let _ = write!(out, " exemplars={}", traces.join(","));
                }
                out.push('\n');
            }
        }
    }
    out
}
