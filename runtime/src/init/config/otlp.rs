//! The OTLP section of the configuration, per signal: protocol, endpoint,
//! headers, timeout, compression and the TLS files, each signal's own
//! variables over the generic ones.

use super::*;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OtlpConfig {
    pub protocol: OtlpProtocol,
    pub endpoint: String,
    pub headers: HashMap<String, String>,
    pub timeout: Duration,
    pub gzip: bool,
    #[cfg_attr(
        not(all(feature = "tls", any(feature = "otlp-grpc", feature = "otlp-http"))),
        allow(dead_code)
    )]
    pub tls: TlsFiles,
}

/// The PEM files for TLS to the collector, each with the variable (or
/// builder call) it came from, so that a file that cannot be used is an
/// error naming both.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct TlsFiles {
    /// CA certificates to trust besides the bundled and the OS roots.
    pub certificate: Option<(&'static str, PathBuf)>,
    /// The client certificate chain (mTLS).
    pub client_certificate: Option<(&'static str, PathBuf)>,
    /// The client certificate's private key (mTLS).
    pub client_key: Option<(&'static str, PathBuf)>,
}

/// What code set on the [`Builder`](crate::Builder) for the OTLP
/// exporters; each wins over its variables, for traces and logs alike.
#[derive(Default, Clone)]
pub(crate) struct OtlpOverrides {
    /// `Builder::endpoint`: a base URL, as `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub endpoint: Option<String>,
    /// `Builder::header`, in call order; a later one replaces an earlier
    /// one of the same name, and both replace the variables' one.
    pub headers: Vec<(String, String)>,
    /// `Builder::protocol`.
    pub protocol: Option<OtlpProtocol>,
    /// `Builder::compression`.
    pub compression: Option<Compression>,
    /// `Builder::timeout`.
    pub timeout: Option<Duration>,
    /// `Builder::certificate`, `client_certificate`, `client_key`.
    pub tls: TlsFiles,
}

/// Header values are API keys: a `Builder` printed with `{:?}` shows
/// their names only.
impl std::fmt::Debug for OtlpOverrides {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("OtlpOverrides")
            .field("endpoint", &self.endpoint)
            .field("headers", &names)
            .field("protocol", &self.protocol)
            .field("compression", &self.compression)
            .field("timeout", &self.timeout)
            .field("tls", &self.tls)
            .finish()
    }
}

/// The OTLP settings of one signal: what code set, then its own variables
/// (`OTEL_EXPORTER_OTLP_TRACES_*`, `OTEL_EXPORTER_OTLP_LOGS_*`), then the
/// generic ones.
pub(crate) fn otlp_config(
    d: &Diag,
    lookup: Lookup,
    sig: &SignalVars,
    code: &OtlpOverrides,
) -> Result<OtlpConfig, InitError> {
    // The signal's own variable wins; the name is kept for the error.
    let pick = |specific: &'static str, general: &'static str| match get(lookup, specific) {
        Some(v) => (Some(v), specific),
        None => (get(lookup, general), general),
    };
    let (endpoint_specific, endpoint_general) = (
        get(lookup, sig.endpoint),
        get(lookup, OTEL_EXPORTER_OTLP_ENDPOINT),
    );
    let (protocol, protocol_var) = pick(sig.protocol, OTEL_EXPORTER_OTLP_PROTOCOL);
    let protocol = match protocol.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("grpc") => Some(OtlpProtocol::Grpc),
        Some("http/protobuf") => Some(OtlpProtocol::HttpProtobuf),
        Some("http/json") => Some(OtlpProtocol::HttpJson),
        Some(_) => d.soft(
            Err(InitError::new(
                protocol_var,
                protocol.as_deref().unwrap_or_default(),
                "`grpc`, `http/protobuf` or `http/json`",
            )),
            || None,
            "the default",
        )?,
        None => None,
    };
    let protocol = match code.protocol.or(protocol) {
        Some(p) => p,
        // Unset: gRPC, where the specification says `http/protobuf`. The
        // default endpoint, `localhost:4317`, is the gRPC port of every
        // collector, of Jaeger, Tempo and `traced-view`, and the Python
        // and .NET SDKs' `otlp` exporters default to gRPC too, so the same
        // environment configures them all. An endpoint on the HTTP port
        // 4318 means HTTP.
        None => {
            let on_4318 = code
                .endpoint
                .as_deref()
                .or(endpoint_specific.as_deref())
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
    let (insecure, insecure_var) = pick(sig.insecure, OTEL_EXPORTER_OTLP_INSECURE);
    let insecure = match insecure {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(v) => d.soft(
            Err(InitError::new(insecure_var, &v, "`true` or `false`")),
            || false,
            "`false`",
        )?,
    };
    let http = protocol != OtlpProtocol::Grpc;
    let default_endpoint = || {
        if http {
            format!("{OTLP_HTTP_ENDPOINT_DEFAULT}{}", sig.path)
        } else {
            OTLP_GRPC_ENDPOINT_DEFAULT.to_owned()
        }
    };
    let instead = default_endpoint();
    let endpoint = match (&code.endpoint, endpoint_specific, endpoint_general) {
        (Some(base), _, _) => {
            match d.soft(
                check_url("Builder::endpoint", base.trim(), insecure).map(Some),
                || None,
                &instead,
            )? {
                Some(base) if http => format!("{}{}", without_signal_path(&base), sig.path),
                Some(base) => base,
                None => default_endpoint(),
            }
        }
        (None, Some(url), _) => d.soft(
            check_url(sig.endpoint, &url, insecure),
            default_endpoint,
            &instead,
        )?,
        (None, None, Some(base)) => {
            match d.soft(
                check_url(OTEL_EXPORTER_OTLP_ENDPOINT, &base, insecure).map(Some),
                || None,
                &instead,
            )? {
                Some(base) if http => format!("{}{}", base.trim_end_matches('/'), sig.path),
                Some(base) => base,
                None => default_endpoint(),
            }
        }
        (None, None, None) => default_endpoint(),
    };
    // The traces-only variable replaces the generic one, as every other
    // signal-specific variable does (the specification); values are
    // percent-decoded once.
    let (headers, headers_var) = pick(sig.headers, OTEL_EXPORTER_OTLP_HEADERS);
    let mut headers: HashMap<String, String> = match headers {
        Some(v) => d
            .soft(parse_pairs(headers_var, &v), Vec::new, "no headers")?
            .into_iter()
            .collect(),
        None => HashMap::new(),
    };
    // Header names are case-insensitive: code's replaces the variable's
    // however either is spelled.
    for (key, value) in &code.headers {
        headers.retain(|k, _| !k.eq_ignore_ascii_case(key));
        headers.insert(key.clone(), value.clone());
    }
    let timeout = match code.timeout {
        Some(t) if t.is_zero() => NO_LIMIT,
        Some(t) => t,
        None => match d.unset(parse_millis(lookup, sig.timeout))? {
            Some(t) => t,
            None => d
                .unset(parse_millis(lookup, OTEL_EXPORTER_OTLP_TIMEOUT))?
                .unwrap_or(OTLP_TIMEOUT_DEFAULT),
        },
    };
    let (compression, compression_var) = pick(sig.compression, OTEL_EXPORTER_OTLP_COMPRESSION);
    let gzip = match compression
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        _ if code.compression.is_some() => code.compression == Some(Compression::Gzip),
        None | Some("none") => false,
        Some("gzip") => true,
        Some(_) => d.soft(
            Err(InitError::new(
                compression_var,
                compression.as_deref().unwrap_or_default(),
                "`gzip` or `none`",
            )),
            || false,
            "`none`",
        )?,
    };
    let file = |specific: &'static str, general: &'static str| {
        let (value, name) = pick(specific, general);
        value.map(|v| (name, PathBuf::from(v)))
    };
    let tls = TlsFiles {
        certificate: code
            .tls
            .certificate
            .clone()
            .or_else(|| file(sig.certificate, OTEL_EXPORTER_OTLP_CERTIFICATE)),
        client_certificate: code.tls.client_certificate.clone().or_else(|| {
            file(
                sig.client_certificate,
                OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE,
            )
        }),
        client_key: code
            .tls
            .client_key
            .clone()
            .or_else(|| file(sig.client_key, OTEL_EXPORTER_OTLP_CLIENT_KEY)),
    };
    Ok(OtlpConfig {
        protocol,
        endpoint,
        headers,
        timeout,
        gzip,
        tls,
    })
}

/// A base URL without a trailing `/` and without a signal's path, which a
/// URL copied from a backend's instructions may end with: `Builder::endpoint`
/// serves traces and logs, each with its own path.
fn without_signal_path(url: &str) -> &str {
    let url = url.trim_end_matches('/');
    ["/v1/traces", "/v1/logs", "/v1/metrics"]
        .iter()
        .find_map(|path| url.strip_suffix(path))
        .unwrap_or(url)
}

/// A URL with a scheme; a bare `host:port` gets `http://` when insecure.
fn check_url(name: &str, value: &str, insecure: bool) -> Result<String, InitError> {
    let expected = "a URL such as `http://collector:4317` (or `host:port` with OTEL_EXPORTER_OTLP_INSECURE=true)";
    let url = if value.contains("://") {
        value.to_owned()
    } else if insecure {
        format!("http://{value}")
    } else if cfg!(feature = "tls") {
        // The specification: without a scheme, `INSECURE=false` (the
        // default) means transport security.
        format!("https://{value}")
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
    if scheme == "https" && !cfg!(feature = "tls") {
        return Err(InitError::new(
            name,
            value,
            "an `http://` URL: this build of `traced` has no TLS (turn on its feature `tls`, or reach the collector through a local agent or a sidecar)",
        ));
    }
    if !matches!(scheme, "http" | "https") || host.is_empty() || host.contains(char::is_whitespace)
    {
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
