//! The compact stdout lines (`TRACED_STDOUT_LOGS=compact`): one line per
//! `tracing` event, ending with the ids of the span it happened in.
//!
//! ```text
//! 2026-12-01T22:16:42.123456Z  INFO app::login: user logged in user="ana" trace_id=5b8e… span_id=eee1…
//! ```

use std::fmt;

use ::tracing::{Event, Subscriber};
use opentelemetry::Context;
use opentelemetry::trace::TraceContextExt as _;
use tracing_subscriber::fmt::format::{FormatEvent, FormatFields, Writer};
use tracing_subscriber::fmt::time::{FormatTime as _, SystemTime};
use tracing_subscriber::fmt::{FmtContext, Layer};
use tracing_subscriber::registry::LookupSpan;

/// The event format: time, level, target, message and fields, then
/// `trace_id=` and `span_id=` of the current OpenTelemetry span (a
/// `#[traced]` span or a `tracing` span; the layer makes both current).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Correlated;

impl<S, N> FormatEvent<S, N> for Correlated
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        SystemTime.format_time(&mut writer)?;
        let meta = event.metadata();
        write!(writer, " {:>5} {}: ", meta.level(), meta.target())?;
        ctx.format_fields(writer.by_ref(), event)?;
        let ids = Context::map_current(|cx| {
            let sc = cx.span().span_context().clone();
            sc.is_valid().then(|| (sc.trace_id(), sc.span_id()))
        });
        if let Some((trace_id, span_id)) = ids {
            write!(writer, " trace_id={trace_id} span_id={span_id}")?;
        }
        writeln!(writer)
    }
}

/// The fmt layer with that format, on stdout, without colours.
pub(crate) fn layer<S>() -> impl tracing_subscriber::Layer<S> + Send + Sync + 'static
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    layer_to(std::io::stdout)
}

/// The same layer writing to `writer`.
pub(crate) fn layer_to<S, W>(writer: W) -> impl tracing_subscriber::Layer<S> + Send + Sync + 'static
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    Layer::default()
        .event_format(Correlated)
        .with_writer(writer)
}
