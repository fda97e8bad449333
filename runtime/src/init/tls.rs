//! TLS to the collector with rustls and aws-lc-rs (no OpenSSL): the
//! provider reqwest's own `rustls` feature uses, so one provider is in the
//! graph and a `reqwest::Client` the application builds keeps working.
//!
//! The trust roots are the bundled webpki roots, the OS store when there is
//! one (a distroless image has none, and that is not an error), and the CA
//! bundle of `OTEL_EXPORTER_OTLP_[TRACES_]CERTIFICATE`. A client
//! certificate and key (mTLS) come from `_CLIENT_CERTIFICATE` and
//! `_CLIENT_KEY`. The OpenTelemetry SDK reads none of these variables, and
//! its gRPC TLS configuration starts from an empty root store, so every
//! server certificate would fail with `UnknownIssuer`: the files are read
//! and checked here, once, when `init` runs.

use std::path::Path;

use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::config::TlsFiles;
use super::error::InitError;

/// The checked contents of the configured PEM files.
pub(crate) struct Loaded {
    /// The CA bundle as read (PEM), and its certificates.
    ca: Option<(Vec<u8>, Vec<CertificateDer<'static>>)>,
    /// The client certificate chain and key, as read (PEM) and parsed.
    identity: Option<Identity>,
}

/// Both forms are kept: tonic takes PEM, rustls the parsed items; parsing
/// happens either way, so that a bad file fails `init`.
struct Identity {
    #[cfg_attr(not(feature = "otlp-grpc"), allow(dead_code))]
    chain_pem: Vec<u8>,
    #[cfg_attr(not(feature = "otlp-grpc"), allow(dead_code))]
    key_pem: Vec<u8>,
    #[cfg_attr(not(feature = "otlp-http"), allow(dead_code))]
    chain: Vec<CertificateDer<'static>>,
    #[cfg_attr(not(feature = "otlp-http"), allow(dead_code))]
    key: PrivateKeyDer<'static>,
}

impl Loaded {
    /// Reads and checks every configured file.
    ///
    /// # Errors
    ///
    /// A file that is missing, unreadable or holds no PEM item of the
    /// expected kind, naming the variable and the path; a client
    /// certificate without a key, or a key without a certificate.
    pub(crate) fn read(files: &TlsFiles) -> Result<Loaded, InitError> {
        let ca = match &files.certificate {
            Some((name, path)) => {
                let pem = read(name, path)?;
                Some((pem.clone(), certificates(name, path, &pem)?))
            }
            None => None,
        };
        let identity = match (&files.client_certificate, &files.client_key) {
            (None, None) => None,
            (Some((name, path)), None) | (None, Some((name, path))) => {
                return Err(InitError::new(
                    name,
                    &path.display().to_string(),
                    "a client certificate and a client key together (set both OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY)",
                ));
            }
            (Some((cert_name, cert_path)), Some((key_name, key_path))) => {
                let chain_pem = read(cert_name, cert_path)?;
                let chain = certificates(cert_name, cert_path, &chain_pem)?;
                let key_pem = read(key_name, key_path)?;
                let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| {
                    InitError::new(
                        key_name,
                        &key_path.display().to_string(),
                        "a PEM file with a private key (PKCS#8, PKCS#1 or SEC1)",
                    )
                })?;
                Some(Identity {
                    chain_pem,
                    key_pem,
                    chain,
                    key,
                })
            }
        };
        Ok(Loaded { ca, identity })
    }

    /// The rustls client configuration for the HTTP exporter: ALPN
    /// `http/1.1`, the roots above, and the client certificate if any.
    #[cfg(feature = "otlp-http")]
    pub(crate) fn rustls_config(&self) -> Result<rustls::ClientConfig, String> {
        let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(self.roots());
        let mut config = match &self.identity {
            Some(id) => builder
                .with_client_auth_cert(id.chain.clone(), id.key.clone_key())
                .map_err(|e| format!("the client certificate and key do not fit: {e}"))?,
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }

    #[cfg(feature = "otlp-http")]
    fn roots(&self) -> rustls::RootCertStore {
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        // No OS store (distroless) or an unreadable one: the bundled roots
        // and the configured CA still apply.
        let native = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(native.certs);
        if let Some((_, certs)) = &self.ca {
            roots.add_parsable_certificates(certs.iter().cloned());
        }
        roots
    }

    /// The tonic TLS configuration for the gRPC exporter: the same roots
    /// (tonic adds the webpki and the OS roots itself) and identity.
    #[cfg(feature = "otlp-grpc")]
    pub(crate) fn tonic_config(&self) -> tonic::transport::ClientTlsConfig {
        let mut config = tonic::transport::ClientTlsConfig::new()
            .with_webpki_roots()
            .with_native_roots();
        if let Some((pem, _)) = &self.ca {
            config = config.ca_certificate(tonic::transport::Certificate::from_pem(pem));
        }
        if let Some(id) = &self.identity {
            config = config.identity(tonic::transport::Identity::from_pem(
                &id.chain_pem,
                &id.key_pem,
            ));
        }
        config
    }
}

fn read(name: &str, path: &Path) -> Result<Vec<u8>, InitError> {
    std::fs::read(path).map_err(|e| {
        InitError::new(
            name,
            &path.display().to_string(),
            format!("the path of a readable PEM file ({e})"),
        )
    })
}

fn certificates(
    name: &str,
    path: &Path,
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, InitError> {
    let bad = || {
        InitError::new(
            name,
            &path.display().to_string(),
            "a PEM file with one or more certificates (`-----BEGIN CERTIFICATE-----`)",
        )
    };
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| bad())?;
    if certs.is_empty() {
        return Err(bad());
    }
    Ok(certs)
}
