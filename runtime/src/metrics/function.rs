//! One call site's duration histogram: bound to `code.function.name` once
//! per provider, so a call records without an attribute lookup; a failed
//! call's series (with `error.type`) bound on the first failure of each
//! error type.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

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
    bound: ArcSwapOption<Bound>,
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
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timing {
    start: Instant,
}

impl FunctionMetrics {
    pub(crate) const fn new() -> Self {
        FunctionMetrics {
            bound: ArcSwapOption::const_empty(),
        }
    }

    /// The timing of a call starting now, when calls are measured.
    #[inline]
    pub(crate) fn start(&self) -> Option<Timing> {
        provider::functions_on().then(|| Timing {
            start: Instant::now(),
        })
    }

    /// Records the call that started at `timing`: failed with
    /// `error_type`, or not; `span` is its span when it records, the
    /// source of an exemplar.
    #[inline]
    pub(crate) fn finish(
        &self,
        timing: Timing,
        function: &'static str,
        scope: impl FnOnce() -> InstrumentationScope,
        error_type: Option<&'static str>,
        span: Option<&SpanContext>,
    ) {
        let seconds = timing.start.elapsed().as_secs_f64();
        let generation = provider::generation();
        let mut bound = self.bound.load();
        if !matches!(&*bound, Some(b) if b.generation == generation) {
            self.bind(function, scope());
            bound = self.bound.load();
        }
        let Some(bound) = &*bound else { return };
        match error_type {
            None => {
                if let Some(ok) = &bound.ok {
                    ok.record(seconds, span);
                }
            }
            Some(error_type) => {
                if let Some(series) = bound.failed_series(function, error_type) {
                    series.record(seconds, span);
                }
            }
        }
    }

    #[cold]
    fn bind(&self, function: &'static str, scope: InstrumentationScope) {
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
        self.bound.store(Some(Arc::new(Bound {
            generation,
            histogram,
            ok,
            failed: Mutex::new(Vec::new()),
        })));
    }
}

impl Bound {
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
