//! The `tracing` bridge and logs configuration.

use super::*;

#[test]
fn logs_follow_the_traces_exporters_unless_told() {
    let c = config(&[]).unwrap();
    assert_eq!(c.tracing.log_exporters, vec![Exporter::Otlp]);
    assert!(c.tracing.install_subscriber);
    assert!(!c.tracing.stdout);
    assert_eq!(c.tracing.filter, "");
    let c = config(&[("OTEL_TRACES_EXPORTER", "console")]).unwrap();
    assert_eq!(c.tracing.log_exporters, vec![Exporter::Console]);
    let c = config(&[
        ("OTEL_TRACES_EXPORTER", "console"),
        ("OTEL_LOGS_EXPORTER", "none"),
    ])
    .unwrap();
    assert!(c.tracing.log_exporters.is_empty());
    let c = config(&[("OTEL_LOGS_EXPORTER", "console,otlp")]).unwrap();
    assert_eq!(
        c.tracing.log_exporters,
        vec![Exporter::Console, Exporter::Otlp]
    );
    let e = err(&[("OTEL_LOGS_EXPORTER", "syslog")]);
    assert_eq!(e.variable(), "OTEL_LOGS_EXPORTER");
}

#[test]
fn the_logs_endpoint_is_read_like_the_traces_one() {
    let c = config(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "a=1"),
        ("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "b=2"),
    ])
    .unwrap();
    assert_eq!(c.otlp.endpoint, "http://collector:4318/v1/traces");
    assert_eq!(
        c.tracing.logs_otlp.endpoint,
        "http://collector:4318/v1/logs"
    );
    assert_eq!(c.tracing.logs_otlp.protocol, OtlpProtocol::HttpProtobuf);
    assert_eq!(c.otlp.headers.get("a").map(String::as_str), Some("1"));
    assert_eq!(
        c.tracing.logs_otlp.headers.get("b").map(String::as_str),
        Some("2")
    );
    assert!(!c.tracing.logs_otlp.headers.contains_key("a"));
    let c = config(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"),
        ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "http://logs:4317"),
        ("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "250"),
    ])
    .unwrap();
    assert_eq!(c.otlp.endpoint, "http://collector:4317");
    assert_eq!(c.tracing.logs_otlp.endpoint, "http://logs:4317");
    assert_eq!(c.tracing.logs_otlp.timeout, Duration::from_millis(250));
    let e = err(&[("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "not a url")]);
    assert_eq!(e.variable(), "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT");
}

#[test]
fn a_bad_rust_log_is_a_warning_and_the_default() {
    let c = config(&[("RUST_LOG", "info,h2=trace")]).unwrap();
    assert_eq!(c.tracing.filter, "info,h2=trace");
    let e = err(&[("RUST_LOG", "h2=loud")]);
    assert_eq!(e.variable(), "RUST_LOG");
    let c = lenient(&[("RUST_LOG", "h2=loud")]);
    assert_eq!(c.tracing.filter, "");
    assert!(
        c.warnings[0].contains("RUST_LOG") && c.warnings[0].contains("the default filter"),
        "{:?}",
        c.warnings
    );
}

#[test]
fn stdout_lines_from_the_environment() {
    assert!(
        config(&[("TRACED_STDOUT_LOGS", "compact")])
            .unwrap()
            .tracing
            .stdout
    );
    assert!(
        !config(&[("TRACED_STDOUT_LOGS", "none")])
            .unwrap()
            .tracing
            .stdout
    );
    assert_eq!(
        err(&[("TRACED_STDOUT_LOGS", "json")]).variable(),
        "TRACED_STDOUT_LOGS"
    );
}

#[test]
fn code_wins_over_the_environment() {
    let vars: HashMap<String, String> = [("RUST_LOG", "debug"), ("OTEL_LOGS_EXPORTER", "otlp")]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let b = Builder::default()
        .tracing_filter("warn")
        .no_logs()
        .stdout_logs(true)
        .tracing_subscriber(false)
        .strict(true);
    let c = Config::from_lookup(&|name| vars.get(name).cloned(), &b.code).unwrap();
    assert_eq!(c.tracing.filter, "warn");
    assert!(c.tracing.log_exporters.is_empty());
    assert!(c.tracing.stdout);
    assert!(!c.tracing.install_subscriber);
}
