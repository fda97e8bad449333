//! TLS to the collector, end to end on loopback: a real collector behind a
//! TLS terminator whose certificate a test CA signed. With the CA
//! configured spans arrive over gRPC, HTTP/protobuf and HTTP/JSON; without
//! it the export fails with a reported error and the program is
//! unaffected; a terminator that requires a client certificate accepts
//! ours and refuses a client without one; a CA file that is missing or not
//! PEM stops `init` with an error naming the variable and the path.

mod support;

use std::process::Output;
use std::time::Duration;

use support::collector::Collector;
use support::examples::run;
use support::tls::{Pki, Terminator};

const SPANS: usize = 8;
const WAIT: Duration = Duration::from_secs(20);

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn quickstart(env: &[(&str, &str)]) -> Output {
    let out = run("quickstart", &[], env);
    assert!(out.status.success(), "quickstart failed: {}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("a(2) = Ok(11)"), "{stdout}");
    out
}

/// The program ran to its end, reported that the export failed, and the
/// collector received nothing.
fn assert_export_failed(out: &Output, collector: &Collector) {
    let err = stderr(out);
    assert!(
        err.contains("traced: exporting") && err.contains("failed, so they are dropped"),
        "no reported export failure: {err}"
    );
    assert!(collector.spans().is_empty(), "spans arrived: {err}");
}

#[test]
fn grpc_with_the_ca_configured() {
    let pki = Pki::generate();
    let collector = Collector::start_with_metrics();
    let tls = Terminator::start(&pki, &collector.grpc_endpoint(), false);
    let ca = pki.ca.display().to_string();
    quickstart(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &tls.endpoint()),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", &ca),
    ]);
    assert_eq!(collector.wait_for_spans(SPANS, WAIT).len(), SPANS);
    // The metrics (#29) go the same way, with the same CA.
    let points = collector.wait_for_metric("traced.function.duration", WAIT);
    let calls: u64 = points
        .iter()
        .filter(|p| p.metric == "traced.function.duration")
        .map(|p| p.count)
        .sum();
    assert_eq!(calls, u64::try_from(SPANS).unwrap(), "{points:#?}");
}

#[test]
fn http_protobuf_and_json_with_the_ca_configured() {
    let pki = Pki::generate();
    for (protocol, traces_variable) in [("http/protobuf", false), ("http/json", true)] {
        let collector = Collector::start();
        let tls = Terminator::start(&pki, &collector.http_endpoint(), false);
        let ca = pki.ca.display().to_string();
        let endpoint = tls.endpoint_by_name();
        let certificate = if traces_variable {
            "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE"
        } else {
            "OTEL_EXPORTER_OTLP_CERTIFICATE"
        };
        quickstart(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
            (certificate, &ca),
        ]);
        assert_eq!(
            collector.wait_for_spans(SPANS, WAIT).len(),
            SPANS,
            "{protocol}"
        );
    }
}

#[test]
fn without_the_ca_the_export_fails_and_is_reported() {
    let pki = Pki::generate();
    for protocol in ["grpc", "http/protobuf"] {
        let collector = Collector::start();
        let upstream = if protocol == "grpc" {
            collector.grpc_endpoint()
        } else {
            collector.http_endpoint()
        };
        let tls = Terminator::start(&pki, &upstream, false);
        let out = quickstart(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &tls.endpoint()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ]);
        assert_export_failed(&out, &collector);
        // The cause, not just "network error".
        assert!(
            stderr(&out).contains("UnknownIssuer"),
            "{protocol}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn mtls_accepts_the_client_certificate_and_refuses_none() {
    let pki = Pki::generate();
    let (ca, cert, key) = (
        pki.ca.display().to_string(),
        pki.client_cert.display().to_string(),
        pki.client_key.display().to_string(),
    );
    for protocol in ["grpc", "http/protobuf"] {
        let collector = Collector::start();
        let upstream = if protocol == "grpc" {
            collector.grpc_endpoint()
        } else {
            collector.http_endpoint()
        };
        let tls = Terminator::start(&pki, &upstream, true);
        let endpoint = tls.endpoint();
        let base = [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", ca.as_str()),
        ];

        let out = quickstart(&base);
        assert_export_failed(&out, &collector);

        let mut with_identity = base.to_vec();
        with_identity.push(("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", &cert));
        with_identity.push(("OTEL_EXPORTER_OTLP_CLIENT_KEY", &key));
        quickstart(&with_identity);
        assert_eq!(
            collector.wait_for_spans(SPANS, WAIT).len(),
            SPANS,
            "{protocol} with a client certificate"
        );
    }
}

#[test]
fn a_missing_or_non_pem_file_names_the_variable_and_the_path() {
    let pki = Pki::generate();
    let not_pem = pki.dir().join("not-pem.txt");
    std::fs::write(&not_pem, "hello").expect("write a file");
    let missing = pki.dir().join("missing.pem");
    for (variable, path) in [
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", &missing),
        ("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", &not_pem),
    ] {
        let path = path.display().to_string();
        let out = run(
            "quickstart",
            &[],
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://127.0.0.1:1"),
                (variable, &path),
            ],
        );
        let err = stderr(&out);
        assert!(!out.status.success(), "{variable}={path} must fail");
        assert!(err.contains(variable) && err.contains(&path), "{err}");
    }
    let key = pki.client_key.display().to_string();
    let out = run(
        "quickstart",
        &[],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://127.0.0.1:1"),
            ("OTEL_EXPORTER_OTLP_CLIENT_KEY", &key),
        ],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("OTEL_EXPORTER_OTLP_CLIENT_KEY"));
}
