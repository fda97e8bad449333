//! OTLP metrics: accepted and counted, not kept (the viewer has no metrics
//! view yet), so that an SDK that exports them too sees them succeed.
//!
//! Decoded through types that name only the data points, each an empty
//! message: prost and serde skip everything else without allocating, and a
//! vector of empty structs takes no memory however long it is.

use serde::{Deserialize, Serialize};

/// `ExportMetricsServiceRequest`, down to its data points.
#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct MetricsRequest {
    #[prost(message, repeated, tag = "1")]
    resource_metrics: Vec<ResourceMetrics>,
}

#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct ResourceMetrics {
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
    #[prost(message, optional, tag = "5")]
    gauge: Option<Points>,
    #[prost(message, optional, tag = "7")]
    sum: Option<Points>,
    #[prost(message, optional, tag = "9")]
    histogram: Option<Points>,
    #[prost(message, optional, tag = "10")]
    exponential_histogram: Option<Points>,
    #[prost(message, optional, tag = "11")]
    summary: Option<Points>,
}

#[derive(Clone, PartialEq, prost::Message, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Points {
    #[prost(message, repeated, tag = "1")]
    data_points: Vec<Point>,
}

#[derive(Clone, Copy, PartialEq, prost::Message, Deserialize)]
struct Point {}

/// `ExportMetricsServiceResponse` without a partial success: every point
/// is taken.
#[derive(Clone, PartialEq, prost::Message, Serialize)]
pub(crate) struct MetricsResponse {}

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
                &metric.histogram,
                &metric.exponential_histogram,
                &metric.summary,
            ]
            .into_iter()
            .flatten()
            .map(|p| p.data_points.len() as u64)
            .sum::<u64>();
        }
        (count, points)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
}
