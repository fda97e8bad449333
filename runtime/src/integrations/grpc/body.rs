//! The response body both layers hand on: it carries the call's span to
//! the end of the stream, where the trailers say the status.

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use http_body::{Body, Frame, SizeHint};

use super::{
    BoxError, CANCELLED, Side, end, record_cancelled, record_code, record_failure, status_in, stop,
};
use crate::metrics::Measured;
use crate::span::OpenSpan;

pin_project_lite::pin_project! {
    /// A gRPC response body that ends the call's span when it ends: at the
    /// trailers (recording their `grpc-status`), at its end, at an error,
    /// or, dropped before any of these, with the `traced.cancelled` event.
    /// While a frame is polled the span is current, so a streaming
    /// handler's work is inside it.
    ///
    /// Errors of the wrapped body become a [`tonic::Status`], as tonic's
    /// decoder would make them.
    pub struct TracedBody<B> {
        #[pin]
        inner: B,
        span: Option<OpenSpan>,
        side: Side,
        // The call's timing, stopped where the span ends.
        measured: Option<Measured>,
    }

    impl<B> PinnedDrop for TracedBody<B> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(span) = this.span.take() {
                let mut stopped = None;
                if !std::thread::panicking() {
                    record_cancelled(span.span(), *this.side);
                    stopped = stop(this.measured.take(), span.span(), *this.side, Some(CANCELLED));
                }
                span.end_cancelled();
                if let Some(stopped) = stopped {
                    stopped.record();
                }
            }
        }
    }
}

impl<B> TracedBody<B> {
    /// `inner`, ending `span` when it ends.
    pub(super) fn new(inner: B, span: OpenSpan, side: Side, measured: Option<Measured>) -> Self {
        TracedBody {
            inner,
            span: Some(span),
            side,
            measured,
        }
    }

    /// `inner` with no span left to end (it ended with the headers).
    pub(super) fn ended(inner: B, side: Side) -> Self {
        TracedBody {
            inner,
            span: None,
            side,
            measured: None,
        }
    }
}

impl<B> Body for TracedBody<B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    type Data = B::Data;
    type Error = tonic::Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        task: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, tonic::Status>>> {
        let this = self.project();
        let polled = {
            let _attached = this.span.as_ref().map(OpenSpan::attach);
            this.inner.poll_frame(task)
        };
        match polled {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => {
                // The end, without trailers: nothing says the status.
                if let Some(span) = this.span.take() {
                    let stopped = stop(this.measured.take(), span.span(), *this.side, None);
                    end(span, stopped);
                }
                Poll::Ready(None)
            }
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(trailers) = frame.trailers_ref() {
                    if let Some(span) = this.span.take() {
                        let code = status_in(trailers);
                        if let Some(code) = code {
                            record_code(span.span(), *this.side, code);
                        }
                        let stopped = stop(this.measured.take(), span.span(), *this.side, code);
                        end(span, stopped);
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(err))) => {
                let status = tonic::Status::from_error(err.into());
                if let Some(span) = this.span.take() {
                    record_failure(span.span(), *this.side, &status);
                    let code = Some(status.code() as i32);
                    let stopped = stop(this.measured.take(), span.span(), *this.side, code);
                    end(span, stopped);
                }
                Poll::Ready(Some(Err(status)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
