//! OTLP metrics: the duration histograms of the RED table (`red/`) are
//! checked and read into [`Point`]s; every other metric is accepted and
//! counted, not kept, so that an SDK that exports them too sees them
//! succeed.
//!
//! Decoded through types that name only what is used: the resource, each
//! metric's name and unit, a histogram's data points; the points of other
//! metrics are empty messages, so prost and serde skip them without
//! allocating, and a vector of empty structs takes no memory however long
//! it is.
//!
//! Nothing a sender writes makes this panic. A histogram point is rejected
//! (counted, named in the answer's partial success) when its bounds are
//! more than [`BOUNDS_MAX`], not finite or not increasing, when its bucket
//! counts are not one more than its bounds or do not add up to its count,
//! or when it has no time. A min, max or exemplar value that is not finite
//! is ignored.

use std::hash::{BuildHasher as _, Hash as _, Hasher as _, RandomState};
use std::sync::{Arc, LazyLock};

use opentelemetry::trace::SpanId;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, DataPointFlags, Histogram, HistogramDataPoint, exemplar,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use serde::{Deserialize, Serialize};

use super::convert::{service, span_id, trace_id, value};
use crate::red::{BOUNDS_MAX, Exemplar, Kind, Point, Temporality, cut};

/// `ExportMetricsServiceRequest`, down to what is used.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct MetricsRequest {
    #[prost(message, repeated, tag = "1")]
    resource_metrics: Vec<ResourceMetrics>,
}

#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct ResourceMetrics {
    #[prost(message, optional, tag = "1")]
    resource: Option<Resource>,
    #[prost(message, repeated, tag = "2")]
    scope_metrics: Vec<ScopeMetrics>,
}

#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct ScopeMetrics {
    #[prost(message, repeated, tag = "2")]
    metrics: Vec<Metric>,
}

/// `Metric`: its `data` is one of these five, each with `data_points` at
/// tag 1.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Metric {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(string, tag = "3")]
    unit: String,
    #[prost(message, optional, tag = "5")]
    gauge: Option<Points>,
    #[prost(message, optional, tag = "7")]
    sum: Option<Points>,
    #[prost(message, optional, tag = "9")]
    histogram: Option<Histogram>,
    #[prost(message, optional, tag = "10")]
    exponential_histogram: Option<Points>,
    #[prost(message, optional, tag = "11")]
    summary: Option<Points>,
}

#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Points {
    #[prost(message, repeated, tag = "1")]
    data_points: Vec<Point0>,
}

/// A data point that is not kept.
#[derive(Clone, Copy, PartialEq, prost::Message, Deserialize)]
struct Point0 {}

/// `ExportMetricsServiceResponse`: a partial success when points were
/// rejected, nothing otherwise (`{}` in JSON).
#[derive(Clone, PartialEq, prost::Message, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MetricsResponse {
    #[prost(message, optional, tag = "1")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) partial_success: Option<PartialSuccess>,
}

/// `ExportMetricsPartialSuccess`.
#[derive(Clone, PartialEq, prost::Message, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PartialSuccess {
    /// An `int64`: a string in OTLP/JSON.
    #[prost(int64, tag = "1")]
    #[serde(serialize_with = "as_string")]
    pub(crate) rejected_data_points: i64,
    #[prost(string, tag = "2")]
    pub(crate) error_message: String,
}

fn as_string<S: serde::Serializer>(n: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(n)
}

impl MetricsRequest {
    /// How many metrics and data points the request held.
    pub(crate) fn count(&self) -> (u64, u64) {
        let metrics = self
            .resource_metrics
            .iter()
            .flat_map(|r| &r.scope_metrics)
            .flat_map(|s| &s.metrics);
        let (mut count, mut points) = (0u64, 0u64);
        for metric in metrics {
            count += 1;
            points += [
                &metric.gauge,
                &metric.sum,
                &metric.exponential_histogram,
                &metric.summary,
            ]
            .into_iter()
            .flatten()
            .map(|p| p.data_points.len() as u64)
            .sum::<u64>();
            points += metric
                .histogram
                .as_ref()
                .map_or(0, |h| h.data_points.len() as u64);
        }
        (count, points)
    }
}

/// The points of one request: those of the RED table's metrics that could
/// be read, and how many could not, with the first reason.
#[derive(Debug, Default)]
pub(crate) struct Decoded {
    pub(crate) points: Vec<Point>,
    pub(crate) rejected: u64,
    pub(crate) error: Option<String>,
}

/// Series are told apart by a keyed hash of what names them, so that no
/// sender can choose two that collide.
static SERIES_KEY: LazyLock<RandomState> = LazyLock::new(RandomState::new);

/// Reads the duration histograms of `request`.
pub(crate) fn decode(request: MetricsRequest) -> Decoded {
    let mut out = Decoded::default();
    for resource_metrics in request.resource_metrics {
        let service: Arc<str> = cut(service(resource_metrics.resource).to_string()).into();
        let metrics = resource_metrics
            .scope_metrics
            .into_iter()
            .flat_map(|s| s.metrics);
        for metric in metrics {
            let (Some(kind), Some(histogram)) = (Kind::of(&metric.name), metric.histogram) else {
                continue;
            };
            let n = histogram.data_points.len() as u64;
            let shape = unit_scale(&metric.unit).and_then(|scale| {
                temporality(histogram.aggregation_temporality).map(|t| (scale, t))
            });
            let (scale, temporality) = match shape {
                Ok(shape) => shape,
                Err(why) => {
                    out.rejected += n;
                    out.error
                        .get_or_insert_with(|| format!("{}: {why}", metric.name));
                    continue;
                }
            };
            let read = Read {
                service: &service,
                kind,
                scale,
                temporality,
            };
            for wire in histogram.data_points {
                match read.point(wire) {
                    Ok(Some(point)) => out.points.push(point),
                    Ok(None) => {}
                    Err(why) => {
                        out.rejected += 1;
                        out.error
                            .get_or_insert_with(|| format!("{}: {why}", metric.name));
                    }
                }
            }
        }
    }
    out
}

/// How many of a metric's unit make a second.
fn unit_scale(unit: &str) -> Result<f64, String> {
    match unit {
        "s" | "" => Ok(1.0),
        "ms" => Ok(1e3),
        "us" | "µs" => Ok(1e6),
        "ns" => Ok(1e9),
        other => Err(format!(
            "the unit {:?} is not a duration; use `s`",
            cut(other.to_owned())
        )),
    }
}

fn temporality(wire: i32) -> Result<Temporality, String> {
    match AggregationTemporality::try_from(wire) {
        Ok(AggregationTemporality::Delta) => Ok(Temporality::Delta),
        Ok(AggregationTemporality::Cumulative) => Ok(Temporality::Cumulative),
        _ => Err(format!(
            "the aggregation temporality {wire} is neither delta (1) nor cumulative (2)"
        )),
    }
}

/// What every point of one metric shares.
struct Read<'a> {
    service: &'a Arc<str>,
    kind: Kind,
    /// The unit per second.
    scale: f64,
    temporality: Temporality,
}

impl Read<'_> {
    /// The point, `None` when it holds no value (`NO_RECORDED_VALUE`).
    fn point(&self, wire: HistogramDataPoint) -> Result<Option<Point>, String> {
        if wire.flags & DataPointFlags::NoRecordedValueMask as u32 != 0 {
            return Ok(None);
        }
        if wire.time_unix_nano == 0 {
            return Err("a data point has no time".to_owned());
        }
        let (bounds, buckets) = shape(wire.explicit_bounds, wire.bucket_counts, wire.count)?;
        let bounds: Vec<f64> = bounds.into_iter().map(|b| b / self.scale).collect();
        let finite = |v: Option<f64>| v.filter(|v| v.is_finite()).map(|v| v / self.scale);
        let (mut min, mut max) = (finite(wire.min), finite(wire.max));
        if min.zip(max).is_some_and(|(min, max)| min > max) {
            (min, max) = (None, None);
        }

        let mut attributes: Vec<(String, String)> = wire
            .attributes
            .into_iter()
            .map(|kv| (kv.key, value(kv.value, 0).as_str().into_owned()))
            .collect();
        attributes.sort();
        let attr = |key: &str| {
            attributes
                .iter()
                .find(|(k, v)| k == key && !v.is_empty())
                .map(|(_, v)| v.as_str())
        };
        let operation = self.kind.operation(attr);
        let error = attr("error.type").map(|e| cut(e.to_owned()));

        let mut hasher = SERIES_KEY.build_hasher();
        (&**self.service, self.kind, &attributes).hash(&mut hasher);
        for bound in &bounds {
            bound.to_bits().hash(&mut hasher);
        }

        let exemplars = wire
            .exemplars
            .into_iter()
            .filter_map(|e| {
                let value = match e.value? {
                    exemplar::Value::AsDouble(v) => v,
                    exemplar::Value::AsInt(v) => v as f64,
                };
                Some(Exemplar {
                    trace_id: trace_id(&e.trace_id)?,
                    span_id: span_id(&e.span_id).unwrap_or(SpanId::INVALID),
                    value: Some(value / self.scale).filter(|v| v.is_finite())?,
                    time_ns: e.time_unix_nano,
                })
            })
            .collect();
        let start_ns = match wire.start_time_unix_nano {
            start if start > wire.time_unix_nano => 0,
            start => start,
        };
        Ok(Some(Point {
            series: hasher.finish(),
            service: self.service.clone(),
            kind: self.kind,
            operation,
            error,
            temporality: self.temporality,
            start_ns,
            time_ns: wire.time_unix_nano,
            count: wire.count,
            bounds,
            buckets,
            min,
            max,
            exemplars,
        }))
    }
}

/// The bounds and bucket counts of a point, checked: both empty (a count
/// only), or finite increasing bounds and one more bucket, the buckets
/// adding up to `count`. A single bucket without bounds says no more than
/// the count: it is dropped.
fn shape(bounds: Vec<f64>, buckets: Vec<u64>, count: u64) -> Result<(Vec<f64>, Vec<u64>), String> {
    if bounds.len() > BOUNDS_MAX {
        return Err(format!(
            "a data point has {} bucket bounds, over the {BOUNDS_MAX} kept",
            bounds.len()
        ));
    }
    if buckets.is_empty() && bounds.is_empty() {
        return Ok((bounds, buckets));
    }
    if buckets.len() != bounds.len() + 1 {
        return Err(format!(
            "a data point has {} bucket counts for {} bounds; it must have one more",
            buckets.len(),
            bounds.len()
        ));
    }
    if bounds.iter().any(|b| !b.is_finite()) || bounds.windows(2).any(|w| w[0] >= w[1]) {
        return Err("a data point's bucket bounds are not finite and increasing".to_owned());
    }
    let total: u128 = buckets.iter().map(|c| u128::from(*c)).sum();
    if total != u128::from(count) {
        return Err(format!(
            "a data point's bucket counts add up to {total}, not to its count {count}"
        ));
    }
    if bounds.is_empty() {
        return Ok((bounds, Vec::new()));
    }
    Ok((bounds, buckets))
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
    use opentelemetry_proto::tonic::metrics::v1::Exemplar as WireExemplar;
    use prost::Message as _;

    #[test]
    fn points_are_counted_from_protobuf_and_json() {
        // resource_metrics[0].scope_metrics[0].metrics[0].sum.data_points: 3
        // points, each with a value (`as_int`, tag 6) the types skip.
        let point = [0x31, 1, 0, 0, 0, 0, 0, 0, 0];
        let points: Vec<u8> =
            std::iter::repeat_n([&[0x0a, point.len() as u8][..], &point].concat(), 3)
                .flatten()
                .collect();
        let wrap = |tag: u8, inner: &[u8]| [&[tag, inner.len() as u8][..], inner].concat();
        let metric = [wrap(0x0a, b"requests"), wrap(0x3a, &points)].concat();
        let request = wrap(0x0a, &wrap(0x12, &wrap(0x12, &metric)));
        let decoded = MetricsRequest::decode(&request[..]).unwrap();
        assert_eq!(decoded.count(), (1, 3));

        let json = r#"{"resourceMetrics":[{"resource":{},"scopeMetrics":[{"metrics":[
            {"name":"a","gauge":{"dataPoints":[{"asDouble":1.5},{"asDouble":2}]}},
            {"name":"b","histogram":{"dataPoints":[{"count":"3","bucketCounts":["1","2"]}]}}
        ]}]}]}"#;
        let decoded: MetricsRequest = serde_json::from_str(json).unwrap();
        assert_eq!(decoded.count(), (2, 3));
    }

    fn text(key: &str, value: &str) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(value.into())),
            }),
            ..Default::default()
        }
    }

    fn point(bounds: &[f64], buckets: &[u64]) -> HistogramDataPoint {
        HistogramDataPoint {
            attributes: vec![text("code.function.name", "shop::checkout")],
            start_time_unix_nano: 1_000,
            time_unix_nano: 2_000,
            count: buckets.iter().fold(0, |a, b| a.wrapping_add(*b)),
            bucket_counts: buckets.to_vec(),
            explicit_bounds: bounds.to_vec(),
            ..Default::default()
        }
    }

    fn read(unit: &str, points: Vec<HistogramDataPoint>) -> Decoded {
        let request = MetricsRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: Some(Resource {
                    attributes: vec![text("service.name", "shop")],
                    ..Default::default()
                }),
                scope_metrics: vec![ScopeMetrics {
                    metrics: vec![Metric {
                        name: "traced.function.duration".into(),
                        unit: unit.into(),
                        histogram: Some(Histogram {
                            data_points: points,
                            aggregation_temporality: AggregationTemporality::Cumulative as i32,
                        }),
                        ..Default::default()
                    }],
                }],
            }],
        };
        // Through the wire, as the endpoints read it.
        decode(MetricsRequest::decode(&request.encode_to_vec()[..]).unwrap())
    }

    #[test]
    fn a_histogram_point_is_read_in_seconds() {
        let mut wire = point(&[5.0, 10.0], &[1, 2, 0]);
        wire.attributes.push(text("error.type", "Timeout"));
        wire.min = Some(f64::NAN);
        wire.max = Some(9.0);
        wire.exemplars = vec![
            WireExemplar {
                trace_id: vec![7; 16],
                span_id: vec![8; 8],
                value: Some(exemplar::Value::AsDouble(8.0)),
                time_unix_nano: 1_500,
                ..Default::default()
            },
            // No trace, or no finite value: no exemplar.
            WireExemplar {
                trace_id: vec![0; 16],
                value: Some(exemplar::Value::AsDouble(1.0)),
                ..Default::default()
            },
            WireExemplar {
                trace_id: vec![7; 16],
                value: Some(exemplar::Value::AsDouble(f64::INFINITY)),
                ..Default::default()
            },
        ];
        let decoded = read("ms", vec![wire]);
        assert_eq!((decoded.rejected, decoded.error), (0, None));
        let [taken] = &decoded.points[..] else {
            panic!("{:?}", decoded.points)
        };
        assert_eq!(&*taken.service, "shop");
        assert_eq!(taken.operation, "shop::checkout");
        assert_eq!(taken.error.as_deref(), Some("Timeout"));
        assert_eq!(taken.bounds, [0.005, 0.01]);
        assert_eq!((taken.min, taken.max), (None, Some(0.009)));
        assert_eq!(taken.exemplars.len(), 1);
        assert_eq!(taken.exemplars[0].value, 0.008);
        // The same attributes in another order are the same series.
        let mut again = point(&[5.0, 10.0], &[1, 2, 0]);
        again.attributes.insert(0, text("error.type", "Timeout"));
        assert_eq!(read("ms", vec![again]).points[0].series, taken.series);
        let other = point(&[5.0, 10.0], &[1, 2, 0]);
        assert_ne!(read("ms", vec![other]).points[0].series, taken.series);
    }

    #[test]
    fn hostile_points_are_rejected_without_panic() {
        let mut no_time = point(&[1.0], &[1, 1]);
        no_time.time_unix_nano = 0;
        let mut wrong_count = point(&[1.0], &[1, 1]);
        wrong_count.count = 5;
        let many = vec![1.0; BOUNDS_MAX + 1];
        let mut overflow = point(&[1.0], &[u64::MAX, u64::MAX]);
        overflow.count = u64::MAX;
        let decoded = read(
            "s",
            vec![
                point(&[1.0, 2.0], &[1, 1]),
                point(&[], &[4]),
                point(&[2.0, 1.0], &[1, 1, 1]),
                point(&[1.0, f64::NAN], &[1, 1, 1]),
                point(&[f64::INFINITY], &[1, 1]),
                point(&many, &vec![0; BOUNDS_MAX + 2]),
                no_time,
                wrong_count,
                overflow,
            ],
        );
        assert_eq!(decoded.rejected, 8, "{:?}", decoded.error);
        assert!(
            decoded
                .error
                .unwrap()
                .starts_with("traced.function.duration: a data point has 2 bucket counts")
        );
        // A single bucket without bounds is a count only.
        let [taken] = &decoded.points[..] else {
            panic!("{:?}", decoded.points)
        };
        assert_eq!((taken.count, taken.buckets.len()), (4, 0));

        let decoded = read("By", vec![point(&[1.0], &[1, 1])]);
        assert_eq!(decoded.rejected, 1);
        assert!(decoded.error.unwrap().contains("not a duration"));
    }
}
