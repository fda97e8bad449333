//! The response body both layers hand on: it carries the call's span to
//! the end of the stream, where the trailers say the status.

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use http_body::{Body, Frame, SizeHint};

use super::{BoxError, Side, record_cancelled, record_code, record_failure, status_in};
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
    }

    impl<B> PinnedDrop for TracedBody<B> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(span) = this.span.take() {
                if !std::thread::panicking() {
                    record_cancelled(span.span(), *this.side);
                }
                span.end_cancelled();
            }
        }
    }
}

impl<B> TracedBody<B> {
    /// `inner`, ending `span` when it ends.
    pub(super) fn new(inner: B, span: OpenSpan, side: Side) -> Self {
        TracedBody {
            inner,
            span: Some(span),
            side,
        }
    }

    /// `inner` with no span left to end (it ended with the headers).
    pub(super) fn ended(inner: B, side: Side) -> Self {
        TracedBody {
            inner,
            span: None,
            side,
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
                    span.end();
                }
                Poll::Ready(None)
            }
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(trailers) = frame.trailers_ref() {
                    if let Some(span) = this.span.take() {
                        if let Some(code) = status_in(trailers) {
                            record_code(span.span(), *this.side, code);
                        }
                        span.end();
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(err))) => {
                let status = tonic::Status::from_error(err.into());
                if let Some(span) = this.span.take() {
                    record_failure(span.span(), *this.side, &status);
                    span.end();
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
