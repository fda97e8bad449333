//! The metrics section (#29): exporters, endpoint, interval, temporality
//! and cardinality limit, from the variables and the builder.

use super::*;

#[test]
fn metrics_go_over_otlp_when_traces_do_and_nowhere_otherwise() {
    let c = config(&[]).unwrap();
    assert_eq!(c.metrics.exporters, vec![Exporter::Otlp]);
    assert_eq!(c.metrics.interval, Duration::from_secs(60));
    assert_eq!(c.metrics.temporality, MetricsTemporality::Cumulative);
    assert_eq!(c.metrics.cardinality_limit, None);
    let c = config(&[("OTEL_TRACES_EXPORTER", "console")]).unwrap();
    assert!(c.metrics.exporters.is_empty());
    let c = config(&[
        ("OTEL_TRACES_EXPORTER", "console"),
        ("OTEL_METRICS_EXPORTER", "console,otlp"),
    ])
    .unwrap();
    assert_eq!(c.metrics.exporters, vec![Exporter::Console, Exporter::Otlp]);
    let c = config(&[("OTEL_METRICS_EXPORTER", "none")]).unwrap();
    assert!(c.metrics.exporters.is_empty());
    let e = err(&[("OTEL_METRICS_EXPORTER", "prometheus")]);
    assert_eq!(e.variable(), "OTEL_METRICS_EXPORTER");
}

#[test]
fn the_metrics_endpoint_is_read_like_the_traces_one() {
    let c = config(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "a=1"),
        ("OTEL_EXPORTER_OTLP_METRICS_HEADERS", "b=2"),
    ])
    .unwrap();
    assert_eq!(c.metrics.otlp.endpoint, "http://collector:4318/v1/metrics");
    assert_eq!(c.metrics.otlp.protocol, OtlpProtocol::HttpProtobuf);
    assert_eq!(
        c.metrics.otlp.headers.get("b").map(String::as_str),
        Some("2")
    );
    assert!(!c.metrics.otlp.headers.contains_key("a"));
    let c = config(&[
        ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://metrics:4317"),
        ("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "250"),
    ])
    .unwrap();
    assert_eq!(c.metrics.otlp.endpoint, "http://metrics:4317");
    assert_eq!(c.metrics.otlp.timeout, Duration::from_millis(250));
    // The export timeout caps the exporter's.
    let c = config(&[("OTEL_METRIC_EXPORT_TIMEOUT", "100")]).unwrap();
    assert_eq!(c.metrics.otlp.timeout, Duration::from_millis(100));
    let e = err(&[("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "not a url")]);
    assert_eq!(e.variable(), "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");
}

#[test]
fn interval_temporality_and_cardinality_limit() {
    let c = config(&[
        ("OTEL_METRIC_EXPORT_INTERVAL", "1500"),
        ("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "Delta"),
        ("TRACED_METRICS_CARDINALITY_LIMIT", "50"),
    ])
    .unwrap();
    assert_eq!(c.metrics.interval, Duration::from_millis(1500));
    assert_eq!(c.metrics.temporality, MetricsTemporality::Delta);
    assert_eq!(c.metrics.cardinality_limit, Some(50));
    let c = config(&[(
        "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
        "lowmemory",
    )])
    .unwrap();
    assert_eq!(c.metrics.temporality, MetricsTemporality::LowMemory);
    for (variable, value) in [
        ("OTEL_METRIC_EXPORT_INTERVAL", "soon"),
        (
            "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
            "sometimes",
        ),
        ("TRACED_METRICS_CARDINALITY_LIMIT", "0"),
        ("TRACED_METRICS_CARDINALITY_LIMIT", "-3"),
    ] {
        assert_eq!(err(&[(variable, value)]).variable(), variable, "{value}");
        // Not strict: the default, with a warning.
        let c = lenient(&[(variable, value)]);
        assert_eq!(c.metrics.interval, Duration::from_secs(60));
        assert_eq!(c.metrics.temporality, MetricsTemporality::Cumulative);
        assert_eq!(c.metrics.cardinality_limit, None);
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(c.warnings[0].contains(variable), "{:?}", c.warnings);
    }
}

#[test]
fn the_builder_wins_over_the_metrics_variables() {
    let vars: HashMap<String, String> = [
        ("OTEL_METRICS_EXPORTER", "otlp"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "1000"),
        ("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "delta"),
        ("TRACED_METRICS_CARDINALITY_LIMIT", "10"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let code = builder()
        .metrics_exporter(Exporter::Console)
        .metric_export_interval(Duration::from_secs(5))
        .metrics_temporality(MetricsTemporality::Cumulative)
        .metrics_cardinality_limit(99)
        .strict(true);
    let c = Config::from_lookup(&|n| vars.get(n).cloned(), &code.code).unwrap();
    assert_eq!(c.metrics.exporters, vec![Exporter::Console]);
    assert_eq!(c.metrics.interval, Duration::from_secs(5));
    assert_eq!(c.metrics.temporality, MetricsTemporality::Cumulative);
    assert_eq!(c.metrics.cardinality_limit, Some(99));
    let c = Config::from_lookup(&|n| vars.get(n).cloned(), &builder().no_metrics().code).unwrap();
    assert!(c.metrics.exporters.is_empty());
}
