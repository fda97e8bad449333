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

/// How OTLP requests are compressed
/// ([`Builder::compression`](crate::Builder::compression),
/// `OTEL_EXPORTER_OTLP_COMPRESSION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// Sent as they are (the default).
    #[default]
    None,
    /// gzip: a fraction of the bytes, for a little CPU; what hosted
    /// backends recommend.
    Gzip,
}

/// Which span pipeline [`init`](crate::init) installs
/// ([`Builder::pipeline`](crate::Builder::pipeline), `TRACED_PIPELINE`).
///
/// Unless one is asked for, [`init`](crate::init) installs
/// [`Pipeline::Sdk`] (see [`Pipeline::default_for`]).
pub use crate::span::Pipeline;

impl Pipeline {
    /// The pipeline [`init`](crate::init) installs for `exporters` when
    /// none is asked for: the SDK's. Ours is not the default while it
    /// misses its targets against the SDK's batch processor under glibc's
    /// malloc (#24, docs/performance.md); `TRACED_PIPELINE=traced` asks
    /// for it. The console keeps the SDK's in any case: it is for a person
    /// watching a terminal, who wants each trace as its root ends (the
    /// SDK's simple processor, on the ending thread, so that a hard exit
    /// loses nothing printed so far), not in batches.
    pub fn default_for(exporters: &[Exporter]) -> Pipeline {
        if exporters.contains(&Exporter::Console) {
            Pipeline::Sdk
        } else {
            Pipeline::BY_DEFAULT
        }
    }

    /// The `TRACED_PIPELINE` value that names this pipeline, quoted as
    /// warnings quote values.
    fn quoted(self) -> &'static str {
        match self {
            Pipeline::Sdk => "`sdk`",
            Pipeline::Traced => "`traced`",
        }
    }
}

mod otlp;
mod signals;
pub(crate) use otlp::{OtlpConfig, OtlpOverrides, otlp_config};
// Read by `init/tls.rs`, which only a build with TLS and OTLP has.
#[cfg_attr(
    not(all(feature = "tls", any(feature = "otlp-grpc", feature = "otlp-http"))),
    allow(unused_imports)
)]
pub(crate) use otlp::TlsFiles;
use signals::exception_signal;

mod metrics;
pub use metrics::MetricsTemporality;
pub(crate) use metrics::{MetricsConfig, metrics_config};
#[cfg(feature = "tracing")]
use signals::tracing_config;

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
    /// `sampler` is the default `parentbased_always_on` (nothing set, or
    /// that name): our pipeline decides it in place.
    pub sampler_is_default: bool,
    pub propagators: Vec<&'static str>,
    pub batch: BatchSettings,
    pub limits: SpanLimits,
    pub value_length_limit: Option<usize>,
    /// `TRACED_PIPELINE`, `Builder::pipeline`.
    pub pipeline: Pipeline,
    /// `TRACED_FILTER`, `Builder::filter`: the directives as written
    /// (trimmed) and parsed; `None` when neither is set.
    pub span_filter: Option<SpanFilter>,
    /// `TRACED_TAIL_SAMPLING`, `Builder::tail_sampling[_fn]`: the rules;
    /// `None` when neither is set (or no rule is given).
    pub tail: Option<Vec<crate::TailRule>>,
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
    /// The metrics pipeline (#29).
    pub metrics: MetricsConfig,
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

/// A span filter from `TRACED_FILTER` or `Builder::filter`: its directives
/// (blank ones dropped, each trimmed) and what they mean.
#[derive(Debug, Default, Clone)]
pub(crate) struct SpanFilter {
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    pub directives: String,
    pub filter: crate::Filter,
}

/// `text` as span filter directives; the error names `variable`.
fn span_filter(variable: &str, text: &str) -> Result<SpanFilter, InitError> {
    match crate::Filter::parse(text) {
        Ok(filter) => Ok(SpanFilter {
            directives: crate::filter::normalize(text),
            filter,
        }),
        Err(err) => Err(InitError::new(
            variable,
            text,
            format!("filter directives such as `info,my_crate::db=debug,noisy_dep=off` ({err})"),
        )),
    }
}

/// The `OTEL_BSP_*` settings.
pub(crate) use crate::span::build::Batch as BatchSettings;

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
                let endpoint_set = code.otlp.endpoint.is_some()
                    || get(lookup, OTEL_EXPORTER_OTLP_ENDPOINT).is_some()
                    || get(lookup, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT).is_some();
                match &code.fallback_exporters {
                    Some(list) if !endpoint_set => list.clone(),
                    _ => vec![Exporter::Otlp],
                }
            }
        };

        let mut otlp = otlp_config(&d, lookup, &TRACES, &code.otlp)?;
        let (sampler, sampler_is_default) = match &code.sampler {
            Some(sampler) => (sampler.clone(), false),
            None => match sampler(&d, lookup)? {
                Some(sampler) => (sampler, false),
                None => (default_sampler(), true),
            },
        };
        let tail = tail_sampling(&d, lookup, code)?;
        // Tail sampling decides at the end: every span must record. A head
        // sampler that could drop spans is replaced by the default.
        let (sampler, sampler_is_default) = match (&tail, sampler_is_default, &sampler) {
            (Some(_), false, s) if !matches!(s, Sampler::AlwaysOn) => {
                let (variable, value) = match &code.sampler {
                    Some(s) => ("Builder::sampler", format!("{s:?}")),
                    None => (
                        OTEL_TRACES_SAMPLER,
                        get(lookup, OTEL_TRACES_SAMPLER).unwrap_or_default(),
                    ),
                };
                d.soft(
                    Err(InitError::new(
                        variable,
                        &value,
                        "no head sampler with TRACED_TAIL_SAMPLING or Builder::tail_sampling, which decide when the trace ended (put its share in the rules as `ratio=..`)",
                    )),
                    || (),
                    "`parentbased_always_on`",
                )?;
                (default_sampler(), true)
            }
            _ => (sampler, sampler_is_default),
        };
        let propagators = propagators(&d, lookup)?;
        let mut batch = BatchSettings {
            schedule_delay: d.unset(parse_millis(lookup, OTEL_BSP_SCHEDULE_DELAY))?,
            export_timeout: d.unset(parse_millis(lookup, OTEL_BSP_EXPORT_TIMEOUT))?,
            max_queue_size: d.unset(positive(lookup, OTEL_BSP_MAX_QUEUE_SIZE))?,
            max_export_batch_size: d.unset(positive(lookup, OTEL_BSP_MAX_EXPORT_BATCH_SIZE))?,
            max_concurrent_exports: d.unset(positive(lookup, OTEL_BSP_MAX_CONCURRENT_EXPORTS))?,
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
        let by_default = Pipeline::default_for(&exporters);
        let pipeline = match code.pipeline {
            Some(pipeline) => pipeline,
            None => match get(lookup, TRACED_PIPELINE) {
                None => by_default,
                Some(v) => match v.to_ascii_lowercase().as_str() {
                    "" => by_default,
                    "sdk" => Pipeline::Sdk,
                    "traced" => Pipeline::Traced,
                    _ => d.soft(
                        Err(InitError::new(TRACED_PIPELINE, &v, "`sdk` or `traced`")),
                        || by_default,
                        by_default.quoted(),
                    )?,
                },
            },
        };
        // The hold runs as an SDK span processor; our pipeline has none.
        if tail.is_some() && pipeline == Pipeline::Traced {
            let variable = match code.pipeline {
                Some(_) => "Builder::pipeline",
                None => TRACED_PIPELINE,
            };
            return Err(InitError::new(
                variable,
                "traced",
                "`sdk` when tail sampling is on (TRACED_TAIL_SAMPLING or Builder::tail_sampling): our pipeline cannot hold traces yet; set TRACED_PIPELINE=sdk or leave it unset",
            ));
        }
        let span_filter = match (&code.span_filter, get(lookup, TRACED_FILTER)) {
            (Some(text), _) => Some(d.soft(
                span_filter("Builder::filter", text),
                Default::default,
                "every span at `info` and above",
            )?),
            (None, Some(text)) => Some(d.soft(
                span_filter(TRACED_FILTER, &text),
                Default::default,
                "every span at `info` and above",
            )?),
            (None, None) => None,
        };
        #[cfg(feature = "tracing")]
        let tracing = tracing_config(&d, lookup, code, &exporters, span_filter.as_ref())?;
        let metrics = metrics_config(&d, lookup, code, &exporters)?;

        Ok(Config {
            disabled,
            resource,
            service_name,
            exporters,
            otlp,
            sampler,
            sampler_is_default,
            propagators,
            batch,
            limits,
            value_length_limit,
            pipeline,
            span_filter,
            tail,
            warnings: d.into_warnings(),
            strict,
            log_level,
            service_version: code.service_version.clone(),
            exception_signal,
            #[cfg(feature = "tracing")]
            tracing,
            metrics,
        })
    }
}

/// Tail sampling's rules: the builder's, or `TRACED_TAIL_SAMPLING`'s.
/// Lenient, a value with any bad rule is ignored as a whole (every trace
/// is exported, as without it), rather than keeping fewer traces than
/// asked for.
fn tail_sampling(
    d: &Diag,
    lookup: Lookup,
    code: &Overrides,
) -> Result<Option<Vec<crate::TailRule>>, InitError> {
    use crate::tail::parse;
    let rules = match (&code.tail, get(lookup, TRACED_TAIL_SAMPLING)) {
        (Some(rules), _) => Some(rules.clone()),
        (None, Some(text)) => d.soft(
            parse::parse(&text).map(Some).map_err(|errors| {
                InitError::new(
                    TRACED_TAIL_SAMPLING,
                    &text,
                    format!("{} ({})", parse::EXPECTED, errors.join("; ")),
                )
            }),
            || None,
            "no tail sampling (every trace exported)",
        )?,
        (None, None) => None,
    };
    Ok(rules.filter(|rules| !rules.is_empty()))
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

/// The default sampler, `parentbased_always_on`.
fn default_sampler() -> Sampler {
    Sampler::ParentBased(Box::new(Sampler::AlwaysOn))
}

/// The sampler `OTEL_TRACES_SAMPLER` names, or `None` for the default
/// (`parentbased_always_on`): unset, named, or an invalid name that a
/// lenient start replaced by the default.
fn sampler(d: &Diag, lookup: Lookup) -> Result<Option<Sampler>, InitError> {
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
        return Ok(None);
    };
    let default = || None;
    Ok(match name.to_ascii_lowercase().as_str() {
        "always_on" => Some(Sampler::AlwaysOn),
        "always_off" => Some(Sampler::AlwaysOff),
        "traceidratio" => Some(Sampler::TraceIdRatioBased(ratio()?)),
        "parentbased_always_on" => None,
        "parentbased_always_off" => Some(Sampler::ParentBased(Box::new(Sampler::AlwaysOff))),
        "parentbased_traceidratio" => Some(Sampler::ParentBased(Box::new(
            Sampler::TraceIdRatioBased(ratio()?),
        ))),
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
    /// The OTLP exporter's settings, for traces and logs alike.
    pub(crate) otlp: OtlpOverrides,
    pub(crate) service_version: Option<String>,
    /// `Builder::strict`: wins over `TRACED_CONFIG_STRICT`.
    pub(crate) strict: Option<bool>,
    /// `Builder::pipeline`: wins over `TRACED_PIPELINE`.
    pub(crate) pipeline: Option<Pipeline>,
    /// `Builder::filter`: wins over `TRACED_FILTER`.
    pub(crate) span_filter: Option<String>,
    /// `Builder::tail_sampling[_fn]`: wins over `TRACED_TAIL_SAMPLING`.
    pub(crate) tail: Option<Vec<crate::TailRule>>,
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
    /// `Builder::metrics_exporter`/`no_metrics`: wins over `OTEL_METRICS_EXPORTER`.
    pub(crate) metrics_exporters: Option<Vec<Exporter>>,
    /// `Builder::metric_export_interval`: wins over `OTEL_METRIC_EXPORT_INTERVAL`.
    pub(crate) metrics_interval: Option<Duration>,
    /// `Builder::metrics_temporality`.
    pub(crate) metrics_temporality: Option<MetricsTemporality>,
    /// `Builder::metrics_cardinality_limit`.
    pub(crate) metrics_cardinality_limit: Option<usize>,
}
