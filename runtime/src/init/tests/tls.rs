//! TLS configuration: https endpoints, the certificate variables.

use super::*;

#[test]
fn https_endpoints_and_scheme_less_without_insecure() {
    let c = config(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "https://x:4317")]).unwrap();
    assert_eq!(c.otlp.endpoint, "https://x:4317");
    let c = config(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://x"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
    ])
    .unwrap();
    assert_eq!(c.otlp.endpoint, "https://x/v1/traces");
    // INSECURE keeps its meaning for an endpoint without a scheme;
    // without it (or `false`), transport security.
    let c = config(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "otel:4317")]).unwrap();
    assert_eq!(c.otlp.endpoint, "https://otel:4317");
    let c = config(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "otel:4317"),
        ("OTEL_EXPORTER_OTLP_INSECURE", "FALSE"),
    ])
    .unwrap();
    assert_eq!(c.otlp.endpoint, "https://otel:4317");
    let c = config(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "otel:4317"),
        ("OTEL_EXPORTER_OTLP_INSECURE", "true"),
    ])
    .unwrap();
    assert_eq!(c.otlp.endpoint, "http://otel:4317");
}

#[test]
fn certificate_variables_traces_first_and_code_wins() {
    let c = config(&[
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/general.pem"),
        ("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "/traces.pem"),
        ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/client.pem"),
        ("OTEL_EXPORTER_OTLP_CLIENT_KEY", "/client.key"),
    ])
    .unwrap();
    assert_eq!(
        c.otlp.tls.certificate,
        Some((OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE, "/traces.pem".into()))
    );
    assert_eq!(
        c.otlp.tls.client_certificate,
        Some((OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE, "/client.pem".into()))
    );
    assert_eq!(
        c.otlp.tls.client_key,
        Some((OTEL_EXPORTER_OTLP_CLIENT_KEY, "/client.key".into()))
    );
    let code = builder().certificate("/code.pem").code;
    let vars: HashMap<String, String> = [(
        "OTEL_EXPORTER_OTLP_CERTIFICATE".to_owned(),
        "/env.pem".to_owned(),
    )]
    .into();
    let c = Config::from_lookup(&|n| vars.get(n).cloned(), &code).unwrap();
    assert_eq!(
        c.otlp.tls.certificate,
        Some(("Builder::certificate", "/code.pem".into()))
    );
}

#[test]
fn unusable_files_name_the_variable_and_the_path() {
    let dir = std::env::temp_dir().join(format!("traced-tls-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let not_pem = dir.join("not.pem");
    std::fs::write(&not_pem, "not a certificate").unwrap();
    let missing = dir.join("missing.pem");
    for (name, path) in [
        (OTEL_EXPORTER_OTLP_CERTIFICATE, &missing),
        (OTEL_EXPORTER_OTLP_CERTIFICATE, &not_pem),
    ] {
        let files = TlsFiles {
            certificate: Some((name, path.clone())),
            ..TlsFiles::default()
        };
        let Err(e) = super::super::tls::Loaded::read(&files) else {
            panic!("{} must be rejected", path.display());
        };
        assert_eq!(e.variable(), name);
        assert_eq!(e.value(), path.display().to_string());
    }
    let files = TlsFiles {
        client_key: Some((OTEL_EXPORTER_OTLP_CLIENT_KEY, not_pem.clone())),
        ..TlsFiles::default()
    };
    let Err(e) = super::super::tls::Loaded::read(&files) else {
        panic!("a key without a certificate must be rejected");
    };
    assert_eq!(e.variable(), OTEL_EXPORTER_OTLP_CLIENT_KEY);
    let _ = std::fs::remove_dir_all(&dir);
}
