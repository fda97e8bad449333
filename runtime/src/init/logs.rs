//! The logs side of `init` (feature `tracing`): the logger provider over
//! the configured exporters, and the global `tracing` subscriber.

use opentelemetry_sdk::Resource;
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
use opentelemetry_sdk::logs::BatchLogProcessor;
use opentelemetry_sdk::logs::{SdkLoggerProvider, SimpleLogProcessor};

use super::config::{Config, Exporter};
use super::error::InitError;
use crate::export::console::logs::ConsoleLogExporter;

/// The logger provider for `config.tracing.log_exporters`, `None` when
/// logs go nowhere. OTLP shares the traces' tokio runtime (`runtime`).
pub(super) fn build(
    config: &Config,
    resource: &Resource,
    runtime: &mut Option<super::OtlpRuntime>,
) -> Result<Option<SdkLoggerProvider>, InitError> {
    let exporters = &config.tracing.log_exporters;
    if exporters.is_empty() {
        return Ok(None);
    }
    let mut builder = SdkLoggerProvider::builder().with_resource(resource.clone());
    for exporter in exporters {
        match exporter {
            // Printed on the emitting thread, as the console spans are.
            Exporter::Console => {
                builder = builder.with_log_processor(SimpleLogProcessor::new(ConsoleLogExporter));
            }
            #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
            Exporter::Otlp => {
                let exporter = super::otlp::build_otlp_logs(&config.tracing.logs_otlp, runtime)?;
                builder = builder.with_log_processor(BatchLogProcessor::builder(exporter).build());
            }
            #[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
            Exporter::Otlp => {
                let _ = runtime;
                return Err(InitError::new(
                    super::env::OTEL_LOGS_EXPORTER,
                    "otlp",
                    "`console` or `none`: this build of `traced` has no OTLP exporter (turn on its feature `otlp-grpc` or `otlp-http`)",
                ));
            }
        }
    }
    Ok(Some(builder.build()))
}

/// Installs the global `tracing` subscriber unless the builder said not
/// to; one set by someone else is a warning, or strict the error.
pub(super) fn install_subscriber(config: &Config) -> Result<(), InitError> {
    let tracing = &config.tracing;
    if !tracing.install_subscriber {
        return Ok(());
    }
    let strict = config.strict;
    for problem in crate::integrations::tracing::install(&tracing.filter, tracing.stdout) {
        let error = InitError::new(problem.what, "set by another crate", problem.expected);
        if strict {
            return Err(error);
        }
        if crate::export::reported::log_enabled(crate::export::reported::LEVEL_WARN) {
            eprintln!("traced: {error}; `traced` goes on without it");
        }
    }
    Ok(())
}
