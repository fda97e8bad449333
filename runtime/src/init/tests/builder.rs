//! Every OTLP setting the environment has, set on the [`Builder`]: code
//! wins over the variables, for traces and (feature `tracing`) logs alike.

use super::*;

/// The configuration `builder` and `vars` give, strict.
fn with(builder: Builder, vars: &[(&str, &str)]) -> Config {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Config::from_lookup(&|n| vars.get(n).cloned(), &builder.strict(true).code).unwrap()
}

#[test]
fn endpoint_wins_over_every_endpoint_variable() {
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4317"),
        (
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://env-traces:4317",
        ),
    ];
    let c = with(builder().endpoint("http://code:4317"), &env);
    assert_eq!(c.otlp.endpoint, "http://code:4317");
    assert_eq!(c.otlp.protocol, OtlpProtocol::Grpc);
    // A base URL, as the generic variable: over HTTP the signal's path is
    // appended, once, whether or not the URL already ends with it.
    for url in [
        "https://api.example.com",
        "https://api.example.com/",
        "https://api.example.com/v1/traces",
    ] {
        let c = with(
            builder().endpoint(url).protocol(OtlpProtocol::HttpProtobuf),
            &env,
        );
        assert_eq!(
            c.otlp.endpoint, "https://api.example.com/v1/traces",
            "{url}"
        );
    }
    // On port 4318 it means HTTP, as the variable does.
    let c = with(builder().endpoint("http://localhost:4318"), &[]);
    assert_eq!(c.otlp.protocol, OtlpProtocol::HttpProtobuf);
    assert_eq!(c.otlp.endpoint, "http://localhost:4318/v1/traces");
}

#[test]
fn endpoint_in_code_means_otlp_despite_a_fallback() {
    let c = with(
        builder()
            .fallback_exporter(Exporter::Console)
            .endpoint("http://code:4317"),
        &[],
    );
    assert_eq!(c.exporters, vec![Exporter::Otlp]);
}

#[test]
fn a_bad_endpoint_in_code_is_named() {
    let vars: HashMap<String, String> = HashMap::new();
    let code = builder().endpoint("ftp://x").strict(true).code;
    let err = Config::from_lookup(&|n| vars.get(n).cloned(), &code).unwrap_err();
    assert_eq!(err.variable(), "Builder::endpoint");
}

#[test]
fn header_wins_over_the_variables_and_keeps_their_others() {
    let env = [
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            "X-Api-Key=from-env,x-team=checkout",
        ),
        (
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
            "x-api-key=from-env-traces,x-team=checkout",
        ),
    ];
    let c = with(
        builder()
            .header("x-api-key", "first")
            .header("X-API-KEY", "from-code"),
        &env,
    );
    let mut headers: Vec<(&str, &str)> = c
        .otlp
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    headers.sort_unstable();
    assert_eq!(
        headers,
        [("X-API-KEY", "from-code"), ("x-team", "checkout")]
    );
    // The value of a header is a secret: the builder's Debug leaves it out.
    let shown = format!("{:?}", builder().header("x-honeycomb-team", "hcaik_secret"));
    assert!(shown.contains("x-honeycomb-team"), "{shown}");
    assert!(!shown.contains("hcaik_secret"), "{shown}");
}

#[test]
fn protocol_wins_over_the_variables_and_the_port() {
    let env = [
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json"),
    ];
    let c = with(builder().protocol(OtlpProtocol::HttpProtobuf), &env);
    assert_eq!(c.otlp.protocol, OtlpProtocol::HttpProtobuf);
    assert_eq!(c.otlp.endpoint, "http://localhost:4318/v1/traces");
    let c = with(
        builder().protocol(OtlpProtocol::Grpc),
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")],
    );
    assert_eq!(c.otlp.protocol, OtlpProtocol::Grpc);
    assert_eq!(c.otlp.endpoint, "http://collector:4318");
}

#[test]
fn compression_wins_over_the_variables() {
    let env = [("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "gzip")];
    assert!(with(builder(), &env).otlp.gzip);
    assert!(
        !with(builder().compression(Compression::None), &env)
            .otlp
            .gzip
    );
    let env = [("OTEL_EXPORTER_OTLP_COMPRESSION", "none")];
    assert!(
        with(builder().compression(Compression::Gzip), &env)
            .otlp
            .gzip
    );
}

#[test]
fn timeout_wins_over_the_variables() {
    let env = [
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "100"),
        ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "200"),
    ];
    let c = with(builder().timeout(Duration::from_secs(3)), &env);
    assert_eq!(c.otlp.timeout, Duration::from_secs(3));
    let c = with(builder().timeout(Duration::ZERO), &env);
    assert_eq!(
        c.otlp.timeout, NO_LIMIT,
        "zero: no limit, as `0` in the variable"
    );
}

#[test]
fn tls_files_win_over_the_variables() {
    let env = [
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/env/ca.pem"),
        (
            "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE",
            "/env/client.pem",
        ),
        ("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/env/client.key"),
    ];
    let c = with(
        builder()
            .certificate("/code/ca.pem")
            .client_certificate("/code/client.pem")
            .client_key("/code/client.key"),
        &env,
    );
    assert_eq!(
        c.otlp.tls.certificate,
        Some(("Builder::certificate", "/code/ca.pem".into()))
    );
    assert_eq!(
        c.otlp.tls.client_certificate,
        Some(("Builder::client_certificate", "/code/client.pem".into()))
    );
    assert_eq!(
        c.otlp.tls.client_key,
        Some(("Builder::client_key", "/code/client.key".into()))
    );
}

#[test]
fn resource_attribute_wins_over_the_variable() {
    let c = with(
        builder()
            .resource_attribute("deployment.environment.name", "code")
            .service_name("from-code"),
        &[
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment.name=env,team=payments,service.name=env",
            ),
            ("OTEL_SERVICE_NAME", "env"),
        ],
    );
    assert_eq!(c.service_name, "from-code");
    // The resource is built from this list in order: the last value of a
    // key is the one the resource keeps.
    let last = |key: &str| {
        c.resource
            .iter()
            .rev()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.to_string())
    };
    assert_eq!(last("deployment.environment.name").as_deref(), Some("code"));
    assert_eq!(last("team").as_deref(), Some("payments"));
}

#[cfg(feature = "tracing")]
#[test]
fn the_logs_exporter_gets_the_code_settings_too() {
    let env = [
        (
            "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
            "http://env-logs:4318/v1/logs",
        ),
        ("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "x-api-key=env"),
    ];
    let c = with(
        builder()
            .endpoint("https://api.example.com/v1/traces")
            .protocol(OtlpProtocol::HttpProtobuf)
            .header("x-api-key", "code")
            .compression(Compression::Gzip)
            .timeout(Duration::from_secs(4))
            .certificate("/code/ca.pem"),
        &env,
    );
    let logs = &c.tracing.logs_otlp;
    assert_eq!(logs.endpoint, "https://api.example.com/v1/logs");
    assert_eq!(
        logs.headers.get("x-api-key").map(String::as_str),
        Some("code")
    );
    assert!(logs.gzip);
    assert_eq!(logs.timeout, Duration::from_secs(4));
    assert_eq!(
        logs.tls.certificate,
        Some(("Builder::certificate", "/code/ca.pem".into()))
    );
}
