//! `OTEL_TRACES_EXPORTER=console`: each finished trace as an indented tree.
//!
//! ```text
//! trace 0682f2e2dd650de4ea936dbf4e934977  service demo  4 spans  4.26ms  ✗ 1 error
//! a                                     4.26ms  ██████████████████████████████
//! │  divisor = 0
//! │  at src/main.rs:12
//! └─ b                                  3.17ms         ▐██████████████████████
//!    └─ c                               2.09ms                 ▐██████████████
//!       └─ d ✗                          2.08ms                 ▐██████████████
//!             ERROR attempt to divide by zero
//!             ◆ exception +2.07ms  exception.type="panic" exception.message="attempt to divide by zero"
//! ```
//!
//! A tree is printed when its local root ends: a span whose parent is in
//! another process (or that has none), or whose parent was printed already
//! (a straggler that outlived it). [`SpanExporter::force_flush`] and
//! [`SpanExporter::shutdown`] print what is left as partial trees, their
//! roots marked `…`. Colour is used on a terminal unless `NO_COLOR` is set;
//! failures are marked with `✗` and `ERROR` either way.

mod buffer;
#[cfg(feature = "tracing")]
pub(crate) mod logs;
mod render;
mod style;
#[cfg(test)]
mod tests;

use std::io::{IsTerminal as _, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use self::buffer::Buffer;
pub use self::render::render_trace;
use self::style::use_color;
use crate::semconv::SERVICE_NAME;

/// A [`SpanExporter`] that prints each finished trace to the terminal as an
/// indented tree: one line per span with its duration and a bar on the
/// trace's time axis, then its attributes and events.
///
/// Spans are held until the local root of their tree ends (at most 10 000
/// of them; beyond that the oldest trace is printed early).
/// [`force_flush`](SpanExporter::force_flush) and
/// [`shutdown`](SpanExporter::shutdown) print whatever is still held.
pub struct ConsoleExporter {
    out: Mutex<Box<dyn Write + Send>>,
    color: bool,
    service: Option<String>,
    state: Mutex<Buffer>,
    shut: AtomicBool,
}

impl std::fmt::Debug for ConsoleExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleExporter")
            .field("color", &self.color)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl Default for ConsoleExporter {
    fn default() -> Self {
        Self::new()
    }
}

impl ConsoleExporter {
    /// Prints to standard output, in colour when it is a terminal and
    /// `NO_COLOR` is unset or empty.
    pub fn new() -> Self {
        let color = use_color(
            std::io::stdout().is_terminal(),
            std::env::var_os("NO_COLOR").as_deref(),
        );
        Self::with_writer(std::io::stdout(), color)
    }

    /// Prints to `out`, in colour (ANSI escapes) if `color`.
    pub fn with_writer(out: impl Write + Send + 'static, color: bool) -> Self {
        ConsoleExporter {
            out: Mutex::new(Box::new(out)),
            color,
            service: None,
            state: Mutex::new(Buffer::default()),
            shut: AtomicBool::new(false),
        }
    }

    fn state(&self) -> MutexGuard<'_, Buffer> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn print(&self, trees: Vec<Vec<SpanData>>) {
        if trees.is_empty() {
            return;
        }
        let mut text = String::new();
        for tree in &trees {
            text.push_str(&render_trace(tree, self.service.as_deref(), self.color));
        }
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        // The console is best effort: a closed stdout must not fail exports.
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
}

impl SpanExporter for ConsoleExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        if self.shut.load(Ordering::Relaxed) {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        let trees = self.state().add(batch);
        self.print(trees);
        Ok(())
    }

    fn force_flush(&self) -> OTelSdkResult {
        let trees = self.state().take_all();
        self.print(trees);
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        self.shut.store(true, Ordering::Relaxed);
        self.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.service = resource
            .get(&opentelemetry::Key::from_static_str(SERVICE_NAME))
            .map(|v| v.to_string());
    }
}
