//! The future an `async fn` or a function returning a future becomes: its
//! span is current during every poll and ends when it completes or is
//! dropped.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use super::guard::ActiveSpan;

pin_project_lite::pin_project! {
    /// A future whose span is current during every poll.
    ///
    /// The span ends when the future completes; a future dropped before it
    /// completes ends its span with an event named `cancelled`.
    pub struct Instrumented<F, D> {
        #[pin]
        pub(super) future: F,
        pub(super) active: Option<ActiveSpan>,
        pub(super) finish: Option<D>,
    }

    impl<F, D> PinnedDrop for Instrumented<F, D> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(active) = this.active.take() {
                // Not completed: dropped mid-flight, or unwinding from a
                // panic inside `poll` (which `poll` already recorded).
                active.end_cancelled();
            }
        }
    }
}

impl<F, D> Future for Instrumented<F, D>
where
    F: Future,
    D: FnOnce(&ActiveSpan, &F::Output),
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _attached = match this.active {
            Some(active) => active.cx.clone().attach(),
            // Polled after completion: let the inner future decide (it
            // usually panics with a clear message).
            None => return this.future.poll(task),
        };
        let unwinding = PollPanic(Some(this.active));
        let poll = this.future.poll(task);
        let slot = unwinding.disarm();
        if let Poll::Ready(output) = &poll {
            if let Some(active) = slot.take() {
                if let Some(finish) = this.finish.take() {
                    finish(&active, output);
                }
                active.end();
            }
        }
        poll
    }
}

/// Alive only while an instrumented future is polled: if the poll panics,
/// its drop records the panic and ends the span before unwinding goes on.
pub(super) struct PollPanic<'a>(pub(super) Option<&'a mut Option<ActiveSpan>>);

impl<'a> PollPanic<'a> {
    pub(super) fn disarm(mut self) -> &'a mut Option<ActiveSpan> {
        self.0.take().expect("armed until disarmed")
    }
}

impl Drop for PollPanic<'_> {
    fn drop(&mut self) {
        if let Some(active) = self.0.take().and_then(Option::take) {
            active.end();
        }
    }
}
