//! Configuration of the OpenTelemetry SDK from the standard `OTEL_*`
//! environment variables, and the guard that flushes it.
//!
//! Every variable is read here, once, validated, and handed to the SDK
//! explicitly: the SDK and the OTLP exporter also read some of these
//! variables, but fall back silently on a bad value (the SDK turns an unknown
//! sampler into `parentbased_always_on`, ignores an unparsable limit, does not
//! percent-decode `OTEL_RESOURCE_ATTRIBUTES`, and lets `service.name` from it
//! win over `OTEL_SERVICE_NAME`). A value set in code wins over its variable.

use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry::{KeyValue, Value, global};
use opentelemetry_otlp::{
    Protocol, WithExportConfig as _, WithHttpConfig as _, WithTonicConfig as _,
};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::BaggagePropagator;
use opentelemetry_sdk::resource::TelemetryResourceDetector;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider, SpanLimits,
};

use crate::console::ConsoleExporter;
use crate::limit::{Reported, TruncateValues};
use crate::provider::{self, Installed};
use crate::w3c::{RandomRoots, TraceContext};

/// `true` turns tracing off; propagators are still installed.
pub const OTEL_SDK_DISABLED: &str = "OTEL_SDK_DISABLED";
/// The `service.name` resource attribute; wins over `OTEL_RESOURCE_ATTRIBUTES`.
pub const OTEL_SERVICE_NAME: &str = "OTEL_SERVICE_NAME";
/// Resource attributes, `key=value` pairs separated by commas, percent-encoded.
pub const OTEL_RESOURCE_ATTRIBUTES: &str = "OTEL_RESOURCE_ATTRIBUTES";
/// Where spans go: a comma list of `otlp` (default), `console`, `none`.
pub const OTEL_TRACES_EXPORTER: &str = "OTEL_TRACES_EXPORTER";
/// `grpc`, `http/protobuf` or `http/json`, for every signal.
pub const OTEL_EXPORTER_OTLP_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";
/// Like `OTEL_EXPORTER_OTLP_PROTOCOL`, for traces only; wins over it.
pub const OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL";
/// The collector's base URL; `/v1/traces` is appended for HTTP.
pub const OTEL_EXPORTER_OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// The full URL spans are sent to; wins over `OTEL_EXPORTER_OTLP_ENDPOINT`.
pub const OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
/// Headers sent with every export, `key=value` pairs, percent-encoded.
pub const OTEL_EXPORTER_OTLP_HEADERS: &str = "OTEL_EXPORTER_OTLP_HEADERS";
/// Like `OTEL_EXPORTER_OTLP_HEADERS`, for traces; its keys win.
pub const OTEL_EXPORTER_OTLP_TRACES_HEADERS: &str = "OTEL_EXPORTER_OTLP_TRACES_HEADERS";
/// How long one export may take, in milliseconds.
pub const OTEL_EXPORTER_OTLP_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TIMEOUT";
/// Like `OTEL_EXPORTER_OTLP_TIMEOUT`, for traces; wins over it.
pub const OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT";
/// `gzip` or `none`.
pub const OTEL_EXPORTER_OTLP_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_COMPRESSION";
/// Like `OTEL_EXPORTER_OTLP_COMPRESSION`, for traces; wins over it.
pub const OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION";
/// `true`: an endpoint without a scheme is plain `http://`.
pub const OTEL_EXPORTER_OTLP_INSECURE: &str = "OTEL_EXPORTER_OTLP_INSECURE";
/// Like `OTEL_EXPORTER_OTLP_INSECURE`, for traces; wins over it.
pub const OTEL_EXPORTER_OTLP_TRACES_INSECURE: &str = "OTEL_EXPORTER_OTLP_TRACES_INSECURE";
/// The sampler; `parentbased_always_on` by default.
pub const OTEL_TRACES_SAMPLER: &str = "OTEL_TRACES_SAMPLER";
/// The sampler's argument: the ratio of the `traceidratio` samplers.
pub const OTEL_TRACES_SAMPLER_ARG: &str = "OTEL_TRACES_SAMPLER_ARG";
/// Propagators, a comma list of `tracecontext`, `baggage`, `none`.
pub const OTEL_PROPAGATORS: &str = "OTEL_PROPAGATORS";
/// Delay between two batch exports, in milliseconds.
pub const OTEL_BSP_SCHEDULE_DELAY: &str = "OTEL_BSP_SCHEDULE_DELAY";
/// How long one batch export may take, in milliseconds.
pub const OTEL_BSP_EXPORT_TIMEOUT: &str = "OTEL_BSP_EXPORT_TIMEOUT";
/// Spans queued before new ones are dropped.
pub const OTEL_BSP_MAX_QUEUE_SIZE: &str = "OTEL_BSP_MAX_QUEUE_SIZE";
/// Spans sent in one export.
pub const OTEL_BSP_MAX_EXPORT_BATCH_SIZE: &str = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE";
/// Attributes per span, event or link, unless a specific limit is set.
pub const OTEL_ATTRIBUTE_COUNT_LIMIT: &str = "OTEL_ATTRIBUTE_COUNT_LIMIT";
/// Length of string attribute values, in characters, unless a span limit is set.
pub const OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: &str = "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT";
/// Attributes per span.
pub const OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: &str = "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT";
/// Length of string span attribute values, in characters.
pub const OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: &str = "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT";
/// Events per span.
pub const OTEL_SPAN_EVENT_COUNT_LIMIT: &str = "OTEL_SPAN_EVENT_COUNT_LIMIT";
/// Links per span.
pub const OTEL_SPAN_LINK_COUNT_LIMIT: &str = "OTEL_SPAN_LINK_COUNT_LIMIT";
/// Attributes per event.
pub const OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT: &str = "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT";
/// Attributes per link.
pub const OTEL_LINK_ATTRIBUTE_COUNT_LIMIT: &str = "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT";

/// The OTLP gRPC endpoint when none is configured.
pub const OTLP_GRPC_ENDPOINT_DEFAULT: &str = "http://localhost:4317";
/// The OTLP HTTP endpoint when none is configured (`/v1/traces` is appended).
pub const OTLP_HTTP_ENDPOINT_DEFAULT: &str = "http://localhost:4318";
/// The export timeout when none is configured.
pub const OTLP_TIMEOUT_DEFAULT: Duration = Duration::from_secs(10);
/// The sampler argument when `OTEL_TRACES_SAMPLER_ARG` is unset.
pub const SAMPLER_RATIO_DEFAULT: f64 = 1.0;

/// A configuration value that is not valid: which variable (or builder
/// call), the value, and what is accepted.
///
/// `Debug` shows the same sentence as `Display`, so that a `main` returning
/// `Result<(), InitError>` prints something a person can act on.
#[derive(Clone, PartialEq, Eq)]
pub struct InitError {
    variable: String,
    value: String,
    expected: String,
}

impl InitError {
    fn new(variable: &str, value: &str, expected: impl Into<String>) -> Self {
        InitError {
            variable: variable.to_owned(),
            value: value.to_owned(),
            expected: expected.into(),
        }
    }

    /// The environment variable (or, for failures that are not about one
    /// variable, what failed) this error is about.
    pub fn variable(&self) -> &str {
        &self.variable
    }

    /// The value that was rejected.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// What would have been accepted.
    pub fn expected(&self) -> &str {
        &self.expected
    }
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} has the invalid value {:?}; expected {}",
            self.variable, self.value, self.expected
        )
    }
}

impl fmt::Debug for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for InitError {}

/// Where finished spans go.
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

/// Everything `init` decided, before anything is installed.
#[derive(Debug)]
pub(crate) struct Config {
    pub disabled: bool,
    pub resource: Vec<KeyValue>,
    pub service_name: String,
    pub exporters: Vec<Exporter>,
    pub otlp: OtlpConfig,
    pub sampler: Sampler,
    pub propagators: Vec<&'static str>,
    pub batch: BatchSettings,
    pub limits: SpanLimits,
    pub value_length_limit: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OtlpConfig {
    pub protocol: OtlpProtocol,
    pub endpoint: String,
    pub headers: HashMap<String, String>,
    pub timeout: Duration,
    pub gzip: bool,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct BatchSettings {
    pub schedule_delay: Option<Duration>,
    pub export_timeout: Option<Duration>,
    pub max_queue_size: Option<usize>,
    pub max_export_batch_size: Option<usize>,
}

/// Reads variables: the process environment, or a map in tests.
type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

fn env_lookup(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(value) => Some(value),
        Err(std::env::VarError::NotPresent) => None,
        // Not UTF-8: handed on so that parsing reports it by name.
        Err(std::env::VarError::NotUnicode(raw)) => Some(raw.to_string_lossy().into_owned()),
    }
}

/// A variable's value, trimmed; an empty value counts as unset, as the
/// specification asks.
fn get(lookup: Lookup, name: &str) -> Option<String> {
    lookup(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn parse_bool(lookup: Lookup, name: &str) -> Result<Option<bool>, InitError> {
    match get(lookup, name) {
        None => Ok(None),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(v) => Err(InitError::new(name, &v, "`true` or `false`")),
    }
}

fn parse_number<T: std::str::FromStr>(
    lookup: Lookup,
    name: &str,
    what: &str,
) -> Result<Option<T>, InitError> {
    match get(lookup, name) {
        None => Ok(None),
        Some(v) => v
            .parse::<T>()
            .map(Some)
            .map_err(|_| InitError::new(name, &v, what)),
    }
}

fn parse_millis(lookup: Lookup, name: &str) -> Result<Option<Duration>, InitError> {
    Ok(
        parse_number::<u64>(lookup, name, "a whole number of milliseconds")?
            .map(Duration::from_millis),
    )
}

/// `key=value` pairs separated by commas, each side percent-decoded (W3C
/// Baggage format, as `OTEL_RESOURCE_ATTRIBUTES` and `_HEADERS` use).
fn parse_pairs(name: &str, value: &str) -> Result<Vec<(String, String)>, InitError> {
    let expected = "comma-separated `key=value` pairs with percent-encoded keys and values";
    let mut out = Vec::new();
    for entry in value.split(',') {
        if entry.trim().is_empty() {
            continue;
        }
        let Some((key, val)) = entry.split_once('=') else {
            return Err(InitError::new(
                name,
                value,
                format!("{expected} (`{}` has no `=`)", entry.trim()),
            ));
        };
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s.trim())
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| {
                    InitError::new(
                        name,
                        value,
                        format!("{expected} (`{s}` does not decode to UTF-8)"),
                    )
                })
        };
        let key = decode(key)?;
        if key.is_empty() {
            return Err(InitError::new(
                name,
                value,
                format!("{expected} (a key is empty)"),
            ));
        }
        out.push((key, decode(val)?));
    }
    Ok(out)
}

impl Config {
    pub(crate) fn from_env() -> Result<Config, InitError> {
        Config::from_lookup(&env_lookup, &Overrides::default())
    }

    pub(crate) fn from_lookup(lookup: Lookup, code: &Overrides) -> Result<Config, InitError> {
        let disabled = parse_bool(lookup, OTEL_SDK_DISABLED)?.unwrap_or(false);

        let mut resource: Vec<(String, String)> = match get(lookup, OTEL_RESOURCE_ATTRIBUTES) {
            Some(v) => parse_pairs(OTEL_RESOURCE_ATTRIBUTES, &v)?,
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
            (None, Some(v)) => parse_exporters(&v)?,
            (None, None) => {
                let endpoint_set = get(lookup, OTEL_EXPORTER_OTLP_ENDPOINT).is_some()
                    || get(lookup, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT).is_some();
                match &code.fallback_exporters {
                    Some(list) if !endpoint_set => list.clone(),
                    _ => vec![Exporter::Otlp],
                }
            }
        };

        let mut otlp = otlp_config(lookup)?;
        let sampler = match &code.sampler {
            Some(sampler) => sampler.clone(),
            None => sampler(lookup)?,
        };
        let propagators = propagators(lookup)?;
        let batch = BatchSettings {
            schedule_delay: parse_millis(lookup, OTEL_BSP_SCHEDULE_DELAY)?,
            export_timeout: parse_millis(lookup, OTEL_BSP_EXPORT_TIMEOUT)?,
            max_queue_size: positive(lookup, OTEL_BSP_MAX_QUEUE_SIZE)?,
            max_export_batch_size: positive(lookup, OTEL_BSP_MAX_EXPORT_BATCH_SIZE)?,
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
                return Err(InitError::new(
                    OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
                    &batch_size.to_string(),
                    format!("a number no larger than {OTEL_BSP_MAX_QUEUE_SIZE} ({queue})"),
                ));
            }
        }
        let count = "a whole number (0 or more)";
        let general: Option<u32> = parse_number(lookup, OTEL_ATTRIBUTE_COUNT_LIMIT, count)?;
        let mut limits = SpanLimits::default();
        if let Some(n) = general {
            limits.max_attributes_per_span = n;
            limits.max_attributes_per_event = n;
            limits.max_attributes_per_link = n;
        }
        if let Some(n) = parse_number(lookup, OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, count)? {
            limits.max_attributes_per_span = n;
        }
        if let Some(n) = parse_number(lookup, OTEL_SPAN_EVENT_COUNT_LIMIT, count)? {
            limits.max_events_per_span = n;
        }
        if let Some(n) = parse_number(lookup, OTEL_SPAN_LINK_COUNT_LIMIT, count)? {
            limits.max_links_per_span = n;
        }
        if let Some(n) = parse_number(lookup, OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT, count)? {
            limits.max_attributes_per_event = n;
        }
        if let Some(n) = parse_number(lookup, OTEL_LINK_ATTRIBUTE_COUNT_LIMIT, count)? {
            limits.max_attributes_per_link = n;
        }
        let value_length_limit =
            match parse_number::<usize>(lookup, OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT, count)? {
                Some(n) => Some(n),
                None => parse_number::<usize>(lookup, OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT, count)?,
            };

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
        })
    }
}

fn positive(lookup: Lookup, name: &str) -> Result<Option<usize>, InitError> {
    match parse_number::<usize>(lookup, name, "a whole number greater than 0")? {
        Some(0) => Err(InitError::new(name, "0", "a whole number greater than 0")),
        other => Ok(other),
    }
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

fn parse_exporters(value: &str) -> Result<Vec<Exporter>, InitError> {
    let mut out = Vec::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let exporter = match item.to_ascii_lowercase().as_str() {
            "otlp" => Exporter::Otlp,
            "console" | "logging" => Exporter::Console,
            "none" => continue,
            "zipkin" | "jaeger" => {
                return Err(InitError::new(
                    OTEL_TRACES_EXPORTER,
                    value,
                    format!(
                        "`otlp`, `console` or `none` (`{item}` is not supported: send OTLP, which {item} accepts)"
                    ),
                ));
            }
            _ => {
                return Err(InitError::new(
                    OTEL_TRACES_EXPORTER,
                    value,
                    "a comma list of `otlp`, `console` and `none`",
                ));
            }
        };
        if !out.contains(&exporter) {
            out.push(exporter);
        }
    }
    Ok(out)
}

fn otlp_config(lookup: Lookup) -> Result<OtlpConfig, InitError> {
    // The traces-only variable wins; the name is kept for the error.
    let pick = |specific: &'static str, general: &'static str| match get(lookup, specific) {
        Some(v) => (Some(v), specific),
        None => (get(lookup, general), general),
    };
    let (endpoint_specific, endpoint_general) = (
        get(lookup, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT),
        get(lookup, OTEL_EXPORTER_OTLP_ENDPOINT),
    );
    let (protocol, protocol_var) = pick(
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
        OTEL_EXPORTER_OTLP_PROTOCOL,
    );
    let protocol = match protocol.as_deref() {
        Some("grpc") => OtlpProtocol::Grpc,
        Some("http/protobuf") => OtlpProtocol::HttpProtobuf,
        Some("http/json") => OtlpProtocol::HttpJson,
        Some(other) => {
            return Err(InitError::new(
                protocol_var,
                other,
                "`grpc`, `http/protobuf` or `http/json`",
            ));
        }
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
    let (insecure, insecure_var) = pick(
        OTEL_EXPORTER_OTLP_TRACES_INSECURE,
        OTEL_EXPORTER_OTLP_INSECURE,
    );
    let insecure = match insecure {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(v) => return Err(InitError::new(insecure_var, &v, "`true` or `false`")),
    };
    let http = protocol != OtlpProtocol::Grpc;
    let endpoint = match (endpoint_specific, endpoint_general) {
        (Some(url), _) => check_url(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, &url, insecure)?,
        (None, Some(base)) => {
            let base = check_url(OTEL_EXPORTER_OTLP_ENDPOINT, &base, insecure)?;
            if http {
                format!("{}/v1/traces", base.trim_end_matches('/'))
            } else {
                base
            }
        }
        (None, None) if http => format!("{OTLP_HTTP_ENDPOINT_DEFAULT}/v1/traces"),
        (None, None) => OTLP_GRPC_ENDPOINT_DEFAULT.to_owned(),
    };
    let mut headers = HashMap::new();
    for name in [
        OTEL_EXPORTER_OTLP_HEADERS,
        OTEL_EXPORTER_OTLP_TRACES_HEADERS,
    ] {
        if let Some(v) = get(lookup, name) {
            headers.extend(parse_pairs(name, &v)?);
        }
    }
    let timeout = match parse_millis(lookup, OTEL_EXPORTER_OTLP_TRACES_TIMEOUT)? {
        Some(t) => t,
        None => parse_millis(lookup, OTEL_EXPORTER_OTLP_TIMEOUT)?.unwrap_or(OTLP_TIMEOUT_DEFAULT),
    };
    let (compression, compression_var) = pick(
        OTEL_EXPORTER_OTLP_TRACES_COMPRESSION,
        OTEL_EXPORTER_OTLP_COMPRESSION,
    );
    let gzip = match compression.as_deref() {
        None | Some("none") => false,
        Some("gzip") => true,
        Some(other) => return Err(InitError::new(compression_var, other, "`gzip` or `none`")),
    };
    Ok(OtlpConfig {
        protocol,
        endpoint,
        headers,
        timeout,
        gzip,
    })
}

/// A URL with a scheme; a bare `host:port` gets `http://` when insecure.
fn check_url(name: &str, value: &str, insecure: bool) -> Result<String, InitError> {
    let expected = "a URL such as `http://collector:4317` (or `host:port` with OTEL_EXPORTER_OTLP_INSECURE=true)";
    let url = if value.contains("://") {
        value.to_owned()
    } else if insecure {
        format!("http://{value}")
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
    if scheme == "https" {
        return Err(InitError::new(
            name,
            value,
            "an `http://` URL: this build of `traced` has no TLS; reach the collector through a local agent or a sidecar",
        ));
    }
    if scheme != "http" || host.is_empty() || host.contains(char::is_whitespace) {
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

fn sampler(lookup: Lookup) -> Result<Sampler, InitError> {
    let arg = get(lookup, OTEL_TRACES_SAMPLER_ARG);
    let ratio = || -> Result<f64, InitError> {
        match &arg {
            None => Ok(SAMPLER_RATIO_DEFAULT),
            Some(v) => match v.parse::<f64>() {
                Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
                _ => Err(InitError::new(
                    OTEL_TRACES_SAMPLER_ARG,
                    v,
                    "a number from 0.0 to 1.0",
                )),
            },
        }
    };
    let Some(name) = get(lookup, OTEL_TRACES_SAMPLER) else {
        return Ok(Sampler::ParentBased(Box::new(Sampler::AlwaysOn)));
    };
    Ok(match name.as_str() {
        "always_on" => Sampler::AlwaysOn,
        "always_off" => Sampler::AlwaysOff,
        "traceidratio" => Sampler::TraceIdRatioBased(ratio()?),
        "parentbased_always_on" => Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
        "parentbased_always_off" => Sampler::ParentBased(Box::new(Sampler::AlwaysOff)),
        "parentbased_traceidratio" => {
            Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(ratio()?)))
        }
        "jaeger_remote" | "parentbased_jaeger_remote" | "xray" => {
            return Err(InitError::new(
                OTEL_TRACES_SAMPLER,
                &name,
                "one of `always_on`, `always_off`, `traceidratio`, `parentbased_always_on`, `parentbased_always_off`, `parentbased_traceidratio` (remote samplers are not supported)",
            ));
        }
        _ => {
            return Err(InitError::new(
                OTEL_TRACES_SAMPLER,
                &name,
                "one of `always_on`, `always_off`, `traceidratio`, `parentbased_always_on`, `parentbased_always_off`, `parentbased_traceidratio`",
            ));
        }
    })
}

fn propagators(lookup: Lookup) -> Result<Vec<&'static str>, InitError> {
    let Some(value) = get(lookup, OTEL_PROPAGATORS) else {
        return Ok(vec!["tracecontext", "baggage"]);
    };
    let mut out = Vec::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let known = match item {
            "tracecontext" => "tracecontext",
            "baggage" => "baggage",
            "none" => continue,
            "b3" | "b3multi" | "jaeger" | "xray" | "ottrace" => {
                return Err(InitError::new(
                    OTEL_PROPAGATORS,
                    &value,
                    format!(
                        "a comma list of `tracecontext`, `baggage` and `none` (`{item}` is not supported)"
                    ),
                ));
            }
            _ => {
                return Err(InitError::new(
                    OTEL_PROPAGATORS,
                    &value,
                    "a comma list of `tracecontext`, `baggage` and `none`",
                ));
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
    service_name: Option<String>,
    exporters: Option<Vec<Exporter>>,
    fallback_exporters: Option<Vec<Exporter>>,
    sampler: Option<Sampler>,
    resource: Vec<KeyValue>,
}

/// Configures tracing in code; what it doesn't set comes from the
/// environment, as with [`init`].
///
/// ```no_run
/// # use traced_runtime as traced;
/// let _telemetry = traced::builder()
///     .service_name("checkout")
///     .fallback_exporter(traced::Exporter::Console)
///     .init()?;
/// # Ok::<(), traced::InitError>(())
/// ```
#[derive(Debug, Default, Clone)]
#[must_use]
pub struct Builder {
    code: Overrides,
}

impl Builder {
    /// The `service.name`; wins over `OTEL_SERVICE_NAME`.
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.code.service_name = Some(name.into());
        self
    }

    /// Adds an exporter; wins over `OTEL_TRACES_EXPORTER`.
    pub fn exporter(mut self, exporter: Exporter) -> Self {
        let list = self.code.exporters.get_or_insert_with(Vec::new);
        if !list.contains(&exporter) {
            list.push(exporter);
        }
        self
    }

    /// Sends spans nowhere, whatever `OTEL_TRACES_EXPORTER` says.
    pub fn no_exporter(mut self) -> Self {
        self.code.exporters = Some(Vec::new());
        self
    }

    /// The exporter used when neither `OTEL_TRACES_EXPORTER` nor an OTLP
    /// endpoint variable is set (instead of OTLP to `localhost`): examples
    /// use [`Exporter::Console`] to show their traces on a fresh machine.
    pub fn fallback_exporter(mut self, exporter: Exporter) -> Self {
        self.code.fallback_exporters = Some(vec![exporter]);
        self
    }

    /// The sampler; wins over `OTEL_TRACES_SAMPLER`.
    pub fn sampler(mut self, sampler: Sampler) -> Self {
        self.code.sampler = Some(sampler);
        self
    }

    /// Adds a resource attribute; wins over `OTEL_RESOURCE_ATTRIBUTES`.
    pub fn resource_attribute(
        mut self,
        key: impl Into<opentelemetry::Key>,
        value: impl Into<Value>,
    ) -> Self {
        self.code.resource.push(KeyValue::new(key, value));
        self
    }

    /// Installs everything; see [`init`].
    ///
    /// # Errors
    ///
    /// An [`InitError`] naming the variable when a value is not valid, or
    /// naming the exporter when it cannot be built. Nothing is installed then.
    pub fn init(self) -> Result<Telemetry, InitError> {
        let config = Config::from_lookup(&env_lookup, &self.code)?;
        Telemetry::install(config)
    }
}

/// Starts configuring tracing in code; see [`Builder`].
pub fn builder() -> Builder {
    Builder::default()
}

/// Configures and installs tracing from the standard `OTEL_*` environment
/// variables: the tracer provider (used by `#[traced]` and by
/// `opentelemetry::global`), the propagators and the panic capture.
///
/// | variable | default | what it does |
/// | --- | --- | --- |
/// | `OTEL_SDK_DISABLED` | `false` | `true`: no spans (propagators still installed) |
/// | `OTEL_SERVICE_NAME` | `unknown_service:<exe>` | `service.name`; wins over `OTEL_RESOURCE_ATTRIBUTES` |
/// | `OTEL_RESOURCE_ATTRIBUTES` | | `key=value,..`, percent-encoded |
/// | `OTEL_TRACES_EXPORTER` | `otlp` | comma list of `otlp`, `console`, `none` |
/// | `OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL` | `grpc` (`http/protobuf` for an endpoint on port 4318) | `grpc`, `http/protobuf`, `http/json` |
/// | `OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT` | `http://localhost:4317` / `:4318/v1/traces` | the collector |
/// | `OTEL_EXPORTER_OTLP_[TRACES_]HEADERS` | | `key=value,..`, percent-encoded |
/// | `OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT` | `10000` | export timeout, ms |
/// | `OTEL_EXPORTER_OTLP_[TRACES_]COMPRESSION` | `none` | `gzip` or `none` |
/// | `OTEL_EXPORTER_OTLP_[TRACES_]INSECURE` | `false` | `true`: `host:port` means `http://host:port` |
/// | `OTEL_TRACES_SAMPLER` | `parentbased_always_on` | any sampler of the specification but the remote ones |
/// | `OTEL_TRACES_SAMPLER_ARG` | `1.0` | ratio for the `traceidratio` samplers |
/// | `OTEL_PROPAGATORS` | `tracecontext,baggage` | comma list of `tracecontext`, `baggage`, `none` |
/// | `OTEL_BSP_SCHEDULE_DELAY`, `_EXPORT_TIMEOUT`, `_MAX_QUEUE_SIZE`, `_MAX_EXPORT_BATCH_SIZE` | SDK defaults | the batch processor |
/// | `OTEL_[SPAN_]ATTRIBUTE_COUNT_LIMIT`, `OTEL_SPAN_EVENT_COUNT_LIMIT`, `OTEL_SPAN_LINK_COUNT_LIMIT`, `OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT`, `OTEL_LINK_ATTRIBUTE_COUNT_LIMIT` | 128 | span limits |
/// | `OTEL_[SPAN_]ATTRIBUTE_VALUE_LENGTH_LIMIT` | none | string values are truncated to this many characters |
///
/// Works from a plain `fn main` and inside tokio runtimes of either flavour:
/// the gRPC exporter runs on a small runtime of its own.
///
/// # Errors
///
/// An [`InitError`] that names the variable, its value and what is
/// accepted. Nothing is installed then.
pub fn init() -> Result<Telemetry, InitError> {
    Telemetry::install(Config::from_env()?)
}

/// Installed tracing; dropping it flushes every finished span and shuts the
/// provider down.
#[must_use = "dropping the guard shuts tracing down at once"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
    /// Drives the gRPC exporter's connections.
    runtime: Option<tokio::runtime::Runtime>,
}

impl fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Telemetry")
            .field("enabled", &self.provider.is_some())
            .finish()
    }
}

impl Telemetry {
    fn install(config: Config) -> Result<Telemetry, InitError> {
        crate::record::ensure_panic_hook();
        let mut list: Vec<Box<dyn TextMapPropagator + Send + Sync>> = Vec::new();
        for name in &config.propagators {
            match *name {
                "tracecontext" => list.push(Box::new(TraceContext::default())),
                _ => list.push(Box::new(BaggagePropagator::new())),
            }
        }
        global::set_text_map_propagator(TextMapCompositePropagator::new(list));

        if config.disabled {
            provider::replace(Some(Installed::Disabled));
            return Ok(Telemetry {
                provider: None,
                runtime: None,
            });
        }

        let resource = Resource::builder_empty()
            .with_detector(Box::new(TelemetryResourceDetector))
            .with_attributes(config.resource.iter().cloned())
            .with_service_name(config.service_name.clone())
            .build();
        let mut builder = SdkTracerProvider::builder()
            .with_resource(resource)
            .with_sampler(config.sampler.clone())
            .with_id_generator(RandomRoots::default())
            .with_span_limits(config.limits);
        let mut runtime = None;
        for exporter in &config.exporters {
            match exporter {
                Exporter::Console => {
                    builder = add_processor(builder, &config, ConsoleExporter::new());
                }
                Exporter::Otlp => {
                    let (exporter, rt) = build_otlp(&config.otlp)?;
                    runtime = runtime.or(rt);
                    let exporter = Reported::new(exporter, config.otlp.endpoint.clone());
                    builder = add_processor(builder, &config, exporter);
                }
            }
        }
        let provider = builder.build();
        crate::provider::set_tracer_provider(provider.clone());
        Ok(Telemetry {
            provider: Some(provider),
            runtime,
        })
    }

    /// Exports every finished span now.
    ///
    /// # Errors
    ///
    /// The SDK's error when an exporter fails.
    pub fn flush(&self) -> Result<(), opentelemetry_sdk::error::OTelSdkError> {
        match &self.provider {
            Some(provider) => off_runtime(|| provider.force_flush()),
            None => Ok(()),
        }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            // Spans started from now on go nowhere, rather than to a
            // provider that is shut down.
            provider::replace(None);
            if let Err(err) = off_runtime(|| provider.shutdown()) {
                eprintln!("traced: shutting the tracer provider down failed: {err}");
            }
        }
        if let Some(runtime) = self.runtime.take() {
            // Allowed inside an async context, unlike a plain drop.
            runtime.shutdown_background();
        }
    }
}

/// Runs `f` on a plain thread: the blocking HTTP client and the SDK's
/// blocking shutdown must not run on a tokio worker (a current-thread
/// runtime would deadlock, and `reqwest::blocking` panics there).
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|scope| {
        scope
            .spawn(f)
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

fn add_processor<E>(
    builder: opentelemetry_sdk::trace::TracerProviderBuilder,
    config: &Config,
    exporter: E,
) -> opentelemetry_sdk::trace::TracerProviderBuilder
where
    E: opentelemetry_sdk::trace::SpanExporter + 'static,
{
    let mut batch = BatchConfigBuilder::default();
    let b = &config.batch;
    if let Some(v) = b.schedule_delay {
        batch = batch.with_scheduled_delay(v);
    }
    if let Some(v) = b.max_queue_size {
        batch = batch.with_max_queue_size(v);
    }
    if let Some(v) = b.max_export_batch_size {
        batch = batch.with_max_export_batch_size(v);
    }
    let processor = BatchSpanProcessor::builder(exporter)
        .with_batch_config(batch.build())
        .build();
    match config.value_length_limit {
        Some(limit) => builder.with_span_processor(TruncateValues::new(processor, limit)),
        None => builder.with_span_processor(processor),
    }
}

fn build_otlp(
    config: &OtlpConfig,
) -> Result<
    (
        opentelemetry_otlp::SpanExporter,
        Option<tokio::runtime::Runtime>,
    ),
    InitError,
> {
    let failed = |err: &dyn fmt::Display| {
        InitError::new(
            "the OTLP exporter",
            &config.endpoint,
            format!("an exporter that can be built ({err})"),
        )
    };
    match config.protocol {
        OtlpProtocol::Grpc => {
            // The tonic exporter needs a tokio reactor when it is built and
            // while it exports; owning one avoids "no reactor running"
            // outside tokio and deadlocks on a current-thread runtime.
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("traced-otlp")
                .enable_all()
                .build()
                .map_err(|e| failed(&e))?;
            let mut metadata = tonic_metadata(config)?;
            let exporter = {
                let _entered = runtime.enter();
                let mut builder = opentelemetry_otlp::SpanExporter::builder()
                    .with_tonic()
                    .with_endpoint(config.endpoint.clone())
                    .with_timeout(config.timeout)
                    .with_metadata(std::mem::take(&mut metadata));
                if config.gzip {
                    builder = builder.with_compression(opentelemetry_otlp::Compression::Gzip);
                }
                builder.build().map_err(|e| failed(&e))?
            };
            Ok((exporter, Some(runtime)))
        }
        OtlpProtocol::HttpProtobuf | OtlpProtocol::HttpJson => {
            let protocol = if config.protocol == OtlpProtocol::HttpJson {
                Protocol::HttpJson
            } else {
                Protocol::HttpBinary
            };
            let build = || {
                // The blocking client, given explicitly: if any crate in the
                // graph turns on opentelemetry-otlp's `reqwest-client`
                // feature, the exporter would otherwise pick the async
                // client, which the batch processor's plain thread cannot
                // drive.
                let client = reqwest::blocking::Client::builder()
                    .timeout(config.timeout)
                    .build()
                    .map_err(|e| {
                        opentelemetry_otlp::ExporterBuildError::InternalFailure(e.to_string())
                    })?;
                let mut builder = opentelemetry_otlp::SpanExporter::builder()
                    .with_http()
                    .with_http_client(client)
                    .with_protocol(protocol)
                    .with_endpoint(config.endpoint.clone())
                    .with_timeout(config.timeout)
                    .with_headers(config.headers.clone());
                if config.gzip {
                    builder = builder.with_compression(opentelemetry_otlp::Compression::Gzip);
                }
                builder.build()
            };
            let exporter = off_runtime(build).map_err(|e| failed(&e))?;
            Ok((exporter, None))
        }
    }
}

fn tonic_metadata(config: &OtlpConfig) -> Result<tonic::metadata::MetadataMap, InitError> {
    let mut map = tonic::metadata::MetadataMap::new();
    for (key, value) in &config.headers {
        let bad = || {
            InitError::new(
                OTEL_EXPORTER_OTLP_HEADERS,
                key,
                "header names and values that are valid in HTTP/2 metadata",
            )
        };
        let key = tonic::metadata::MetadataKey::from_bytes(key.to_ascii_lowercase().as_bytes())
            .map_err(|_| bad())?;
        let value = value.parse().map_err(|_| bad())?;
        map.insert(key, value);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, InitError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(&|name| vars.get(name).cloned(), &Overrides::default())
    }

    fn err(vars: &[(&str, &str)]) -> InitError {
        config(vars).expect_err("must be rejected")
    }

    #[test]
    fn defaults() {
        let c = config(&[]).unwrap();
        assert!(!c.disabled);
        assert_eq!(c.exporters, vec![Exporter::Otlp]);
        assert_eq!(c.otlp.protocol, OtlpProtocol::Grpc);
        assert_eq!(c.otlp.endpoint, "http://localhost:4317");
        assert_eq!(c.otlp.timeout, Duration::from_secs(10));
        assert_eq!(c.propagators, vec!["tracecontext", "baggage"]);
        assert!(format!("{:?}", c.sampler).contains("ParentBased(AlwaysOn)"));
        assert!(c.service_name.starts_with("unknown_service"));
        assert_eq!(c.value_length_limit, None);
    }

    #[test]
    fn the_talks_environment_works_unchanged() {
        let c = config(&[
            ("OTEL_SERVICE_NAME", "app"),
            ("OTEL_TRACES_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "otel:4317"),
            ("OTEL_EXPORTER_OTLP_INSECURE", "true"),
        ])
        .unwrap();
        assert_eq!(c.service_name, "app");
        assert_eq!(c.otlp.protocol, OtlpProtocol::Grpc);
        assert_eq!(c.otlp.endpoint, "http://otel:4317");
    }

    #[test]
    fn service_name_wins_over_resource_attributes() {
        let c = config(&[
            ("OTEL_SERVICE_NAME", "from-name"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "service.name=from-attrs,deployment.environment=prod",
            ),
        ])
        .unwrap();
        assert_eq!(c.service_name, "from-name");
        assert!(
            c.resource
                .iter()
                .all(|kv| kv.key.as_str() != "service.name")
        );
        let c = config(&[("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs")]).unwrap();
        assert_eq!(c.service_name, "from-attrs");
    }

    #[test]
    fn resource_attributes_are_percent_decoded() {
        let c = config(&[(
            "OTEL_RESOURCE_ATTRIBUTES",
            "team=a%20b%2Cc, owner = x%3Dy ,,",
        )])
        .unwrap();
        assert_eq!(
            c.resource,
            vec![
                KeyValue::new("team", "a b,c"),
                KeyValue::new("owner", "x=y")
            ]
        );
        assert_eq!(
            err(&[("OTEL_RESOURCE_ATTRIBUTES", "novalue")]).variable(),
            OTEL_RESOURCE_ATTRIBUTES
        );
        assert_eq!(
            err(&[("OTEL_RESOURCE_ATTRIBUTES", "k=%FF")]).variable(),
            OTEL_RESOURCE_ATTRIBUTES
        );
        assert_eq!(
            err(&[("OTEL_RESOURCE_ATTRIBUTES", "=v")]).variable(),
            OTEL_RESOURCE_ATTRIBUTES
        );
    }

    #[test]
    fn exporters() {
        assert_eq!(
            config(&[("OTEL_TRACES_EXPORTER", "console")])
                .unwrap()
                .exporters,
            vec![Exporter::Console]
        );
        assert_eq!(
            config(&[("OTEL_TRACES_EXPORTER", "otlp, console,otlp")])
                .unwrap()
                .exporters,
            vec![Exporter::Otlp, Exporter::Console]
        );
        assert!(
            config(&[("OTEL_TRACES_EXPORTER", "none")])
                .unwrap()
                .exporters
                .is_empty()
        );
        let e = err(&[("OTEL_TRACES_EXPORTER", "otlp,kafka")]);
        assert_eq!(e.variable(), OTEL_TRACES_EXPORTER);
        assert_eq!(e.value(), "otlp,kafka");
        assert!(
            e.to_string().contains("`otlp`, `console` and `none`"),
            "{e}"
        );
        assert_eq!(
            err(&[("OTEL_TRACES_EXPORTER", "zipkin")]).variable(),
            OTEL_TRACES_EXPORTER
        );
    }

    #[test]
    fn fallback_exporter_only_without_configuration() {
        let code = Overrides {
            fallback_exporters: Some(vec![Exporter::Console]),
            ..Overrides::default()
        };
        let with = |vars: &[(&str, &str)]| {
            let vars: HashMap<String, String> = vars
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            Config::from_lookup(&|name| vars.get(name).cloned(), &code)
                .unwrap()
                .exporters
        };
        assert_eq!(with(&[]), vec![Exporter::Console]);
        assert_eq!(
            with(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317")]),
            vec![Exporter::Otlp]
        );
        assert_eq!(
            with(&[("OTEL_TRACES_EXPORTER", "otlp")]),
            vec![Exporter::Otlp]
        );
    }

    #[test]
    fn code_wins_over_the_environment() {
        let code = Overrides {
            service_name: Some("code".into()),
            exporters: Some(vec![Exporter::Console]),
            sampler: Some(Sampler::AlwaysOff),
            ..Overrides::default()
        };
        let vars: HashMap<String, String> = [
            ("OTEL_SERVICE_NAME", "env"),
            ("OTEL_TRACES_EXPORTER", "otlp"),
            ("OTEL_TRACES_SAMPLER", "always_on"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let c = Config::from_lookup(&|n| vars.get(n).cloned(), &code).unwrap();
        assert_eq!(c.service_name, "code");
        assert_eq!(c.exporters, vec![Exporter::Console]);
        assert!(matches!(c.sampler, Sampler::AlwaysOff));
    }

    #[test]
    fn protocols_and_endpoints() {
        let c = config(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")]).unwrap();
        assert_eq!(c.otlp.endpoint, "http://localhost:4318/v1/traces");
        let c = config(&[
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/"),
        ])
        .unwrap();
        assert_eq!(c.otlp.protocol, OtlpProtocol::HttpJson);
        assert_eq!(c.otlp.endpoint, "http://c:4318/v1/traces");
        let c = config(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://t:9999/custom"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ])
        .unwrap();
        assert_eq!(c.otlp.endpoint, "http://t:9999/custom");
        // Port 4318 without a protocol means HTTP.
        let c = config(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")]).unwrap();
        assert_eq!(c.otlp.protocol, OtlpProtocol::HttpProtobuf);
        assert_eq!(
            err(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "udp")]).variable(),
            OTEL_EXPORTER_OTLP_PROTOCOL
        );
        assert_eq!(
            err(&[("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpcc")]).variable(),
            OTEL_EXPORTER_OTLP_TRACES_PROTOCOL
        );
        assert_eq!(
            err(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "otel:4317")]).variable(),
            OTEL_EXPORTER_OTLP_ENDPOINT
        );
        assert_eq!(
            err(&[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "ftp://x:1")]).variable(),
            OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
        );
        assert_eq!(
            err(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://x:port")]).variable(),
            OTEL_EXPORTER_OTLP_ENDPOINT
        );
        assert_eq!(
            err(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "https://x:4317")]).variable(),
            OTEL_EXPORTER_OTLP_ENDPOINT
        );
        assert_eq!(
            err(&[("OTEL_EXPORTER_OTLP_INSECURE", "yes")]).variable(),
            OTEL_EXPORTER_OTLP_INSECURE
        );
    }

    #[test]
    fn headers_timeout_compression() {
        let c = config(&[
            ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=a%20b,x=1"),
            ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x=2"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "500"),
            ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "gzip"),
        ])
        .unwrap();
        assert_eq!(
            c.otlp.headers.get("api-key").map(String::as_str),
            Some("a b")
        );
        assert_eq!(c.otlp.headers.get("x").map(String::as_str), Some("2"));
        assert_eq!(c.otlp.timeout, Duration::from_millis(500));
        assert!(c.otlp.gzip);
        assert_eq!(
            err(&[("OTEL_EXPORTER_OTLP_HEADERS", "novalue")]).variable(),
            OTEL_EXPORTER_OTLP_HEADERS
        );
        assert_eq!(
            err(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "10s")]).variable(),
            OTEL_EXPORTER_OTLP_TIMEOUT
        );
        assert_eq!(
            err(&[("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "-1")]).variable(),
            OTEL_EXPORTER_OTLP_TRACES_TIMEOUT
        );
        assert_eq!(
            err(&[("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd")]).variable(),
            OTEL_EXPORTER_OTLP_COMPRESSION
        );
    }

    #[test]
    fn samplers() {
        let s = |name: &str, arg: Option<&str>| {
            let mut vars = vec![("OTEL_TRACES_SAMPLER", name)];
            if let Some(arg) = arg {
                vars.push(("OTEL_TRACES_SAMPLER_ARG", arg));
            }
            config(&vars).map(|c| format!("{:?}", c.sampler))
        };
        assert_eq!(s("always_on", None).unwrap(), "AlwaysOn");
        assert_eq!(s("always_off", None).unwrap(), "AlwaysOff");
        assert_eq!(
            s("traceidratio", Some("0.25")).unwrap(),
            "TraceIdRatioBased(0.25)"
        );
        assert_eq!(s("traceidratio", None).unwrap(), "TraceIdRatioBased(1.0)");
        assert_eq!(
            s("parentbased_always_off", None).unwrap(),
            "ParentBased(AlwaysOff)"
        );
        assert_eq!(
            s("parentbased_traceidratio", Some("0.5")).unwrap(),
            "ParentBased(TraceIdRatioBased(0.5))"
        );
        assert_eq!(
            s("sometimes", None).unwrap_err().variable(),
            OTEL_TRACES_SAMPLER
        );
        assert_eq!(s("xray", None).unwrap_err().variable(), OTEL_TRACES_SAMPLER);
        assert_eq!(
            s("traceidratio", Some("1.5")).unwrap_err().variable(),
            OTEL_TRACES_SAMPLER_ARG
        );
        assert_eq!(
            s("traceidratio", Some("half")).unwrap_err().variable(),
            OTEL_TRACES_SAMPLER_ARG
        );
    }

    #[test]
    fn propagators_disabled_batch_and_limits() {
        assert_eq!(
            config(&[("OTEL_PROPAGATORS", "baggage")])
                .unwrap()
                .propagators,
            vec!["baggage"]
        );
        assert!(
            config(&[("OTEL_PROPAGATORS", "none")])
                .unwrap()
                .propagators
                .is_empty()
        );
        assert_eq!(
            err(&[("OTEL_PROPAGATORS", "b3")]).variable(),
            OTEL_PROPAGATORS
        );
        assert_eq!(
            err(&[("OTEL_PROPAGATORS", "tracecontext,w3c")]).variable(),
            OTEL_PROPAGATORS
        );
        assert!(config(&[("OTEL_SDK_DISABLED", "TRUE")]).unwrap().disabled);
        assert_eq!(
            err(&[("OTEL_SDK_DISABLED", "1")]).variable(),
            OTEL_SDK_DISABLED
        );

        let c = config(&[
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "10"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "5"),
            ("OTEL_ATTRIBUTE_COUNT_LIMIT", "7"),
            ("OTEL_SPAN_EVENT_COUNT_LIMIT", "3"),
            ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "16"),
        ])
        .unwrap();
        assert_eq!(c.batch.schedule_delay, Some(Duration::from_millis(100)));
        assert_eq!(c.batch.max_queue_size, Some(10));
        assert_eq!(c.limits.max_attributes_per_span, 7);
        assert_eq!(c.limits.max_attributes_per_event, 7);
        assert_eq!(c.limits.max_events_per_span, 3);
        assert_eq!(c.value_length_limit, Some(16));
        for name in [
            OTEL_BSP_SCHEDULE_DELAY,
            OTEL_BSP_EXPORT_TIMEOUT,
            OTEL_BSP_MAX_QUEUE_SIZE,
            OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
            OTEL_ATTRIBUTE_COUNT_LIMIT,
            OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT,
            OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT,
            OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT,
            OTEL_SPAN_EVENT_COUNT_LIMIT,
            OTEL_SPAN_LINK_COUNT_LIMIT,
            OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT,
            OTEL_LINK_ATTRIBUTE_COUNT_LIMIT,
        ] {
            let e = err(&[(name, "lots")]);
            assert_eq!(e.variable(), name);
            assert_eq!(e.value(), "lots");
        }
        assert_eq!(
            err(&[("OTEL_BSP_MAX_QUEUE_SIZE", "0")]).variable(),
            OTEL_BSP_MAX_QUEUE_SIZE
        );
        assert_eq!(
            err(&[
                ("OTEL_BSP_MAX_QUEUE_SIZE", "4"),
                ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "8")
            ])
            .variable(),
            OTEL_BSP_MAX_EXPORT_BATCH_SIZE
        );
    }

    #[test]
    fn empty_values_count_as_unset() {
        let c = config(&[("OTEL_TRACES_SAMPLER", ""), ("OTEL_TRACES_EXPORTER", "  ")]).unwrap();
        assert_eq!(c.exporters, vec![Exporter::Otlp]);
    }
}
