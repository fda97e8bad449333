//! The histogram data points a collector started with
//! [`Collector::start_with_metrics`] received, parsed from its detailed
//! debug output:
//!
//! ```text
//! ResourceMetrics #0
//! Resource attributes:
//!      -> service.name: Str(svc)
//! ScopeMetrics #0
//! InstrumentationScope my.crate 0.1.0
//! Metric #0
//! Descriptor:
//!      -> Name: traced.function.duration
//!      -> Unit: s
//!      -> DataType: Histogram
//!      -> AggregationTemporality: AGGREGATION_TEMPORALITY_CUMULATIVE
//! HistogramDataPoints #0
//! Data point attributes:
//!      -> code.function.name: Str(a::b)
//! Count: 1
//! Sum: 0.2
//! ExplicitBounds #0: 0.005
//! Buckets #0, Count: 0
//! Exemplars:
//! Exemplar #0
//!      -> Trace ID: 573784199c8066a5a25551d2a707aecf
//!      -> Span ID: 1bf2ab08eb7a710b
//!      -> Timestamp: 1796687584786704218
//!      -> Value: 0.2
//! ```

use std::time::{Duration, Instant};

use super::collector::{Collector, Typed, typed};

/// One histogram data point as the collector received it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReceivedPoint {
    pub resource: Vec<(String, Typed)>,
    pub scope_name: String,
    pub metric: String,
    pub unit: String,
    pub temporality: String,
    pub attributes: Vec<(String, Typed)>,
    pub count: u64,
    pub sum: f64,
    pub bounds: Vec<f64>,
    pub buckets: Vec<u64>,
    pub exemplars: Vec<ReceivedExemplar>,
}

impl ReceivedPoint {
    pub fn attr(&self, key: &str) -> Option<&Typed> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    pub fn resource_attr(&self, key: &str) -> Option<&Typed> {
        self.resource.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

/// An exemplar of a data point.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReceivedExemplar {
    pub trace_id: String,
    pub span_id: String,
    pub value: f64,
}

impl Collector {
    /// Every histogram data point received so far (needs
    /// [`Collector::start_with_metrics`]).
    pub fn metrics(&self) -> Vec<ReceivedPoint> {
        parse_metrics(&self.raw_log())
    }

    /// Polls until a data point of `metric` arrived and the output stopped
    /// growing, or until `timeout` passed; returns every point received by
    /// then.
    pub fn wait_for_metric(&self, metric: &str, timeout: Duration) -> Vec<ReceivedPoint> {
        let deadline = Instant::now() + timeout;
        let name = format!("     -> Name: {metric}");
        let mut previous: Option<String> = None;
        loop {
            let log = self.raw_log();
            let found = log.lines().any(|l| l == name);
            let settled = previous.as_deref() == Some(log.as_str());
            if (found && settled) || Instant::now() >= deadline {
                return parse_metrics(&log);
            }
            previous = Some(log);
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// Where the parser is.
#[derive(PartialEq)]
enum At {
    Elsewhere,
    Resource,
    Descriptor,
    Point,
    Exemplar,
}

/// Parses the histogram data points in the collector's output; spans, log
/// records and other metric types are skipped. It never panics.
pub fn parse_metrics(log: &str) -> Vec<ReceivedPoint> {
    let mut points: Vec<ReceivedPoint> = Vec::new();
    let mut in_metrics = false;
    let mut resource: Vec<(String, Typed)> = Vec::new();
    let mut scope = String::new();
    let mut metric = ReceivedPoint::default();
    let mut at = At::Elsewhere;
    for line in log.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.starts_with("ResourceSpans #") || line.starts_with("ResourceLog #") {
            in_metrics = false;
            continue;
        }
        if line.starts_with("ResourceMetrics #") {
            in_metrics = true;
            resource.clear();
            at = At::Elsewhere;
            continue;
        }
        if !in_metrics {
            continue;
        }
        let arrow = line
            .strip_prefix("     -> ")
            .and_then(|r| r.split_once(": "));
        if line.starts_with("Resource attributes:") {
            at = At::Resource;
        } else if let Some(rest) = line.strip_prefix("InstrumentationScope ") {
            rest.split_once(' ')
                .map_or(rest, |(name, _)| name)
                .clone_into(&mut scope);
            at = At::Elsewhere;
        } else if line.starts_with("Metric #") {
            metric = ReceivedPoint {
                resource: resource.clone(),
                scope_name: scope.clone(),
                ..ReceivedPoint::default()
            };
            at = At::Elsewhere;
        } else if line.starts_with("Descriptor:") {
            at = At::Descriptor;
        } else if line.starts_with("HistogramDataPoints #") {
            points.push(ReceivedPoint {
                resource: metric.resource.clone(),
                scope_name: metric.scope_name.clone(),
                metric: metric.metric.clone(),
                unit: metric.unit.clone(),
                temporality: metric.temporality.clone(),
                ..ReceivedPoint::default()
            });
            at = At::Point;
        } else if line.starts_with("Exemplar #") {
            if let Some(point) = points.last_mut() {
                point.exemplars.push(ReceivedExemplar::default());
            }
            at = At::Exemplar;
        } else if let Some((key, value)) = arrow {
            match at {
                At::Resource => resource.push((key.to_owned(), typed(value))),
                At::Descriptor => match key {
                    "Name" => metric.metric = value.to_owned(),
                    "Unit" => metric.unit = value.to_owned(),
                    "AggregationTemporality" => metric.temporality = value.to_owned(),
                    _ => {}
                },
                At::Point => {
                    if let Some(point) = points.last_mut() {
                        point.attributes.push((key.to_owned(), typed(value)));
                    }
                }
                At::Exemplar => {
                    let exemplar = points.last_mut().and_then(|p| p.exemplars.last_mut());
                    if let Some(exemplar) = exemplar {
                        match key {
                            "Trace ID" => value.clone_into(&mut exemplar.trace_id),
                            "Span ID" => value.clone_into(&mut exemplar.span_id),
                            "Value" => exemplar.value = value.parse().unwrap_or(f64::NAN),
                            _ => {}
                        }
                    }
                }
                At::Elsewhere => {}
            }
        } else if let Some(point) = points.last_mut().filter(|_| at == At::Point) {
            if let Some(v) = line.strip_prefix("Count: ") {
                point.count = v.trim().parse().unwrap_or(0);
            } else if let Some(v) = line.strip_prefix("Sum: ") {
                point.sum = v.trim().parse().unwrap_or(f64::NAN);
            } else if let Some((_, v)) = line
                .strip_prefix("ExplicitBounds #")
                .and_then(|r| r.split_once(": "))
            {
                point.bounds.push(v.trim().parse().unwrap_or(f64::NAN));
            } else if let Some((_, v)) = line
                .strip_prefix("Buckets #")
                .and_then(|r| r.split_once(", Count: "))
            {
                point.buckets.push(v.trim().parse().unwrap_or(0));
            }
        }
    }
    points
}
