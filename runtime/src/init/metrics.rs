//! The metrics side of `init` (#29): the SDK's meter provider over the
//! configured exporters, installed for `#[traced]` functions and the
//! integrations, and the builder's metrics settings.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::{
    Instrument, PeriodicReader, SdkMeterProvider, Stream, Temporality,
};

use super::config::{Config, Exporter, MetricsTemporality};
use super::error::InitError;
use super::{Builder, OtlpRuntime};
use crate::export::console_metrics::ConsoleMetricExporter;

impl Builder {
    /// Where metrics go, instead of `OTEL_METRICS_EXPORTER`; call again to
    /// add another. Unset, metrics go over OTLP when traces do.
    pub fn metrics_exporter(mut self, exporter: Exporter) -> Self {
        let list = self.code.metrics_exporters.get_or_insert_with(Vec::new);
        if !list.contains(&exporter) {
            list.push(exporter);
        }
        self
    }

    /// No metrics at all, whatever `OTEL_METRICS_EXPORTER` says: no meter
    /// provider is installed, and `#[traced]` calls read no clock for one.
    pub fn no_metrics(mut self) -> Self {
        self.code.metrics_exporters = Some(Vec::new());
        self
    }

    /// The time between two metrics exports, instead of
    /// `OTEL_METRIC_EXPORT_INTERVAL` (default 60 s).
    pub fn metric_export_interval(mut self, interval: Duration) -> Self {
        self.code.metrics_interval = Some(interval);
        self
    }

    /// Cumulative or delta sums and histograms, instead of
    /// `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`.
    pub fn metrics_temporality(mut self, temporality: MetricsTemporality) -> Self {
        self.code.metrics_temporality = Some(temporality);
        self
    }

    /// The most series one instrument aggregates, instead of
    /// `TRACED_METRICS_CARDINALITY_LIMIT` (default 2000, the SDK's): past
    /// it, measurements are counted in the series
    /// `otel.metric.overflow=true`, so totals stay right while memory
    /// stays bounded.
    pub fn metrics_cardinality_limit(mut self, limit: usize) -> Self {
        self.code.metrics_cardinality_limit = Some(limit.max(1));
        self
    }
}

impl From<MetricsTemporality> for Temporality {
    fn from(temporality: MetricsTemporality) -> Self {
        match temporality {
            MetricsTemporality::Cumulative => Temporality::Cumulative,
            MetricsTemporality::Delta => Temporality::Delta,
            MetricsTemporality::LowMemory => Temporality::LowMemory,
        }
    }
}

/// The meter provider for `config.metrics`, `None` when metrics go
/// nowhere. OTLP shares the traces' tokio runtime (`runtime`).
pub(super) fn build(
    config: &Config,
    resource: &Resource,
    runtime: &mut Option<OtlpRuntime>,
) -> Result<Option<SdkMeterProvider>, InitError> {
    let metrics = &config.metrics;
    if metrics.exporters.is_empty() {
        return Ok(None);
    }
    let mut builder = SdkMeterProvider::builder().with_resource(resource.clone());
    if let Some(limit) = metrics.cardinality_limit {
        builder = builder.with_view(move |_: &Instrument| {
            Stream::builder().with_cardinality_limit(limit).build().ok()
        });
    }
    for exporter in &metrics.exporters {
        match exporter {
            Exporter::Console => {
                let reader = PeriodicReader::builder(ConsoleMetricExporter)
                    .with_interval(metrics.interval)
                    .build();
                builder = builder.with_reader(reader);
            }
            #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
            Exporter::Otlp => {
                let same_collector = config.exporters.contains(&Exporter::Otlp)
                    && authority(&config.otlp.endpoint) == authority(&metrics.otlp.endpoint);
                builder = super::otlp::add_otlp_metrics(
                    builder,
                    &metrics.otlp,
                    metrics.temporality.into(),
                    metrics.interval,
                    same_collector,
                    runtime,
                )?;
            }
            #[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
            Exporter::Otlp => {
                let _ = runtime;
                return Err(InitError::new(
                    super::env::OTEL_METRICS_EXPORTER,
                    "otlp",
                    "`console` or `none`: this build of `traced` has no OTLP exporter (turn on its feature `otlp-grpc` or `otlp-http`)",
                ));
            }
        }
    }
    Ok(Some(builder.build()))
}

/// The host and port of an endpoint URL: whether spans and metrics go to
/// the same collector.
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
fn authority(endpoint: &str) -> &str {
    let rest = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest)
}

/// Installs `provider` for `#[traced]` functions and the integrations, and
/// as OpenTelemetry's global meter provider.
pub(super) fn install(provider: &SdkMeterProvider) -> crate::metrics::MeterTicket {
    opentelemetry::global::set_meter_provider(provider.clone());
    crate::metrics::install(Arc::new(provider.clone()))
}
