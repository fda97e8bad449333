//! Entry points for the fuzz targets in `fuzz/` (cargo fuzz builds with
//! `--cfg fuzzing`): the crate-private parsers, callable from outside.
//! Not part of the API, and absent from every normal build.

use std::collections::HashMap;

use opentelemetry::Context;
use opentelemetry::trace::{SpanContext, TraceContextExt as _};

/// Every variable `traced::init` reads whose value is only parsed (the
/// constants `init` itself reads). The certificate variables are left
/// out: their values are paths, and reading whatever file a fuzzer names
/// is not what is being tested.
#[cfg(feature = "init")]
pub const VARIABLES: &[&str] = {
    use crate::init::env::*;
    &[
        OTEL_ATTRIBUTE_COUNT_LIMIT,
        OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT,
        OTEL_BSP_EXPORT_TIMEOUT,
        OTEL_BSP_MAX_CONCURRENT_EXPORTS,
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
        OTEL_BSP_MAX_QUEUE_SIZE,
        OTEL_BSP_SCHEDULE_DELAY,
        OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT,
        OTEL_EXPORTER_OTLP_COMPRESSION,
        OTEL_EXPORTER_OTLP_ENDPOINT,
        OTEL_EXPORTER_OTLP_HEADERS,
        OTEL_EXPORTER_OTLP_INSECURE,
        OTEL_EXPORTER_OTLP_PROTOCOL,
        OTEL_EXPORTER_OTLP_TIMEOUT,
        OTEL_EXPORTER_OTLP_TRACES_COMPRESSION,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
        OTEL_EXPORTER_OTLP_TRACES_HEADERS,
        OTEL_EXPORTER_OTLP_TRACES_INSECURE,
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
        OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
        OTEL_EXPORTER_OTLP_LOGS_COMPRESSION,
        OTEL_EXPORTER_OTLP_LOGS_ENDPOINT,
        OTEL_EXPORTER_OTLP_LOGS_HEADERS,
        OTEL_EXPORTER_OTLP_LOGS_INSECURE,
        OTEL_EXPORTER_OTLP_LOGS_PROTOCOL,
        OTEL_EXPORTER_OTLP_LOGS_TIMEOUT,
        OTEL_LINK_ATTRIBUTE_COUNT_LIMIT,
        OTEL_LOG_LEVEL,
        OTEL_LOGS_EXPORTER,
        OTEL_PROPAGATORS,
        OTEL_RESOURCE_ATTRIBUTES,
        OTEL_SDK_DISABLED,
        OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN,
        OTEL_SERVICE_NAME,
        OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT,
        OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT,
        OTEL_SPAN_EVENT_COUNT_LIMIT,
        OTEL_SPAN_LINK_COUNT_LIMIT,
        OTEL_TRACES_EXPORTER,
        OTEL_TRACES_SAMPLER,
        OTEL_TRACES_SAMPLER_ARG,
        TRACED_CONFIG_STRICT,
        TRACED_FILTER,
        TRACED_PIPELINE,
        TRACED_STDOUT_LOGS,
    ]
};

/// Reads the configuration from `vars` as `traced::init` reads the
/// environment; `Ok` with the warnings, or the error (strict mode).
#[cfg(feature = "init")]
pub fn config(vars: &HashMap<String, String>) -> Result<usize, String> {
    let lookup = |name: &str| vars.get(name).cloned();
    crate::init::config::Config::from_lookup(&lookup, &Default::default())
        .map(|config| config.warnings.len())
        .map_err(|e| e.to_string())
}

/// The span context the named propagator (`b3`, `b3multi`, `jaeger`)
/// extracts from `headers`, and what it injects again from it.
#[cfg(feature = "init")]
pub fn propagator(
    name: &str,
    headers: &HashMap<String, String>,
) -> (SpanContext, HashMap<String, String>) {
    use crate::init::propagators::{B3, B3Encoding, Jaeger};
    let propagator: Box<dyn opentelemetry::propagation::TextMapPropagator> = match name {
        "b3" => Box::new(B3::new(B3Encoding::Single)),
        "b3multi" => Box::new(B3::new(B3Encoding::Multiple)),
        _ => Box::new(Jaeger::new()),
    };
    let cx = propagator.extract(headers);
    let sc = cx.span().span_context().clone();
    let mut out = HashMap::new();
    propagator.inject_context(
        &Context::new().with_remote_span_context(sc.clone()),
        &mut out,
    );
    (sc, out)
}

/// The scrubber over `Debug` output and over free text: the text with
/// secrets replaced and the paths scrubbed, when anything was.
pub fn scrub(text: &str) -> [Option<(String, Vec<String>)>; 3] {
    [
        crate::redact::scrub_debug(text),
        crate::redact::scrub_text(text),
        crate::redact::scrub_value(text),
    ]
}

/// Whether `name` is a secret by the segment rules.
pub fn is_secret(name: &str) -> bool {
    crate::redact::is_secret(name)
}
