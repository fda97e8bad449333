//! The arithmetic of the RED table, as small pure functions: what a
//! cumulative reading adds to the one before it, a rate, a ratio, the
//! bucket of a value, a percentile from explicit buckets, and the nearest
//! bucket that holds an exemplar.
//!
//! Buckets follow OTLP: with bounds `b`, bucket `0` holds `(-inf, b[0]]`,
//! bucket `i` holds `(b[i-1], b[i]]`, the last one `(b[last], +inf)`, so
//! there is one more bucket than bounds.

/// A histogram data point's counts over `[start_ns, time_ns]`: one export's
/// for a delta series, everything since `start_ns` for a cumulative one.
/// `start_ns` is `0` when the sender gave none. `buckets` is empty for a
/// histogram sent without its distribution (count only).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reading {
    pub(crate) start_ns: u64,
    pub(crate) time_ns: u64,
    pub(crate) count: u64,
    pub(crate) buckets: Vec<u64>,
}

/// What the cumulative reading `now` adds to a series whose previous
/// reading was `last`:
///
/// - the whole of `now` for the first reading, and after a reset: the
///   start time changed, or the count or a bucket went down, or the
///   buckets changed shape (the sender restarted, or its aggregation did);
/// - `None` for a reading older than `last` (a retry that arrived late):
///   it adds nothing;
/// - otherwise the difference, over `[last.time_ns, now.time_ns]`.
pub(crate) fn since(last: Option<&Reading>, now: &Reading) -> Option<Reading> {
    let Some(last) = last else {
        return Some(now.clone());
    };
    if now.time_ns < last.time_ns {
        return None;
    }
    let reset = now.start_ns != last.start_ns
        || now.count < last.count
        || now.buckets.len() != last.buckets.len()
        || now.buckets.iter().zip(&last.buckets).any(|(n, l)| n < l);
    if reset {
        return Some(now.clone());
    }
    Some(Reading {
        start_ns: last.time_ns,
        time_ns: now.time_ns,
        count: now.count - last.count,
        buckets: now
            .buckets
            .iter()
            .zip(&last.buckets)
            .map(|(n, l)| n - l)
            .collect(),
    })
}

/// Calls per second: `count` over `[from_ns, to_ns]`; `None` for an empty
/// window.
pub(crate) fn rate(count: u64, from_ns: u64, to_ns: u64) -> Option<f64> {
    let window = to_ns.checked_sub(from_ns).filter(|w| *w > 0)?;
    Some(count as f64 / (window as f64 / 1e9))
}

/// `part / whole`; `None` when `whole` is zero.
pub(crate) fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The bucket that holds `value` among `bounds` (upper bounds inclusive).
pub(crate) fn bucket_of(bounds: &[f64], value: f64) -> usize {
    bounds.partition_point(|bound| *bound < value)
}

/// A percentile's estimated value and the bucket it fell in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Estimate {
    pub(crate) value: f64,
    pub(crate) bucket: usize,
}

/// The `q`-quantile (`0 < q <= 1`: `0.95` for p95) of the values counted
/// in `buckets`, as Prometheus's `histogram_quantile` estimates it: the
/// rank `q × total` is found in the cumulative counts, and the value is
/// interpolated linearly inside the bucket that holds it, as if the
/// bucket's values were spread evenly between its bounds.
///
/// The first bucket is taken to start at `min` when known, else at `0`
/// (these are durations) or at its bound when that is not positive. The
/// last bucket has no upper bound: it ends at `max` when known, else the
/// estimate is its lower bound. Bounds are narrowed to `[min, max]` when
/// known, and so is the result. `None` when nothing was counted or the
/// shapes disagree (`buckets` must be one longer than `bounds`).
pub(crate) fn percentile(
    q: f64,
    bounds: &[f64],
    buckets: &[u64],
    min: Option<f64>,
    max: Option<f64>,
) -> Option<Estimate> {
    if buckets.len() != bounds.len() + 1 || !(q > 0.0 && q <= 1.0) {
        return None;
    }
    let total: u128 = buckets.iter().map(|c| u128::from(*c)).sum();
    if total == 0 {
        return None;
    }
    let rank = q * total as f64;
    let mut before: u128 = 0;
    for (i, count) in buckets.iter().enumerate() {
        let after = before + u128::from(*count);
        if *count > 0 && after as f64 >= rank {
            let last = i == bounds.len();
            let mut lower = match (i, min, bounds.first()) {
                (0, Some(min), _) => min,
                (0, None, Some(first)) if *first <= 0.0 => *first,
                (0, None, _) => 0.0,
                _ => bounds[i - 1],
            };
            let mut upper = if last {
                max.unwrap_or(lower)
            } else {
                bounds[i]
            };
            if let Some(min) = min {
                lower = lower.max(min);
            }
            if let Some(max) = max {
                upper = upper.min(max);
            }
            if upper < lower {
                upper = lower;
            }
            let within = (rank - before as f64) / *count as f64;
            let mut value = lower + (upper - lower) * within.clamp(0.0, 1.0);
            if let Some(min) = min {
                value = value.max(min);
            }
            if let Some(max) = max {
                value = value.min(max);
            }
            return Some(Estimate { value, bucket: i });
        }
        before = after;
    }
    None
}

/// The slot at `at`, or the nearest one that is filled; of two as near,
/// the one above, since a percentile is about the slow end.
pub(crate) fn nearest<T>(slots: &[Option<T>], at: usize) -> Option<&T> {
    for distance in 0..slots.len() {
        let above = at.checked_add(distance).and_then(|i| slots.get(i));
        if let Some(Some(found)) = above {
            return Some(found);
        }
        let below = at.checked_sub(distance).and_then(|i| slots.get(i));
        if let Some(Some(found)) = below {
            return Some(found);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The runtime's duration bounds, in seconds.
    const BOUNDS: [f64; 14] = [
        0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
    ];

    fn close(actual: Option<Estimate>, value: f64, bucket: usize) {
        let actual = actual.expect("an estimate");
        assert!(
            (actual.value - value).abs() < 1e-12 && actual.bucket == bucket,
            "{actual:?}, expected {value} in bucket {bucket}"
        );
    }

    #[test]
    fn percentiles_interpolate_inside_their_bucket() {
        // 100 calls: 10 in (0, 5ms], 60 in (5ms, 10ms], 20 in (10ms, 25ms],
        // 10 in (25ms, 50ms].
        let mut buckets = [0u64; 15];
        buckets[..4].copy_from_slice(&[10, 60, 20, 10]);
        // p50: rank 50; 10 before bucket 1, so 40 of its 60:
        // 5ms + 5ms × 40/60 = 8.333…ms.
        close(
            percentile(0.5, &BOUNDS, &buckets, None, None),
            0.005 + 0.005 * 40.0 / 60.0,
            1,
        );
        // p95: rank 95; 90 before bucket 3, so 5 of its 10:
        // 25ms + 25ms × 5/10 = 37.5ms.
        close(percentile(0.95, &BOUNDS, &buckets, None, None), 0.0375, 3);
        // p99: rank 99: 25ms + 25ms × 9/10 = 47.5ms.
        close(percentile(0.99, &BOUNDS, &buckets, None, None), 0.0475, 3);
        // With the observed max at 40ms, bucket 3 is (25ms, 40ms]:
        // p99 = 25ms + 15ms × 9/10 = 38.5ms.
        close(
            percentile(0.99, &BOUNDS, &buckets, None, Some(0.04)),
            0.0385,
            3,
        );
        // The first bucket starts at 0 without a min: p5 = 5ms × 5/10 =
        // 2.5ms; with min 4ms it starts there: 4ms + 1ms × 5/10 = 4.5ms.
        close(percentile(0.05, &BOUNDS, &buckets, None, None), 0.0025, 0);
        close(
            percentile(0.05, &BOUNDS, &buckets, Some(0.004), None),
            0.0045,
            0,
        );
    }

    #[test]
    fn the_overflow_bucket_ends_at_max_or_its_bound() {
        // 4 calls under 5ms, 4 over 10s.
        let mut buckets = [0u64; 15];
        buckets[0] = 4;
        buckets[14] = 4;
        // p99: rank 7.92; 4 before the last bucket: 3.92 of 4. Without a
        // max the estimate is its lower bound, 10s; with max 12s:
        // 10s + 2s × 3.92/4 = 11.96s.
        close(percentile(0.99, &BOUNDS, &buckets, None, None), 10.0, 14);
        close(
            percentile(0.99, &BOUNDS, &buckets, None, Some(12.0)),
            11.96,
            14,
        );
        // p50: rank 4 is reached at the end of bucket 0: 5ms.
        close(percentile(0.5, &BOUNDS, &buckets, None, None), 0.005, 0);
    }

    #[test]
    fn empty_buckets_are_skipped() {
        // 1 call in (50ms, 75ms] and nothing else: every percentile is in
        // bucket 4; p50 = 50ms + 25ms × 0.5 = 62.5ms; clamped to min = max
        // = 60ms when they are known.
        let mut buckets = [0u64; 15];
        buckets[4] = 1;
        close(percentile(0.5, &BOUNDS, &buckets, None, None), 0.0625, 4);
        close(
            percentile(0.5, &BOUNDS, &buckets, Some(0.06), Some(0.06)),
            0.06,
            4,
        );
    }

    #[test]
    fn nothing_or_misshapen_is_no_percentile() {
        assert_eq!(percentile(0.5, &BOUNDS, &[0; 15], None, None), None);
        assert_eq!(percentile(0.5, &BOUNDS, &[1; 14], None, None), None);
        assert_eq!(percentile(0.5, &[], &[], None, None), None);
        assert_eq!(percentile(0.0, &BOUNDS, &[1; 15], None, None), None);
        assert_eq!(percentile(f64::NAN, &BOUNDS, &[1; 15], None, None), None);
        // No bounds, one bucket: everything between min and max.
        close(percentile(0.5, &[], &[4], Some(1.0), Some(3.0)), 2.0, 0);
        // Counts near u64::MAX do not overflow.
        let huge = percentile(0.5, &[1.0], &[u64::MAX, u64::MAX], None, None);
        close(huge, 1.0, 0);
    }

    #[test]
    fn cumulative_readings_become_differences() {
        let reading = |start_ns, time_ns, buckets: &[u64]| Reading {
            start_ns,
            time_ns,
            count: buckets.iter().sum(),
            buckets: buckets.to_vec(),
        };
        let first = reading(100, 1_000, &[2, 3]);
        assert_eq!(since(None, &first), Some(first.clone()));
        // 10 s later: 1 and 4 more.
        assert_eq!(
            since(Some(&first), &reading(100, 11_000, &[3, 7])),
            Some(reading(1_000, 11_000, &[1, 4]))
        );
        // The same reading again adds nothing over an empty window.
        assert_eq!(
            since(Some(&first), &first),
            Some(reading(1_000, 1_000, &[0, 0]))
        );
        // A late retry adds nothing.
        assert_eq!(since(Some(&first), &reading(100, 900, &[1, 1])), None);
        // Resets: a new start, a count or a bucket that went down, another
        // shape. The reading is taken whole.
        for now in [
            reading(5_000, 11_000, &[3, 7]),
            reading(100, 11_000, &[1, 1]),
            reading(100, 11_000, &[1, 9]),
            reading(100, 11_000, &[3, 3, 3]),
        ] {
            assert_eq!(since(Some(&first), &now), Some(now.clone()), "{now:?}");
        }
    }

    #[test]
    fn rates_and_ratios() {
        // 30 calls over 10 s: 3 a second; over nothing: unknown.
        assert_eq!(rate(30, 5_000_000_000, 15_000_000_000), Some(3.0));
        assert_eq!(rate(30, 7, 7), None);
        assert_eq!(rate(30, 8, 7), None);
        assert_eq!(ratio(1, 4), Some(0.25));
        assert_eq!(ratio(0, 0), None);
    }

    #[test]
    fn buckets_and_the_nearest_exemplar() {
        assert_eq!(bucket_of(&BOUNDS, 0.0), 0);
        assert_eq!(bucket_of(&BOUNDS, 0.005), 0);
        assert_eq!(bucket_of(&BOUNDS, 0.006), 1);
        assert_eq!(bucket_of(&BOUNDS, 11.0), 14);
        let slots = [Some('a'), None, None, Some('d'), None];
        assert_eq!(nearest(&slots, 0), Some(&'a'));
        assert_eq!(nearest(&slots, 1), Some(&'a'));
        // As near as 'a' and 'd': the one above.
        assert_eq!(nearest(&slots, 2), Some(&'d'));
        assert_eq!(nearest(&slots, 4), Some(&'d'));
        assert_eq!(nearest(&slots, 9), None);
        assert_eq!(nearest::<char>(&[None, None], 1), None);
    }
}
