//! What keeps a trace: the rules of `TRACED_TAIL_SAMPLING` and
//! `Builder::tail_sampling`, and the decision over a held fragment.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::trace::SpanContext;
use opentelemetry::trace::{SpanId, Status, TraceId, TraceState};
use opentelemetry_sdk::trace::SpanData;

/// One reason to keep a trace; a trace is kept when any rule says so.
///
/// ```
/// # use traced_runtime as traced;
/// use std::time::Duration;
/// use traced::TailRule;
///
/// let rules = [
///     TailRule::Errors,
///     TailRule::SlowerThan(Duration::from_millis(250)),
///     TailRule::attribute("http.response.status_code", 503_i64),
///     TailRule::Ratio(0.05),
/// ];
/// # let _ = rules;
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub enum TailRule {
    /// A span of the fragment ended with status Error (an `Err` or a panic
    /// under `#[traced]`, an HTTP 5xx or a gRPC error in the integrations).
    /// `errors` in `TRACED_TAIL_SAMPLING`.
    Errors,
    /// A local root of the fragment (a span whose parent is remote or
    /// absent) lasted at least this long; a fragment held this long before
    /// its root ended counts too. `slower_than=250ms`.
    SlowerThan(Duration),
    /// This share of traces (0.0 to 1.0), decided from the trace's
    /// randomness as OpenTelemetry's consistent probability sampling
    /// decides it: the same traces in every process that samples by ratio,
    /// and those kept at a smaller ratio are among those kept at a larger
    /// one. `ratio=0.05`.
    Ratio(f64),
    /// A span of the fragment has the attribute `key` with a value that
    /// reads as this text (`500` matches the int 500 and the string
    /// `"500"`). `attribute=http.route=/checkout`.
    Attribute(String, String),
    /// The function, given every span of the fragment, returns `true`
    /// (`Builder::tail_sampling_fn`).
    Custom(KeepFn),
}

impl TailRule {
    /// [`TailRule::Attribute`] from a key and any attribute value.
    pub fn attribute(key: impl Into<String>, value: impl Into<opentelemetry::Value>) -> TailRule {
        TailRule::Attribute(key.into(), value.into().as_str().into_owned())
    }

    /// [`TailRule::Custom`] from a function over the fragment's spans.
    pub fn custom(f: impl Fn(&[SpanData]) -> bool + Send + Sync + 'static) -> TailRule {
        TailRule::Custom(KeepFn(Arc::new(f)))
    }
}

impl fmt::Debug for TailRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TailRule::Errors => f.write_str("Errors"),
            TailRule::SlowerThan(d) => f.debug_tuple("SlowerThan").field(d).finish(),
            TailRule::Ratio(r) => f.debug_tuple("Ratio").field(r).finish(),
            TailRule::Attribute(k, v) => f.debug_tuple("Attribute").field(k).field(v).finish(),
            TailRule::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

impl PartialEq for TailRule {
    fn eq(&self, other: &TailRule) -> bool {
        match (self, other) {
            (TailRule::Errors, TailRule::Errors) => true,
            (TailRule::SlowerThan(a), TailRule::SlowerThan(b)) => a == b,
            (TailRule::Ratio(a), TailRule::Ratio(b)) => a == b,
            (TailRule::Attribute(k, v), TailRule::Attribute(l, w)) => k == l && v == w,
            (TailRule::Custom(a), TailRule::Custom(b)) => Arc::ptr_eq(&a.0, &b.0),
            _ => false,
        }
    }
}

/// The function of a [`TailRule::Custom`]: `true` keeps the fragment.
#[derive(Clone)]
pub struct KeepFn(Arc<KeepDyn>);

/// What a [`KeepFn`] holds.
type KeepDyn = dyn Fn(&[SpanData]) -> bool + Send + Sync;

impl fmt::Debug for KeepFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeepFn(..)")
    }
}

/// Which rule kept a trace: the first that matches in this order, so that
/// every kept trace is counted once, and the ratio counts only what no
/// other rule kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kept {
    Errors,
    Slow,
    Attribute,
    Custom,
    Ratio,
    /// No rule kept it, but a service it called did (`traceresponse`), or
    /// `tail_keep_now` was called: last, so that it counts only the traces
    /// that would have been dropped without it.
    Downstream,
}

/// The rules, sorted for the decision.
#[derive(Debug, Clone, Default)]
pub(crate) struct Policy {
    errors: bool,
    slower_than: Option<Duration>,
    attributes: Vec<(String, String)>,
    custom: Vec<KeepFn>,
    /// The rejection threshold of the ratio (see [`threshold`]).
    threshold: Option<u64>,
}

impl Policy {
    pub(crate) fn new(rules: impl IntoIterator<Item = TailRule>) -> Policy {
        let mut policy = Policy::default();
        for rule in rules {
            match rule {
                TailRule::Errors => policy.errors = true,
                // The shortest threshold keeps the most; with two, the
                // longer one adds nothing.
                TailRule::SlowerThan(d) => {
                    policy.slower_than = Some(policy.slower_than.map_or(d, |old| old.min(d)));
                }
                TailRule::Ratio(r) => {
                    let t = threshold(r);
                    policy.threshold = Some(policy.threshold.map_or(t, |old| old.min(t)));
                }
                TailRule::Attribute(k, v) => policy.attributes.push((k, v)),
                TailRule::Custom(f) => policy.custom.push(f),
            }
        }
        policy
    }

    /// Whether the errors rule is on.
    pub(crate) fn keeps_errors(&self) -> bool {
        self.errors
    }

    /// The ratio rule's rejection threshold, when it is on.
    pub(crate) fn ratio_threshold(&self) -> Option<u64> {
        self.threshold
    }

    /// Whether the ratio rule keeps the trace of `span` whatever else
    /// happens in it: its randomness is known from the start.
    pub(crate) fn ratio_keeps(&self, span: &SpanContext) -> bool {
        self.threshold
            .is_some_and(|t| randomness(span.trace_id(), span.trace_state()) >= t)
    }

    /// Whether to keep `spans`, the fragment of one trace held here, and
    /// by which rule. `held_for` is how long it was held, when it is
    /// decided before its local root ended (a bound was reached).
    pub(crate) fn decide(&self, spans: &[SpanData], held_for: Option<Duration>) -> Option<Kept> {
        if self.errors
            && spans
                .iter()
                .any(|s| matches!(s.status, Status::Error { .. }))
        {
            return Some(Kept::Errors);
        }
        if let Some(limit) = self.slower_than {
            let root_slow = spans.iter().any(|s| {
                is_local_root(s)
                    && s.end_time
                        .duration_since(s.start_time)
                        .is_ok_and(|d| d >= limit)
            });
            if root_slow || held_for.is_some_and(|d| d >= limit) {
                return Some(Kept::Slow);
            }
        }
        if !self.attributes.is_empty()
            && spans.iter().any(|s| {
                s.attributes.iter().any(|kv| {
                    self.attributes
                        .iter()
                        .any(|(k, v)| kv.key.as_str() == k && kv.value.as_str() == v.as_str())
                })
            })
        {
            return Some(Kept::Attribute);
        }
        if self.custom.iter().any(|f| (f.0)(spans)) {
            return Some(Kept::Custom);
        }
        if let (Some(t), Some(first)) = (self.threshold, spans.first()) {
            let ctx = &first.span_context;
            if randomness(ctx.trace_id(), ctx.trace_state()) >= t {
                return Some(Kept::Ratio);
            }
        }
        None
    }
}

/// A span whose parent is remote or absent: where this process's part of
/// the trace starts.
pub(crate) fn is_local_root(span: &SpanData) -> bool {
    span.parent_span_id == SpanId::INVALID || span.parent_span_is_remote
}

/// 2^56: randomness and thresholds are 56-bit numbers.
const MAX_ADJUSTED_COUNT: u64 = 1 << 56;

/// The rejection threshold of probability `p`, as OpenTelemetry's
/// consistent probability sampling defines it: `2^56 - round(p * 2^56)`;
/// a trace is kept when its randomness is at least this. `1.0` gives 0
/// (every trace), `0.0` gives 2^56 (none).
pub(crate) fn threshold(p: f64) -> u64 {
    let p = if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) };
    // `p * 2^56` is exact in f64 to within its 53 bits, which is the
    // precision the specification's own encoders use.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let scaled = (p * MAX_ADJUSTED_COUNT as f64).round() as u64;
    MAX_ADJUSTED_COUNT - scaled.min(MAX_ADJUSTED_COUNT)
}

/// A trace's randomness: `rv` of the `ot` entry of its trace state when
/// there is one (14 hex digits), else the low 56 bits of the trace id,
/// which W3C Trace Context level 2 makes random.
pub(crate) fn randomness(trace_id: TraceId, state: &TraceState) -> u64 {
    if let Some(rv) = state.get("ot").and_then(ot_rv) {
        return rv;
    }
    let id = u128::from_be_bytes(trace_id.to_bytes());
    #[allow(clippy::cast_possible_truncation)]
    let low = id as u64;
    low & (MAX_ADJUSTED_COUNT - 1)
}

/// `threshold` as the `th` sub-key writes it: 14 hex digits with the
/// trailing zeros left out, `0` for a threshold of 0 (every trace kept).
pub(crate) fn th_text(threshold: u64) -> String {
    let digits = format!("{:014x}", threshold & (MAX_ADJUSTED_COUNT - 1));
    let trimmed = digits.trim_end_matches('0');
    if trimmed.is_empty() {
        "0".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// `state` with `th:<threshold>` in its `ot` entry (its other sub-keys,
/// `rv` above all, kept; an older `th` replaced): what the specification's
/// probability sampling writes into a span a ratio kept, so that a backend
/// can weigh it (an adjusted count of `2^56 / (2^56 - threshold)`). The
/// state as it was when the entry cannot be written.
pub(crate) fn with_th(state: &TraceState, threshold: u64) -> TraceState {
    let mut fields: Vec<String> = state
        .get("ot")
        .map(|ot| {
            ot.split(';')
                .filter(|f| !f.is_empty() && !f.starts_with("th:"))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    fields.insert(0, format!("th:{}", th_text(threshold)));
    state
        .insert("ot", fields.join(";"))
        .unwrap_or_else(|_| state.clone())
}

/// `spans`, kept by the ratio rule at `threshold`, with `ot.th` in their
/// trace state (see [`with_th`]).
pub(crate) fn stamp_th(spans: &mut [SpanData], threshold: u64) {
    for span in spans {
        let sc = &span.span_context;
        let state = with_th(sc.trace_state(), threshold);
        span.span_context = SpanContext::new(
            sc.trace_id(),
            sc.span_id(),
            sc.trace_flags(),
            sc.is_remote(),
            state,
        );
    }
}

/// `rv:<14 hex digits>` among the `;`-separated sub-keys of an `ot` entry.
fn ot_rv(ot: &str) -> Option<u64> {
    ot.split(';').find_map(|field| {
        let value = field.strip_prefix("rv:")?;
        (value.len() == 14 && value.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| u64::from_str_radix(value, 16).ok())
            .flatten()
    })
}
