//! One call site's duration histogram: bound to `code.function.name` once
//! per provider, so a call records without an attribute lookup; a failed
//! call's series (with `error.type`) bound on the first failure of each
//! error type.

use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::SystemTime;

use arc_swap::ArcSwapOption;
use opentelemetry::metrics::{BoundHistogram, Histogram};
use opentelemetry::trace::SpanContext;
use opentelemetry::{InstrumentationScope, KeyValue};

use super::exemplar::{Reservoir, SeriesKey, reservoir};
use super::{DURATION_BOUNDARIES, FUNCTION_DURATION, provider};
use crate::semconv;

/// How many error types one function keeps a series of its own for; the
/// rest share an `error.type` of `_OTHER`, as the conventions say for
/// values past a known set.
const MAX_ERROR_TYPES: usize = 16;

/// The per-function metrics of one call site.
pub(crate) struct FunctionMetrics {
    /// The binding for the first provider this call site recorded into:
    /// one load to read, as a service installs its provider once.
    first: OnceLock<Bound>,
    /// The binding for any later provider (one replaced: re-initialisation,
    /// tests), read through an `ArcSwap`.
    later: ArcSwapOption<Bound>,
}

/// The histogram as bound for one provider generation.
struct Bound {
    generation: u64,
    /// `None` when no provider is installed.
    histogram: Option<Histogram<f64>>,
    ok: Option<Series>,
    failed: Mutex<Vec<(&'static str, Arc<Series>)>>,
}

/// One attribute set: the bound histogram and its exemplar slots.
struct Series {
    bound: BoundHistogram<f64>,
    exemplars: Option<Arc<Reservoir>>,
}

impl Series {
    fn new(histogram: &Histogram<f64>, attributes: &[KeyValue]) -> Self {
        Series {
            bound: histogram.bind(attributes),
            exemplars: reservoir(SeriesKey::new(FUNCTION_DURATION, attributes)),
        }
    }

    #[inline]
    fn record(&self, seconds: f64, span: Option<&SpanContext>) {
        self.bound.record(seconds);
        if let (Some(exemplars), Some(span)) = (&self.exemplars, span) {
            exemplars.offer(seconds, span);
        }
    }
}

/// The timing of one call: when it started.
///
/// Read from the system clock, not `Instant`: the same reading starts the
/// call's span and the one that stops the timing ends it, so a sampled
/// call reads the clock twice, not four times. (A step of the system clock
/// during a call gives it a duration of 0, as its span would have.)
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    start: SystemTime,
}

impl Timing {
    /// When the call started: its span's start time.
    #[inline]
    pub(crate) fn started_at(self) -> SystemTime {
        self.start
    }

    /// The seconds from the start to `end`.
    #[inline]
    pub(crate) fn seconds_to(self, end: SystemTime) -> f64 {
        end.duration_since(self.start)
            .map_or(0.0, |d| d.as_secs_f64())
    }
}

impl FunctionMetrics {
    pub(crate) const fn new() -> Self {
        FunctionMetrics {
            first: OnceLock::new(),
            later: ArcSwapOption::const_empty(),
        }
    }

    /// The timing of a call starting now, when calls are measured.
    #[inline]
    pub(crate) fn start(&self) -> Option<Timing> {
        provider::functions_on().then(|| Timing {
            start: opentelemetry::time::now(),
        })
    }

    /// Records a call `seconds` long: failed with `error_type`, or not;
    /// `span` is its span when it records, the source of an exemplar.
    #[inline]
    pub(crate) fn finish(
        &self,
        seconds: f64,
        function: &'static str,
        scope: impl FnOnce() -> InstrumentationScope,
        error_type: Option<&'static str>,
        span: Option<&SpanContext>,
    ) {
        let generation = provider::generation();
        match self.first.get() {
            Some(first) if first.generation == generation => {
                first.record(seconds, function, error_type, span);
            }
            _ => self.finish_later(seconds, function, scope, error_type, span),
        }
    }

    /// [`FunctionMetrics::finish`] when the first binding is not the
    /// current one: bound now, into `first` when that is still empty.
    #[cold]
    fn finish_later(
        &self,
        seconds: f64,
        function: &'static str,
        scope: impl FnOnce() -> InstrumentationScope,
        error_type: Option<&'static str>,
        span: Option<&SpanContext>,
    ) {
        let generation = provider::generation();
        let scope = scope();
        if self.first.get().is_none() {
            let first = self
                .first
                .get_or_init(|| Bound::new(function, scope.clone()));
            if first.generation == generation {
                first.record(seconds, function, error_type, span);
                return;
            }
            // Bound for an older provider by another thread meanwhile.
        }
        let mut later = self.later.load();
        if !matches!(&*later, Some(b) if b.generation == generation) {
            self.later
                .store(Some(Arc::new(Bound::new(function, scope))));
            later = self.later.load();
        }
        if let Some(later) = &*later {
            later.record(seconds, function, error_type, span);
        }
    }
}

impl Bound {
    /// The histogram of the installed provider, bound for `function`.
    #[cold]
    fn new(function: &'static str, scope: InstrumentationScope) -> Self {
        let (generation, meter) = provider::meter(scope);
        let histogram = meter.map(|meter| {
            meter
                .f64_histogram(FUNCTION_DURATION)
                .with_unit("s")
                .with_description("Duration of the calls of a `#[traced]` function.")
                .with_boundaries(DURATION_BOUNDARIES.to_vec())
                .build()
        });
        let ok = histogram.as_ref().map(|histogram| {
            Series::new(
                histogram,
                &[KeyValue::new(semconv::CODE_FUNCTION_NAME, function)],
            )
        });
        Bound {
            generation,
            histogram,
            ok,
            failed: Mutex::new(Vec::new()),
        }
    }

    #[inline]
    fn record(
        &self,
        seconds: f64,
        function: &'static str,
        error_type: Option<&'static str>,
        span: Option<&SpanContext>,
    ) {
        match error_type {
            None => {
                if let Some(ok) = &self.ok {
                    ok.record(seconds, span);
                }
            }
            Some(error_type) => {
                if let Some(series) = self.failed_series(function, error_type) {
                    series.record(seconds, span);
                }
            }
        }
    }

    /// The series of the calls that failed with `error_type`, bound on its
    /// first failure.
    #[cold]
    fn failed_series(
        &self,
        function: &'static str,
        error_type: &'static str,
    ) -> Option<Arc<Series>> {
        let histogram = self.histogram.as_ref()?;
        let mut failed = self.failed.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, series)) = failed.iter().find(|(t, _)| *t == error_type) {
            return Some(series.clone());
        }
        let shown = if failed.len() < MAX_ERROR_TYPES {
            error_type
        } else {
            "_OTHER"
        };
        if let Some((_, series)) = failed.iter().find(|(t, _)| *t == shown) {
            return Some(series.clone());
        }
        let series = Arc::new(Series::new(
            histogram,
            &[
                KeyValue::new(semconv::CODE_FUNCTION_NAME, function),
                KeyValue::new(semconv::ERROR_TYPE, shown),
            ],
        ));
        failed.push((shown, series.clone()));
        Some(series)
    }
}

#[cfg(all(test, feature = "init"))]
mod tests {
    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
    use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};

    use super::*;

    /// More error types than a function keeps series for: the rest share
    /// `_OTHER`, so a function whose errors are many types (a generic
    /// error, a `Box<dyn Error>` of many) cannot grow its series without
    /// bound.
    #[test]
    fn past_sixteen_error_types_the_rest_share_other() {
        const TYPES: [&str; 20] = [
            "e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9", "e10", "e11", "e12", "e13",
            "e14", "e15", "e16", "e17", "e18", "e19",
        ];
        let exporter = InMemoryMetricExporter::default();
        let provider = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(exporter.clone()).build())
            .build();
        let histogram = provider
            .meter("test")
            .f64_histogram(FUNCTION_DURATION)
            .build();
        let bound = Bound {
            generation: 0,
            histogram: Some(histogram),
            ok: None,
            failed: Mutex::new(Vec::new()),
        };
        for error_type in TYPES {
            bound.record(0.001, "f", Some(error_type), None);
        }
        bound.record(0.001, "f", Some("e3"), None);
        provider.force_flush().unwrap();
        let exported = exporter.get_finished_metrics().unwrap();
        let mut counts: Vec<(String, u64)> = Vec::new();
        for resource in &exported {
            for scope in resource.scope_metrics() {
                for metric in scope.metrics() {
                    let AggregatedMetrics::F64(MetricData::Histogram(h)) = metric.data() else {
                        continue;
                    };
                    for point in h.data_points() {
                        let error_type = point
                            .attributes()
                            .find(|kv| kv.key == semconv::ERROR_TYPE)
                            .map(|kv| kv.value.to_string())
                            .unwrap_or_default();
                        counts.push((error_type, point.count()));
                    }
                }
            }
        }
        counts.sort();
        let mut expected: Vec<(String, u64)> = (0..16)
            .map(|i| (format!("e{i}"), if i == 3 { 2 } else { 1 }))
            .collect();
        expected.push(("_OTHER".to_owned(), 4));
        expected.sort();
        assert_eq!(counts, expected);
    }
}
