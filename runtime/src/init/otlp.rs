//! Building the OTLP exporter for the configured transport.

use std::fmt;

#[cfg(feature = "otlp-grpc")]
use opentelemetry_otlp::WithTonicConfig;
#[cfg(feature = "otlp-http")]
use opentelemetry_otlp::{Protocol, WithHttpConfig};

use super::config::{OtlpConfig, OtlpProtocol};
use super::error::InitError;
#[cfg(feature = "otlp-http")]
use super::off_runtime;
use crate::export::reported::Detail;

/// The span exporter and where its client records why an export failed
/// (HTTP only).
pub(super) type Built = (opentelemetry_otlp::SpanExporter, Option<Detail>);

/// The OTLP span exporter for `config`. The gRPC exporter needs a tokio
/// runtime to run on: `runtime` is started here if it is still `None`, and
/// shared by the exporters of every signal. A transport this build was
/// compiled without is an error that names the feature to turn on.
pub(super) fn build_otlp(
    config: &OtlpConfig,
    runtime: &mut Option<super::OtlpRuntime>,
) -> Result<Built, InitError> {
    let tls = tls(config)?;
    match transport(config)? {
        #[cfg(feature = "otlp-grpc")]
        Transport::Grpc => {
            let runtime = grpc_runtime(config, runtime)?;
            let _entered = runtime.enter();
            let builder = opentelemetry_otlp::SpanExporter::builder().with_tonic();
            let exporter = tonic_settings(builder, config, &tls)?
                .build()
                .map_err(|e| failed(config, &e))?;
            Ok((exporter, None))
        }
        #[cfg(feature = "otlp-http")]
        Transport::Http(protocol) => {
            let _ = runtime;
            let detail = Detail::default();
            let build = || {
                let builder = opentelemetry_otlp::SpanExporter::builder().with_http();
                http_settings(builder, config, &tls, protocol, &detail)?.build()
            };
            let exporter = off_runtime(build).map_err(|e| failed(config, &e))?;
            Ok((exporter, Some(detail)))
        }
    }
}

/// Adds the OTLP exporter for `config` to our pipeline: over gRPC and
/// `http/protobuf` our own (`export/otlp`), which encodes requests
/// straight from the pipeline's records; for `http/json` the SDK's, as on
/// the SDK path. Each reports its failures the same way.
pub(super) fn pipeline_otlp(
    builder: crate::PipelineBuilder,
    config: &OtlpConfig,
    runtime: &mut Option<super::OtlpRuntime>,
) -> Result<crate::PipelineBuilder, InitError> {
    #[cfg(feature = "otlp-grpc")]
    if matches!(transport(config)?, Transport::Grpc) {
        let (channel, runtime) = grpc_channel(config, runtime)?;
        let sink = crate::export::otlp::GrpcSink::new(
            channel,
            tonic_metadata(config)?,
            config.gzip,
            config.timeout,
            runtime.handle().clone(),
            config.endpoint.clone(),
        );
        return Ok(builder.with_sink(Box::new(sink)));
    }
    #[cfg(feature = "otlp-http")]
    if matches!(transport(config)?, Transport::Http(Protocol::HttpBinary)) {
        return Ok(builder.with_sink(Box::new(http_sink(config)?)));
    }
    let (exporter, detail) = build_otlp(config, runtime)?;
    let exporter = crate::export::reported::Reported::new(exporter, config.endpoint.clone())
        .with_detail(detail);
    Ok(builder.with_exporter(exporter))
}

/// Our `http/protobuf` client to `config`'s endpoint, with its TLS,
/// headers, gzip and timeout (spans and metrics alike).
#[cfg(feature = "otlp-http")]
fn http_sink(config: &OtlpConfig) -> Result<crate::export::otlp::HttpSink, InitError> {
    let tls = tls(config)?;
    // The blocking client cannot be built on a tokio runtime's thread.
    let client = off_runtime(|| blocking_client(config, &tls)).map_err(|e| failed(config, &e))?;
    Ok(crate::export::otlp::HttpSink::new(
        client,
        config.endpoint.clone(),
        http_headers(config)?,
        config.gzip,
        config.timeout,
    ))
}

/// A tonic channel to `config`'s endpoint with its TLS and timeout,
/// connecting lazily on the exporters' runtime (started here when needed).
#[cfg(feature = "otlp-grpc")]
fn grpc_channel<'a>(
    config: &OtlpConfig,
    runtime: &'a mut Option<super::OtlpRuntime>,
) -> Result<(tonic::transport::Channel, &'a super::OtlpRuntime), InitError> {
    let tls = tls(config)?;
    let runtime = grpc_runtime(config, runtime)?;
    // The channel's connection task is spawned on the runtime.
    let _entered = runtime.enter();
    let endpoint = tonic::transport::Endpoint::from_shared(config.endpoint.clone())
        .map_err(|e| failed(config, &e))?
        .timeout(config.timeout);
    #[cfg(feature = "tls")]
    let endpoint = match &tls {
        Some(tls) => endpoint
            .tls_config(tls.tonic_config())
            .map_err(|e| failed(config, &e))?,
        None => endpoint,
    };
    #[cfg(not(feature = "tls"))]
    let _ = tls;
    Ok((endpoint.connect_lazy(), runtime))
}

/// Adds a periodic reader exporting over OTLP to `builder` (#29): over
/// gRPC and `http/protobuf` our exporter, which adds the exemplars; over
/// `http/json` `opentelemetry-otlp`'s, without them.
pub(super) fn add_otlp_metrics(
    builder: opentelemetry_sdk::metrics::MeterProviderBuilder,
    config: &OtlpConfig,
    temporality: opentelemetry_sdk::metrics::Temporality,
    interval: std::time::Duration,
    same_collector_as_spans: bool,
    runtime: &mut Option<super::OtlpRuntime>,
) -> Result<opentelemetry_sdk::metrics::MeterProviderBuilder, InitError> {
    use opentelemetry_sdk::metrics::PeriodicReader;
    match transport(config)? {
        #[cfg(feature = "otlp-grpc")]
        Transport::Grpc => {
            let metadata = tonic_metadata(config)?;
            let (channel, runtime) = grpc_channel(config, runtime)?;
            let client = crate::export::otlp::GrpcClient::new(
                channel,
                metadata,
                config.gzip,
                config.timeout,
            );
            let exporter = crate::export::metrics::OtlpMetricExporter::grpc(
                client,
                runtime.handle().clone(),
                temporality,
                config.endpoint.clone(),
            )
            .with_spans_to_the_same_collector(same_collector_as_spans);
            Ok(builder.with_reader(
                PeriodicReader::builder(exporter)
                    .with_interval(interval)
                    .build(),
            ))
        }
        #[cfg(feature = "otlp-http")]
        Transport::Http(Protocol::HttpBinary) => {
            let _ = runtime;
            let exporter =
                crate::export::metrics::OtlpMetricExporter::http(http_sink(config)?, temporality)
                    .with_spans_to_the_same_collector(same_collector_as_spans);
            Ok(builder.with_reader(
                PeriodicReader::builder(exporter)
                    .with_interval(interval)
                    .build(),
            ))
        }
        #[cfg(feature = "otlp-http")]
        Transport::Http(protocol) => {
            let _ = (runtime, same_collector_as_spans);
            let tls = tls(config)?;
            let detail = Detail::default();
            let build = || {
                let builder = opentelemetry_otlp::MetricExporter::builder()
                    .with_http()
                    .with_temporality(temporality);
                http_settings(builder, config, &tls, protocol, &detail)?.build()
            };
            let exporter = off_runtime(build).map_err(|e| failed(config, &e))?;
            Ok(builder.with_reader(
                PeriodicReader::builder(exporter)
                    .with_interval(interval)
                    .build(),
            ))
        }
    }
}

/// The OTLP log exporter for `config` (feature `tracing`), on the same
/// transports and runtime as [`build_otlp`].
#[cfg(feature = "tracing")]
pub(super) fn build_otlp_logs(
    config: &OtlpConfig,
    runtime: &mut Option<super::OtlpRuntime>,
) -> Result<opentelemetry_otlp::LogExporter, InitError> {
    let tls = tls(config)?;
    match transport(config)? {
        #[cfg(feature = "otlp-grpc")]
        Transport::Grpc => {
            let runtime = grpc_runtime(config, runtime)?;
            let _entered = runtime.enter();
            let builder = opentelemetry_otlp::LogExporter::builder().with_tonic();
            tonic_settings(builder, config, &tls)?
                .build()
                .map_err(|e| failed(config, &e))
        }
        #[cfg(feature = "otlp-http")]
        Transport::Http(protocol) => {
            let _ = runtime;
            let detail = Detail::default();
            let build = || {
                let builder = opentelemetry_otlp::LogExporter::builder().with_http();
                http_settings(builder, config, &tls, protocol, &detail)?.build()
            };
            off_runtime(build).map_err(|e| failed(config, &e))
        }
    }
}

fn failed(config: &OtlpConfig, err: &dyn fmt::Display) -> InitError {
    InitError::new(
        "the OTLP exporter",
        &config.endpoint,
        format!("an exporter that can be built ({err})"),
    )
}

/// The checked TLS files for an `https://` endpoint.
#[cfg(feature = "tls")]
type Tls = Option<super::tls::Loaded>;
/// Without `tls` there is nothing to load (`https://` is refused earlier).
#[cfg(not(feature = "tls"))]
type Tls = Option<std::convert::Infallible>;

#[cfg(feature = "tls")]
fn tls(config: &OtlpConfig) -> Result<Tls, InitError> {
    if config.endpoint.starts_with("https://") {
        Ok(Some(super::tls::Loaded::read(&config.tls)?))
    } else {
        Ok(None)
    }
}

#[cfg(not(feature = "tls"))]
fn tls(_config: &OtlpConfig) -> Result<Tls, InitError> {
    Ok(None)
}

/// The transports this build has.
enum Transport {
    #[cfg(feature = "otlp-grpc")]
    Grpc,
    #[cfg(feature = "otlp-http")]
    Http(Protocol),
}

fn transport(config: &OtlpConfig) -> Result<Transport, InitError> {
    match config.protocol {
        #[cfg(not(feature = "otlp-grpc"))]
        OtlpProtocol::Grpc => Err(InitError::new(
            super::env::OTEL_EXPORTER_OTLP_PROTOCOL,
            "grpc",
            "`http/protobuf` or `http/json`: this build of `traced` has no gRPC exporter (turn on its feature `otlp-grpc`)",
        )),
        #[cfg(not(feature = "otlp-http"))]
        OtlpProtocol::HttpProtobuf | OtlpProtocol::HttpJson => Err(InitError::new(
            super::env::OTEL_EXPORTER_OTLP_PROTOCOL,
            if config.protocol == OtlpProtocol::HttpJson {
                "http/json"
            } else {
                "http/protobuf"
            },
            "`grpc`: this build of `traced` has no HTTP exporter (turn on its feature `otlp-http`)",
        )),
        #[cfg(feature = "otlp-grpc")]
        OtlpProtocol::Grpc => Ok(Transport::Grpc),
        #[cfg(feature = "otlp-http")]
        OtlpProtocol::HttpProtobuf => Ok(Transport::Http(Protocol::HttpBinary)),
        #[cfg(feature = "otlp-http")]
        OtlpProtocol::HttpJson => Ok(Transport::Http(Protocol::HttpJson)),
    }
}

/// The runtime the gRPC exporters run on, started on first use.
///
/// The tonic exporter needs a tokio reactor when it is built and while it
/// exports; owning one avoids "no reactor running" outside tokio and
/// deadlocks on a current-thread runtime.
#[cfg(feature = "otlp-grpc")]
fn grpc_runtime<'a>(
    config: &OtlpConfig,
    runtime: &'a mut Option<super::OtlpRuntime>,
) -> Result<&'a super::OtlpRuntime, InitError> {
    if runtime.is_none() {
        let built = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("traced-otlp")
            .enable_all()
            .build()
            .map_err(|e| failed(config, &e))?;
        *runtime = Some(built);
    }
    Ok(runtime.as_ref().expect("started above"))
}

/// Endpoint, timeout, metadata, compression and TLS on a tonic exporter
/// builder of any signal.
#[cfg(feature = "otlp-grpc")]
fn tonic_settings<B>(mut builder: B, config: &OtlpConfig, tls: &Tls) -> Result<B, InitError>
where
    B: opentelemetry_otlp::WithExportConfig + WithTonicConfig,
{
    builder = builder
        .with_endpoint(config.endpoint.clone())
        .with_timeout(config.timeout)
        .with_metadata(tonic_metadata(config)?);
    if config.gzip {
        builder = builder.with_compression(opentelemetry_otlp::Compression::Gzip);
    }
    #[cfg(feature = "tls")]
    if let Some(tls) = tls {
        builder = builder.with_tls_config(tls.tonic_config());
    }
    #[cfg(not(feature = "tls"))]
    let _ = tls;
    Ok(builder)
}

/// The blocking client, endpoint, protocol, timeout, headers and
/// compression on an HTTP exporter builder of any signal.
#[cfg(feature = "otlp-http")]
fn http_settings<B>(
    builder: B,
    config: &OtlpConfig,
    tls: &Tls,
    protocol: Protocol,
    detail: &Detail,
) -> Result<B, opentelemetry_otlp::ExporterBuildError>
where
    B: opentelemetry_otlp::WithExportConfig + WithHttpConfig,
{
    // The blocking client, given explicitly: if any crate in the graph
    // turns on opentelemetry-otlp's `reqwest-client` feature, the exporter
    // would otherwise pick the async client, which the batch processor's
    // plain thread cannot drive.
    let client = blocking_client(config, tls)
        .map_err(opentelemetry_otlp::ExporterBuildError::InternalFailure)?;
    let mut builder = builder
        .with_http_client(Explained {
            client,
            last: detail.clone(),
        })
        .with_protocol(protocol)
        .with_endpoint(config.endpoint.clone())
        .with_timeout(config.timeout)
        .with_headers(config.headers.clone());
    if config.gzip {
        builder = builder.with_compression(opentelemetry_otlp::Compression::Gzip);
    }
    Ok(builder)
}

/// The blocking HTTP client for `config`: its timeout, and for
/// `https://` the TLS settings.
#[cfg(feature = "otlp-http")]
fn blocking_client(config: &OtlpConfig, tls: &Tls) -> Result<reqwest::blocking::Client, String> {
    // No redirects (#25): a 3xx would re-send the spans and the custom
    // API-key headers to whatever origin it names. It is a failed export.
    let client = reqwest::blocking::Client::builder()
        .timeout(config.timeout)
        .redirect(reqwest::redirect::Policy::none());
    #[cfg(feature = "tls")]
    let client = match tls {
        Some(tls) => client.tls_backend_preconfigured(tls.rustls_config()?),
        None => client,
    };
    #[cfg(not(feature = "tls"))]
    let _ = tls;
    client.build().map_err(|e| e.to_string())
}

/// The configured headers as HTTP headers; a bad one is an error.
#[cfg(feature = "otlp-http")]
pub(super) fn http_headers(config: &OtlpConfig) -> Result<reqwest::header::HeaderMap, InitError> {
    let mut map = reqwest::header::HeaderMap::new();
    for (key, value) in &config.headers {
        let bad = || {
            InitError::new(
                "OTEL_EXPORTER_OTLP_HEADERS (or Builder::header)",
                key,
                "header names and values that are valid in HTTP",
            )
        };
        let name = reqwest::header::HeaderName::from_bytes(key.as_bytes()).map_err(|_| bad())?;
        let value = reqwest::header::HeaderValue::from_str(value).map_err(|_| bad())?;
        map.insert(name, value);
    }
    Ok(map)
}

#[cfg(feature = "otlp-grpc")]
pub(super) fn tonic_metadata(
    config: &OtlpConfig,
) -> Result<tonic::metadata::MetadataMap, InitError> {
    let mut map = tonic::metadata::MetadataMap::new();
    for (key, value) in &config.headers {
        let bad = || {
            InitError::new(
                "OTEL_EXPORTER_OTLP_HEADERS (or Builder::header)",
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

/// The blocking client, recording the whole cause of a failed request
/// (which the exporter reduces to "network error") for [`Reported`].
///
/// [`Reported`]: crate::export::reported::Reported
#[cfg(feature = "otlp-http")]
#[derive(Debug)]
struct Explained {
    client: reqwest::blocking::Client,
    last: Detail,
}

#[cfg(feature = "otlp-http")]
impl opentelemetry_http::HttpClient for Explained {
    // The trait is declared with `#[async_trait]`; this is its expansion,
    // written out to avoid the dependency.
    fn send_bytes<'life0, 'async_trait>(
        &'life0 self,
        request: opentelemetry_http::Request<opentelemetry_http::Bytes>,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<
                    Output = Result<
                        opentelemetry_http::Response<opentelemetry_http::Bytes>,
                        opentelemetry_http::HttpError,
                    >,
                > + Send
                + 'async_trait,
        >,
    >
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move {
            let result = self.client.send_bytes(request).await;
            if let Err(err) = &result {
                if let Ok(mut last) = self.last.lock() {
                    *last = Some(crate::export::reported::chain(err.as_ref()));
                }
            }
            result
        })
    }
}

#[cfg(all(test, feature = "otlp-http"))]
mod redirects {
    use std::collections::HashMap;
    use std::io::{Read as _, Write as _};
    use std::net::TcpListener;
    use std::time::Duration;

    use super::{OtlpConfig, OtlpProtocol, blocking_client};

    // Regression for #25: the client followed redirects and re-sent the
    // spans and the API-key headers to the origin a 3xx named.
    #[test]
    fn issue25_a_redirect_is_a_failed_export_not_followed() {
        let elsewhere = TcpListener::bind("127.0.0.1:0").unwrap();
        let elsewhere_at = elsewhere.local_addr().unwrap();
        elsewhere.set_nonblocking(true).unwrap();
        let collector = TcpListener::bind("127.0.0.1:0").unwrap();
        let collector_at = collector.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut conn, _) = collector.accept().unwrap();
            let mut request = [0_u8; 4096];
            let _ = conn.read(&mut request);
            write!(
                conn,
                "HTTP/1.1 307 Temporary Redirect\r\nlocation: http://{elsewhere_at}/v1/traces\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            )
            .unwrap();
        });
        let config = OtlpConfig {
            protocol: OtlpProtocol::HttpProtobuf,
            endpoint: format!("http://{collector_at}/v1/traces"),
            headers: HashMap::new(),
            timeout: Duration::from_secs(5),
            gzip: false,
            tls: Default::default(),
        };
        let client = blocking_client(&config, &None).unwrap();
        let response = client
            .post(&config.endpoint)
            .header("x-api-key", "sk_hunter2")
            .body("spans")
            .send()
            .unwrap();
        server.join().unwrap();
        assert_eq!(response.status().as_u16(), 307);
        assert!(!response.status().is_success());
        assert!(
            elsewhere.accept().is_err(),
            "the redirect was followed to {elsewhere_at}"
        );
    }
}
