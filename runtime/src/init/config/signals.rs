//! The sections beside the traces: how exceptions are emitted
//! (`OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN`) and the `tracing` bridge with
//! its logs (feature `tracing`).

use super::*;

/// `OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN`: `logs` or `logs/dup` (in a
/// comma list, as the conventions' opt-in variables are); anything else is
/// a warning and the span event.
pub(super) fn exception_signal(d: &Diag, lookup: Lookup) -> Result<ExceptionSignal, InitError> {
    let Some(value) = get(lookup, OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN) else {
        return Ok(ExceptionSignal::SpanEvent);
    };
    let mut signal = ExceptionSignal::SpanEvent;
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match item.to_ascii_lowercase().as_str() {
            "logs" if signal == ExceptionSignal::SpanEvent => signal = ExceptionSignal::Logs,
            "logs" => {}
            "logs/dup" => signal = ExceptionSignal::LogsAndSpanEvent,
            _ => {
                d.soft(
                    Err(InitError::new(
                        OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN,
                        &value,
                        format!("`logs` or `logs/dup` (`{item}` is unknown)"),
                    )),
                    || (),
                    "the `exception` span event for it",
                )?;
            }
        }
    }
    if signal != ExceptionSignal::SpanEvent && !cfg!(feature = "tracing") {
        return d.soft(
            Err(InitError::new(
                OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN,
                &value,
                "no value: this build of `traced` has no logs (turn on its feature `tracing`)",
            )),
            || ExceptionSignal::SpanEvent,
            "the `exception` span event",
        );
    }
    Ok(signal)
}

/// The `tracing` section: the subscriber, the filter, the logs exporters
/// (unset: the same as the traces', so that one variable sends both to
/// the console on a fresh machine and to the collector in production) and
/// the stdout lines.
#[cfg(feature = "tracing")]
pub(super) fn tracing_config(
    d: &Diag,
    lookup: Lookup,
    code: &Overrides,
    traces: &[Exporter],
    span_filter: Option<&super::SpanFilter>,
) -> Result<TracingConfig, InitError> {
    let check = |variable: &str, value: &str| {
        crate::filter::check(value).map_err(|err| {
            InitError::new(
                variable,
                value,
                format!(
                    "`tracing` filter directives such as `info,my_crate=debug,h2=trace` ({err})"
                ),
            )
        })
    };
    let user = match (&code.tracing_filter, get(lookup, RUST_LOG)) {
        (Some(filter), _) => d.soft(
            check("Builder::tracing_filter", filter),
            String::new,
            "the default filter",
        )?,
        (None, Some(value)) => {
            d.soft(check(RUST_LOG, &value), String::new, "the default filter")?
        }
        (None, None) => String::new(),
    };
    // One variable for both: the span filter's directives apply to
    // `tracing` too, under `RUST_LOG`, which wins for the same target.
    let filter = match span_filter {
        Some(spans) if !spans.directives.is_empty() && !user.is_empty() => {
            format!("{},{user}", spans.directives)
        }
        Some(spans) if !spans.directives.is_empty() => spans.directives.clone(),
        _ => user,
    };
    let log_exporters = match (&code.log_exporters, get(lookup, OTEL_LOGS_EXPORTER)) {
        (Some(list), _) => list.clone(),
        (None, Some(v)) => parse_exporters(d, OTEL_LOGS_EXPORTER, &v)?,
        (None, None) => traces.to_vec(),
    };
    let logs_otlp = otlp_config(d, lookup, &LOGS, &code.otlp)?;
    let stdout = match code.stdout_logs {
        Some(on) => on,
        None => match get(lookup, TRACED_STDOUT_LOGS) {
            None => false,
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "compact" => true,
                "none" => false,
                _ => d.soft(
                    Err(InitError::new(
                        TRACED_STDOUT_LOGS,
                        &v,
                        "`compact` or `none`",
                    )),
                    || false,
                    "`none`",
                )?,
            },
        },
    };
    Ok(TracingConfig {
        install_subscriber: code.tracing_subscriber.unwrap_or(true),
        filter,
        log_exporters,
        logs_otlp,
        stdout,
    })
}
