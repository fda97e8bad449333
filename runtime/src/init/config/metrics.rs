//! The metrics section (#29): where metrics go, how often, with which
//! temporality and cardinality limit.

use super::*;

/// How an exported sum or histogram counts: from the start, or since the
/// last export (`OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`,
/// [`Builder::metrics_temporality`](crate::Builder::metrics_temporality)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MetricsTemporality {
    /// Every export carries the totals since the process started
    /// (`cumulative`, the default: what Prometheus-style backends want).
    #[default]
    Cumulative,
    /// Every export carries what happened since the previous one (`delta`).
    Delta,
    /// Delta for counters and histograms, cumulative for up-down
    /// counters (`lowmemory`).
    LowMemory,
}

/// The metrics pipeline `init` builds.
#[derive(Debug)]
pub(crate) struct MetricsConfig {
    /// Where metrics go; empty: no meter provider is installed.
    pub exporters: Vec<Exporter>,
    #[cfg_attr(
        not(any(feature = "otlp-grpc", feature = "otlp-http")),
        allow(dead_code)
    )]
    pub otlp: OtlpConfig,
    pub interval: Duration,
    /// What the OTLP exporter asks for (the console's is always delta).
    #[cfg_attr(
        not(any(feature = "otlp-grpc", feature = "otlp-http")),
        allow(dead_code)
    )]
    pub temporality: MetricsTemporality,
    pub cardinality_limit: Option<usize>,
}

/// The default time between exports (the specification's).
const INTERVAL: Duration = Duration::from_secs(60);
/// The default time an export may take (the specification's).
const TIMEOUT: Duration = Duration::from_secs(30);

/// The metrics section: code first, then the variables. Unset, metrics go
/// over OTLP when traces do (to the same collector), and nowhere
/// otherwise: a console exporter printing histograms every minute would
/// only bury the traces on a developer's terminal.
pub(crate) fn metrics_config(
    d: &Diag,
    lookup: Lookup,
    code: &Overrides,
    traces: &[Exporter],
) -> Result<MetricsConfig, InitError> {
    let exporters = match (&code.metrics_exporters, get(lookup, OTEL_METRICS_EXPORTER)) {
        (Some(list), _) => list.clone(),
        (None, Some(v)) => parse_exporters(d, OTEL_METRICS_EXPORTER, &v)?,
        (None, None) if traces.contains(&Exporter::Otlp) => vec![Exporter::Otlp],
        (None, None) => Vec::new(),
    };
    let mut otlp = otlp_config(d, lookup, &METRICS, &code.otlp)?;
    let interval = match code.metrics_interval {
        Some(interval) => interval,
        None => d
            .unset(parse_millis(lookup, OTEL_METRIC_EXPORT_INTERVAL))?
            .filter(|i| !i.is_zero())
            .unwrap_or(INTERVAL),
    };
    let timeout = d
        .unset(parse_millis(lookup, OTEL_METRIC_EXPORT_TIMEOUT))?
        .filter(|t| !t.is_zero())
        .unwrap_or(TIMEOUT);
    // The export timeout bounds each export, retries included.
    otlp.timeout = otlp.timeout.min(timeout);
    let temporality = match code.metrics_temporality {
        Some(t) => t,
        None => match get(lookup, OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE) {
            None => MetricsTemporality::Cumulative,
            Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                "cumulative" | "" => MetricsTemporality::Cumulative,
                "delta" => MetricsTemporality::Delta,
                "lowmemory" => MetricsTemporality::LowMemory,
                _ => d.soft(
                    Err(InitError::new(
                        OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE,
                        &v,
                        "`cumulative`, `delta` or `lowmemory`",
                    )),
                    || MetricsTemporality::Cumulative,
                    "`cumulative`",
                )?,
            },
        },
    };
    let cardinality_limit = match code.metrics_cardinality_limit {
        Some(limit) => Some(limit),
        None => d.unset(positive(lookup, TRACED_METRICS_CARDINALITY_LIMIT))?,
    };
    Ok(MetricsConfig {
        exporters,
        otlp,
        interval,
        temporality,
        cardinality_limit,
    })
}
