use super::*;

fn warned(vars: &[(&str, &str)]) -> (Config, String) {
    let c = lenient(vars);
    assert_eq!(c.warnings.len(), 1, "one warning: {:?}", c.warnings);
    let w = c.warnings[0].clone();
    (c, w)
}

#[test]
fn enum_values_are_case_insensitive() {
    let c = config(&[
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "HTTP/JSON"),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "GZip"),
        ("OTEL_TRACES_SAMPLER", "ParentBased_TraceIdRatio"),
        ("OTEL_TRACES_SAMPLER_ARG", "0.5"),
        ("OTEL_PROPAGATORS", "TraceContext,BAGGAGE"),
        ("OTEL_TRACES_EXPORTER", "Console"),
        ("OTEL_SDK_DISABLED", "False"),
    ])
    .unwrap();
    assert_eq!(c.otlp.protocol, OtlpProtocol::HttpJson);
    assert!(c.otlp.gzip);
    assert_eq!(
        format!("{:?}", c.sampler),
        "ParentBased(TraceIdRatioBased(0.5))"
    );
    assert_eq!(c.propagators, vec!["tracecontext", "baggage"]);
    assert_eq!(c.exporters, vec![Exporter::Console]);
    assert!(c.warnings.is_empty());
}

#[test]
fn invalid_values_warn_and_use_the_default() {
    let (c, w) = warned(&[("OTEL_TRACES_SAMPLER", "sometimes")]);
    assert!(format!("{:?}", c.sampler).contains("ParentBased(AlwaysOn)"));
    // The default it fell back to is known as the default, so our
    // pipeline decides it in place.
    assert!(c.sampler_is_default);
    assert!(
        w.contains("OTEL_TRACES_SAMPLER")
            && w.contains("\"sometimes\"")
            && w.contains("always_on")
            && w.contains("using `parentbased_always_on` instead"),
        "{w}"
    );
    let (c, w) = warned(&[("OTEL_TRACES_SAMPLER", "jaeger_remote")]);
    assert!(format!("{:?}", c.sampler).contains("ParentBased(AlwaysOn)"));
    assert!(w.contains("remote samplers are not supported"), "{w}");
    let (c, _) = warned(&[("OTEL_TRACES_SAMPLER", "xray")]);
    assert!(format!("{:?}", c.sampler).contains("ParentBased(AlwaysOn)"));
    let (c, w) = warned(&[
        ("OTEL_TRACES_SAMPLER", "traceidratio"),
        ("OTEL_TRACES_SAMPLER_ARG", "2"),
    ]);
    assert_eq!(format!("{:?}", c.sampler), "TraceIdRatioBased(1.0)");
    assert!(w.contains("OTEL_TRACES_SAMPLER_ARG"), "{w}");
    let (c, w) = warned(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "udp")]);
    assert_eq!(c.otlp.protocol, OtlpProtocol::Grpc);
    assert!(w.contains("OTEL_EXPORTER_OTLP_PROTOCOL"), "{w}");
    let (c, _) = warned(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "ten")]);
    assert_eq!(c.otlp.timeout, Duration::from_secs(10));
    let (c, _) = warned(&[("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd")]);
    assert!(!c.otlp.gzip);
    let (c, _) = warned(&[("OTEL_SDK_DISABLED", "yes")]);
    assert!(!c.disabled);
    let (c, _) = warned(&[("OTEL_BSP_MAX_QUEUE_SIZE", "-1")]);
    assert_eq!(c.batch.max_queue_size, None);
    let (c, _) = warned(&[("OTEL_RESOURCE_ATTRIBUTES", "novalue")]);
    assert!(c.resource.is_empty());
    let (c, _) = warned(&[("OTEL_EXPORTER_OTLP_HEADERS", "novalue")]);
    assert!(c.otlp.headers.is_empty());
    let (c, _) = warned(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://x:1")]);
    assert_eq!(c.otlp.endpoint, "http://localhost:4317");
    let (c, _) = warned(&[("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "big")]);
    assert_eq!(c.value_length_limit, None);
    let (c, _) = warned(&[
        ("OTEL_BSP_MAX_QUEUE_SIZE", "4"),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "8"),
    ]);
    assert_eq!(c.batch.max_export_batch_size, Some(4));
}

#[test]
fn unknown_list_items_are_warned_about_and_skipped() {
    let (c, w) = warned(&[("OTEL_PROPAGATORS", "tracecontext,xray")]);
    assert_eq!(c.propagators, vec!["tracecontext"]);
    assert!(w.contains("`xray` is not supported"), "{w}");
    let (c, _) = warned(&[("OTEL_PROPAGATORS", "ottrace")]);
    assert!(c.propagators.is_empty());
    let (c, w) = warned(&[("OTEL_TRACES_EXPORTER", "otlp,kafka")]);
    assert_eq!(c.exporters, vec![Exporter::Otlp]);
    assert!(w.contains("`kafka` is unknown"), "{w}");
}

#[test]
fn strict_from_the_variable_or_the_builder() {
    let vars: HashMap<String, String> = [
        ("OTEL_TRACES_SAMPLER".to_owned(), "sometimes".to_owned()),
        ("TRACED_CONFIG_STRICT".to_owned(), "TRUE".to_owned()),
    ]
    .into();
    let lookup = |n: &str| vars.get(n).cloned();
    let e = Config::from_lookup(&lookup, &Overrides::default()).unwrap_err();
    assert_eq!(e.variable(), OTEL_TRACES_SAMPLER);
    // The builder wins over the variable.
    let code = builder().strict(false).code;
    assert_eq!(
        Config::from_lookup(&lookup, &code).unwrap().warnings.len(),
        1
    );
    // An invalid value of the strictness variable is itself an error.
    let vars: HashMap<String, String> =
        [("TRACED_CONFIG_STRICT".to_owned(), "maybe".to_owned())].into();
    let e = Config::from_lookup(&|n| vars.get(n).cloned(), &Overrides::default()).unwrap_err();
    assert_eq!(e.variable(), TRACED_CONFIG_STRICT);
}

#[test]
fn log_level() {
    use crate::export::reported::{LEVEL_ERROR, LEVEL_INFO, LEVEL_NONE, LEVEL_WARN};
    assert_eq!(config(&[]).unwrap().log_level, LEVEL_INFO);
    for (value, level) in [
        ("NONE", LEVEL_NONE),
        ("off", LEVEL_NONE),
        ("Error", LEVEL_ERROR),
        ("warn", LEVEL_WARN),
        ("debug", LEVEL_INFO),
    ] {
        assert_eq!(
            config(&[("OTEL_LOG_LEVEL", value)]).unwrap().log_level,
            level,
            "{value}"
        );
    }
    let (c, w) = warned(&[("OTEL_LOG_LEVEL", "loud")]);
    assert_eq!(c.log_level, LEVEL_INFO);
    assert!(
        w.contains("OTEL_LOG_LEVEL") && w.contains("`info` instead"),
        "{w}"
    );
    assert_eq!(
        err(&[("OTEL_LOG_LEVEL", "loud")]).variable(),
        OTEL_LOG_LEVEL
    );
}

#[test]
fn a_zero_timeout_means_no_limit() {
    let c = config(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "0")]).unwrap();
    assert_eq!(c.otlp.timeout, NO_LIMIT);
    let c = config(&[("OTEL_BSP_EXPORT_TIMEOUT", "0")]).unwrap();
    assert_eq!(c.otlp.timeout, OTLP_TIMEOUT_DEFAULT);
    let c = config(&[
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "0"),
        ("OTEL_BSP_EXPORT_TIMEOUT", "250"),
    ])
    .unwrap();
    assert_eq!(c.otlp.timeout, Duration::from_millis(250));
    // A zero delay is just zero.
    let c = config(&[("OTEL_BSP_SCHEDULE_DELAY", "0")]).unwrap();
    assert_eq!(c.batch.schedule_delay, Some(Duration::ZERO));
}
