//! A started span: made current for a synchronous body, or handed to an
//! instrumented future; ended (with a panic recorded) when it goes.

use std::future::Future;
use std::mem::ManuallyDrop;
use std::sync::OnceLock;

use opentelemetry::trace::{SpanContext, TraceContextExt as _};
use opentelemetry::{Context, Key, KeyValue, StringValue, Value};

use super::exception;
use super::future::{Instrumented, PollPanic};

/// The span of one call, in its context, before it becomes current.
pub struct Started {
    /// `None` when tracing is disabled and no explicit parent was given:
    /// there is nothing to make current.
    pub(super) cx: Option<Context>,
    /// Whether the span records (known once, so that ending it needs no lock).
    pub(super) recording: bool,
    /// The call's timing for its function's duration histogram, when
    /// calls are measured.
    pub(super) measure: Option<Measure>,
}

/// A call being timed, and the call site whose histogram records it.
#[derive(Clone, Copy)]
pub(crate) struct Measure {
    pub(super) timing: crate::metrics::Timing,
    pub(super) site: &'static super::site::CallSite,
}

impl Started {
    /// The span's context, when there is one to make current.
    #[cfg_attr(not(feature = "reqwest"), allow(dead_code))]
    pub(crate) fn context(&self) -> Option<&Context> {
        self.cx.as_ref()
    }

    /// Makes the span current for a synchronous body; dropping the guard
    /// ends the span (recording a panic if one is unwinding through it).
    #[inline]
    pub fn enter(self) -> SyncGuard {
        match self.cx {
            None => SyncGuard(ManuallyDrop::new(None)),
            Some(cx) => {
                let attached = cx.clone().attach();
                SyncGuard(ManuallyDrop::new(Some(Entered {
                    active: ActiveSpan::new(cx, self.recording).measured(self.measure),
                    _attached: attached,
                })))
            }
        }
    }

    /// Wraps a future so that the span is current during every poll and
    /// ends when the future completes or is dropped.
    ///
    /// `finish` runs once with the output, before the span ends; generated
    /// code uses it to record errors and return values.
    #[inline]
    pub fn instrument<F, D>(self, future: F, finish: D) -> Instrumented<F, D>
    where
        F: Future,
        D: FnOnce(&ActiveSpan, &F::Output),
    {
        Instrumented {
            future,
            active: Some(
                ActiveSpan::new(self.cx.unwrap_or_else(Context::current), self.recording)
                    .measured(self.measure),
            ),
            finish: Some(finish),
        }
    }

    /// Runs `make` with the span current and returns the span, still
    /// open, with what `make` returned; a panic in `make` ends the span
    /// with the panic recorded.
    #[inline]
    pub(super) fn make_in_span<F>(self, make: impl FnOnce() -> F) -> (Option<ActiveSpan>, F) {
        let mut slot = Some(
            ActiveSpan::new(self.cx.unwrap_or_else(Context::current), self.recording)
                .measured(self.measure),
        );
        let made = {
            let _attached = slot.as_ref().map(|active| active.cx.clone().attach());
            // Ends the span if the constructor panics.
            let unwinding = PollPanic(Some(&mut slot));
            let made = make();
            unwinding.disarm();
            made
        };
        (slot, made)
    }

    /// For a function that returns a future: runs `make` (the function's
    /// body, which builds the future) with the span current, then wraps the
    /// future it returns like [`Started::instrument`], so the returned
    /// future, not the constructor, carries the span.
    #[inline]
    pub fn instrument_returned<F, D>(
        self,
        make: impl FnOnce() -> F,
        finish: D,
    ) -> Instrumented<F, D>
    where
        F: Future,
        D: FnOnce(&ActiveSpan, &F::Output),
    {
        let (slot, future) = self.make_in_span(make);
        Instrumented {
            future,
            active: slot,
            finish: Some(finish),
        }
    }
}

/// A started span in its context: what errors, return values and panics are
/// recorded on.
pub struct ActiveSpan {
    pub(super) cx: Context,
    /// Whether the span records; fixed when it starts.
    recording: bool,
    /// Whether a panic was already unwinding when the span became current:
    /// such a panic is not this span's.
    panicking_at_start: bool,
    /// The exception counter when the span started (see
    /// `exception::mark`); read only for a span that records.
    errors_at_start: u64,
    /// The call's timing, for its function's duration histogram.
    measure: Option<Measure>,
    /// The `error.type` of the call's failure, set by the outcome's
    /// dispatch whether the span records or not: the histogram counts
    /// every failed call.
    failed: OnceLock<&'static str>,
}

impl ActiveSpan {
    #[inline]
    pub(super) fn new(cx: Context, recording: bool) -> Self {
        ActiveSpan {
            cx,
            recording,
            panicking_at_start: std::thread::panicking(),
            errors_at_start: if recording { exception::mark() } else { 0 },
            measure: None,
            failed: OnceLock::new(),
        }
    }

    #[inline]
    fn measured(mut self, measure: Option<Measure>) -> Self {
        self.measure = measure;
        self
    }

    /// Whether the call's outcome has anything to go to: the span records,
    /// or the call is timed (its failure then gives `error.type`).
    #[inline]
    pub fn wants_outcome(&self) -> bool {
        self.recording || self.measure.is_some()
    }

    /// Marks the call failed with `error_type` (the first one given wins),
    /// for its function's duration histogram.
    #[inline]
    pub(crate) fn fail(&self, error_type: &'static str) {
        if self.measure.is_some() {
            let _ = self.failed.set(error_type);
        }
    }

    /// Records the call in its function's histogram, `seconds` long,
    /// failed when it was marked so or `panicked`. Called after the span
    /// ended: tail sampling has then seen how it ended (an error status,
    /// the end of the local root), which decides whether its trace is
    /// kept and so may give an exemplar.
    #[inline]
    fn record_call(&self, measure: Measure, seconds: f64, panicked: bool) {
        let error_type = if panicked {
            Some(super::panic::PANIC_TYPE)
        } else {
            self.failed.get().copied()
        };
        if self.recording {
            let span = self.cx.span();
            measure
                .site
                .record_call(seconds, error_type, Some(span.span_context()));
        } else {
            measure.site.record_call(seconds, error_type, None);
        }
    }

    /// Whether the span records.
    #[inline]
    pub fn is_recording(&self) -> bool {
        self.recording
    }

    /// Records one attribute; `None` records nothing.
    #[inline]
    pub fn attr(&self, key: &'static str, value: Option<Value>) {
        if let Some(value) = value {
            let span = self.cx.span();
            let mut scrubbed = Vec::new();
            crate::redact::claim(key, &mut scrubbed);
            span.set_attribute(KeyValue::new(Key::from_static_str(key), value));
            if let Some(attribute) = crate::redact::scrubbed_attribute(scrubbed) {
                span.set_attribute(attribute);
            }
        }
    }

    /// The span's context (with the span in it).
    pub fn context(&self) -> &Context {
        &self.cx
    }

    /// The span's own span context.
    pub fn span_context(&self) -> SpanContext {
        self.cx.span().span_context().clone()
    }

    pub(crate) fn record_error(
        &self,
        type_name: &'static str,
        message: String,
        sources: Vec<StringValue>,
    ) {
        self.record_error_as(type_name, None, message, sources);
    }

    /// Like `record_error`, with an `error.type` of its own.
    pub(crate) fn record_error_as(
        &self,
        type_name: &str,
        error_type: Option<&str>,
        message: String,
        sources: Vec<StringValue>,
    ) {
        exception::record(
            &self.cx.span(),
            self.errors_at_start,
            exception::Exception {
                type_name,
                error_type,
                message,
                sources,
                extra: Vec::new(),
            },
        );
    }

    /// Ends the span, recording the panic that is unwinding through it, if any.
    #[inline]
    pub(super) fn end(&self) {
        if !self.recording && self.measure.is_none() {
            // Disabled or not sampled, not timed: nothing to end, and no
            // clock to read.
            return;
        }
        // Timed up to here; recorded once the span ended (see
        // `record_call`). One clock reading ends both.
        let end = self.measure.map(|_| opentelemetry::time::now());
        let measured = self
            .measure
            .zip(end)
            .map(|(m, end)| (m, m.timing.seconds_to(end)));
        let panicked = std::thread::panicking() && !self.panicking_at_start;
        if self.recording {
            if panicked {
                super::panic::record_panic(&self.cx.span(), self.errors_at_start);
            }
            match end {
                Some(end) => self.cx.span().end_with_timestamp(end),
                None => self.cx.span().end(),
            }
        }
        if let Some((measure, seconds)) = measured {
            self.record_call(measure, seconds, panicked);
        }
    }

    pub(super) fn end_cancelled(&self) {
        let end = self.measure.map(|_| opentelemetry::time::now());
        let measured = self
            .measure
            .zip(end)
            .map(|(m, end)| (m, m.timing.seconds_to(end)));
        if self.recording {
            exception::record_cancelled(&self.cx.span());
            match end {
                Some(end) => self.cx.span().end_with_timestamp(end),
                None => self.cx.span().end(),
            }
        }
        // Cancelled is not failed: the duration is recorded without
        // `error.type`, as the span's status stays unset.
        if let Some((measure, seconds)) = measured {
            self.record_call(measure, seconds, false);
        }
    }
}

/// Keeps a synchronous call's span current; ends it when dropped.
///
/// Empty when there was no span and nothing to make current (nothing
/// installed, tracing disabled): one byte to write and test, so that such
/// a call costs next to nothing.
///
/// The `ManuallyDrop` is taken apart in `drop`, where the compiler then
/// sees that an empty guard has nothing left to drop: no call to the
/// field's drop glue on that path.
pub struct SyncGuard(ManuallyDrop<Option<Entered>>);

/// The span of a [`SyncGuard`] and its context's place on the stack.
struct Entered {
    active: ActiveSpan,
    _attached: opentelemetry::ContextGuard,
}

impl SyncGuard {
    /// The span, when it records: what the call's outcome is recorded on.
    /// `None` for a span that does not record, on which recording would
    /// do nothing.
    #[inline]
    pub fn recording_span(&self) -> Option<&ActiveSpan> {
        self.0
            .as_ref()
            .map(|entered| &entered.active)
            .filter(|active| active.recording)
    }

    /// The span, when the call's outcome has anything to go to: it
    /// records, or the call is timed for its function's histogram (which
    /// needs the `error.type` of a failure).
    #[inline]
    pub fn outcome_span(&self) -> Option<&ActiveSpan> {
        self.0
            .as_ref()
            .map(|entered| &entered.active)
            .filter(|active| active.wants_outcome())
    }
}

impl Drop for SyncGuard {
    #[inline]
    fn drop(&mut self) {
        // Ended while still current; the context is detached after, as
        // `entered` drops (the span first, then the context guard).
        if let Some(entered) = std::mem::take(&mut *self.0) {
            entered.active.end();
        }
    }
}
