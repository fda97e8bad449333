//! The integrations' duration histograms, by the semantic conventions:
//! one [`DurationMetric`] per metric name, in a `static` of the
//! integration, its instrument made once per provider.
//!
//! A request is timed from when its span starts to when it ends, as a
//! [`Measured`]: started only when a provider is installed (no clock is
//! read otherwise), with the attributes known at the start, completed with
//! those of the outcome (a status, `error.type`), [stopped](Measured::stop)
//! just before the span ends and [recorded](Stopped::record) just after:
//! tail sampling has then seen how the span ended, which decides whether
//! its trace is kept and so may give the exemplar.

// Used by the integrations, each behind its feature.
#![cfg_attr(
    not(any(
        feature = "axum",
        feature = "reqwest",
        feature = "tonic",
        feature = "rusqlite",
        feature = "sqlx",
        feature = "lapin"
    )),
    allow(dead_code)
)]

use std::sync::Arc;
use std::time::Instant;

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
    /// The attribute keys the integration records on this metric
    /// (`semconv::attribute` constants): all bounded, all listed for the
    /// metric by the conventions (the tests check it).
    keys: &'static [&'static str],
    made: ArcSwapOption<(u64, Option<Histogram<f64>>)>,
}

impl DurationMetric {
    /// The metric `name` (a `semconv::metric` constant), recording at
    /// most the attributes `keys`.
    pub(crate) const fn new(
        name: &'static str,
        description: &'static str,
        keys: &'static [&'static str],
    ) -> Self {
        DurationMetric {
            name,
            description,
            keys,
            made: ArcSwapOption::const_empty(),
        }
    }

    /// Whether a measurement would be recorded: read before building the
    /// attributes.
    #[inline]
    pub(crate) fn is_on(&self) -> bool {
        provider::installed()
    }

    /// The attributes of `from` (a span's) that this metric records, in
    /// their order: the span's values, the unbounded keys (`url.path`,
    /// `db.query.text`) left out.
    pub(crate) fn pick(&self, from: &[KeyValue]) -> Vec<KeyValue> {
        let mut picked = Vec::with_capacity(self.keys.len());
        picked.extend(
            from.iter()
                .filter(|kv| self.keys.contains(&kv.key.as_str()))
                .cloned(),
        );
        picked
    }

    /// Starts timing a request now, with the `attributes` known at its
    /// start; `None` (and no clock read) when no provider is installed.
    #[inline]
    pub(crate) fn start(&'static self, attributes: Vec<KeyValue>) -> Option<Measured> {
        self.is_on().then(|| Measured {
            metric: self,
            started: Instant::now(),
            attributes,
        })
    }

    /// [`start`](Self::start) with the attributes of `from` (a span's)
    /// that this metric records, picked only when it is on.
    #[inline]
    pub(crate) fn start_picked(&'static self, from: &[KeyValue]) -> Option<Measured> {
        if self.is_on() {
            self.start(self.pick(from))
        } else {
            None
        }
    }

    /// Records `seconds` with `attributes`; `span` is the request's span
    /// when it records, the source of an exemplar. The attributes must be
    /// bounded (routes, never raw paths): each set is a series.
    pub(crate) fn record(&self, seconds: f64, attributes: &[KeyValue], span: Option<&SpanContext>) {
        debug_assert!(
            attributes
                .iter()
                .all(|kv| self.keys.contains(&kv.key.as_str())),
            "{}: an attribute outside {:?} in {attributes:?}",
            self.name,
            self.keys
        );
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

    /// Checks this metric against the conventions: its name is a metric
    /// of the registry, and every key it records is one the conventions
    /// list for it.
    #[cfg(test)]
    #[track_caller]
    pub(crate) fn assert_conventional(&self) {
        let listed = crate::semconv::metric::ATTRIBUTES
            .iter()
            .find(|(name, _)| *name == self.name)
            .map(|(_, keys)| *keys)
            .unwrap_or_else(|| panic!("`{}` is not a metric of the conventions", self.name));
        for key in self.keys {
            assert!(
                listed.contains(key),
                "`{key}` is not an attribute of `{}` (the conventions list {listed:?})",
                self.name
            );
        }
    }
}

/// A request being timed for a [`DurationMetric`].
#[derive(Debug)]
pub(crate) struct Measured {
    metric: &'static DurationMetric,
    started: Instant,
    attributes: Vec<KeyValue>,
}

impl std::fmt::Debug for DurationMetric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurationMetric")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Measured {
    /// Sets `attribute`, replacing the value of its key if it has one.
    pub(crate) fn set(&mut self, attribute: KeyValue) {
        match self
            .attributes
            .iter_mut()
            .find(|kv| kv.key == attribute.key)
        {
            Some(found) => *found = attribute,
            None => self.attributes.push(attribute),
        }
    }

    /// The request ends now: its duration, to record once its span has
    /// ended; `span` is the request's span context when the span records
    /// (an exemplar's source).
    pub(crate) fn stop(self, span: Option<SpanContext>) -> Stopped {
        Stopped {
            seconds: self.started.elapsed().as_secs_f64(),
            measured: self,
            span,
        }
    }
}

/// A request's duration, to record once its span has ended.
#[derive(Debug)]
#[must_use = "a stopped measurement is recorded by `record`"]
pub(crate) struct Stopped {
    measured: Measured,
    seconds: f64,
    span: Option<SpanContext>,
}

impl Stopped {
    /// Records the duration (after the request's span ended).
    pub(crate) fn record(self) {
        let Stopped {
            measured,
            seconds,
            span,
        } = self;
        measured
            .metric
            .record(seconds, &measured.attributes, span.as_ref());
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{SpanId, TraceFlags, TraceId, TraceState};

    use super::*;
    use crate::semconv::{ERROR_TYPE, HTTP_REQUEST_METHOD, HTTP_ROUTE, URL_PATH, attribute};

    static TEST_DURATION: DurationMetric = DurationMetric::new(
        crate::semconv::metric::HTTP_SERVER_REQUEST_DURATION,
        "Duration of HTTP server requests.",
        &[
            attribute::HTTP_REQUEST_METHOD,
            attribute::HTTP_ROUTE,
            attribute::ERROR_TYPE,
        ],
    );

    #[test]
    fn picks_the_metric_keys_of_the_span_attributes() {
        let span = [
            KeyValue::new(HTTP_REQUEST_METHOD, "GET"),
            KeyValue::new(URL_PATH, "/users/7"),
            KeyValue::new(HTTP_ROUTE, "/users/{id}"),
        ];
        assert_eq!(
            TEST_DURATION.pick(&span),
            [
                KeyValue::new(HTTP_REQUEST_METHOD, "GET"),
                KeyValue::new(HTTP_ROUTE, "/users/{id}")
            ]
        );
        TEST_DURATION.assert_conventional();
    }

    #[test]
    #[should_panic(expected = "`url.path` is not an attribute of `http.server.request.duration`")]
    fn a_key_outside_the_conventions_fails_the_check() {
        static RAW_PATH: DurationMetric = DurationMetric::new(
            crate::semconv::metric::HTTP_SERVER_REQUEST_DURATION,
            "",
            &[attribute::URL_PATH],
        );
        RAW_PATH.assert_conventional();
    }

    // The exemplar of a measurement is the request span's trace and span,
    // when the span is sampled; an unsampled span gives none.
    #[test]
    fn a_sampled_request_gives_its_exemplar() {
        let _global = crate::metrics::global_test_lock();
        let ticket = provider::install(Arc::new(
            opentelemetry::metrics::noop::NoopMeterProvider::new(),
        ));
        let trace = TraceId::from(0x2900_0000_0000_0000_0000_0000_0000_0001_u128);
        let sampled = SpanContext::new(
            trace,
            SpanId::from(0x29_u64),
            TraceFlags::SAMPLED,
            false,
            TraceState::NONE,
        );
        let unsampled = SpanContext::new(
            TraceId::from(0x2a01_u128),
            SpanId::from(0x2a_u64),
            TraceFlags::default(),
            false,
            TraceState::NONE,
        );
        let route = KeyValue::new(HTTP_ROUTE, "/exemplar/{id}");
        let start = || {
            TEST_DURATION
                .start(vec![
                    KeyValue::new(HTTP_REQUEST_METHOD, "GET"),
                    route.clone(),
                ])
                .expect("a provider is installed")
        };
        let (mut failed, mut ok) = (start(), start());
        failed.set(KeyValue::new(ERROR_TYPE, "500"));
        failed.stop(Some(unsampled)).record();
        ok.set(KeyValue::new(HTTP_REQUEST_METHOD, "POST"));
        ok.stop(Some(sampled)).record();
        let drained = crate::metrics::drain_exemplars();
        provider::uninstall(ticket);
        let failed_key = SeriesKey::new(
            TEST_DURATION.name,
            &[
                KeyValue::new(HTTP_REQUEST_METHOD, "GET"),
                route.clone(),
                KeyValue::new(ERROR_TYPE, "500"),
            ],
        );
        assert!(!drained.contains_key(&failed_key), "{drained:?}");
        let ok_key = SeriesKey::new(
            TEST_DURATION.name,
            &[KeyValue::new(HTTP_REQUEST_METHOD, "POST"), route],
        );
        let taken = &drained[&ok_key];
        assert_eq!(taken.len(), 1, "{taken:?}");
        assert_eq!(taken[0].trace_id, trace);
        assert_eq!(taken[0].span_id, SpanId::from(0x29_u64));
    }
}
