//! Stopping a service without losing the spans it still holds.
//!
//! A process killed by SIGTERM ends before the batch processor exports what
//! it queued. [`shutdown_signal`] turns the signal into a graceful stop:
//! give it to the server's graceful shutdown, let `main` return, and the
//! [`Telemetry`](super::Telemetry) guard flushes every finished span when
//! it is dropped.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Resolves when the process is asked to stop: SIGTERM or Ctrl-C (SIGINT).
/// A second signal after that ends the process at once, with the usual
/// status (130 for SIGINT, 143 for SIGTERM), for when the graceful stop
/// takes too long.
///
/// Poll it inside a tokio runtime (it listens through `tokio::signal`).
///
/// ```no_run
/// # use traced_runtime as traced;
/// # async fn run() {
/// // axum::serve(listener, app).with_graceful_shutdown(traced::shutdown_signal()).await?;
/// traced::shutdown_signal().await; // resolves on SIGTERM or Ctrl-C
/// // back in `main`: the `Telemetry` guard is dropped here and flushes.
/// # }
/// ```
///
/// If the signals cannot be listened to (no tokio runtime with its signal
/// driver), it says so on stderr and never resolves, as if no signal came.
pub async fn shutdown_signal() {
    let first = Stop::new().await;
    eprintln!(
        "traced: {} received; finishing the requests in flight and flushing spans (send it again to stop at once)",
        first.name()
    );
    // A second signal must work even while the runtime winds down.
    let second = Stop::new();
    std::thread::Builder::new()
        .name("traced-signal".into())
        .spawn({
            let handle = tokio::runtime::Handle::try_current().ok();
            move || {
                let Some(handle) = handle else { return };
                let signal = handle.block_on(second);
                eprintln!("traced: {} received again; stopping now", signal.name());
                std::process::exit(signal.exit_code());
            }
        })
        .map(drop)
        .unwrap_or_else(|err| eprintln!("traced: cannot watch for a second signal: {err}"));
}

/// Which signal came.
#[derive(Clone, Copy)]
enum Signal {
    Interrupt,
    #[cfg_attr(not(unix), allow(dead_code))]
    Terminate,
}

impl Signal {
    fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }

    /// 128 + the signal's number, as shells report a process it ended.
    fn exit_code(self) -> i32 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
        }
    }
}

/// The first of SIGINT and SIGTERM.
struct Stop {
    interrupt: Pin<Box<dyn Future<Output = std::io::Result<()>> + Send>>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
    failed: bool,
}

impl Stop {
    fn new() -> Stop {
        #[cfg(unix)]
        let terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => Some(signal),
                Err(err) => {
                    eprintln!("traced: cannot listen for SIGTERM: {err}");
                    None
                }
            };
        Stop {
            interrupt: Box::pin(tokio::signal::ctrl_c()),
            #[cfg(unix)]
            terminate,
            failed: false,
        }
    }
}

impl Future for Stop {
    type Output = Signal;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Signal> {
        #[cfg(unix)]
        if let Some(terminate) = &mut self.terminate {
            if terminate.poll_recv(cx).is_ready() {
                return Poll::Ready(Signal::Terminate);
            }
        }
        if !self.failed {
            match self.interrupt.as_mut().poll(cx) {
                Poll::Ready(Ok(())) => return Poll::Ready(Signal::Interrupt),
                Poll::Ready(Err(err)) => {
                    eprintln!("traced: cannot listen for Ctrl-C: {err}");
                    self.failed = true;
                }
                Poll::Pending => {}
            }
        }
        Poll::Pending
    }
}
