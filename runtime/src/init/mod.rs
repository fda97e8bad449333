//! Configuration of the OpenTelemetry SDK from the standard `OTEL_*`
//! environment variables, and the guard that flushes it.
//!
//! Every variable is read here, once, validated, and handed to the SDK
//! explicitly: the SDK and the OTLP exporter also read some of these
//! variables, but fall back silently on a bad value (the SDK turns an unknown
//! sampler into `parentbased_always_on`, ignores an unparsable limit, does not
//! percent-decode `OTEL_RESOURCE_ATTRIBUTES`, and lets `service.name` from it
//! win over `OTEL_SERVICE_NAME`). A value set in code wins over its variable.

pub(crate) mod config;
pub(crate) mod env;
mod error;
#[cfg(feature = "tracing")]
mod logs;
mod metrics;
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
mod otlp;
pub(crate) mod propagators;
mod resource;
#[cfg(feature = "signal")]
mod signal;
#[cfg(test)]
mod tests;
// Only an OTLP exporter has a use for TLS.
#[cfg(all(feature = "tls", any(feature = "otlp-grpc", feature = "otlp-http")))]
mod tls;

use std::fmt;

use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
use opentelemetry::{KeyValue, Value, global};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::BaggagePropagator;
use opentelemetry_sdk::resource::TelemetryResourceDetector;
use opentelemetry_sdk::trace::Sampler;

pub use config::{Compression, Exporter, MetricsTemporality, OtlpProtocol, Pipeline};
pub use error::InitError;
#[cfg(feature = "signal")]
pub use signal::shutdown_signal;

use crate::export::console::ConsoleExporter;
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
use crate::export::reported::{Counted, Reported, Tally};
use crate::propagation::TraceContext;
use crate::span::backend::Backend;
use crate::span::build::{BackendBuilder, Settings};
use crate::span::provider::{self, Installed, Ticket};
use config::{Config, Overrides};
use env::env_lookup;
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
use otlp::build_otlp;
use propagators::{B3, B3Encoding, Jaeger};

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
///
/// A hosted backend, its API key from a secrets manager rather than the
/// environment:
///
/// ```no_run
/// # use traced_runtime as traced;
/// # fn api_key_from_vault() -> String { String::new() }
/// let _telemetry = traced::builder()
///     .service_name("checkout")
///     .endpoint("https://api.honeycomb.io")
///     .protocol(traced::OtlpProtocol::HttpProtobuf)
///     .header("x-honeycomb-team", api_key_from_vault())
///     .compression(traced::Compression::Gzip)
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

    /// The collector's base URL, as `OTEL_EXPORTER_OTLP_ENDPOINT` gives it
    /// (`https://api.honeycomb.io`, `http://collector:4317`); wins over it
    /// and over `OTEL_EXPORTER_OTLP_[TRACES_|LOGS_]ENDPOINT`. Over HTTP,
    /// `/v1/traces` (and `/v1/logs`) is appended; a URL that already ends
    /// with one of them is taken as its base. Setting it means OTLP even
    /// with a [`fallback_exporter`](Builder::fallback_exporter).
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.code.otlp.endpoint = Some(url.into());
        self
    }

    /// Adds a header sent with every OTLP export (an API key read from a
    /// secrets manager, say); wins over the header of the same name
    /// (whatever its case) in `OTEL_EXPORTER_OTLP_[TRACES_|LOGS_]HEADERS`,
    /// whose other headers are still sent. Calling it again with the same
    /// name replaces the value. The value is never printed (`InitError`
    /// and the builder's `Debug` leave it out).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        self.code
            .otlp
            .headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case(&name));
        self.code.otlp.headers.push((name, value.into()));
        self
    }

    /// The OTLP transport; wins over
    /// `OTEL_EXPORTER_OTLP_[TRACES_|LOGS_]PROTOCOL`. Unset, gRPC, or
    /// `http/protobuf` for an endpoint on port 4318 (see [`init`]).
    pub fn protocol(mut self, protocol: OtlpProtocol) -> Self {
        self.code.otlp.protocol = Some(protocol);
        self
    }

    /// How OTLP requests are compressed; wins over
    /// `OTEL_EXPORTER_OTLP_[TRACES_|LOGS_]COMPRESSION`.
    pub fn compression(mut self, compression: Compression) -> Self {
        self.code.otlp.compression = Some(compression);
        self
    }

    /// How long one OTLP export may take, retries included
    /// ([`Duration::ZERO`](std::time::Duration::ZERO): no limit); wins over
    /// `OTEL_EXPORTER_OTLP_[TRACES_|LOGS_]TIMEOUT`.
    pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
        self.code.otlp.timeout = Some(timeout);
        self
    }

    /// A PEM file of CA certificates to trust for an `https://` collector,
    /// besides the bundled webpki roots and the OS store; wins over
    /// `OTEL_EXPORTER_OTLP_[TRACES_]CERTIFICATE`. Read when [`Builder::init`]
    /// runs (feature `tls`).
    pub fn certificate(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.code.otlp.tls.certificate = Some(("Builder::certificate", path.into()));
        self
    }

    /// A PEM file with the client certificate chain for mTLS; wins over
    /// `OTEL_EXPORTER_OTLP_[TRACES_]CLIENT_CERTIFICATE`. Needs
    /// [`Builder::client_key`] too (feature `tls`).
    pub fn client_certificate(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.code.otlp.tls.client_certificate = Some(("Builder::client_certificate", path.into()));
        self
    }

    /// A PEM file with the client certificate's private key for mTLS; wins
    /// over `OTEL_EXPORTER_OTLP_[TRACES_]CLIENT_KEY` (feature `tls`).
    pub fn client_key(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.code.otlp.tls.client_key = Some(("Builder::client_key", path.into()));
        self
    }

    /// The `service.version` resource attribute, usually
    /// `env!("CARGO_PKG_VERSION")` of the application;
    /// `service.version` in `OTEL_RESOURCE_ATTRIBUTES` wins.
    pub fn service_version(mut self, version: impl Into<String>) -> Self {
        self.code.service_version = Some(version.into());
        self
    }

    /// `true`: a value that is not valid stops [`Builder::init`] with an
    /// [`InitError`] instead of a warning on stderr and the default; wins
    /// over `TRACED_CONFIG_STRICT`.
    pub fn strict(mut self, strict: bool) -> Self {
        self.code.strict = Some(strict);
        self
    }

    /// `false`: `init` installs no global `tracing` subscriber (and no
    /// `log` logger); compose [`tracing_layer`](crate::tracing_layer) into
    /// your own instead (feature `tracing`).
    #[cfg(feature = "tracing")]
    pub fn tracing_subscriber(mut self, install: bool) -> Self {
        self.code.tracing_subscriber = Some(install);
        self
    }

    /// Which `#[traced]` spans start, in `RUST_LOG`'s directive syntax
    /// (`info,my_crate::db=debug,noisy_dep=off`, see [`Filter`](crate::Filter));
    /// wins over `TRACED_FILTER`. With the feature `tracing` the same
    /// directives filter `tracing` spans and events (under `RUST_LOG`).
    pub fn filter(mut self, directives: impl Into<String>) -> Self {
        self.code.span_filter = Some(directives.into());
        self
    }

    /// `tracing` filter directives (`EnvFilter` syntax) added on top of
    /// [`DEFAULT_TRACING_FILTER`](crate::DEFAULT_TRACING_FILTER); wins over
    /// `RUST_LOG` (feature `tracing`).
    #[cfg(feature = "tracing")]
    pub fn tracing_filter(mut self, directives: impl Into<String>) -> Self {
        self.code.tracing_filter = Some(directives.into());
        self
    }

    /// Adds an exporter for log records; wins over `OTEL_LOGS_EXPORTER`
    /// (feature `tracing`).
    #[cfg(feature = "tracing")]
    pub fn logs_exporter(mut self, exporter: Exporter) -> Self {
        let list = self.code.log_exporters.get_or_insert_with(Vec::new);
        if !list.contains(&exporter) {
            list.push(exporter);
        }
        self
    }

    /// Sends log records nowhere, whatever `OTEL_LOGS_EXPORTER` says
    /// (feature `tracing`).
    #[cfg(feature = "tracing")]
    pub fn no_logs(mut self) -> Self {
        self.code.log_exporters = Some(Vec::new());
        self
    }

    /// `true`: each `tracing` event is also printed on stdout as a compact
    /// line ending with `trace_id=` and `span_id=`; wins over
    /// `TRACED_STDOUT_LOGS` (feature `tracing`).
    #[cfg(feature = "tracing")]
    pub fn stdout_logs(mut self, on: bool) -> Self {
        self.code.stdout_logs = Some(on);
        self
    }

    /// Tail sampling: the spans of each trace are held until its part in
    /// this process has ended, then exported whole when any of `rules`
    /// keeps it, or dropped whole; wins over `TRACED_TAIL_SAMPLING`.
    /// Calling it again adds rules. Every span records (a head sampler
    /// set with [`Builder::sampler`] or `OTEL_TRACES_SAMPLER` that could
    /// drop spans is replaced, with a warning); the SDK's pipeline only
    /// ([`Pipeline::Sdk`], the default). See docs/tail-sampling.md.
    ///
    /// ```no_run
    /// # use traced_runtime as traced;
    /// use std::time::Duration;
    /// use traced::TailRule;
    ///
    /// let _telemetry = traced::builder()
    ///     .tail_sampling([
    ///         TailRule::Errors,
    ///         TailRule::SlowerThan(Duration::from_millis(250)),
    ///         TailRule::Ratio(0.05),
    ///     ])
    ///     .init()?;
    /// # Ok::<(), traced::InitError>(())
    /// ```
    pub fn tail_sampling(mut self, rules: impl IntoIterator<Item = crate::TailRule>) -> Self {
        self.code.tail.get_or_insert_with(Vec::new).extend(rules);
        self
    }

    /// Tail sampling (see [`Builder::tail_sampling`]) with a rule of your
    /// own: `keep` is given every span of a trace's part in this process,
    /// once it has ended, and returns `true` to keep it. Adds to the
    /// other rules. It runs while other traces' spans wait: keep it quick,
    /// and start no spans in it.
    ///
    /// ```no_run
    /// # use traced_runtime as traced;
    /// let _telemetry = traced::builder()
    ///     .tail_sampling([traced::TailRule::Errors])
    ///     .tail_sampling_fn(|spans| spans.len() > 100)
    ///     .init()?;
    /// # Ok::<(), traced::InitError>(())
    /// ```
    pub fn tail_sampling_fn(
        self,
        keep: impl Fn(&[opentelemetry_sdk::trace::SpanData]) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.tail_sampling([crate::TailRule::custom(keep)])
    }

    /// Which span pipeline to install; wins over `TRACED_PIPELINE`.
    /// Without it, [`Pipeline::Sdk`] ([`Pipeline::default_for`]).
    pub fn pipeline(mut self, pipeline: Pipeline) -> Self {
        self.code.pipeline = Some(pipeline);
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
/// | `OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL` | `grpc` (`http/protobuf` for an endpoint on port 4318) | `grpc`, `http/protobuf`, `http/json`; the specification's default is `http/protobuf`, ours gRPC because the default endpoint, `localhost:4317`, is the gRPC port of collectors, Jaeger, Tempo and `traced-view` (and the Python and .NET SDKs default to gRPC too) |
/// | `OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT` | `http://localhost:4317` / `:4318/v1/traces` | the collector |
/// | `OTEL_EXPORTER_OTLP_[TRACES_]HEADERS` | | `key=value,..`, percent-encoded; `TRACES_` replaces the generic one |
/// | `OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT` | `10000` | export timeout, ms; `0`: no limit |
/// | `OTEL_EXPORTER_OTLP_[TRACES_]COMPRESSION` | `none` | `gzip` or `none` |
/// | `OTEL_EXPORTER_OTLP_[TRACES_]INSECURE` | `false` | `true`: `host:port` means `http://host:port`; `false`: `https://` (feature `tls`) |
/// | `OTEL_EXPORTER_OTLP_[TRACES_]CERTIFICATE` | | PEM CA bundle for `https://` (feature `tls`) |
/// | `OTEL_EXPORTER_OTLP_[TRACES_]CLIENT_CERTIFICATE`, `_CLIENT_KEY` | | PEM client certificate and key, mTLS (feature `tls`) |
/// | `OTEL_TRACES_SAMPLER` | `parentbased_always_on` | any sampler of the specification but the remote ones |
/// | `OTEL_TRACES_SAMPLER_ARG` | `1.0` | ratio for the `traceidratio` samplers |
/// | `OTEL_PROPAGATORS` | `tracecontext,baggage` | comma list of `tracecontext`, `baggage`, `b3`, `b3multi`, `jaeger`, `none` |
/// | `OTEL_BSP_SCHEDULE_DELAY`, `_EXPORT_TIMEOUT`, `_MAX_QUEUE_SIZE`, `_MAX_EXPORT_BATCH_SIZE` | SDK defaults | the batch processor |
/// | `OTEL_[SPAN_]ATTRIBUTE_COUNT_LIMIT`, `OTEL_SPAN_EVENT_COUNT_LIMIT`, `OTEL_SPAN_LINK_COUNT_LIMIT`, `OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT`, `OTEL_LINK_ATTRIBUTE_COUNT_LIMIT` | 128 | span limits |
/// | `OTEL_[SPAN_]ATTRIBUTE_VALUE_LENGTH_LIMIT` | none | string values are truncated to this many characters |
/// | `TRACED_FILTER` | every span at `info` and above | which `#[traced]` spans start, in `RUST_LOG`'s directive syntax (see [`Filter`](crate::Filter)); [`Builder::filter`] wins |
/// | `TRACED_TAIL_SAMPLING` | | tail sampling: comma list of `errors`, `slower_than=<duration>` (`250ms`, `2s`), `ratio=<0.0 to 1.0>`, `attribute=<key>=<value>`; each trace's spans are held until its part here ended, then exported whole when a rule keeps it ([`Builder::tail_sampling`] wins; docs/tail-sampling.md) |
/// | `TRACED_PIPELINE` | `sdk` | `sdk`: the OpenTelemetry SDK's provider and processors ([`Pipeline::Sdk`]); `traced`: our own span pipeline ([`Pipeline::Traced`]), not the default while it misses its targets against the SDK's (docs/performance.md); the same exporters either way |
/// | `TRACED_CONFIG_STRICT` | `false` | `true`: an invalid value is an [`InitError`] rather than a warning |
/// | `OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN` | | `logs`: exceptions are `exception` log records instead of span events; `logs/dup`: both (feature `tracing`) |
/// | `OTEL_METRICS_EXPORTER` | `otlp` when traces go over OTLP, otherwise none | comma list of `otlp`, `console`, `none` for the duration histograms (`docs/metrics.md`) |
/// | `OTEL_EXPORTER_OTLP_METRICS_*` | the generic `OTEL_EXPORTER_OTLP_*` | as the logs' below, with `/v1/metrics` |
/// | `OTEL_METRIC_EXPORT_INTERVAL`, `OTEL_METRIC_EXPORT_TIMEOUT` | 60000, 30000 | milliseconds between metrics exports, and per export |
/// | `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE` | `cumulative` | `cumulative`, `delta`, `lowmemory` |
/// | `TRACED_METRICS_CARDINALITY_LIMIT` | 2000 | series per instrument; the rest in `otel.metric.overflow=true` |
/// | `OTEL_LOGS_EXPORTER` | the traces exporters | comma list of `otlp`, `console`, `none` (feature `tracing`) |
/// | `OTEL_EXPORTER_OTLP_LOGS_*` | the generic `OTEL_EXPORTER_OTLP_*` | `_ENDPOINT` (`/v1/logs` is appended to the generic one for HTTP), `_PROTOCOL`, `_HEADERS`, `_TIMEOUT`, `_COMPRESSION`, `_INSECURE`, `_CERTIFICATE`, `_CLIENT_CERTIFICATE`, `_CLIENT_KEY` (feature `tracing`) |
/// | `RUST_LOG` | | `tracing` filter directives added on top of [`DEFAULT_TRACING_FILTER`](crate::DEFAULT_TRACING_FILTER) (feature `tracing`) |
/// | `TRACED_STDOUT_LOGS` | `none` | `compact`: each `tracing` event as a line on stdout with `trace_id`/`span_id` (feature `tracing`) |
///
/// Every OTLP setting can be given in code instead, where it wins over its
/// variables (for logs too): [`Builder::endpoint`], [`Builder::header`],
/// [`Builder::protocol`], [`Builder::compression`], [`Builder::timeout`],
/// [`Builder::certificate`], [`Builder::client_certificate`],
/// [`Builder::client_key`]; and [`Builder::service_name`] and
/// [`Builder::resource_attribute`] for the resource. `docs/recipes.md`
/// has both forms for common backends.
///
/// With no collector at the endpoint, the first failed export says so in
/// one line on stderr (start `traced-view`, or set
/// `OTEL_TRACES_EXPORTER=console`); later failures are counted in
/// [`dropped_spans`](crate::dropped_spans) and not repeated until an
/// export succeeds.
///
/// With the feature `tracing`, `init` also installs a global `tracing`
/// subscriber (see [`tracing_layer`](crate::tracing_layer)) and
/// `tracing-log`'s `log` logger; one that is already set is left alone and
/// reported like an invalid value (a warning, or strict the error). They
/// stay for the life of the process and follow the providers of later
/// `init`s, so the first `init` decides the filter and the stdout lines.
///
/// Enum values are case-insensitive. A value that is not valid is warned
/// about once on stderr (variable, value, what is accepted, what is used
/// instead) and its default applies, unless strict
/// ([`Builder::strict`], `TRACED_CONFIG_STRICT=true`). A certificate file
/// that is missing or not PEM always stops `init`.
///
/// Works from a plain `fn main` and inside tokio runtimes of either flavour:
/// the gRPC exporter runs on a small runtime of its own.
///
/// # Errors
///
/// An [`InitError`] that names the variable, its value and what is
/// accepted: strict, for any invalid value; otherwise for certificate files
/// and an exporter that cannot be built. Nothing is installed then.
pub fn init() -> Result<Telemetry, InitError> {
    Telemetry::install(Config::from_env()?)
}

/// Installed tracing; dropping it flushes every finished span and shuts the
/// provider down.
///
/// Dropping it takes out only what this guard installed: after a second
/// [`init`] (to reconfigure), dropping the first guard leaves the second's
/// provider and logger in place.
#[must_use = "dropping the guard shuts tracing down at once"]
pub struct Telemetry {
    /// What this guard installed (`OTEL_SDK_DISABLED` too), and the ticket
    /// of that install.
    installed: Option<Ticket>,
    /// The span backend, when tracing is on.
    backend: Option<Backend>,
    /// The log pipeline (feature `tracing`), when logs are on.
    #[cfg(feature = "tracing")]
    logs: Option<(
        crate::span::logger::LoggerTicket,
        opentelemetry_sdk::logs::SdkLoggerProvider,
    )>,
    /// The meter provider (#29), when metrics go somewhere, and the
    /// ticket of its install.
    metrics: Option<(
        crate::metrics::MeterTicket,
        opentelemetry_sdk::metrics::SdkMeterProvider,
    )>,
    /// Drives the gRPC exporter's connections.
    #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
    runtime: Option<OtlpRuntime>,
}

impl fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Telemetry")
            .field("enabled", &self.backend.is_some())
            .field("pipeline", &self.backend.as_ref().map(Backend::pipeline))
            .finish()
    }
}

impl Telemetry {
    fn install(config: Config) -> Result<Telemetry, InitError> {
        crate::export::reported::set_log_level(config.log_level);
        if crate::export::reported::log_enabled(crate::export::reported::LEVEL_WARN) {
            for warning in &config.warnings {
                eprintln!("traced: {warning}");
            }
        }
        crate::span::ensure_panic_hook();
        let mut list: Vec<Box<dyn TextMapPropagator + Send + Sync>> = Vec::new();
        for name in &config.propagators {
            match *name {
                "tracecontext" => list.push(Box::new(TraceContext::default())),
                "b3" => list.push(Box::new(B3::new(B3Encoding::Single))),
                "b3multi" => list.push(Box::new(B3::new(B3Encoding::Multiple))),
                "jaeger" => list.push(Box::new(Jaeger::new())),
                _ => list.push(Box::new(BaggagePropagator::new())),
            }
        }
        global::set_text_map_propagator(TextMapCompositePropagator::new(list));

        crate::span::set_exception_signal(config.exception_signal);
        if let Some(span_filter) = &config.span_filter {
            crate::filter::set_filter(Some(span_filter.filter.clone()));
        }
        if config.disabled {
            let (ticket, _) = provider::install(Installed::Disabled);
            return Ok(Telemetry {
                installed: Some(ticket),
                backend: None,
                #[cfg(feature = "tracing")]
                logs: None,
                metrics: None,
                #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
                runtime: None,
            });
        }

        let resource = Resource::builder_empty()
            .with_detector(Box::new(TelemetryResourceDetector))
            // Detected first: `OTEL_RESOURCE_ATTRIBUTES` and code win.
            .with_attributes(resource::detected(config.service_version.as_deref()))
            .with_attributes(config.resource.iter().cloned())
            .with_service_name(config.service_name.clone())
            .build();
        let mut builder = BackendBuilder::new(Settings {
            pipeline: config.pipeline,
            resource: resource.clone(),
            // Our pipeline decides the default sampler in place, without
            // a call; the SDK's is the same sampler.
            sampler: (!config.sampler_is_default).then(|| config.sampler.clone()),
            limits: config.limits,
            value_length_limit: config.value_length_limit,
            batch: config.batch.clone(),
            tail: config.tail.clone(),
        });
        let mut runtime: Option<OtlpRuntime> = None;
        for exporter in &config.exporters {
            match exporter {
                // On the SDK's provider, simple processor semantics: each
                // trace is printed when its root ends, on that thread, so
                // nothing is lost on a hard exit (`process::exit`, a kill
                // after the root).
                Exporter::Console => builder = builder.with_simple_exporter(ConsoleExporter::new()),
                #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
                Exporter::Otlp => {
                    builder = builder.with_each(
                        &mut runtime,
                        |builder, runtime| {
                            let (exporter, detail) = build_otlp(&config.otlp, runtime)?;
                            let tally = std::sync::Arc::new(Tally::default());
                            let exporter = Reported::new(exporter, config.otlp.endpoint.clone())
                                .with_detail(detail)
                                .with_tally(tally.clone());
                            Ok(Counted::new(
                                builder.batch(exporter),
                                tally,
                                config.otlp.endpoint.clone(),
                            ))
                        },
                        |ours, runtime| otlp::pipeline_otlp(ours, &config.otlp, runtime),
                    )?;
                }
                #[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
                Exporter::Otlp => {
                    return Err(InitError::new(
                        env::OTEL_TRACES_EXPORTER,
                        "otlp",
                        "`console` or `none`: this build of `traced` has no OTLP exporter (turn on its feature `otlp-grpc` or `otlp-http`)",
                    ));
                }
            }
        }
        #[cfg(feature = "tracing")]
        let logs = logs::build(&config, &resource, &mut runtime)?;
        let meters = metrics::build(&config, &resource, &mut runtime)?;
        let backend = builder.build().map_err(|err| {
            InitError::new(
                env::TRACED_PIPELINE,
                "traced",
                format!("a pipeline whose export thread starts ({err})"),
            )
        })?;
        // Before the spans: a call that starts a span is measured too.
        let meters = meters.map(|meters| (metrics::install(&meters), meters));
        let (ticket, _) = provider::install(Installed::Backend(backend.clone()));
        #[cfg(feature = "tracing")]
        let logs = logs.map(|logs| (crate::span::logger::install(logs.clone()), logs));
        #[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
        let () = runtime.unwrap_or(());
        let telemetry = Telemetry {
            installed: Some(ticket),
            backend: Some(backend),
            #[cfg(feature = "tracing")]
            logs,
            metrics: meters,
            #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
            runtime,
        };
        #[cfg(feature = "tracing")]
        logs::install_subscriber(&config)?;
        Ok(telemetry)
    }

    /// Exports every finished span now.
    ///
    /// # Errors
    ///
    /// The SDK's error when an exporter fails.
    pub fn flush(&self) -> Result<(), opentelemetry_sdk::error::OTelSdkError> {
        #[cfg(feature = "tracing")]
        if let Some((_, logs)) = &self.logs {
            off_runtime(|| logs.force_flush())?;
        }
        if let Some((_, meters)) = &self.metrics {
            off_runtime(|| meters.force_flush())?;
        }
        match &self.backend {
            Some(backend) => off_runtime(|| backend.force_flush()),
            None => Ok(()),
        }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        #[cfg(feature = "tracing")]
        if let Some((ticket, logs)) = self.logs.take() {
            crate::span::logger::uninstall(ticket);
            if let Err(err) = off_runtime(|| logs.shutdown()) {
                eprintln!("traced: shutting the logger provider down failed: {err}");
            }
        }
        // Calls stop being measured now; the meter provider's last export
        // comes after the spans' (below), so that with the collector down
        // the spans' exporter finds it out and the metrics' does not wait
        // for it a second time.
        let meters = self.metrics.take().map(|(ticket, meters)| {
            crate::metrics::uninstall(ticket);
            meters
        });
        if let Some(ticket) = self.installed.take() {
            // Spans started from now on go nowhere, rather than to a
            // backend that is shut down; unless someone installed another
            // since, which stays.
            provider::uninstall(ticket);
        }
        if let Some(backend) = self.backend.take() {
            let result = off_runtime(|| backend.shutdown());
            // An export that failed was reported already, once per outage:
            // its failure again as a shutdown error would say it twice.
            #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
            let result = result.or_else(|err| {
                if crate::export::reported::failing() {
                    Ok(())
                } else {
                    Err(err)
                }
            });
            if let Err(err) = result {
                eprintln!("traced: shutting the span pipeline down failed: {err}");
            }
        }
        if let Some(meters) = meters {
            // The last export, exemplars included. An export that failed
            // was reported already (or by the spans' exporter, for the
            // same collector): its failure again as a shutdown error would
            // say it twice.
            let result = off_runtime(|| meters.shutdown());
            #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
            let result = result.or_else(|err| {
                if crate::export::metrics::failing() {
                    Ok(())
                } else {
                    Err(err)
                }
            });
            if let Err(err) = result {
                eprintln!("traced: shutting the meter provider down failed: {err}");
            }
        }
        #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
        if let Some(runtime) = self.runtime.take() {
            // Allowed inside an async context, unlike a plain drop.
            runtime.shutdown_background();
        }
    }
}

/// Runs `f` on a plain thread: the blocking HTTP client and the SDK's
/// blocking shutdown must not run on a tokio worker (a current-thread
/// runtime would deadlock, and `reqwest::blocking` panics there).
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
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

/// Without an OTLP exporter nothing here blocks on tokio: the console
/// exporter writes from the batch processor's own thread.
#[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    f()
}

/// The tokio runtime that drives the gRPC exporter's connections.
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
type OtlpRuntime = tokio::runtime::Runtime;
/// Without an OTLP exporter there is no runtime to share.
#[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
type OtlpRuntime = ();
