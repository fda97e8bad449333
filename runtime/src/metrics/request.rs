//! The integrations' duration histograms, by the semantic conventions:
//! one [`DurationMetric`] per metric name, in a `static` of the
//! integration, its instrument made once per provider.

use std::sync::Arc;

use arc_swap::ArcSwapOption;
use opentelemetry::metrics::Histogram;
use opentelemetry::trace::SpanContext;
use opentelemetry::{InstrumentationScope, KeyValue};

use super::exemplar::{SeriesKey, reservoir};
use super::{DURATION_BOUNDARIES, provider};

/// A duration histogram of an integration, e.g.
/// `http.server.request.duration`.
pub(crate) struct DurationMetric {
    name: &'static str,
    description: &'static str,
    made: ArcSwapOption<(u64, Option<Histogram<f64>>)>,
}

impl DurationMetric {
    pub(crate) const fn new(name: &'static str, description: &'static str) -> Self {
        DurationMetric {
            name,
            description,
            made: ArcSwapOption::const_empty(),
        }
    }

    /// Whether a measurement would be recorded: read before building the
    /// attributes.
    #[inline]
    pub(crate) fn is_on(&self) -> bool {
        provider::installed()
    }

    /// Records `seconds` with `attributes`; `span` is the request's span
    /// when it records, the source of an exemplar. The attributes must be
    /// bounded (routes, never raw paths): each set is a series.
    pub(crate) fn record(&self, seconds: f64, attributes: &[KeyValue], span: Option<&SpanContext>) {
        if !provider::installed() {
            return;
        }
        let generation = provider::generation();
        let mut made = self.made.load();
        if !matches!(&*made, Some(m) if m.0 == generation) {
            self.make();
            made = self.made.load();
        }
        let Some((_, Some(histogram))) = made.as_deref() else {
            return;
        };
        histogram.record(seconds, attributes);
        if let Some(span) = span.filter(|span| span.is_valid()) {
            // A lookup per sampled request only; the exemplar's trace must
            // be kept, which `offer` checks.
            if let Some(exemplars) = reservoir(SeriesKey::new(self.name, attributes)) {
                exemplars.offer(seconds, span);
            }
        }
    }

    #[cold]
    fn make(&self) {
        let scope = InstrumentationScope::builder("traced")
            .with_version(env!("CARGO_PKG_VERSION"))
            .build();
        let (generation, meter) = provider::meter(scope);
        let histogram = meter.map(|meter| {
            meter
                .f64_histogram(self.name)
                .with_unit("s")
                .with_description(self.description)
                .with_boundaries(DURATION_BOUNDARIES.to_vec())
                .build()
        });
        self.made.store(Some(Arc::new((generation, histogram))));
    }
}
