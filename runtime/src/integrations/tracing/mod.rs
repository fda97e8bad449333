//! The `tracing` ecosystem in the same traces as `#[traced]` (feature
//! `tracing`).
//!
//! - **Spans.** tracing-opentelemetry turns each `tracing` span into an
//!   OpenTelemetry span on the provider `#[traced]` uses, and makes it the
//!   current OpenTelemetry context while it is entered: a `tracing` span
//!   opened inside a `#[traced]` function is its child, and a `#[traced]`
//!   function called inside an entered `tracing` span is that span's child.
//! - **Logs.** The OpenTelemetry appender turns each `tracing` event (and
//!   each `log` record, through `tracing-log`) into a log record; the SDK
//!   stamps it with the trace and span id of the current context.
//! - **Filter.** [`DEFAULT_TRACING_FILTER`], with `RUST_LOG` on top.
//!
//! `init` installs all of it as the global `tracing` subscriber. An
//! application with a subscriber of its own adds [`tracing_layer`] to it
//! instead (and calls `Builder::tracing_subscriber(false)`).

mod filter;
mod fmt;
mod scrub;
#[cfg(test)]
mod tests;
mod tracer;

use std::sync::atomic::{AtomicBool, Ordering};

use ::tracing::Subscriber;
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;

pub use filter::{DEFAULT_TRACING_FILTER, tracing_filter};

use crate::span::logger::SlotLoggerProvider;
use tracer::FollowingTracer;

/// The layers that carry `tracing` into OpenTelemetry, for a subscriber of
/// your own: spans through tracing-opentelemetry (on the provider
/// `#[traced]` uses, made current while entered, so that the two kinds of
/// span nest both ways) and events as log records (to the logger provider
/// `init` or [`set_logger_provider`](crate::set_logger_provider)
/// installs), behind [`tracing_filter`] as a per-layer filter.
///
/// ```no_run
/// # use traced_runtime as traced;
/// use tracing_subscriber::layer::SubscriberExt as _;
///
/// let _telemetry = traced::builder().tracing_subscriber(false).init()?;
/// let subscriber = tracing_subscriber::registry().with(traced::tracing_layer());
/// tracing::subscriber::set_global_default(subscriber).expect("no other subscriber");
/// # Ok::<(), traced::InitError>(())
/// ```
///
/// The layers look the providers up on each span and record, so they may
/// be built before `init` and keep working across providers replaced later.
pub fn tracing_layer<S>() -> impl Layer<S> + Send + Sync + 'static
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync + 'static,
{
    otel_layers::<S>().with_filter(tracing_filter())
}

/// The span layer and the log layer, unfiltered.
fn otel_layers<S>() -> impl Layer<S> + Send + Sync + 'static
where
    S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync + 'static,
{
    tracing_opentelemetry::layer()
        .with_tracer(FollowingTracer::default())
        .and_then(OpenTelemetryTracingBridge::new(&SlotLoggerProvider))
}

/// Whether the global `tracing` subscriber (and the `log` logger) is ours:
/// a second `init` in the process keeps it, since it follows the providers.
static SUBSCRIBER_IS_OURS: AtomicBool = AtomicBool::new(false);
static LOGGER_IS_OURS: AtomicBool = AtomicBool::new(false);

/// What `install` could not do, one sentence each, for a warning (or the
/// error, strict).
#[derive(Debug)]
pub(crate) struct NotInstalled {
    pub(crate) what: &'static str,
    pub(crate) expected: &'static str,
}

/// Installs the global `tracing` subscriber (registry, the filter built
/// from `user_filter`, the span and log layers, the stdout lines when
/// `stdout`) and `tracing-log`'s `log` logger. What was already set by
/// someone else is left alone and reported.
pub(crate) fn install(user_filter: &str, stdout: bool) -> Vec<NotInstalled> {
    let mut problems = Vec::new();
    if !SUBSCRIBER_IS_OURS.load(Ordering::Acquire) {
        let filter = filter::build(user_filter);
        let max = filter.max_level_hint();
        let subscriber = tracing_subscriber::registry()
            .with(filter)
            .with(otel_layers())
            .with(stdout.then(fmt::layer));
        match ::tracing::subscriber::set_global_default(subscriber) {
            Ok(()) => {
                SUBSCRIBER_IS_OURS.store(true, Ordering::Release);
                install_log_tracer(max, &mut problems);
            }
            Err(_) => problems.push(NotInstalled {
                what: "the global `tracing` subscriber",
                expected: "none set before `traced::init` (or add `traced::tracing_layer()` to yours and call `Builder::tracing_subscriber(false)`)",
            }),
        }
    }
    problems
}

/// `log` records into `tracing`, up to the filter's most verbose level.
fn install_log_tracer(
    max: Option<tracing_subscriber::filter::LevelFilter>,
    problems: &mut Vec<NotInstalled>,
) {
    use tracing_log::AsLog as _;
    if LOGGER_IS_OURS.load(Ordering::Acquire) {
        return;
    }
    let mut builder = tracing_log::LogTracer::builder();
    if let Some(max) = max {
        builder = builder.with_max_level(max.as_log());
    }
    match builder.init() {
        Ok(()) => LOGGER_IS_OURS.store(true, Ordering::Release),
        Err(_) => problems.push(NotInstalled {
            what: "the `log` logger",
            expected: "none set before `traced::init`, so that `log` records reach `tracing` and the logs",
        }),
    }
}
