//! Reading the configuration: each variable, its value classes, and code over environment.

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::Sampler;

use super::config::*;
use super::env::*;
use super::*;

fn config(vars: &[(&str, &str)]) -> Result<Config, InitError> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    // Our own tests run strict: every invalid value is the error.
    let strict = Overrides {
        strict: Some(true),
        ..Overrides::default()
    };
    Config::from_lookup(&|name| vars.get(name).cloned(), &strict)
}

/// The configuration as an application gets it: invalid values warned
/// about and ignored.
fn lenient(vars: &[(&str, &str)]) -> Config {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Config::from_lookup(&|name| vars.get(name).cloned(), &Overrides::default())
        .expect("lenient never fails")
}

fn err(vars: &[(&str, &str)]) -> InitError {
    config(vars).expect_err("must be rejected")
}

#[test]
fn defaults() {
    let c = config(&[]).unwrap();
    assert!(!c.disabled);
    assert_eq!(c.exporters, vec![Exporter::Otlp]);
    assert_eq!(c.otlp.protocol, OtlpProtocol::Grpc);
    assert_eq!(c.otlp.endpoint, "http://localhost:4317");
    assert_eq!(c.otlp.timeout, Duration::from_secs(10));
    assert_eq!(c.propagators, vec!["tracecontext", "baggage"]);
    assert!(format!("{:?}", c.sampler).contains("ParentBased(AlwaysOn)"));
    assert!(c.service_name.starts_with("unknown_service"));
    assert_eq!(c.value_length_limit, None);
}

#[test]
fn the_talks_environment_works_unchanged() {
    let c = config(&[
        ("OTEL_SERVICE_NAME", "app"),
        ("OTEL_TRACES_EXPORTER", "otlp"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "otel:4317"),
        ("OTEL_EXPORTER_OTLP_INSECURE", "true"),
    ])
    .unwrap();
    assert_eq!(c.service_name, "app");
    assert_eq!(c.otlp.protocol, OtlpProtocol::Grpc);
    assert_eq!(c.otlp.endpoint, "http://otel:4317");
}

#[test]
fn service_name_wins_over_resource_attributes() {
    let c = config(&[
        ("OTEL_SERVICE_NAME", "from-name"),
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "service.name=from-attrs,deployment.environment=prod",
        ),
    ])
    .unwrap();
    assert_eq!(c.service_name, "from-name");
    assert!(
        c.resource
            .iter()
            .all(|kv| kv.key.as_str() != "service.name")
    );
    let c = config(&[("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs")]).unwrap();
    assert_eq!(c.service_name, "from-attrs");
}

#[test]
fn resource_attributes_are_percent_decoded() {
    let c = config(&[(
        "OTEL_RESOURCE_ATTRIBUTES",
        "team=a%20b%2Cc, owner = x%3Dy ,,",
    )])
    .unwrap();
    assert_eq!(
        c.resource,
        vec![
            KeyValue::new("team", "a b,c"),
            KeyValue::new("owner", "x=y")
        ]
    );
    assert_eq!(
        err(&[("OTEL_RESOURCE_ATTRIBUTES", "novalue")]).variable(),
        OTEL_RESOURCE_ATTRIBUTES
    );
    assert_eq!(
        err(&[("OTEL_RESOURCE_ATTRIBUTES", "k=%FF")]).variable(),
        OTEL_RESOURCE_ATTRIBUTES
    );
    assert_eq!(
        err(&[("OTEL_RESOURCE_ATTRIBUTES", "=v")]).variable(),
        OTEL_RESOURCE_ATTRIBUTES
    );
}

#[test]
fn exporters() {
    assert_eq!(
        config(&[("OTEL_TRACES_EXPORTER", "console")])
            .unwrap()
            .exporters,
        vec![Exporter::Console]
    );
    assert_eq!(
        config(&[("OTEL_TRACES_EXPORTER", "otlp, console,otlp")])
            .unwrap()
            .exporters,
        vec![Exporter::Otlp, Exporter::Console]
    );
    assert!(
        config(&[("OTEL_TRACES_EXPORTER", "none")])
            .unwrap()
            .exporters
            .is_empty()
    );
    let e = err(&[("OTEL_TRACES_EXPORTER", "otlp,kafka")]);
    assert_eq!(e.variable(), OTEL_TRACES_EXPORTER);
    assert_eq!(e.value(), "otlp,kafka");
    assert!(
        e.to_string().contains("`otlp`, `console` and `none`"),
        "{e}"
    );
    assert_eq!(
        err(&[("OTEL_TRACES_EXPORTER", "zipkin")]).variable(),
        OTEL_TRACES_EXPORTER
    );
}

#[test]
fn fallback_exporter_only_without_configuration() {
    let code = Overrides {
        fallback_exporters: Some(vec![Exporter::Console]),
        ..Overrides::default()
    };
    let with = |vars: &[(&str, &str)]| {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(&|name| vars.get(name).cloned(), &code)
            .unwrap()
            .exporters
    };
    assert_eq!(with(&[]), vec![Exporter::Console]);
    assert_eq!(
        with(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317")]),
        vec![Exporter::Otlp]
    );
    assert_eq!(
        with(&[("OTEL_TRACES_EXPORTER", "otlp")]),
        vec![Exporter::Otlp]
    );
}

#[test]
fn code_wins_over_the_environment() {
    let code = Overrides {
        service_name: Some("code".into()),
        exporters: Some(vec![Exporter::Console]),
        sampler: Some(Sampler::AlwaysOff),
        ..Overrides::default()
    };
    let vars: HashMap<String, String> = [
        ("OTEL_SERVICE_NAME", "env"),
        ("OTEL_TRACES_EXPORTER", "otlp"),
        ("OTEL_TRACES_SAMPLER", "always_on"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let c = Config::from_lookup(&|n| vars.get(n).cloned(), &code).unwrap();
    assert_eq!(c.service_name, "code");
    assert_eq!(c.exporters, vec![Exporter::Console]);
    assert!(matches!(c.sampler, Sampler::AlwaysOff));
}

#[test]
fn protocols_and_endpoints() {
    let c = config(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")]).unwrap();
    assert_eq!(c.otlp.endpoint, "http://localhost:4318/v1/traces");
    let c = config(&[
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/"),
    ])
    .unwrap();
    assert_eq!(c.otlp.protocol, OtlpProtocol::HttpJson);
    assert_eq!(c.otlp.endpoint, "http://c:4318/v1/traces");
    let c = config(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://t:9999/custom"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
    ])
    .unwrap();
    assert_eq!(c.otlp.endpoint, "http://t:9999/custom");
    // Port 4318 without a protocol means HTTP.
    let c = config(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")]).unwrap();
    assert_eq!(c.otlp.protocol, OtlpProtocol::HttpProtobuf);
    assert_eq!(
        err(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "udp")]).variable(),
        OTEL_EXPORTER_OTLP_PROTOCOL
    );
    assert_eq!(
        err(&[("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpcc")]).variable(),
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL
    );
    assert_eq!(
        err(&[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "ftp://x:1")]).variable(),
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
    );
    assert_eq!(
        err(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://x:port")]).variable(),
        OTEL_EXPORTER_OTLP_ENDPOINT
    );
    assert_eq!(
        err(&[("OTEL_EXPORTER_OTLP_INSECURE", "yes")]).variable(),
        OTEL_EXPORTER_OTLP_INSECURE
    );
}

#[test]
fn headers_timeout_compression() {
    let c = config(&[
        ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=a%20b,x=1"),
        ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x=2"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "500"),
        ("OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "gzip"),
    ])
    .unwrap();
    // The traces variable replaces the generic one; no merging.
    assert_eq!(c.otlp.headers.get("api-key"), None);
    assert_eq!(c.otlp.headers.get("x").map(String::as_str), Some("2"));
    let once = config(&[("OTEL_EXPORTER_OTLP_HEADERS", "api-key=a%20b%252C,x=1")]).unwrap();
    // Decoded once: `%252C` is `%2C`, not `,`.
    assert_eq!(
        once.otlp.headers.get("api-key").map(String::as_str),
        Some("a b%2C")
    );
    assert_eq!(c.otlp.timeout, Duration::from_millis(500));
    assert!(c.otlp.gzip);
    assert_eq!(
        err(&[("OTEL_EXPORTER_OTLP_HEADERS", "novalue")]).variable(),
        OTEL_EXPORTER_OTLP_HEADERS
    );
    assert_eq!(
        err(&[("OTEL_EXPORTER_OTLP_TIMEOUT", "10s")]).variable(),
        OTEL_EXPORTER_OTLP_TIMEOUT
    );
    assert_eq!(
        err(&[("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "-1")]).variable(),
        OTEL_EXPORTER_OTLP_TRACES_TIMEOUT
    );
    assert_eq!(
        err(&[("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd")]).variable(),
        OTEL_EXPORTER_OTLP_COMPRESSION
    );
}

#[test]
fn samplers() {
    let s = |name: &str, arg: Option<&str>| {
        let mut vars = vec![("OTEL_TRACES_SAMPLER", name)];
        if let Some(arg) = arg {
            vars.push(("OTEL_TRACES_SAMPLER_ARG", arg));
        }
        config(&vars).map(|c| format!("{:?}", c.sampler))
    };
    assert_eq!(s("always_on", None).unwrap(), "AlwaysOn");
    assert_eq!(s("always_off", None).unwrap(), "AlwaysOff");
    assert_eq!(
        s("traceidratio", Some("0.25")).unwrap(),
        "TraceIdRatioBased(0.25)"
    );
    assert_eq!(s("traceidratio", None).unwrap(), "TraceIdRatioBased(1.0)");
    assert_eq!(
        s("parentbased_always_off", None).unwrap(),
        "ParentBased(AlwaysOff)"
    );
    assert_eq!(
        s("parentbased_traceidratio", Some("0.5")).unwrap(),
        "ParentBased(TraceIdRatioBased(0.5))"
    );
    assert_eq!(
        s("sometimes", None).unwrap_err().variable(),
        OTEL_TRACES_SAMPLER
    );
    assert_eq!(s("xray", None).unwrap_err().variable(), OTEL_TRACES_SAMPLER);
    assert_eq!(
        s("traceidratio", Some("1.5")).unwrap_err().variable(),
        OTEL_TRACES_SAMPLER_ARG
    );
    assert_eq!(
        s("traceidratio", Some("half")).unwrap_err().variable(),
        OTEL_TRACES_SAMPLER_ARG
    );
}

#[test]
fn propagators_disabled_batch_and_limits() {
    assert_eq!(
        config(&[("OTEL_PROPAGATORS", "baggage")])
            .unwrap()
            .propagators,
        vec!["baggage"]
    );
    assert!(
        config(&[("OTEL_PROPAGATORS", "none")])
            .unwrap()
            .propagators
            .is_empty()
    );
    assert_eq!(
        config(&[("OTEL_PROPAGATORS", "tracecontext,baggage,B3,b3multi,jaeger")])
            .unwrap()
            .propagators,
        vec!["tracecontext", "baggage", "b3", "b3multi", "jaeger"]
    );
    assert_eq!(
        err(&[("OTEL_PROPAGATORS", "xray")]).variable(),
        OTEL_PROPAGATORS
    );
    assert_eq!(
        err(&[("OTEL_PROPAGATORS", "tracecontext,w3c")]).variable(),
        OTEL_PROPAGATORS
    );
    assert!(config(&[("OTEL_SDK_DISABLED", "TRUE")]).unwrap().disabled);
    assert_eq!(
        err(&[("OTEL_SDK_DISABLED", "1")]).variable(),
        OTEL_SDK_DISABLED
    );

    let c = config(&[
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "10"),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "5"),
        ("OTEL_ATTRIBUTE_COUNT_LIMIT", "7"),
        ("OTEL_SPAN_EVENT_COUNT_LIMIT", "3"),
        ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "16"),
    ])
    .unwrap();
    assert_eq!(c.batch.schedule_delay, Some(Duration::from_millis(100)));
    assert_eq!(c.batch.max_queue_size, Some(10));
    assert_eq!(c.limits.max_attributes_per_span, 7);
    assert_eq!(c.limits.max_attributes_per_event, 7);
    assert_eq!(c.limits.max_events_per_span, 3);
    assert_eq!(c.value_length_limit, Some(16));
    for name in [
        OTEL_BSP_SCHEDULE_DELAY,
        OTEL_BSP_EXPORT_TIMEOUT,
        OTEL_BSP_MAX_QUEUE_SIZE,
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
        OTEL_ATTRIBUTE_COUNT_LIMIT,
        OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT,
        OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT,
        OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT,
        OTEL_SPAN_EVENT_COUNT_LIMIT,
        OTEL_SPAN_LINK_COUNT_LIMIT,
        OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT,
        OTEL_LINK_ATTRIBUTE_COUNT_LIMIT,
    ] {
        let e = err(&[(name, "lots")]);
        assert_eq!(e.variable(), name);
        assert_eq!(e.value(), "lots");
    }
    assert_eq!(
        err(&[("OTEL_BSP_MAX_QUEUE_SIZE", "0")]).variable(),
        OTEL_BSP_MAX_QUEUE_SIZE
    );
    assert_eq!(
        err(&[
            ("OTEL_BSP_MAX_QUEUE_SIZE", "4"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "8")
        ])
        .variable(),
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE
    );
}

#[test]
fn empty_values_count_as_unset() {
    let c = config(&[("OTEL_TRACES_SAMPLER", ""), ("OTEL_TRACES_EXPORTER", "  ")]).unwrap();
    assert_eq!(c.exporters, vec![Exporter::Otlp]);
}

#[cfg(not(feature = "tls"))]
#[test]
fn without_tls_https_and_secure_scheme_less_endpoints_are_errors() {
    for value in ["https://x:4317", "otel:4317"] {
        let e = err(&[("OTEL_EXPORTER_OTLP_ENDPOINT", value)]);
        assert_eq!(e.variable(), OTEL_EXPORTER_OTLP_ENDPOINT);
    }
    assert!(
        err(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "https://x:4317")])
            .to_string()
            .contains("feature `tls`")
    );
}

#[cfg(all(feature = "tls", any(feature = "otlp-grpc", feature = "otlp-http")))]
mod tls {
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
}

/// Each class of value, as an application gets it (not strict): valid and
/// case variants are used, an invalid value is one warning naming the
/// variable, the value, what is accepted and what is used instead.
mod lenient {
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
}

#[test]
fn the_exception_signal_opt_in() {
    use crate::span::ExceptionSignal;
    assert_eq!(
        config(&[]).unwrap().exception_signal,
        ExceptionSignal::SpanEvent
    );
    let var = "OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN";
    let lenient_signal = |v: &str| lenient(&[(var, v)]).exception_signal;
    if cfg!(feature = "tracing") {
        assert_eq!(
            config(&[(var, "logs")]).unwrap().exception_signal,
            ExceptionSignal::Logs
        );
        assert_eq!(
            config(&[(var, "LOGS/dup")]).unwrap().exception_signal,
            ExceptionSignal::LogsAndSpanEvent
        );
        assert_eq!(
            lenient_signal("logs/dup,logs"),
            ExceptionSignal::LogsAndSpanEvent
        );
    } else {
        // Without the logs pipeline the opt-in cannot be honoured.
        assert_eq!(err(&[(var, "logs")]).variable(), var);
        assert_eq!(lenient_signal("logs"), ExceptionSignal::SpanEvent);
    }
    let e = err(&[(var, "events")]);
    assert!(e.to_string().contains("`logs` or `logs/dup`"), "{e}");
    let c = lenient(&[(var, "events")]);
    assert_eq!(c.exception_signal, ExceptionSignal::SpanEvent);
    assert!(c.warnings[0].contains(var), "{:?}", c.warnings);
}

#[cfg(feature = "tracing")]
mod tracing {
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
}

// Regression: the generic OTLP variables are read for traces and for logs;
// a bad one must be warned about once, not once per signal.
#[test]
fn a_generic_variable_is_warned_about_once() {
    let c = lenient(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "udp")]);
    let about: Vec<_> = c
        .warnings
        .iter()
        .filter(|w| w.contains("OTEL_EXPORTER_OTLP_PROTOCOL"))
        .collect();
    assert_eq!(about.len(), 1, "{:?}", c.warnings);
}

/// `TRACED_PIPELINE`: the SDK's provider unless `traced` is asked for, in
/// the variable or on the builder (which wins).
#[test]
fn the_pipeline_is_opted_into() {
    assert_eq!(config(&[]).unwrap().pipeline, Pipeline::Sdk);
    assert_eq!(
        config(&[(TRACED_PIPELINE, "sdk")]).unwrap().pipeline,
        Pipeline::Sdk
    );
    assert_eq!(
        config(&[(TRACED_PIPELINE, "Traced")]).unwrap().pipeline,
        Pipeline::Traced
    );
    assert_eq!(
        err(&[(TRACED_PIPELINE, "fast")]).variable(),
        TRACED_PIPELINE
    );
    assert_eq!(
        lenient(&[(TRACED_PIPELINE, "fast")]).pipeline,
        Pipeline::Sdk
    );
    let code = Overrides {
        pipeline: Some(Pipeline::Sdk),
        strict: Some(true),
        ..Overrides::default()
    };
    let vars: HashMap<&str, &str> = [(TRACED_PIPELINE, "traced")].into();
    let c = Config::from_lookup(&|name| vars.get(name).map(|v| (*v).to_owned()), &code).unwrap();
    assert_eq!(c.pipeline, Pipeline::Sdk);
}
