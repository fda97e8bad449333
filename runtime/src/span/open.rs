//! A span that outlives the future that started it: for a response whose
//! body is still to come (a gRPC stream), the span is current while the
//! call runs, is handed over still open when the response arrives, and ends
//! with the body, not with the future.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use opentelemetry::ContextGuard;

use super::future::PollPanic;
use super::guard::{ActiveSpan, Started};

impl Started {
    /// Runs `make` with the span current and wraps the future it returns:
    /// the span is current during every poll and, when the future
    /// completes, is handed over with its output as an [`OpenSpan`] instead
    /// of ending. A future dropped before it completes ends the span with
    /// the `traced.cancelled` event; a panic in a poll ends it with the
    /// panic recorded.
    pub(crate) fn keep_open<F: Future>(self, make: impl FnOnce() -> F) -> KeepOpen<F> {
        let (slot, future) = self.make_in_span(make);
        KeepOpen {
            future,
            active: slot,
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Started::keep_open`]: its output comes with the
    /// still-open span.
    pub(crate) struct KeepOpen<F> {
        #[pin]
        future: F,
        active: Option<ActiveSpan>,
    }

    impl<F> PinnedDrop for KeepOpen<F> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(active) = this.project().active.take() {
                // Dropped before it completed.
                active.end_cancelled();
            }
        }
    }
}

impl<F: Future> Future for KeepOpen<F> {
    type Output = (F::Output, OpenSpan);

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(active) = this.active.as_ref() else {
            panic!("a traced response future was polled after it completed");
        };
        let _attached = active.cx.clone().attach();
        let unwinding = PollPanic(Some(this.active));
        let poll = this.future.poll(task);
        let slot = unwinding.disarm();
        match poll {
            Poll::Ready(output) => Poll::Ready((output, OpenSpan(slot.take()))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// A started span that whoever holds it ends. Dropped without being ended,
/// it ends with the `traced.cancelled` event (or, while a panic unwinds,
/// with the panic recorded).
pub(crate) struct OpenSpan(Option<ActiveSpan>);

impl OpenSpan {
    /// The span, to record on.
    pub(crate) fn span(&self) -> &ActiveSpan {
        self.0.as_ref().expect("open until ended")
    }

    /// Makes the span current until the guard drops.
    pub(crate) fn attach(&self) -> ContextGuard {
        self.span().cx.clone().attach()
    }

    /// Ends the span.
    pub(crate) fn end(mut self) {
        if let Some(active) = self.0.take() {
            active.end();
        }
    }

    /// Ends the span with the `traced.cancelled` event.
    pub(crate) fn end_cancelled(self) {
        drop(self);
    }
}

impl Drop for OpenSpan {
    fn drop(&mut self) {
        if let Some(active) = self.0.take() {
            if std::thread::panicking() {
                active.end();
            } else {
                active.end_cancelled();
            }
        }
    }
}
