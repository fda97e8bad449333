//! What `init` decided from the environment and the builder, before
//! anything is installed: one reader per section.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::{Sampler, SpanLimits};

use super::env::*;
use super::error::InitError;
use crate::span::ExceptionSignal;

/// Where finished spans (and, with the feature `tracing`, log records) go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exporter {
    /// Over OTLP to a collector.
    Otlp,
    /// Printed to standard output as a tree per trace.
    Console,
}

/// The OTLP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtlpProtocol {
    /// gRPC (port 4317 by convention).
    Grpc,
    /// Protobuf over HTTP (port 4318 by convention).
    HttpProtobuf,
    /// JSON over HTTP.
    HttpJson,
}

/// Which span pipeline [`init`](crate::init) installs
/// ([`Builder::pipeline`](crate::Builder::pipeline), `TRACED_PIPELINE`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Pipeline {
    /// The OpenTelemetry SDK's provider, with its batch (OTLP) and simple
    /// (console) processors: the default.
    #[default]
    Sdk,
    /// Our own pipeline ([`PipelineProvider`](crate::PipelineProvider)):
    /// the calling thread only starts and ends spans, an export thread
    /// builds the SDK's span records and hands them to the same exporters,
    /// in batches (the console's too). Opt in while it is new.
    Traced,
}

/// Everything `init` decided, before anything is installed.
#[derive(Debug)]
pub(crate) struct Config {
    pub disabled: bool,
    pub resource: Vec<KeyValue>,
    pub service_name: String,
    pub exporters: Vec<Exporter>,
    #[cfg_attr(
        not(any(feature = "otlp-grpc", feature = "otlp-http")),
        allow(dead_code)
    )]
    pub otlp: OtlpConfig,
    pub sampler: Sampler,
    pub propagators: Vec<&'static str>,
    pub batch: BatchSettings,
    pub limits: SpanLimits,
    pub value_length_limit: Option<usize>,
    /// `TRACED_PIPELINE`, `Builder::pipeline`.
    pub pipeline: Pipeline,
    /// Invalid values that were ignored, one sentence each, for stderr.
    pub warnings: Vec<String>,
    /// Whether an invalid value stops `init` (for what is found while
    /// installing, such as a `tracing` subscriber set by someone else).
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    pub strict: bool,
    /// `OTEL_LOG_LEVEL`, as one of the `LEVEL_*` of `export::reported`.
    pub log_level: u8,
    /// `Builder::service_version`.
    pub service_version: Option<String>,
    /// `OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN`.
    pub exception_signal: ExceptionSignal,
    /// The `tracing` subscriber and the logs.
    #[cfg(feature = "tracing")]
    pub tracing: TracingConfig,
}

/// The `tracing` bridge and the logs pipeline (feature `tracing`).
#[cfg(feature = "tracing")]
#[derive(Debug)]
pub(crate) struct TracingConfig {
    /// Whether `init` installs the global `tracing` subscriber.
    pub install_subscriber: bool,
    /// The user's filter directives (`RUST_LOG` or `Builder::tracing_filter`),
    /// already checked; empty for the defaults alone.
    pub filter: String,
    /// Where log records go; empty: no logs.
    pub log_exporters: Vec<Exporter>,
    #[cfg_attr(
        not(any(feature = "otlp-grpc", feature = "otlp-http")),
        allow(dead_code)
    )]
    pub logs_otlp: OtlpConfig,
    /// The compact stdout lines (`TRACED_STDOUT_LOGS`, `Builder::stdout_logs`).
    pub stdout: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OtlpConfig {
    pub protocol: OtlpProtocol,
    pub endpoint: String,
    pub headers: HashMap<String, String>,
    pub timeout: Duration,
    pub gzip: bool,
    #[cfg_attr(
        not(all(feature = "tls", any(feature = "otlp-grpc", feature = "otlp-http"))),
        allow(dead_code)
    )]
    pub tls: TlsFiles,
}

/// The PEM files for TLS to the collector, each with the variable (or
/// builder call) it came from, so that a file that cannot be used is an
/// error naming both.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct TlsFiles {
    /// CA certificates to trust besides the bundled and the OS roots.
    pub certificate: Option<(&'static str, PathBuf)>,
    /// The client certificate chain (mTLS).
    pub client_certificate: Option<(&'static str, PathBuf)>,
    /// The client certificate's private key (mTLS).
    pub client_key: Option<(&'static str, PathBuf)>,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct BatchSettings {
    pub schedule_delay: Option<Duration>,
    pub export_timeout: Option<Duration>,
    pub max_queue_size: Option<usize>,
    pub max_export_batch_size: Option<usize>,
}

impl Config {
    pub(crate) fn from_env() -> Result<Config, InitError> {
        Config::from_lookup(&env_lookup, &Overrides::default())
    }

    /// Reads every section. An invalid value is a warning and its default
    /// (see [`Diag`]); strict (`Builder::strict`, `TRACED_CONFIG_STRICT`),
    /// the first one is the error.
    pub(crate) fn from_lookup(lookup: Lookup, code: &Overrides) -> Result<Config, InitError> {
        let strict = match code.strict {
            Some(strict) => strict,
            None => Diag::new(true)
                .soft(parse_bool(lookup, TRACED_CONFIG_STRICT), || None, "")?
                .unwrap_or(false),
        };
        let d = Diag::new(strict);
        let log_level = log_level(&d, lookup)?;
        let disabled = d
            .unset(parse_bool(lookup, OTEL_SDK_DISABLED))?
            .unwrap_or(false);

        let mut resource: Vec<(String, String)> = match get(lookup, OTEL_RESOURCE_ATTRIBUTES) {
            Some(v) => d.soft(
                parse_pairs(OTEL_RESOURCE_ATTRIBUTES, &v),
                Vec::new,
                "no attributes from it",
            )?,
            None => Vec::new(),
        };
        let from_resource = resource
            .iter()
            .rev()
            .find(|(k, _)| k == "service.name")
            .map(|(_, v)| v.clone());
        let service_name = code
            .service_name
            .clone()
            .or_else(|| get(lookup, OTEL_SERVICE_NAME))
            .or(from_resource)
            .unwrap_or_else(default_service_name);
        resource.retain(|(k, _)| k != "service.name");
        let mut resource: Vec<KeyValue> = resource
            .into_iter()
            .map(|(k, v)| KeyValue::new(k, v))
            .collect();
        resource.extend(code.resource.iter().cloned());

        let exporters = match (&code.exporters, get(lookup, OTEL_TRACES_EXPORTER)) {
            (Some(list), _) => list.clone(),
            (None, Some(v)) => parse_exporters(&d, OTEL_TRACES_EXPORTER, &v)?,
            (None, None) => {
                let endpoint_set = get(lookup, OTEL_EXPORTER_OTLP_ENDPOINT).is_some()
                    || get(lookup, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT).is_some();
                match &code.fallback_exporters {
                    Some(list) if !endpoint_set => list.clone(),
                    _ => vec![Exporter::Otlp],
                }
            }
        };

        let mut otlp = otlp_config(&d, lookup, &TRACES)?;
        let code_tls = [
            (&code.tls.certificate, &mut otlp.tls.certificate),
            (
                &code.tls.client_certificate,
                &mut otlp.tls.client_certificate,
            ),
            (&code.tls.client_key, &mut otlp.tls.client_key),
        ];
        for (from_code, slot) in code_tls {
            if from_code.is_some() {
                slot.clone_from(from_code);
            }
        }
        let sampler = match &code.sampler {
            Some(sampler) => sampler.clone(),
            None => sampler(&d, lookup)?,
        };
        let propagators = propagators(&d, lookup)?;
        let mut batch = BatchSettings {
            schedule_delay: d.unset(parse_millis(lookup, OTEL_BSP_SCHEDULE_DELAY))?,
            export_timeout: d.unset(parse_millis(lookup, OTEL_BSP_EXPORT_TIMEOUT))?,
            max_queue_size: d.unset(positive(lookup, OTEL_BSP_MAX_QUEUE_SIZE))?,
            max_export_batch_size: d.unset(positive(lookup, OTEL_BSP_MAX_EXPORT_BATCH_SIZE))?,
        };
        // The SDK's batch processor (a plain thread) has no export timeout of
        // its own: the exporter's timeout bounds each export, so the
        // shorter of the two applies.
        if let Some(limit) = batch.export_timeout {
            otlp.timeout = otlp.timeout.min(limit);
        }
        if let (Some(batch_size), Some(queue)) = (batch.max_export_batch_size, batch.max_queue_size)
        {
            if batch_size > queue {
                d.soft(
                    Err(InitError::new(
                        OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
                        &batch_size.to_string(),
                        format!("a number no larger than {OTEL_BSP_MAX_QUEUE_SIZE} ({queue})"),
                    )),
                    || (),
                    &format!("{queue}"),
                )?;
                batch.max_export_batch_size = Some(queue);
            }
        }
        let count = "a whole number (0 or more)";
        let general: Option<u32> =
            d.unset(parse_number(lookup, OTEL_ATTRIBUTE_COUNT_LIMIT, count))?;
        let mut limits = SpanLimits::default();
        if let Some(n) = general {
            limits.max_attributes_per_span = n;
            limits.max_attributes_per_event = n;
            limits.max_attributes_per_link = n;
        }
        if let Some(n) = d.unset(parse_number(lookup, OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, count))? {
            limits.max_attributes_per_span = n;
        }
        if let Some(n) = d.unset(parse_number(lookup, OTEL_SPAN_EVENT_COUNT_LIMIT, count))? {
            limits.max_events_per_span = n;
        }
        if let Some(n) = d.unset(parse_number(lookup, OTEL_SPAN_LINK_COUNT_LIMIT, count))? {
            limits.max_links_per_span = n;
        }
        if let Some(n) = d.unset(parse_number(
            lookup,
            OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT,
            count,
        ))? {
            limits.max_attributes_per_event = n;
        }
        if let Some(n) = d.unset(parse_number(lookup, OTEL_LINK_ATTRIBUTE_COUNT_LIMIT, count))? {
            limits.max_attributes_per_link = n;
        }
        let value_length_limit = match d.unset(parse_number::<usize>(
            lookup,
            OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT,
            count,
        ))? {
            Some(n) => Some(n),
            None => d.unset(parse_number::<usize>(
                lookup,
                OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT,
                count,
            ))?,
        };

        let exception_signal = exception_signal(&d, lookup)?;
        let pipeline = match code.pipeline {
            Some(pipeline) => pipeline,
            None => match get(lookup, TRACED_PIPELINE) {
                None => Pipeline::Sdk,
                Some(v) => match v.to_ascii_lowercase().as_str() {
                    "sdk" | "" => Pipeline::Sdk,
                    "traced" => Pipeline::Traced,
                    _ => d.soft(
                        Err(InitError::new(TRACED_PIPELINE, &v, "`sdk` or `traced`")),
                        || Pipeline::Sdk,
                        "`sdk`",
                    )?,
                },
            },
        };
        #[cfg(feature = "tracing")]
        let tracing = tracing_config(&d, lookup, code, &exporters)?;

        Ok(Config {
            disabled,
            resource,
            service_name,
            exporters,
            otlp,
            sampler,
            propagators,
            batch,
            limits,
            value_length_limit,
            pipeline,
            warnings: d.into_warnings(),
            strict,
            log_level,
            service_version: code.service_version.clone(),
            exception_signal,
            #[cfg(feature = "tracing")]
            tracing,
        })
    }
}

/// `OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN`: `logs` or `logs/dup` (in a
/// comma list, as the conventions' opt-in variables are); anything else is
/// a warning and the span event.
fn exception_signal(d: &Diag, lookup: Lookup) -> Result<ExceptionSignal, InitError> {
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
fn tracing_config(
    d: &Diag,
    lookup: Lookup,
    code: &Overrides,
    traces: &[Exporter],
) -> Result<TracingConfig, InitError> {
    let filter = match (&code.tracing_filter, get(lookup, RUST_LOG)) {
        (Some(filter), _) => d.soft(
            crate::integrations::tracing::check_filter("Builder::tracing_filter", filter),
            String::new,
            "the default filter",
        )?,
        (None, Some(value)) => d.soft(
            crate::integrations::tracing::check_filter(RUST_LOG, &value),
            String::new,
            "the default filter",
        )?,
        (None, None) => String::new(),
    };
    let log_exporters = match (&code.log_exporters, get(lookup, OTEL_LOGS_EXPORTER)) {
        (Some(list), _) => list.clone(),
        (None, Some(v)) => parse_exporters(d, OTEL_LOGS_EXPORTER, &v)?,
        (None, None) => traces.to_vec(),
    };
    let logs_otlp = otlp_config(d, lookup, &LOGS)?;
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

fn log_level(d: &Diag, lookup: Lookup) -> Result<u8, InitError> {
    use crate::export::reported::{LEVEL_ERROR, LEVEL_INFO, LEVEL_NONE, LEVEL_WARN};
    let Some(value) = get(lookup, OTEL_LOG_LEVEL) else {
        return Ok(LEVEL_INFO);
    };
    Ok(match value.to_ascii_lowercase().as_str() {
        "none" | "off" => LEVEL_NONE,
        "error" | "fatal" => LEVEL_ERROR,
        "warn" | "warning" => LEVEL_WARN,
        "info" | "debug" | "trace" | "all" => LEVEL_INFO,
        _ => d.soft(
            Err(InitError::new(
                OTEL_LOG_LEVEL,
                &value,
                "`none`, `error`, `warn`, `info`, `debug` or `trace`",
            )),
            || LEVEL_INFO,
            "`info`",
        )?,
    })
}

/// `unknown_service:<executable>`, as the specification asks.
fn default_service_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .map_or_else(
            || "unknown_service".to_owned(),
            |exe| format!("unknown_service:{exe}"),
        )
}

fn parse_exporters(d: &Diag, name: &str, value: &str) -> Result<Vec<Exporter>, InitError> {
    let mut out = Vec::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let exporter = match item.to_ascii_lowercase().as_str() {
            "otlp" => Exporter::Otlp,
            "console" | "logging" => Exporter::Console,
            "none" => continue,
            "zipkin" | "jaeger" => {
                d.soft(Err(InitError::new(
                    name,
                    value,
                    format!(
                        "`otlp`, `console` or `none` (`{item}` is not supported: send OTLP, which {item} accepts)"
                    ),
                )), || (), "the other exporters listed")?;
                continue;
            }
            _ => {
                d.soft(
                    Err(InitError::new(
                        name,
                        value,
                        format!(
                            "a comma list of `otlp`, `console` and `none` (`{item}` is unknown)"
                        ),
                    )),
                    || (),
                    "the other exporters listed",
                )?;
                continue;
            }
        };
        if !out.contains(&exporter) {
            out.push(exporter);
        }
    }
    Ok(out)
}

/// The OTLP settings of one signal: its own variables (`OTEL_EXPORTER_OTLP_TRACES_*`,
/// `OTEL_EXPORTER_OTLP_LOGS_*`) win over the generic ones.
pub(crate) fn otlp_config(
    d: &Diag,
    lookup: Lookup,
    sig: &SignalVars,
) -> Result<OtlpConfig, InitError> {
    // The signal's own variable wins; the name is kept for the error.
    let pick = |specific: &'static str, general: &'static str| match get(lookup, specific) {
        Some(v) => (Some(v), specific),
        None => (get(lookup, general), general),
    };
    let (endpoint_specific, endpoint_general) = (
        get(lookup, sig.endpoint),
        get(lookup, OTEL_EXPORTER_OTLP_ENDPOINT),
    );
    let (protocol, protocol_var) = pick(sig.protocol, OTEL_EXPORTER_OTLP_PROTOCOL);
    let protocol = match protocol.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("grpc") => Some(OtlpProtocol::Grpc),
        Some("http/protobuf") => Some(OtlpProtocol::HttpProtobuf),
        Some("http/json") => Some(OtlpProtocol::HttpJson),
        Some(_) => d.soft(
            Err(InitError::new(
                protocol_var,
                protocol.as_deref().unwrap_or_default(),
                "`grpc`, `http/protobuf` or `http/json`",
            )),
            || None,
            "the default",
        )?,
        None => None,
    };
    let protocol = match protocol {
        Some(p) => p,
        // Unset: gRPC, as the Python SDK's `otlp` exporter does, so the
        // same environment configures both; an endpoint on the HTTP port
        // 4318 means HTTP.
        None => {
            let on_4318 = endpoint_specific
                .as_deref()
                .or(endpoint_general.as_deref())
                .is_some_and(|e| {
                    e.trim_end_matches('/')
                        .split('/')
                        .nth(2)
                        .unwrap_or(e)
                        .ends_with(":4318")
                        || e.trim_end_matches('/').ends_with(":4318")
                });
            if on_4318 {
                OtlpProtocol::HttpProtobuf
            } else {
                OtlpProtocol::Grpc
            }
        }
    };
    let (insecure, insecure_var) = pick(sig.insecure, OTEL_EXPORTER_OTLP_INSECURE);
    let insecure = match insecure {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(v) => d.soft(
            Err(InitError::new(insecure_var, &v, "`true` or `false`")),
            || false,
            "`false`",
        )?,
    };
    let http = protocol != OtlpProtocol::Grpc;
    let default_endpoint = || {
        if http {
            format!("{OTLP_HTTP_ENDPOINT_DEFAULT}{}", sig.path)
        } else {
            OTLP_GRPC_ENDPOINT_DEFAULT.to_owned()
        }
    };
    let instead = default_endpoint();
    let endpoint = match (endpoint_specific, endpoint_general) {
        (Some(url), _) => d.soft(
            check_url(sig.endpoint, &url, insecure),
            default_endpoint,
            &instead,
        )?,
        (None, Some(base)) => {
            match d.soft(
                check_url(OTEL_EXPORTER_OTLP_ENDPOINT, &base, insecure).map(Some),
                || None,
                &instead,
            )? {
                Some(base) if http => format!("{}{}", base.trim_end_matches('/'), sig.path),
                Some(base) => base,
                None => default_endpoint(),
            }
        }
        (None, None) => default_endpoint(),
    };
    // The traces-only variable replaces the generic one, as every other
    // signal-specific variable does (the specification); values are
    // percent-decoded once.
    let (headers, headers_var) = pick(sig.headers, OTEL_EXPORTER_OTLP_HEADERS);
    let headers: HashMap<String, String> = match headers {
        Some(v) => d
            .soft(parse_pairs(headers_var, &v), Vec::new, "no headers")?
            .into_iter()
            .collect(),
        None => HashMap::new(),
    };
    let timeout = match d.unset(parse_millis(lookup, sig.timeout))? {
        Some(t) => t,
        None => d
            .unset(parse_millis(lookup, OTEL_EXPORTER_OTLP_TIMEOUT))?
            .unwrap_or(OTLP_TIMEOUT_DEFAULT),
    };
    let (compression, compression_var) = pick(sig.compression, OTEL_EXPORTER_OTLP_COMPRESSION);
    let gzip = match compression
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("none") => false,
        Some("gzip") => true,
        Some(_) => d.soft(
            Err(InitError::new(
                compression_var,
                compression.as_deref().unwrap_or_default(),
                "`gzip` or `none`",
            )),
            || false,
            "`none`",
        )?,
    };
    let file = |specific: &'static str, general: &'static str| {
        let (value, name) = pick(specific, general);
        value.map(|v| (name, PathBuf::from(v)))
    };
    let tls = TlsFiles {
        certificate: file(sig.certificate, OTEL_EXPORTER_OTLP_CERTIFICATE),
        client_certificate: file(
            sig.client_certificate,
            OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE,
        ),
        client_key: file(sig.client_key, OTEL_EXPORTER_OTLP_CLIENT_KEY),
    };
    Ok(OtlpConfig {
        protocol,
        endpoint,
        headers,
        timeout,
        gzip,
        tls,
    })
}

/// A URL with a scheme; a bare `host:port` gets `http://` when insecure.
fn check_url(name: &str, value: &str, insecure: bool) -> Result<String, InitError> {
    let expected = "a URL such as `http://collector:4317` (or `host:port` with OTEL_EXPORTER_OTLP_INSECURE=true)";
    let url = if value.contains("://") {
        value.to_owned()
    } else if insecure {
        format!("http://{value}")
    } else if cfg!(feature = "tls") {
        // The specification: without a scheme, `INSECURE=false` (the
        // default) means transport security.
        format!("https://{value}")
    } else {
        return Err(InitError::new(
            name,
            value,
            format!(
                "{expected}; an endpoint without a scheme needs OTEL_EXPORTER_OTLP_INSECURE=true"
            ),
        ));
    };
    let (scheme, rest) = url.split_once("://").unwrap_or(("", ""));
    let host = rest.split('/').next().unwrap_or("");
    if scheme == "https" && !cfg!(feature = "tls") {
        return Err(InitError::new(
            name,
            value,
            "an `http://` URL: this build of `traced` has no TLS (turn on its feature `tls`, or reach the collector through a local agent or a sidecar)",
        ));
    }
    if !matches!(scheme, "http" | "https") || host.is_empty() || host.contains(char::is_whitespace)
    {
        return Err(InitError::new(name, value, expected));
    }
    if let Some((_, port)) = host.rsplit_once(':') {
        if !host.ends_with(']') && port.parse::<u16>().is_err() {
            return Err(InitError::new(
                name,
                value,
                format!("{expected} (the port is not a number)"),
            ));
        }
    }
    Ok(url)
}

fn sampler(d: &Diag, lookup: Lookup) -> Result<Sampler, InitError> {
    let arg = get(lookup, OTEL_TRACES_SAMPLER_ARG);
    let ratio = || -> Result<f64, InitError> {
        match &arg {
            None => Ok(SAMPLER_RATIO_DEFAULT),
            Some(v) => match v.parse::<f64>() {
                Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
                _ => d.soft(
                    Err(InitError::new(
                        OTEL_TRACES_SAMPLER_ARG,
                        v,
                        "a number from 0.0 to 1.0",
                    )),
                    || SAMPLER_RATIO_DEFAULT,
                    "1.0",
                ),
            },
        }
    };
    let Some(name) = get(lookup, OTEL_TRACES_SAMPLER) else {
        return Ok(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)));
    };
    let default = || Sampler::ParentBased(Box::new(Sampler::AlwaysOn));
    Ok(match name.to_ascii_lowercase().as_str() {
        "always_on" => Sampler::AlwaysOn,
        "always_off" => Sampler::AlwaysOff,
        "traceidratio" => Sampler::TraceIdRatioBased(ratio()?),
        "parentbased_always_on" => Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
        "parentbased_always_off" => Sampler::ParentBased(Box::new(Sampler::AlwaysOff)),
        "parentbased_traceidratio" => {
            Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(ratio()?)))
        }
        "jaeger_remote" | "parentbased_jaeger_remote" | "xray" => d.soft(
            Err(InitError::new(
                OTEL_TRACES_SAMPLER,
                &name,
                "one of `always_on`, `always_off`, `traceidratio`, `parentbased_always_on`, `parentbased_always_off`, `parentbased_traceidratio` (remote samplers are not supported)",
            )),
            default,
            "`parentbased_always_on`",
        )?,
        _ => d.soft(
            Err(InitError::new(
                OTEL_TRACES_SAMPLER,
                &name,
                "one of `always_on`, `always_off`, `traceidratio`, `parentbased_always_on`, `parentbased_always_off`, `parentbased_traceidratio`",
            )),
            default,
            "`parentbased_always_on`",
        )?,
    })
}

fn propagators(d: &Diag, lookup: Lookup) -> Result<Vec<&'static str>, InitError> {
    let Some(value) = get(lookup, OTEL_PROPAGATORS) else {
        return Ok(vec!["tracecontext", "baggage"]);
    };
    let mut out = Vec::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let known = match item.to_ascii_lowercase().as_str() {
            "tracecontext" => "tracecontext",
            "baggage" => "baggage",
            "none" => continue,
            "b3" => "b3",
            "b3multi" => "b3multi",
            "jaeger" => "jaeger",
            "xray" | "ottrace" => {
                d.soft(
                    Err(InitError::new(
                        OTEL_PROPAGATORS,
                        &value,
                        format!(
                            "a comma list of `tracecontext`, `baggage`, `b3`, `b3multi`, `jaeger` and `none` (`{item}` is not supported)"
                        ),
                    )),
                    || (),
                    "the other propagators listed",
                )?;
                continue;
            }
            _ => {
                d.soft(
                    Err(InitError::new(
                        OTEL_PROPAGATORS,
                        &value,
                        format!("a comma list of `tracecontext`, `baggage`, `b3`, `b3multi`, `jaeger` and `none` (`{item}` is unknown)"),
                    )),
                    || (),
                    "the other propagators listed",
                )?;
                continue;
            }
        };
        if !out.contains(&known) {
            out.push(known);
        }
    }
    Ok(out)
}

/// What code set on the [`Builder`]; it wins over the environment.
#[derive(Debug, Default, Clone)]
pub(crate) struct Overrides {
    pub(crate) service_name: Option<String>,
    pub(crate) exporters: Option<Vec<Exporter>>,
    pub(crate) fallback_exporters: Option<Vec<Exporter>>,
    pub(crate) sampler: Option<Sampler>,
    pub(crate) resource: Vec<KeyValue>,
    pub(crate) tls: TlsFiles,
    pub(crate) service_version: Option<String>,
    /// `Builder::strict`: wins over `TRACED_CONFIG_STRICT`.
    pub(crate) strict: Option<bool>,
    /// `Builder::pipeline`: wins over `TRACED_PIPELINE`.
    pub(crate) pipeline: Option<Pipeline>,
    /// `Builder::tracing_subscriber`.
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    pub(crate) tracing_subscriber: Option<bool>,
    /// `Builder::tracing_filter`: wins over `RUST_LOG`.
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    pub(crate) tracing_filter: Option<String>,
    /// `Builder::logs_exporter`/`no_logs`: wins over `OTEL_LOGS_EXPORTER`.
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    pub(crate) log_exporters: Option<Vec<Exporter>>,
    /// `Builder::stdout_logs`: wins over `TRACED_STDOUT_LOGS`.
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    pub(crate) stdout_logs: Option<bool>,
}
