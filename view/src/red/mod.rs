//! Rate, errors and duration (#29): the duration histograms the services
//! export, kept per series and read as one row per service, metric and
//! operation, each figure with an exemplar trace.
//!
//! | file | owns |
//! | --- | --- |
//! | `mod.rs` | the metrics known ([`Kind`]) and how they name an operation, the series kept and their bound, the table ([`Red`]) |
//! | `math.rs` | cumulative differences, rates, ratios, percentiles from explicit buckets, the nearest exemplar |
//! | `table.rs` | the table as text for the terminal |
//!
//! A series is one attribute set of one metric of one service, as the
//! sender aggregates it; the operation's row merges the series that differ
//! only by status or `error.type`. A series keeps its counts summed over
//! every export seen (the differences between consecutive exports when the
//! sender's temporality is cumulative), its min and max, and per bucket
//! the latest exemplar. At most [`SERIES_MAX`] series are kept; the points
//! of a series past it are dropped and counted.

mod math;
pub(crate) mod table;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use opentelemetry::trace::{SpanId, TraceId};
use serde::Serialize;

use math::Reading;

/// The most series kept, over every service and metric: about 1 KB each
/// with the runtime's 15 buckets, 8 KB with [`BOUNDS_MAX`], so 8 MB at
/// most.
pub(crate) const SERIES_MAX: usize = 1_000;

/// The most bucket bounds a data point may have; one with more is
/// rejected. The semantic conventions advise 14 for durations.
pub(crate) const BOUNDS_MAX: usize = 100;

/// Service, operation and error names are cut to this many bytes.
pub(crate) const NAME_MAX: usize = 200;

/// The terminal table is printed at most this often.
pub(crate) const PRINT_EVERY: Duration = Duration::from_secs(10);

/// The percentiles shown.
const QUANTILES: [f64; 3] = [0.5, 0.95, 0.99];

/// The duration histograms shown, each named by the semantic conventions
/// (or by `traced` for functions). Their order is the table's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Kind {
    Function,
    HttpServer,
    RpcServer,
    MessagingProcess,
    HttpClient,
    RpcClient,
    Db,
    MessagingClient,
}

impl Kind {
    const ALL: [Kind; 8] = [
        Kind::Function,
        Kind::HttpServer,
        Kind::RpcServer,
        Kind::MessagingProcess,
        Kind::HttpClient,
        Kind::RpcClient,
        Kind::Db,
        Kind::MessagingClient,
    ];

    /// The metric's name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Function => "traced.function.duration",
            Kind::HttpServer => "http.server.request.duration",
            Kind::HttpClient => "http.client.request.duration",
            Kind::RpcServer => "rpc.server.call.duration",
            Kind::RpcClient => "rpc.client.call.duration",
            Kind::Db => "db.client.operation.duration",
            Kind::MessagingProcess => "messaging.process.duration",
            Kind::MessagingClient => "messaging.client.operation.duration",
        }
    }

    /// The kind of the metric named `name`; `None` for any other metric.
    pub(crate) fn of(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The operation a series of this metric measures, from its
    /// attributes (`attr(key)`): the function; the method and route of an
    /// HTTP server, the method and host of a client; the RPC method; the
    /// database's query summary, or its operation and collection; the
    /// messaging operation and destination. What is missing is left out;
    /// `?` when nothing is there.
    pub(crate) fn operation<'a>(self, attr: impl Fn(&str) -> Option<&'a str>) -> String {
        let parts: Vec<&str> = match self {
            Kind::Function => vec![attr("code.function.name").unwrap_or_default()],
            Kind::HttpServer => vec![
                attr("http.request.method").unwrap_or_default(),
                attr("http.route").unwrap_or_default(),
            ],
            Kind::HttpClient => vec![
                attr("http.request.method").unwrap_or_default(),
                attr("server.address").unwrap_or_default(),
            ],
            Kind::RpcServer | Kind::RpcClient => vec![
                attr("rpc.method")
                    .or_else(|| attr("rpc.service"))
                    .unwrap_or_default(),
            ],
            Kind::Db => match attr("db.query.summary") {
                Some(summary) => vec![summary],
                None => vec![
                    attr("db.operation.name").unwrap_or_default(),
                    attr("db.collection.name").unwrap_or_default(),
                ],
            },
            Kind::MessagingProcess | Kind::MessagingClient => vec![
                attr("messaging.operation.name").unwrap_or_default(),
                attr("messaging.destination.name").unwrap_or_default(),
            ],
        };
        let name = parts
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if name.is_empty() {
            "?".to_owned()
        } else {
            cut(name)
        }
    }
}

/// `text` cut to [`NAME_MAX`] bytes, on a character boundary.
pub(crate) fn cut(mut text: String) -> String {
    if text.len() > NAME_MAX {
        let mut end = NAME_MAX;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

/// How the sender aggregates: each export counts what happened since the
/// one before (delta), or everything since its start (cumulative).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Temporality {
    Delta,
    Cumulative,
}

/// A measurement that leads to its trace. `value` is in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Exemplar {
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    pub(crate) value: f64,
    pub(crate) time_ns: u64,
}

/// One valid histogram data point of a known metric (`receive/metrics.rs`
/// checks and converts it; durations are in seconds).
#[derive(Debug, Clone)]
pub(crate) struct Point {
    /// Tells series apart: a hash of the service, the metric, every
    /// attribute and the bounds.
    pub(crate) series: u64,
    pub(crate) service: Arc<str>,
    pub(crate) kind: Kind,
    pub(crate) operation: String,
    /// `error.type`, when the calls counted failed.
    pub(crate) error: Option<String>,
    pub(crate) temporality: Temporality,
    pub(crate) start_ns: u64,
    pub(crate) time_ns: u64,
    pub(crate) count: u64,
    /// Strictly increasing and finite, at most [`BOUNDS_MAX`]; empty when
    /// the point has no distribution.
    pub(crate) bounds: Vec<f64>,
    /// One more than `bounds`, summing to `count`; empty with `bounds`.
    pub(crate) buckets: Vec<u64>,
    pub(crate) min: Option<f64>,
    pub(crate) max: Option<f64>,
    pub(crate) exemplars: Vec<Exemplar>,
}

/// One series: what its exports added up to.
#[derive(Debug)]
struct Series {
    service: Arc<str>,
    kind: Kind,
    operation: Arc<str>,
    error: Option<Arc<str>>,
    bounds: Vec<f64>,
    /// The previous cumulative reading, which the next is compared with.
    last: Option<Reading>,
    count: u64,
    buckets: Vec<u64>,
    min: Option<f64>,
    max: Option<f64>,
    from_ns: u64,
    to_ns: u64,
    /// The latest exemplar per bucket (one slot without buckets).
    exemplars: Vec<Option<Exemplar>>,
}

/// What the store took and dropped, for `/api/metrics`.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub(crate) struct RedStats {
    /// Series kept.
    pub(crate) series: usize,
    pub(crate) series_max: usize,
    /// Data points added to a series.
    pub(crate) points: u64,
    /// Data points that could not be read (see the export's answer).
    pub(crate) rejected_points: u64,
    /// Data points of a new series past [`SERIES_MAX`].
    pub(crate) dropped_points: u64,
    /// Cumulative data points older than the series' latest.
    pub(crate) stale_points: u64,
}

/// The series of every service, and when the table was last printed.
#[derive(Debug, Default)]
pub(crate) struct Store {
    series: HashMap<u64, Series>,
    /// Names shared by the series of one service or operation.
    names: HashMap<String, Arc<str>>,
    stats: RedStats,
    /// Services with points not yet printed.
    unprinted: BTreeSet<Arc<str>>,
    first_unprinted: Option<Instant>,
    last_point: Option<Instant>,
    printed: Option<Instant>,
}

impl Store {
    /// Adds the valid points of one export, and counts the invalid ones.
    /// Returns how many points were dropped for the series bound.
    pub(crate) fn add(&mut self, points: Vec<Point>, rejected: u64, now: Instant) -> u64 {
        self.stats.rejected_points += rejected;
        let mut dropped = 0;
        for point in points {
            if !self.series.contains_key(&point.series) && self.series.len() >= SERIES_MAX {
                dropped += 1;
                continue;
            }
            let service = self.name(&point.service);
            self.unprinted.insert(service);
            self.first_unprinted.get_or_insert(now);
            self.last_point = Some(now);
            self.stats.points += 1;
            self.apply(point);
        }
        self.stats.dropped_points += dropped;
        self.stats.series = self.series.len();
        dropped
    }

    /// One name shared by every series that uses it. The names are bound
    /// with the series: each series adds three at most.
    fn name(&mut self, name: &str) -> Arc<str> {
        if let Some(shared) = self.names.get(name) {
            return shared.clone();
        }
        let shared: Arc<str> = name.into();
        self.names.insert(name.to_owned(), shared.clone());
        shared
    }

    fn apply(&mut self, point: Point) {
        if !self.series.contains_key(&point.series) {
            let series = Series {
                service: self.name(&point.service),
                kind: point.kind,
                operation: self.name(&point.operation),
                error: point.error.as_deref().map(|e| self.name(e)),
                bounds: point.bounds.clone(),
                last: None,
                count: 0,
                buckets: vec![0; point.buckets.len()],
                min: None,
                max: None,
                from_ns: u64::MAX,
                to_ns: 0,
                exemplars: vec![None; point.buckets.len().max(1)],
            };
            self.series.insert(point.series, series);
        }
        let Some(series) = self.series.get_mut(&point.series) else {
            return;
        };
        let reading = Reading {
            start_ns: point.start_ns,
            time_ns: point.time_ns,
            count: point.count,
            buckets: point.buckets,
        };
        let added = match point.temporality {
            Temporality::Delta => Some(reading),
            Temporality::Cumulative => {
                let added = math::since(series.last.as_ref(), &reading);
                if added.is_some() {
                    series.last = Some(reading);
                }
                added
            }
        };
        let Some(added) = added else {
            self.stats.stale_points += 1;
            return;
        };
        series.count = series.count.saturating_add(added.count);
        if added.buckets.len() == series.buckets.len() {
            for (sum, n) in series.buckets.iter_mut().zip(&added.buckets) {
                *sum = sum.saturating_add(*n);
            }
        }
        let from = if added.start_ns == 0 {
            added.time_ns
        } else {
            added.start_ns
        };
        series.from_ns = series.from_ns.min(from);
        series.to_ns = series.to_ns.max(added.time_ns);
        series.min = lowest(series.min, point.min);
        series.max = highest(series.max, point.max);
        for exemplar in point.exemplars {
            let at =
                math::bucket_of(&series.bounds, exemplar.value).min(series.exemplars.len() - 1);
            let slot = &mut series.exemplars[at];
            if slot.is_none_or(|held| held.time_ns <= exemplar.time_ns) {
                *slot = Some(exemplar);
            }
        }
    }

    /// Every service's table.
    ///
    /// Computed under the lock rather than from a copy: reading the series
    /// costs less than copying them (at most [`SERIES_MAX`] × their
    /// buckets).
    pub(crate) fn red(&self) -> Red {
        self.red_of(|_| true)
    }

    fn red_of(&self, shown: impl Fn(&str) -> bool) -> Red {
        let mut operations: BTreeMap<(&str, Kind, &str), Vec<&Series>> = BTreeMap::new();
        for series in self.series.values().filter(|s| shown(&s.service)) {
            operations
                .entry((&series.service, series.kind, &series.operation))
                .or_default()
                .push(series);
        }
        let mut services: Vec<ServiceRed> = Vec::new();
        for ((service, kind, operation), series) in operations {
            if services.last().is_none_or(|s| s.service != service) {
                services.push(ServiceRed {
                    service: service.to_owned(),
                    metrics: Vec::new(),
                });
            }
            let Some(current) = services.last_mut() else {
                continue;
            };
            if current
                .metrics
                .last()
                .is_none_or(|m| m.metric != kind.name())
            {
                current.metrics.push(MetricRed {
                    metric: kind.name(),
                    operations: Vec::new(),
                });
            }
            if let Some(metric) = current.metrics.last_mut() {
                metric.operations.push(operation_red(operation, &series));
            }
        }
        for metric in services.iter_mut().flat_map(|s| &mut s.metrics) {
            metric
                .operations
                .sort_by(|a, b| b.count.cmp(&a.count).then(a.operation.cmp(&b.operation)));
        }
        Red {
            services,
            stats: RedStats {
                series_max: SERIES_MAX,
                ..self.stats
            },
        }
    }

    /// The table of the services with new points, when it is time to
    /// print it: the points have been quiet for `quiet` (or kept coming
    /// for [`PRINT_EVERY`]), and the last table is [`PRINT_EVERY`] old.
    pub(crate) fn due(&mut self, now: Instant, quiet: Duration) -> Option<Red> {
        let since = |at: Option<Instant>| at.map(|at| now.saturating_duration_since(at));
        let settled = since(self.last_point).is_some_and(|d| d >= quiet)
            || since(self.first_unprinted).is_some_and(|d| d >= PRINT_EVERY);
        let rested = since(self.printed).is_none_or(|d| d >= PRINT_EVERY);
        if self.unprinted.is_empty() || !settled || !rested {
            return None;
        }
        self.printed = Some(now);
        self.take()
    }

    /// The table of the services with points not printed yet, if any.
    pub(crate) fn take(&mut self) -> Option<Red> {
        if self.unprinted.is_empty() {
            return None;
        }
        let unprinted = std::mem::take(&mut self.unprinted);
        self.first_unprinted = None;
        Some(self.red_of(|s| unprinted.contains(s)))
    }
}

fn lowest(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn highest(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// The series of one operation that share bounds, merged.
struct Merged<'a> {
    bounds: &'a [f64],
    buckets: Vec<u64>,
    min: Option<f64>,
    max: Option<f64>,
    exemplars: Vec<Option<Exemplar>>,
}

/// Keeps the later of two exemplars; of two taken at once, the slower
/// (then the larger trace id, so that the choice does not depend on the
/// order the series are read in).
fn later(a: Option<Exemplar>, b: Option<Exemplar>) -> Option<Exemplar> {
    match (a, b) {
        (Some(a), Some(b)) => {
            let order = b
                .time_ns
                .cmp(&a.time_ns)
                .then(b.value.total_cmp(&a.value))
                .then(b.trace_id.to_bytes().cmp(&a.trace_id.to_bytes()));
            Some(if order.is_ge() { b } else { a })
        }
        (a, b) => a.or(b),
    }
}

/// One operation's row from its series. Percentiles come from the series
/// that share the bounds most counts were sent with (a service sends one
/// set per metric; another set would be a different aggregation).
fn operation_red(operation: &str, series: &[&Series]) -> OperationRed {
    let count = series.iter().map(|s| s.count).fold(0, u64::saturating_add);
    let errors = series
        .iter()
        .filter(|s| s.error.is_some())
        .map(|s| s.count)
        .fold(0, u64::saturating_add);
    let from = series.iter().map(|s| s.from_ns).min().unwrap_or(0);
    let to = series.iter().map(|s| s.to_ns).max().unwrap_or(0);
    let latest = |errors_only: bool| {
        series
            .iter()
            .filter(|s| !errors_only || s.error.is_some())
            .flat_map(|s| s.exemplars.iter().copied())
            .fold(None, later)
    };
    let mut merged: Vec<Merged<'_>> = Vec::new();
    for s in series.iter().filter(|s| !s.bounds.is_empty()) {
        let same = merged.iter().position(|m| {
            m.bounds.len() == s.bounds.len()
                && m.bounds
                    .iter()
                    .zip(&s.bounds)
                    .all(|(a, b)| a.to_bits() == b.to_bits())
        });
        let at = same.unwrap_or_else(|| {
            merged.push(Merged {
                bounds: &s.bounds,
                buckets: vec![0; s.buckets.len()],
                min: None,
                max: None,
                exemplars: vec![None; s.exemplars.len()],
            });
            merged.len() - 1
        });
        let m = &mut merged[at];
        for (sum, n) in m.buckets.iter_mut().zip(&s.buckets) {
            *sum = sum.saturating_add(*n);
        }
        m.min = lowest(m.min, s.min);
        m.max = highest(m.max, s.max);
        for (slot, e) in m.exemplars.iter_mut().zip(&s.exemplars) {
            *slot = later(*slot, *e);
        }
    }
    let total = |m: &Merged<'_>| m.buckets.iter().map(|c| u128::from(*c)).sum::<u128>();
    let main = merged.iter().max_by_key(|m| total(m));
    let [p50, p95, p99] = QUANTILES.map(|q| {
        let Some(m) = main else {
            return Figure::default();
        };
        match math::percentile(q, m.bounds, &m.buckets, m.min, m.max) {
            Some(estimate) => Figure::new(
                Some(estimate.value),
                math::nearest(&m.exemplars, estimate.bucket).copied(),
            ),
            None => Figure::default(),
        }
    });
    OperationRed {
        operation: operation.to_owned(),
        count,
        errors,
        window_s: to.checked_sub(from).map(|w| w as f64 / 1e9),
        rate: Figure::new(math::rate(count, from, to), latest(false)),
        error_ratio: Figure::new(math::ratio(errors, count), latest(true)),
        p50,
        p95,
        p99,
    }
}

/// The RED table of every service, for `/api/metrics` and the terminal.
#[derive(Debug, Serialize)]
pub(crate) struct Red {
    pub(crate) services: Vec<ServiceRed>,
    pub(crate) stats: RedStats,
}

#[derive(Debug, Serialize)]
pub(crate) struct ServiceRed {
    pub(crate) service: String,
    pub(crate) metrics: Vec<MetricRed>,
}

#[derive(Debug, Serialize)]
pub(crate) struct MetricRed {
    pub(crate) metric: &'static str,
    /// The busiest first.
    pub(crate) operations: Vec<OperationRed>,
}

/// One operation's figures: calls per second, the share that failed, and
/// percentiles in seconds.
#[derive(Debug, Serialize)]
pub(crate) struct OperationRed {
    pub(crate) operation: String,
    pub(crate) count: u64,
    pub(crate) errors: u64,
    /// The time the counts cover, from the earliest start to the latest
    /// export.
    pub(crate) window_s: Option<f64>,
    pub(crate) rate: Figure,
    pub(crate) error_ratio: Figure,
    pub(crate) p50: Figure,
    pub(crate) p95: Figure,
    pub(crate) p99: Figure,
}

/// A figure, `None` when unknown, with the exemplar that illustrates it.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Figure {
    pub(crate) value: Option<f64>,
    pub(crate) exemplar: Option<ExemplarView>,
}

impl Figure {
    fn new(value: Option<f64>, exemplar: Option<Exemplar>) -> Figure {
        Figure {
            value,
            exemplar: value.and(exemplar).map(|e| ExemplarView {
                trace_id: e.trace_id.to_string(),
                span_id: e.span_id.to_string(),
                value_s: e.value,
            }),
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct ExemplarView {
    pub(crate) trace_id: String,
    pub(crate) span_id: String,
    pub(crate) value_s: f64,
}

#[cfg(test)]
mod tests;
