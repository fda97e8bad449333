//! The environment variables `init` reads, each beside its default, and
//! the parsers their values go through.

use std::time::Duration;

use super::error::InitError;

/// `true` turns tracing off; propagators are still installed.
pub(crate) const OTEL_SDK_DISABLED: &str = "OTEL_SDK_DISABLED";
/// The `service.name` resource attribute; wins over `OTEL_RESOURCE_ATTRIBUTES`.
pub(crate) const OTEL_SERVICE_NAME: &str = "OTEL_SERVICE_NAME";
/// Resource attributes, `key=value` pairs separated by commas, percent-encoded.
pub(crate) const OTEL_RESOURCE_ATTRIBUTES: &str = "OTEL_RESOURCE_ATTRIBUTES";
/// Where spans go: a comma list of `otlp` (default), `console`, `none`.
pub(crate) const OTEL_TRACES_EXPORTER: &str = "OTEL_TRACES_EXPORTER";
/// `grpc`, `http/protobuf` or `http/json`, for every signal.
pub(crate) const OTEL_EXPORTER_OTLP_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";
/// Like `OTEL_EXPORTER_OTLP_PROTOCOL`, for traces only; wins over it.
pub(crate) const OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL";
/// The collector's base URL; `/v1/traces` is appended for HTTP.
pub(crate) const OTEL_EXPORTER_OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// The OTLP gRPC endpoint when none is configured.
pub(crate) const OTLP_GRPC_ENDPOINT_DEFAULT: &str = "http://localhost:4317";
/// The OTLP HTTP endpoint when none is configured (`/v1/traces` is appended).
pub(crate) const OTLP_HTTP_ENDPOINT_DEFAULT: &str = "http://localhost:4318";
/// The full URL spans are sent to; wins over `OTEL_EXPORTER_OTLP_ENDPOINT`.
pub(crate) const OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
/// Headers sent with every export, `key=value` pairs, percent-encoded.
pub(crate) const OTEL_EXPORTER_OTLP_HEADERS: &str = "OTEL_EXPORTER_OTLP_HEADERS";
/// Like `OTEL_EXPORTER_OTLP_HEADERS`, for traces; its keys win.
pub(crate) const OTEL_EXPORTER_OTLP_TRACES_HEADERS: &str = "OTEL_EXPORTER_OTLP_TRACES_HEADERS";
/// How long one export may take, in milliseconds.
pub(crate) const OTEL_EXPORTER_OTLP_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TIMEOUT";
/// The export timeout when none is configured.
pub(crate) const OTLP_TIMEOUT_DEFAULT: Duration = Duration::from_secs(10);
/// Like `OTEL_EXPORTER_OTLP_TIMEOUT`, for traces; wins over it.
pub(crate) const OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT";
/// `gzip` or `none`.
pub(crate) const OTEL_EXPORTER_OTLP_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_COMPRESSION";
/// Like `OTEL_EXPORTER_OTLP_COMPRESSION`, for traces; wins over it.
pub(crate) const OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: &str =
    "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION";
/// `true`: an endpoint without a scheme is plain `http://`.
pub(crate) const OTEL_EXPORTER_OTLP_INSECURE: &str = "OTEL_EXPORTER_OTLP_INSECURE";
/// Like `OTEL_EXPORTER_OTLP_INSECURE`, for traces; wins over it.
pub(crate) const OTEL_EXPORTER_OTLP_TRACES_INSECURE: &str = "OTEL_EXPORTER_OTLP_TRACES_INSECURE";
/// A PEM file of CA certificates to trust for the collector, besides the
/// bundled webpki roots and the OS store.
pub(crate) const OTEL_EXPORTER_OTLP_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_CERTIFICATE";
/// Like `OTEL_EXPORTER_OTLP_CERTIFICATE`, for traces; wins over it.
pub(crate) const OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: &str =
    "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE";
/// A PEM file with the client certificate chain, for mTLS.
pub(crate) const OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: &str =
    "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE";
/// Like `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`, for traces; wins over it.
pub(crate) const OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: &str =
    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE";
/// A PEM file with the client certificate's private key, for mTLS.
pub(crate) const OTEL_EXPORTER_OTLP_CLIENT_KEY: &str = "OTEL_EXPORTER_OTLP_CLIENT_KEY";
/// Like `OTEL_EXPORTER_OTLP_CLIENT_KEY`, for traces; wins over it.
pub(crate) const OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: &str =
    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY";
/// The sampler; `parentbased_always_on` by default.
pub(crate) const OTEL_TRACES_SAMPLER: &str = "OTEL_TRACES_SAMPLER";
/// The sampler's argument: the ratio of the `traceidratio` samplers.
pub(crate) const OTEL_TRACES_SAMPLER_ARG: &str = "OTEL_TRACES_SAMPLER_ARG";
/// The sampler argument when `OTEL_TRACES_SAMPLER_ARG` is unset.
pub(crate) const SAMPLER_RATIO_DEFAULT: f64 = 1.0;
/// Propagators, a comma list of `tracecontext`, `baggage`, `none`.
pub(crate) const OTEL_PROPAGATORS: &str = "OTEL_PROPAGATORS";
/// Delay between two batch exports, in milliseconds.
pub(crate) const OTEL_BSP_SCHEDULE_DELAY: &str = "OTEL_BSP_SCHEDULE_DELAY";
/// How long one batch export may take, in milliseconds.
pub(crate) const OTEL_BSP_EXPORT_TIMEOUT: &str = "OTEL_BSP_EXPORT_TIMEOUT";
/// Spans queued before new ones are dropped.
pub(crate) const OTEL_BSP_MAX_QUEUE_SIZE: &str = "OTEL_BSP_MAX_QUEUE_SIZE";
/// Spans sent in one export.
pub(crate) const OTEL_BSP_MAX_EXPORT_BATCH_SIZE: &str = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE";
/// Batches exported at once (the Rust SDK's variable; our pipeline only).
pub(crate) const OTEL_BSP_MAX_CONCURRENT_EXPORTS: &str = "OTEL_BSP_MAX_CONCURRENT_EXPORTS";
/// Attributes per span, event or link, unless a specific limit is set.
pub(crate) const OTEL_ATTRIBUTE_COUNT_LIMIT: &str = "OTEL_ATTRIBUTE_COUNT_LIMIT";
/// Length of string attribute values, in characters, unless a span limit is set.
pub(crate) const OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: &str = "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT";
/// Attributes per span.
pub(crate) const OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: &str = "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT";
/// Length of string span attribute values, in characters.
pub(crate) const OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: &str =
    "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT";
/// Events per span.
pub(crate) const OTEL_SPAN_EVENT_COUNT_LIMIT: &str = "OTEL_SPAN_EVENT_COUNT_LIMIT";
/// Links per span.
pub(crate) const OTEL_SPAN_LINK_COUNT_LIMIT: &str = "OTEL_SPAN_LINK_COUNT_LIMIT";
/// Attributes per event.
pub(crate) const OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT: &str = "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT";
/// Attributes per link.
pub(crate) const OTEL_LINK_ATTRIBUTE_COUNT_LIMIT: &str = "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT";

/// Where log records go (feature `tracing`): a comma list of `otlp`,
/// `console`, `none`; unset, the traces exporters (see `Config::logs`).
#[cfg_attr(not(feature = "tracing"), allow(dead_code))]
pub(crate) const OTEL_LOGS_EXPORTER: &str = "OTEL_LOGS_EXPORTER";
/// Like `OTEL_EXPORTER_OTLP_PROTOCOL`, for logs only; wins over it.
pub(crate) const OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL";
/// The full URL log records are sent to; wins over `OTEL_EXPORTER_OTLP_ENDPOINT`.
pub(crate) const OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT";
/// Like `OTEL_EXPORTER_OTLP_HEADERS`, for logs; replaces it.
pub(crate) const OTEL_EXPORTER_OTLP_LOGS_HEADERS: &str = "OTEL_EXPORTER_OTLP_LOGS_HEADERS";
/// Like `OTEL_EXPORTER_OTLP_TIMEOUT`, for logs; wins over it.
pub(crate) const OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT";
/// Like `OTEL_EXPORTER_OTLP_COMPRESSION`, for logs; wins over it.
pub(crate) const OTEL_EXPORTER_OTLP_LOGS_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION";
/// Like `OTEL_EXPORTER_OTLP_INSECURE`, for logs; wins over it.
pub(crate) const OTEL_EXPORTER_OTLP_LOGS_INSECURE: &str = "OTEL_EXPORTER_OTLP_LOGS_INSECURE";
/// Like `OTEL_EXPORTER_OTLP_CERTIFICATE`, for logs; wins over it.
pub(crate) const OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE";
/// Like `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`, for logs; wins over it.
pub(crate) const OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE: &str =
    "OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE";
/// Like `OTEL_EXPORTER_OTLP_CLIENT_KEY`, for logs; wins over it.
pub(crate) const OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY: &str = "OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY";
/// The `tracing` filter (feature `tracing`), in `tracing-subscriber`'s
/// `EnvFilter` syntax, added on top of the default one.
#[cfg_attr(not(feature = "tracing"), allow(dead_code))]
pub(crate) const RUST_LOG: &str = "RUST_LOG";
/// The semantic conventions' opt-in for exceptions as log records:
/// `logs` (only the log record) or `logs/dup` (the span event too).
pub(crate) const OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN: &str =
    "OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN";
/// Ours (feature `tracing`): `compact` prints each `tracing` event as a
/// line on stdout with its `trace_id` and `span_id`; `none` (default) does not.
#[cfg_attr(not(feature = "tracing"), allow(dead_code))]
pub(crate) const TRACED_STDOUT_LOGS: &str = "TRACED_STDOUT_LOGS";

/// Where metrics go (#29): a comma list of `otlp`, `console`, `none`;
/// unset, `otlp` when traces go over OTLP, otherwise none.
pub(crate) const OTEL_METRICS_EXPORTER: &str = "OTEL_METRICS_EXPORTER";
/// Milliseconds between two metrics exports (default 60000).
pub(crate) const OTEL_METRIC_EXPORT_INTERVAL: &str = "OTEL_METRIC_EXPORT_INTERVAL";
/// Milliseconds one metrics export may take (default 30000).
pub(crate) const OTEL_METRIC_EXPORT_TIMEOUT: &str = "OTEL_METRIC_EXPORT_TIMEOUT";
/// `cumulative` (default), `delta` or `lowmemory`.
pub(crate) const OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: &str =
    "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE";
/// Ours: the most series one instrument aggregates (default 2000); past
/// it, measurements go to the series `otel.metric.overflow=true`.
pub(crate) const TRACED_METRICS_CARDINALITY_LIMIT: &str = "TRACED_METRICS_CARDINALITY_LIMIT";
/// Like `OTEL_EXPORTER_OTLP_PROTOCOL`, for metrics only; wins over it.
pub(crate) const OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL";
/// The full URL metrics are sent to; wins over `OTEL_EXPORTER_OTLP_ENDPOINT`.
pub(crate) const OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT";
/// Like `OTEL_EXPORTER_OTLP_HEADERS`, for metrics; replaces it.
pub(crate) const OTEL_EXPORTER_OTLP_METRICS_HEADERS: &str = "OTEL_EXPORTER_OTLP_METRICS_HEADERS";
/// Like `OTEL_EXPORTER_OTLP_TIMEOUT`, for metrics; wins over it.
pub(crate) const OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT";
/// Like `OTEL_EXPORTER_OTLP_COMPRESSION`, for metrics; wins over it.
pub(crate) const OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: &str =
    "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION";
/// Like `OTEL_EXPORTER_OTLP_INSECURE`, for metrics; wins over it.
pub(crate) const OTEL_EXPORTER_OTLP_METRICS_INSECURE: &str = "OTEL_EXPORTER_OTLP_METRICS_INSECURE";
/// Like `OTEL_EXPORTER_OTLP_CERTIFICATE`, for metrics; wins over it.
pub(crate) const OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE: &str =
    "OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE";
/// Like `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`, for metrics; wins over it.
pub(crate) const OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE: &str =
    "OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE";
/// Like `OTEL_EXPORTER_OTLP_CLIENT_KEY`, for metrics; wins over it.
pub(crate) const OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY: &str =
    "OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY";

/// The variables of one signal's OTLP exporter, and its URL path.
#[derive(Debug)]
pub(crate) struct SignalVars {
    pub(crate) protocol: &'static str,
    pub(crate) endpoint: &'static str,
    pub(crate) headers: &'static str,
    pub(crate) timeout: &'static str,
    pub(crate) compression: &'static str,
    pub(crate) insecure: &'static str,
    pub(crate) certificate: &'static str,
    pub(crate) client_certificate: &'static str,
    pub(crate) client_key: &'static str,
    /// Appended to `OTEL_EXPORTER_OTLP_ENDPOINT` for HTTP.
    pub(crate) path: &'static str,
}

/// The traces exporter's variables.
pub(crate) const TRACES: SignalVars = SignalVars {
    protocol: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
    endpoint: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    headers: OTEL_EXPORTER_OTLP_TRACES_HEADERS,
    timeout: OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
    compression: OTEL_EXPORTER_OTLP_TRACES_COMPRESSION,
    insecure: OTEL_EXPORTER_OTLP_TRACES_INSECURE,
    certificate: OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE,
    client_certificate: OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE,
    client_key: OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY,
    path: "/v1/traces",
};

/// The logs exporter's variables.
#[cfg_attr(not(feature = "tracing"), allow(dead_code))]
pub(crate) const LOGS: SignalVars = SignalVars {
    protocol: OTEL_EXPORTER_OTLP_LOGS_PROTOCOL,
    endpoint: OTEL_EXPORTER_OTLP_LOGS_ENDPOINT,
    headers: OTEL_EXPORTER_OTLP_LOGS_HEADERS,
    timeout: OTEL_EXPORTER_OTLP_LOGS_TIMEOUT,
    compression: OTEL_EXPORTER_OTLP_LOGS_COMPRESSION,
    insecure: OTEL_EXPORTER_OTLP_LOGS_INSECURE,
    certificate: OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE,
    client_certificate: OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE,
    client_key: OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY,
    path: "/v1/logs",
};

/// The metrics exporter's variables.
pub(crate) const METRICS: SignalVars = SignalVars {
    protocol: OTEL_EXPORTER_OTLP_METRICS_PROTOCOL,
    endpoint: OTEL_EXPORTER_OTLP_METRICS_ENDPOINT,
    headers: OTEL_EXPORTER_OTLP_METRICS_HEADERS,
    timeout: OTEL_EXPORTER_OTLP_METRICS_TIMEOUT,
    compression: OTEL_EXPORTER_OTLP_METRICS_COMPRESSION,
    insecure: OTEL_EXPORTER_OTLP_METRICS_INSECURE,
    certificate: OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE,
    client_certificate: OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE,
    client_key: OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY,
    path: "/v1/metrics",
};

/// Our own diagnostics on stderr: `none`/`off`, `error`/`fatal`, `warn`,
/// `info` (default), `debug`, `trace`, `all`.
pub(crate) const OTEL_LOG_LEVEL: &str = "OTEL_LOG_LEVEL";

/// Ours: `traced` sends spans through our own span pipeline (see
/// [`Pipeline::Traced`](crate::Pipeline::Traced)); `sdk` through the
/// OpenTelemetry SDK's provider and processors. Unset or empty: `sdk`.
pub(crate) const TRACED_PIPELINE: &str = "TRACED_PIPELINE";

/// Ours: which `#[traced]` spans start, in `RUST_LOG`'s directive syntax
/// (`info,my_crate::db=debug,noisy_dep=off`; see [`Filter`](crate::Filter)).
/// Unset: every span at `info` and above (all of them unless a `level` is
/// given). With the feature `tracing`, the same directives filter `tracing`
/// spans and events too, under `RUST_LOG`.
pub(crate) const TRACED_FILTER: &str = crate::filter::TRACED_FILTER;

/// Ours: tail sampling's rules, comma-separated: `errors`,
/// `slower_than=<duration>` (`250ms`, `2s`), `ratio=<0.0 to 1.0>`,
/// `attribute=<key>=<value>`. A trace is kept when any rule keeps it.
/// Unset: no tail sampling (no hold installed, every sampled span
/// exported as it ends).
pub(crate) const TRACED_TAIL_SAMPLING: &str = "TRACED_TAIL_SAMPLING";

/// Ours: `true` turns every warning about an invalid value into the
/// [`InitError`] that stops `init` (as `Builder::strict(true)` does).
pub(crate) const TRACED_CONFIG_STRICT: &str = "TRACED_CONFIG_STRICT";
/// A timeout of `0` means no limit; this long stands for it (the clients
/// take a `Duration`, and one this long cannot overflow an `Instant`).
pub(crate) const NO_LIMIT: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// What to do with a value that cannot be used: by default (as the SDK
/// configuration specification asks) a warning on stderr and the default
/// instead; strict, the [`InitError`].
#[derive(Debug, Default)]
pub(crate) struct Diag {
    pub(crate) strict: bool,
    warnings: std::cell::RefCell<Vec<String>>,
}

impl Diag {
    pub(crate) fn new(strict: bool) -> Diag {
        Diag {
            strict,
            warnings: Default::default(),
        }
    }

    /// `result`, or when it is an error and not strict, `fallback()`
    /// with a warning saying `instead` is used.
    pub(crate) fn soft<T>(
        &self,
        result: Result<T, InitError>,
        fallback: impl FnOnce() -> T,
        instead: &str,
    ) -> Result<T, InitError> {
        match result {
            Ok(v) => Ok(v),
            Err(e) if self.strict => Err(e),
            Err(e) => {
                // A generic variable is read once per signal (traces,
                // logs): the same sentence is said once.
                let warning = format!("{e}; using {instead} instead");
                let mut warnings = self.warnings.borrow_mut();
                if !warnings.contains(&warning) {
                    warnings.push(warning);
                }
                Ok(fallback())
            }
        }
    }

    /// `soft` for an optional value: the default is "unset".
    pub(crate) fn unset<T>(
        &self,
        result: Result<Option<T>, InitError>,
    ) -> Result<Option<T>, InitError> {
        self.soft(result, || None, "the default")
    }

    pub(crate) fn into_warnings(self) -> Vec<String> {
        self.warnings.into_inner()
    }
}

/// Reads variables: the process environment, or a map in tests.
pub(crate) type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

pub(crate) fn env_lookup(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(value) => Some(value),
        Err(std::env::VarError::NotPresent) => None,
        // Not UTF-8: handed on so that parsing reports it by name.
        Err(std::env::VarError::NotUnicode(raw)) => Some(raw.to_string_lossy().into_owned()),
    }
}

/// A variable's value, trimmed; an empty value counts as unset, as the
/// specification asks.
pub(crate) fn get(lookup: Lookup, name: &str) -> Option<String> {
    lookup(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

pub(crate) fn parse_bool(lookup: Lookup, name: &str) -> Result<Option<bool>, InitError> {
    match get(lookup, name) {
        None => Ok(None),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(v) => Err(InitError::new(name, &v, "`true` or `false`")),
    }
}

pub(crate) fn parse_number<T: std::str::FromStr>(
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

/// Milliseconds; `0` means no limit ([`NO_LIMIT`]) for the timeouts.
pub(crate) fn parse_millis(lookup: Lookup, name: &str) -> Result<Option<Duration>, InitError> {
    Ok(
        parse_number::<u64>(lookup, name, "a whole number of milliseconds")?.map(|ms| {
            if ms == 0 && name.ends_with("TIMEOUT") {
                NO_LIMIT
            } else {
                Duration::from_millis(ms)
            }
        }),
    )
}

/// `key=value` pairs separated by commas, each side percent-decoded (W3C
/// Baggage format, as `OTEL_RESOURCE_ATTRIBUTES` and `_HEADERS` use).
pub(crate) fn parse_pairs(name: &str, value: &str) -> Result<Vec<(String, String)>, InitError> {
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
                // A header entry may be a bare token: never echoed (#25).
                match name.ends_with("_HEADERS") {
                    true => format!("{expected} (an entry has no `=`)"),
                    false => format!("{expected} (`{}` has no `=`)", entry.trim()),
                },
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
                        match name.ends_with("_HEADERS") {
                            true => format!("{expected} (an entry does not decode to UTF-8)"),
                            false => format!("{expected} (`{s}` does not decode to UTF-8)"),
                        },
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

pub(crate) fn positive(lookup: Lookup, name: &str) -> Result<Option<usize>, InitError> {
    match parse_number::<usize>(lookup, name, "a whole number greater than 0")? {
        Some(0) => Err(InitError::new(name, "0", "a whole number greater than 0")),
        other => Ok(other),
    }
}
