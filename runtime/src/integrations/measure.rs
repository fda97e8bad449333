//! The integrations' side of the duration histograms (`crate::metrics`):
//! a request's timing is stopped when its work completes, inside its span,
//! and recorded once the span has ended, as `#[traced]` calls are: tail
//! sampling has then seen how the span ended (an error status, the end of
//! the local root), which decides whether its trace is kept and so may
//! give the measurement's exemplar.

// Each integration uses a part; with all of them, every part is used.
#![cfg_attr(
    not(all(
        feature = "axum",
        feature = "reqwest",
        feature = "tonic",
        feature = "rusqlite",
        feature = "sqlx",
        feature = "lapin"
    )),
    allow(dead_code)
)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use opentelemetry::Context;
use opentelemetry::trace::{SpanContext, TraceContextExt as _};

use crate::metrics::{Measured, Stopped};
use crate::span::ActiveSpan;

/// The span context a request's measurement takes its exemplar from: the
/// request span's, when that span records.
pub(super) fn exemplar_span(span: &ActiveSpan) -> Option<SpanContext> {
    span.is_recording().then(|| span.span_context())
}

/// [`exemplar_span`] of the current span: in a future polled inside its
/// span. (When a filter disabled the request's span, the caller's is
/// current: a span of the same trace.)
fn current_exemplar_span() -> Option<SpanContext> {
    Context::map_current(|cx| {
        let span = cx.span();
        span.is_recording().then(|| span.span_context().clone())
    })
}

pin_project_lite::pin_project! {
    /// A request's future, polled inside its span: when it completes, its
    /// timing (if it is timed) gets the outcome's attributes from
    /// `complete` and stops; the output comes with it, to record once the
    /// span has ended.
    pub(super) struct Timed<F, C> {
        #[pin]
        inner: F,
        measured: Option<Measured>,
        complete: C,
    }
}

impl<F, C> Timed<F, C> {
    pub(super) fn new(inner: F, measured: Option<Measured>, complete: C) -> Self {
        Timed {
            inner,
            measured,
            complete,
        }
    }
}

impl<F, C> Future for Timed<F, C>
where
    F: Future,
    C: Fn(&mut Measured, &F::Output),
{
    type Output = (F::Output, Option<Stopped>);

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let out = std::task::ready!(this.inner.poll(task));
        let stopped = this.measured.take().map(|mut measured| {
            (this.complete)(&mut measured, &out);
            measured.stop(current_exemplar_span())
        });
        Poll::Ready((out, stopped))
    }
}

pin_project_lite::pin_project! {
    /// An instrumented [`Timed`] future: records the duration once the
    /// span has ended, and hands on the output.
    pub(super) struct Recorded<I> {
        #[pin]
        inner: I,
    }
}

impl<I> Recorded<I> {
    pub(super) fn new(inner: I) -> Self {
        Recorded { inner }
    }
}

impl<I, T> Future for Recorded<I>
where
    I: Future<Output = (T, Option<Stopped>)>,
{
    type Output = T;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<T> {
        let (out, stopped) = std::task::ready!(self.project().inner.poll(task));
        if let Some(stopped) = stopped {
            stopped.record();
        }
        Poll::Ready(out)
    }
}

/// [`Started::instrument`] for a request that may be timed: `finish`
/// records the outcome on the span, `complete` adds the outcome's
/// attributes to the timing (its status, `error.type`); the duration is
/// recorded once the span has ended.
#[cfg(any(feature = "reqwest", feature = "sqlx", feature = "lapin"))]
pub(super) fn instrument_measured<F, D>(
    started: crate::span::Started,
    future: F,
    measured: Option<Measured>,
    complete: fn(&mut Measured, &F::Output),
    finish: D,
) -> impl Future<Output = F::Output>
where
    F: Future,
    D: FnOnce(&ActiveSpan, &F::Output),
{
    let timed = Timed::new(future, measured, complete);
    Recorded::new(started.instrument(timed, move |span, (out, _)| finish(span, out)))
}

#[cfg(all(
    test,
    feature = "testing",
    any(feature = "reqwest", feature = "sqlx", feature = "lapin")
))]
mod tests {
    use std::sync::Arc;

    use opentelemetry::KeyValue;
    use opentelemetry::trace::SpanBuilder;

    use super::*;
    use crate::metrics::{DurationMetric, SeriesKey, drain_exemplars};
    use crate::semconv::{ERROR_TYPE, attribute, metric};

    static SITE: crate::span::CallSite = crate::span::CallSite::integration();
    static DURATION: DurationMetric = DurationMetric::new(
        metric::HTTP_CLIENT_REQUEST_DURATION,
        "",
        &[attribute::ERROR_TYPE],
    );

    // A request measured in a sampled span: its exemplar is that span,
    // taken once the span has ended (after it was exported here).
    #[test]
    fn a_measured_request_gives_its_span_as_exemplar() {
        let capture = crate::testing::Capture::start();
        let key = SeriesKey::new(
            metric::HTTP_CLIENT_REQUEST_DURATION,
            &[KeyValue::new(ERROR_TYPE, "measure.test")],
        );
        let _global = crate::metrics::global_test_lock();
        let ticket = crate::metrics::install(Arc::new(
            opentelemetry::metrics::noop::NoopMeterProvider::new(),
        ));
        let started = SITE.start_dynamic(&Context::new(), || {
            SpanBuilder::from_name("measured request")
        });
        let future = instrument_measured(
            started,
            std::future::ready(Err::<(), &str>("failed")),
            DURATION.start(Vec::new()),
            |measured, out| {
                if out.is_err() {
                    measured.set(KeyValue::new(ERROR_TYPE, "measure.test"));
                }
            },
            |_, _| {},
        );
        let out = futures_util::FutureExt::now_or_never(future).expect("ready at once");
        let taken = drain_exemplars().remove(&key).unwrap_or_default();
        crate::metrics::uninstall(ticket);
        assert!(out.is_err());
        let spans = capture.spans();
        let span = spans
            .named("measured request")
            .last()
            .map(|span| span.span_context.clone())
            .expect("the request's span");
        assert!(
            taken.iter().any(|exemplar| {
                exemplar.trace_id == span.trace_id() && exemplar.span_id == span.span_id()
            }),
            "no exemplar of the request's span: {taken:?}"
        );
    }
}
