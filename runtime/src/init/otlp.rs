//! Building the OTLP exporter for the configured transport.

use std::fmt;

use opentelemetry_otlp::WithExportConfig as _;
#[cfg(feature = "otlp-grpc")]
use opentelemetry_otlp::WithTonicConfig as _;
#[cfg(feature = "otlp-http")]
use opentelemetry_otlp::{Protocol, WithHttpConfig as _};

use super::config::{OtlpConfig, OtlpProtocol};
#[cfg(feature = "otlp-grpc")]
use super::env::OTEL_EXPORTER_OTLP_HEADERS;
use super::error::InitError;
#[cfg(feature = "otlp-http")]
use super::off_runtime;
use crate::export::reported::Detail;

/// The exporter, the tokio runtime that drives it (gRPC only) and where
/// its client records why an export failed (HTTP only).
pub(super) type Built = (
    opentelemetry_otlp::SpanExporter,
    Option<super::OtlpRuntime>,
    Option<Detail>,
);

/// The OTLP exporter for `config`, and the tokio runtime that drives it
/// (gRPC only). A transport this build was compiled without is an error
/// that names the feature to turn on.
pub(super) fn build_otlp(config: &OtlpConfig) -> Result<Built, InitError> {
    let failed = |err: &dyn fmt::Display| {
        InitError::new(
            "the OTLP exporter",
            &config.endpoint,
            format!("an exporter that can be built ({err})"),
        )
    };
    #[cfg(feature = "tls")]
    let tls = if config.endpoint.starts_with("https://") {
        Some(super::tls::Loaded::read(&config.tls)?)
    } else {
        None
    };
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
                #[cfg(feature = "tls")]
                if let Some(tls) = &tls {
                    builder = builder.with_tls_config(tls.tonic_config());
                }
                builder.build().map_err(|e| failed(&e))?
            };
            Ok((exporter, Some(runtime), None))
        }
        #[cfg(feature = "otlp-http")]
        OtlpProtocol::HttpProtobuf | OtlpProtocol::HttpJson => {
            let protocol = if config.protocol == OtlpProtocol::HttpJson {
                Protocol::HttpJson
            } else {
                Protocol::HttpBinary
            };
            let detail = Detail::default();
            let build = || {
                // The blocking client, given explicitly: if any crate in the
                // graph turns on opentelemetry-otlp's `reqwest-client`
                // feature, the exporter would otherwise pick the async
                // client, which the batch processor's plain thread cannot
                // drive.
                let client = reqwest::blocking::Client::builder().timeout(config.timeout);
                #[cfg(feature = "tls")]
                let client = match &tls {
                    Some(tls) => client.tls_backend_preconfigured(
                        tls.rustls_config()
                            .map_err(opentelemetry_otlp::ExporterBuildError::InternalFailure)?,
                    ),
                    None => client,
                };
                let client = client.build().map_err(|e| {
                    opentelemetry_otlp::ExporterBuildError::InternalFailure(e.to_string())
                })?;
                let mut builder = opentelemetry_otlp::SpanExporter::builder()
                    .with_http()
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
                builder.build()
            };
            let exporter = off_runtime(build).map_err(|e| failed(&e))?;
            Ok((exporter, None, Some(detail)))
        }
    }
}

#[cfg(feature = "otlp-grpc")]
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
