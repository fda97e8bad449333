//! Exemplars: for each series of a duration histogram and each of its
//! buckets, one measurement per export interval with the trace and span
//! it was taken in, so that a latency figure leads to a trace.
//!
//! Only a trace that is kept gives an exemplar, so every exemplar resolves
//! to a trace in the backend:
//!
//! - without tail sampling, a measurement whose span is sampled (the head
//!   sampler kept it, so it is exported);
//! - with tail sampling on, a measurement whose trace tail sampling
//!   already keeps (a span of it ended with an error under `errors`, a
//!   service it called kept it, its local root ended and a rule kept it)
//!   or is sure to keep (the `ratio` rule keeps its randomness whatever
//!   happens). The measurement is recorded after its span ended, so the
//!   hold has seen that span. An exemplar never makes a trace kept: that
//!   would keep a fragment of a trace another service dropped.
//!
//! The first measurement to reach an empty bucket takes it: after that,
//! the bucket costs one relaxed load per measurement until the exporter
//! empties it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use opentelemetry::trace::{SpanContext, SpanId, TraceId};
use opentelemetry::{KeyValue, Value};

use super::{DURATION_BOUNDARIES, bucket_of};

/// How many series keep exemplars at most: past it, a new series records
/// its measurements but gives no exemplar (the SDK's own cardinality limit
/// bounds the series it aggregates the same way).
const MAX_SERIES: usize = 4096;

/// One measurement with the trace it was taken in.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Exemplar {
    pub(crate) value: f64,
    pub(crate) time: SystemTime,
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
}

/// A series: the metric's name and its attributes, as strings, sorted by
/// key. The exporter builds the same key from a data point.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct SeriesKey {
    pub(crate) metric: String,
    pub(crate) attributes: Vec<(String, String)>,
}

impl SeriesKey {
    pub(crate) fn new(metric: &str, attributes: &[KeyValue]) -> Self {
        let mut attributes: Vec<(String, String)> = attributes
            .iter()
            .map(|kv| (kv.key.as_str().to_owned(), value_text(&kv.value)))
            .collect();
        attributes.sort();
        attributes.dedup_by(|a, b| a.0 == b.0);
        SeriesKey {
            metric: metric.to_owned(),
            attributes,
        }
    }
}

/// An attribute value as the key compares it: the text of a string, the
/// decimal form of a number, `true`/`false`.
pub(crate) fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.as_str().to_owned(),
        other => other.to_string(),
    }
}

/// The exemplar slots of one series, a slot per bucket.
#[derive(Debug)]
pub(crate) struct Reservoir {
    slots: [Slot; DURATION_BOUNDARIES.len() + 1],
}

#[derive(Debug, Default)]
struct Slot {
    /// Set by the measurement that takes the slot, cleared by the exporter.
    taken: AtomicBool,
    exemplar: Mutex<Option<Exemplar>>,
}

impl Reservoir {
    fn new() -> Self {
        Reservoir {
            slots: std::array::from_fn(|_| Slot::default()),
        }
    }

    /// Offers the measurement `value`, taken in `span`: it becomes its
    /// bucket's exemplar when the bucket has none yet this interval and
    /// its trace is kept.
    #[inline]
    pub(crate) fn offer(&self, value: f64, span: &SpanContext) {
        // The SDK ignores what is not finite; so does the exemplar.
        if !value.is_finite() {
            return;
        }
        let slot = &self.slots[bucket_of(value)];
        if slot.taken.load(Ordering::Relaxed) {
            return;
        }
        self.take(slot, value, span);
    }

    #[cold]
    fn take(&self, slot: &Slot, value: f64, span: &SpanContext) {
        if !span.is_valid() || slot.taken.swap(true, Ordering::Acquire) {
            return;
        }
        if !kept(span) {
            slot.taken.store(false, Ordering::Release);
            return;
        }
        *slot.exemplar.lock().unwrap_or_else(PoisonError::into_inner) = Some(Exemplar {
            value,
            time: SystemTime::now(),
            trace_id: span.trace_id(),
            span_id: span.span_id(),
        });
    }

    /// The exemplars of this interval, the slots emptied for the next.
    #[cfg_attr(not(feature = "init"), allow(dead_code))]
    fn drain(&self) -> Vec<Exemplar> {
        let mut out = Vec::new();
        for slot in &self.slots {
            let taken = slot
                .exemplar
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            out.extend(taken);
            slot.taken.store(false, Ordering::Release);
        }
        out
    }
}

/// Whether the trace of `span` is kept: with tail sampling, known to be
/// kept already or sure to be (see the module's docs); otherwise by the
/// head sampler's flag.
fn kept(span: &SpanContext) -> bool {
    if crate::tail::registry::is_on() {
        crate::tail::registry::will_keep(span)
    } else {
        span.is_sampled()
    }
}

/// Every series with exemplar slots. Kept for the process's life (an
/// integration's series has no owner between its requests), bounded by
/// [`MAX_SERIES`]: about a kilobyte each at most.
static SERIES: Mutex<Option<HashMap<SeriesKey, Arc<Reservoir>>>> = Mutex::new(None);

/// The reservoir of `key`, created on first use; `None` past
/// [`MAX_SERIES`].
pub(crate) fn reservoir(key: SeriesKey) -> Option<Arc<Reservoir>> {
    let mut series = SERIES.lock().unwrap_or_else(PoisonError::into_inner);
    lookup(series.get_or_insert_with(HashMap::new), key, MAX_SERIES)
}

/// The reservoir of `key` in `series`, made when there are fewer than
/// `cap`.
fn lookup(
    series: &mut HashMap<SeriesKey, Arc<Reservoir>>,
    key: SeriesKey,
    cap: usize,
) -> Option<Arc<Reservoir>> {
    if let Some(found) = series.get(&key) {
        return Some(found.clone());
    }
    if series.len() >= cap {
        return None;
    }
    let made = Arc::new(Reservoir::new());
    series.insert(key, made.clone());
    Some(made)
}

/// Every exemplar taken since the last drain, by series (read by the
/// exporters `init` installs).
#[cfg_attr(not(feature = "init"), allow(dead_code))]
pub(crate) fn drain_exemplars() -> HashMap<SeriesKey, Vec<Exemplar>> {
    let live: Vec<(SeriesKey, Arc<Reservoir>)> = {
        let series = SERIES.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(series) = series.as_ref() else {
            return HashMap::new();
        };
        series
            .iter()
            .map(|(key, reservoir)| (key.clone(), reservoir.clone()))
            .collect()
    };
    live.into_iter()
        .filter_map(|(key, reservoir)| {
            let taken = reservoir.drain();
            (!taken.is_empty()).then_some((key, taken))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{TraceFlags, TraceState};

    use super::*;

    fn span(trace: u128, sampled: bool) -> SpanContext {
        SpanContext::new(
            TraceId::from(trace),
            SpanId::from(7u64),
            if sampled {
                TraceFlags::SAMPLED
            } else {
                TraceFlags::default()
            },
            false,
            TraceState::NONE,
        )
    }

    #[test]
    fn one_exemplar_per_bucket_per_interval_from_sampled_spans_only() {
        let _global = crate::metrics::global_test_lock();
        let reservoir = Reservoir::new();
        reservoir.offer(0.003, &span(1, false)); // not sampled: no exemplar
        reservoir.offer(0.004, &span(2, true)); // bucket 0's
        reservoir.offer(0.001, &span(3, true)); // bucket 0 taken already
        reservoir.offer(0.3, &span(4, true)); // bucket 7's
        reservoir.offer(f64::NAN, &span(6, true)); // never an exemplar
        reservoir.offer(f64::INFINITY, &span(6, true));
        let mut taken = reservoir.drain();
        taken.sort_by(|a, b| a.value.total_cmp(&b.value));
        let traces: Vec<TraceId> = taken.iter().map(|e| e.trace_id).collect();
        assert_eq!(traces, [TraceId::from(2u128), TraceId::from(4u128)]);
        assert_eq!(taken[0].value, 0.004);
        // Emptied: the next interval starts over.
        assert!(reservoir.drain().is_empty());
        reservoir.offer(0.001, &span(5, true));
        assert_eq!(reservoir.drain()[0].trace_id, TraceId::from(5u128));
    }

    #[test]
    fn keys_sort_attributes_and_read_values_as_text() {
        let a = SeriesKey::new(
            "m",
            &[
                KeyValue::new("z", 500_i64),
                KeyValue::new("a", "GET"),
                KeyValue::new("b", true),
            ],
        );
        assert_eq!(
            a.attributes,
            [
                ("a".to_owned(), "GET".to_owned()),
                ("b".to_owned(), "true".to_owned()),
                ("z".to_owned(), "500".to_owned())
            ]
        );
    }

    #[test]
    fn past_the_cap_a_new_series_gets_no_slots_and_the_old_keep_theirs() {
        let mut series = HashMap::new();
        let key = |n: i64| SeriesKey::new("m", &[KeyValue::new("server.address", n)]);
        for n in 0..3 {
            assert!(lookup(&mut series, key(n), 3).is_some());
        }
        // A client calling host after host: the fourth has none.
        assert!(lookup(&mut series, key(3), 3).is_none());
        assert!(lookup(&mut series, key(1_000_000), 3).is_none());
        assert_eq!(series.len(), 3);
        assert!(lookup(&mut series, key(1), 3).is_some());
    }

    #[test]
    fn a_series_keeps_its_slots_between_lookups() {
        let _global = crate::metrics::global_test_lock();
        let key = SeriesKey::new("exemplar.test.lookups", &[KeyValue::new("k", "v")]);
        super::reservoir(key.clone())
            .expect("room")
            .offer(0.02, &span(9, true));
        // Looked up again, as an integration does per request.
        super::reservoir(key.clone())
            .expect("room")
            .offer(0.021, &span(10, true));
        let drained = drain_exemplars();
        assert_eq!(drained[&key].len(), 1);
        assert_eq!(drained[&key][0].trace_id, TraceId::from(9u128));
    }
}
