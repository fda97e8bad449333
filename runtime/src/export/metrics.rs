//! The metrics exporters `init` installs (#29): OTLP with our exemplars,
//! and the console.
//!
//! The SDK aggregates; its data points cannot be given exemplars from
//! outside (their fields are private, and the Rust SDK keeps none, #3369).
//! So the OTLP exporter turns the SDK's `ResourceMetrics` into the OTLP
//! request with `opentelemetry-proto`'s conversion, adds to each histogram
//! data point the exemplars taken for its series since the last export
//! (`metrics/exemplar.rs`), and sends the request on the traces' transport:
//! our gRPC client, or our HTTP client for `http/protobuf`.
//! (`http/json` uses `opentelemetry-otlp`'s exporter, without exemplars.)

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, UNIX_EPOCH};

use opentelemetry::Value;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{Exemplar as ProtoExemplar, exemplar, metric};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use prost::Message as _;

use crate::metrics::{Exemplar, SeriesKey, drain_exemplars};

/// The gRPC method of an OTLP metrics export.
#[cfg(feature = "otlp-grpc")]
const EXPORT: &str = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";

/// How a request goes out.
enum Transport {
    #[cfg(feature = "otlp-grpc")]
    Grpc {
        client: Arc<super::otlp::GrpcClient>,
        runtime: tokio::runtime::Handle,
    },
    #[cfg(feature = "otlp-http")]
    Http(Arc<super::otlp::HttpSink>),
}

/// OTLP metrics with exemplars, over gRPC or `http/protobuf`.
pub(crate) struct OtlpMetricExporter {
    transport: Transport,
    temporality: Temporality,
    target: String,
    shut_down: AtomicBool,
    /// Whether the last export failed: a failure is told once per outage,
    /// and the recovery once, as for spans.
    failing: AtomicBool,
    /// The spans go to the same collector: when it cannot be reached, their
    /// exporter's line says so, and this one keeps quiet.
    same_collector_as_spans: bool,
}

/// Whether a metrics export failed and none succeeded since: a failed
/// shutdown of the meter provider then has nothing new to say.
static FAILING: AtomicBool = AtomicBool::new(false);

/// Whether the last metrics export failed (see [`FAILING`]).
pub(crate) fn failing() -> bool {
    FAILING.load(Ordering::Relaxed)
}

impl std::fmt::Debug for OtlpMetricExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtlpMetricExporter")
            .field("target", &self.target)
            .field("temporality", &self.temporality)
            .finish_non_exhaustive()
    }
}

impl OtlpMetricExporter {
    /// Over gRPC on `client`, whose sends run on `runtime`.
    #[cfg(feature = "otlp-grpc")]
    pub(crate) fn grpc(
        client: super::otlp::GrpcClient,
        runtime: tokio::runtime::Handle,
        temporality: Temporality,
        target: String,
    ) -> Self {
        OtlpMetricExporter {
            transport: Transport::Grpc {
                client: Arc::new(client),
                runtime,
            },
            temporality,
            target,
            shut_down: AtomicBool::new(false),
            failing: AtomicBool::new(false),
            same_collector_as_spans: false,
        }
    }

    /// Over HTTP, posting protobuf to the sink's endpoint (`/v1/metrics`).
    #[cfg(feature = "otlp-http")]
    pub(crate) fn http(sink: super::otlp::HttpSink, temporality: Temporality) -> Self {
        let target = sink.endpoint().to_owned();
        OtlpMetricExporter {
            transport: Transport::Http(Arc::new(sink)),
            temporality,
            target,
            shut_down: AtomicBool::new(false),
            failing: AtomicBool::new(false),
            same_collector_as_spans: false,
        }
    }

    /// Says that the spans go to the same collector (see the field).
    pub(crate) fn with_spans_to_the_same_collector(mut self, same: bool) -> Self {
        self.same_collector_as_spans = same;
        self
    }

    async fn send(&self, body: Vec<u8>) -> Result<(), String> {
        match &self.transport {
            #[cfg(feature = "otlp-grpc")]
            Transport::Grpc { client, runtime } => {
                let client = client.clone();
                let body = Arc::new(body);
                let task = runtime.spawn(async move {
                    client
                        .send_to(EXPORT, body)
                        .await
                        .map_err(|failure| failure.to_string())
                });
                match task.await {
                    Ok(answer) => answer.map(drop),
                    Err(join) => Err(join.to_string()),
                }
            }
            #[cfg(feature = "otlp-http")]
            Transport::Http(sink) => sink.post_body(body).map(drop),
        }
    }
}

/// The line the first failure of an outage of `target` prints, as for
/// spans: what to do when nothing listens, the cause otherwise; `None`
/// when the spans go to the same collector (`same_collector`), whose
/// exporter already says that it is not there.
fn failure_line(target: &str, why: &str, same_collector: bool) -> Option<String> {
    let target = crate::export::reported::shown_target(target.to_owned());
    match crate::export::reported::unreachable(why) {
        Some(_) if same_collector => None,
        Some(cause) => Some(format!(
            "traced: no collector at {target} ({cause}), so metrics are dropped; \
             check OTEL_EXPORTER_OTLP_METRICS_ENDPOINT or set OTEL_METRICS_EXPORTER=none \
             (said once until an export succeeds)"
        )),
        None => Some(format!(
            "traced: exporting metrics to {target} failed, so they are dropped \
             (said once until an export succeeds): {why}"
        )),
    }
}

impl PushMetricExporter for OtlpMetricExporter {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        if self.shut_down.load(Ordering::Acquire) {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        // The spans' exporter to the same collector is failing: this export
        // would too, after the same retries. Skipped, and so not waited for
        // (at shutdown above all); the next one tries again.
        if self.same_collector_as_spans && crate::export::reported::failing() {
            // Nothing is said: the spans' line says it.
            FAILING.store(true, Ordering::Relaxed);
            return Err(OTelSdkError::InternalFailure(
                "the collector is failing the spans' exports".to_owned(),
            ));
        }
        let mut request = ExportMetricsServiceRequest::from(metrics);
        attach_exemplars(&mut request, drain_exemplars());
        let body = request.encode_to_vec();
        use crate::export::reported::{LEVEL_ERROR, LEVEL_INFO, log_enabled, shown_target};
        match self.send(body).await {
            Ok(()) => {
                FAILING.store(false, Ordering::Relaxed);
                if self.failing.swap(false, Ordering::Relaxed) && log_enabled(LEVEL_INFO) {
                    eprintln!(
                        "traced: exporting metrics to {} works again",
                        shown_target(self.target.clone())
                    );
                }
                Ok(())
            }
            Err(why) => {
                FAILING.store(true, Ordering::Relaxed);
                if !self.failing.swap(true, Ordering::Relaxed) && log_enabled(LEVEL_ERROR) {
                    if let Some(line) =
                        failure_line(&self.target, &why, self.same_collector_as_spans)
                    {
                        let line =
                            crate::redact::scrub_text(&line).map_or(line, |(clean, _)| clean);
                        eprintln!("{line}");
                    }
                }
                Err(OTelSdkError::InternalFailure(why))
            }
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        self.shut_down.store(true, Ordering::Release);
        Ok(())
    }

    fn temporality(&self) -> Temporality {
        self.temporality
    }
}

/// Adds to every histogram data point the exemplars of its series.
pub(crate) fn attach_exemplars(
    request: &mut ExportMetricsServiceRequest,
    mut exemplars: HashMap<SeriesKey, Vec<Exemplar>>,
) {
    if exemplars.is_empty() {
        return;
    }
    for resource in &mut request.resource_metrics {
        for scope in &mut resource.scope_metrics {
            for metric in &mut scope.metrics {
                let Some(metric::Data::Histogram(histogram)) = &mut metric.data else {
                    continue;
                };
                for point in &mut histogram.data_points {
                    let key = SeriesKey {
                        metric: metric.name.clone(),
                        attributes: sorted_text(&point.attributes),
                    };
                    if let Some(taken) = exemplars.remove(&key) {
                        point.exemplars.extend(taken.iter().map(proto_exemplar));
                    }
                }
            }
        }
    }
}

/// A data point's attributes as a series key holds them.
fn sorted_text(attributes: &[KeyValue]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = attributes
        .iter()
        .map(|kv| (kv.key.clone(), any_text(kv.value.as_ref())))
        .collect();
    out.sort();
    out
}

/// An OTLP value as [`crate::metrics`] writes an attribute's text.
fn any_text(value: Option<&AnyValue>) -> String {
    let value = match value.and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => return s.clone(),
        Some(any_value::Value::BoolValue(b)) => Value::Bool(*b),
        Some(any_value::Value::IntValue(i)) => Value::I64(*i),
        Some(any_value::Value::DoubleValue(d)) => Value::F64(*d),
        // Not written by our instruments.
        _ => return String::new(),
    };
    crate::metrics::value_text(&value)
}

fn proto_exemplar(taken: &Exemplar) -> ProtoExemplar {
    ProtoExemplar {
        filtered_attributes: Vec::new(),
        time_unix_nano: taken
            .time
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)),
        span_id: taken.span_id.to_bytes().to_vec(),
        trace_id: taken.trace_id.to_bytes().to_vec(),
        value: Some(exemplar::Value::AsDouble(taken.value)),
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{SpanId, TraceId};
    use opentelemetry_proto::tonic::metrics::v1::{
        Histogram, HistogramDataPoint, Metric, ResourceMetrics, ScopeMetrics,
    };

    use super::*;

    fn kv(key: &str, value: any_value::Value) -> KeyValue {
        KeyValue {
            key: key.to_owned(),
            value: Some(AnyValue { value: Some(value) }),
            ..Default::default()
        }
    }

    fn request(points: Vec<HistogramDataPoint>) -> ExportMetricsServiceRequest {
        ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                scope_metrics: vec![ScopeMetrics {
                    metrics: vec![Metric {
                        name: "http.server.request.duration".to_owned(),
                        data: Some(metric::Data::Histogram(Histogram {
                            data_points: points,
                            aggregation_temporality: 2,
                        })),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    #[test]
    fn a_failure_is_one_line_unless_the_spans_say_it_already() {
        let refused =
            "gRPC status Unavailable: tcp connect error: Connection refused (os error 111)";
        assert_eq!(failure_line("http://127.0.0.1:4317", refused, true), None);
        assert_eq!(
            failure_line("http://u:secret@127.0.0.1:4318/v1/metrics", refused, false).as_deref(),
            Some(
                "traced: no collector at http://u:[REDACTED]@127.0.0.1:4318/v1/metrics (connection refused), \
                 so metrics are dropped; check OTEL_EXPORTER_OTLP_METRICS_ENDPOINT or set \
                 OTEL_METRICS_EXPORTER=none (said once until an export succeeds)"
            )
        );
        // Not a refused connection: said even for the same collector.
        assert_eq!(
            failure_line(
                "https://c:4318/v1/metrics",
                "HTTP status 401 Unauthorized",
                true
            )
            .as_deref(),
            Some(
                "traced: exporting metrics to https://c:4318/v1/metrics failed, so they are dropped \
                 (said once until an export succeeds): HTTP status 401 Unauthorized"
            )
        );
    }

    #[test]
    fn exemplars_go_to_the_data_point_of_their_series_only() {
        let ok = HistogramDataPoint {
            attributes: vec![
                kv("http.route", any_value::Value::StringValue("/a".into())),
                kv("http.response.status_code", any_value::Value::IntValue(200)),
            ],
            ..Default::default()
        };
        let failed = HistogramDataPoint {
            attributes: vec![
                kv("http.response.status_code", any_value::Value::IntValue(500)),
                kv("http.route", any_value::Value::StringValue("/a".into())),
            ],
            ..Default::default()
        };
        let mut request = request(vec![ok, failed]);
        let key = SeriesKey::new(
            "http.server.request.duration",
            &[
                opentelemetry::KeyValue::new("http.route", "/a"),
                opentelemetry::KeyValue::new("http.response.status_code", 500_i64),
            ],
        );
        let taken = Exemplar {
            value: 0.25,
            time: UNIX_EPOCH + Duration::from_secs(2),
            trace_id: TraceId::from(0xabc_u128),
            span_id: SpanId::from(0xde_u64),
        };
        attach_exemplars(&mut request, HashMap::from([(key, vec![taken])]));
        let Some(metric::Data::Histogram(histogram)) =
            &request.resource_metrics[0].scope_metrics[0].metrics[0].data
        else {
            unreachable!("built as a histogram above");
        };
        assert!(histogram.data_points[0].exemplars.is_empty());
        let exemplars = &histogram.data_points[1].exemplars;
        assert_eq!(exemplars.len(), 1);
        assert_eq!(exemplars[0].trace_id, TraceId::from(0xabc_u128).to_bytes());
        assert_eq!(exemplars[0].span_id, SpanId::from(0xde_u64).to_bytes());
        assert_eq!(exemplars[0].time_unix_nano, 2_000_000_000);
        assert_eq!(exemplars[0].value, Some(exemplar::Value::AsDouble(0.25)));
    }
}
