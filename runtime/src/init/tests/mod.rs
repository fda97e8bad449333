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
    assert!(
        !c.sampler_is_default,
        "the code's sampler is not the default"
    );
}

/// Our pipeline decides the default sampler in place only when it is the
/// default: nothing set or `parentbased_always_on` in any case.
#[test]
fn default_sampler_is_known() {
    for (vars, default) in [
        (&[][..], true),
        (
            &[("OTEL_TRACES_SAMPLER", "parentbased_always_on")][..],
            true,
        ),
        (
            &[("OTEL_TRACES_SAMPLER", "ParentBased_Always_On")][..],
            true,
        ),
        (&[("OTEL_TRACES_SAMPLER", "always_on")][..], false),
        (
            &[("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")][..],
            false,
        ),
    ] {
        let c = config(vars).unwrap();
        assert_eq!(c.sampler_is_default, default, "{vars:?}: {:?}", c.sampler);
    }
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
        ("OTEL_BSP_MAX_CONCURRENT_EXPORTS", "3"),
        ("OTEL_ATTRIBUTE_COUNT_LIMIT", "7"),
        ("OTEL_SPAN_EVENT_COUNT_LIMIT", "3"),
        ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "16"),
    ])
    .unwrap();
    assert_eq!(c.batch.schedule_delay, Some(Duration::from_millis(100)));
    assert_eq!(c.batch.max_queue_size, Some(10));
    assert_eq!(c.batch.max_concurrent_exports, Some(3));
    assert_eq!(config(&[]).unwrap().batch.max_concurrent_exports, None);
    assert_eq!(c.limits.max_attributes_per_span, 7);
    assert_eq!(c.limits.max_attributes_per_event, 7);
    assert_eq!(c.limits.max_events_per_span, 3);
    assert_eq!(c.value_length_limit, Some(16));
    for name in [
        OTEL_BSP_SCHEDULE_DELAY,
        OTEL_BSP_EXPORT_TIMEOUT,
        OTEL_BSP_MAX_QUEUE_SIZE,
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
        OTEL_BSP_MAX_CONCURRENT_EXPORTS,
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
        err(&[("OTEL_BSP_MAX_CONCURRENT_EXPORTS", "0")]).variable(),
        OTEL_BSP_MAX_CONCURRENT_EXPORTS
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
mod tls;

/// Each class of value, as an application gets it (not strict): valid and
/// case variants are used, an invalid value is one warning naming the
/// variable, the value, what is accepted and what is used instead.
mod lenient;

mod builder;

/// `TRACED_TAIL_SAMPLING` and `Builder::tail_sampling` (#28).
mod tail;

/// `OTEL_METRICS_EXPORTER` and the other metrics settings (#29).
mod metrics;

/// `docs/recipes.md`, read as configuration.
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
mod recipes;

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
mod tracing;

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

/// `TRACED_PIPELINE`: the SDK's pipeline unless ours is asked for, in
/// the variable or on the builder (which wins); the console always keeps
/// the SDK's by default (#24: ours is not the default while it misses its
/// targets).
#[test]
fn the_sdks_pipeline_is_the_default_and_ours_is_asked_for() {
    assert_eq!(config(&[]).unwrap().pipeline, Pipeline::Sdk);
    assert_eq!(
        config(&[(OTEL_TRACES_EXPORTER, "none")]).unwrap().pipeline,
        Pipeline::Sdk
    );
    assert_eq!(
        config(&[(TRACED_PIPELINE, "traced")]).unwrap().pipeline,
        Pipeline::Traced
    );
    assert_eq!(
        config(&[(OTEL_TRACES_EXPORTER, "console")])
            .unwrap()
            .pipeline,
        Pipeline::Sdk
    );
    assert_eq!(
        config(&[(OTEL_TRACES_EXPORTER, "otlp,console")])
            .unwrap()
            .pipeline,
        Pipeline::Sdk
    );
    assert_eq!(
        config(&[(TRACED_PIPELINE, "")]).unwrap().pipeline,
        Pipeline::Sdk
    );
    assert_eq!(
        config(&[(TRACED_PIPELINE, "sdk")]).unwrap().pipeline,
        Pipeline::Sdk
    );
    assert_eq!(
        config(&[
            (OTEL_TRACES_EXPORTER, "console"),
            (TRACED_PIPELINE, "Traced")
        ])
        .unwrap()
        .pipeline,
        Pipeline::Traced
    );
    assert_eq!(
        err(&[(TRACED_PIPELINE, "fast")]).variable(),
        TRACED_PIPELINE
    );
    let c = lenient(&[(TRACED_PIPELINE, "fast")]);
    assert_eq!(c.pipeline, Pipeline::Sdk);
    assert!(
        c.warnings
            .iter()
            .any(|w| w.contains("TRACED_PIPELINE") && w.ends_with("using `sdk` instead")),
        "{:?}",
        c.warnings
    );
    let c = lenient(&[(TRACED_PIPELINE, "fast"), (OTEL_TRACES_EXPORTER, "console")]);
    assert_eq!(c.pipeline, Pipeline::Sdk);
    let code = Overrides {
        pipeline: Some(Pipeline::Sdk),
        strict: Some(true),
        ..Overrides::default()
    };
    let vars: HashMap<&str, &str> = [(TRACED_PIPELINE, "traced")].into();
    let c = Config::from_lookup(&|name| vars.get(name).map(|v| (*v).to_owned()), &code).unwrap();
    assert_eq!(c.pipeline, Pipeline::Sdk);
}

#[test]
fn span_filter_from_env_and_code() {
    assert!(config(&[]).unwrap().span_filter.is_none());
    let c = config(&[("TRACED_FILTER", " warn, app::db=debug ")]).unwrap();
    let f = c.span_filter.expect("set");
    assert_eq!(f.directives, "warn,app::db=debug");
    assert!(f.filter.enabled("app::db", crate::level::Level::Debug));
    assert!(!f.filter.enabled("app::http", crate::level::Level::Info));

    let e = err(&[("TRACED_FILTER", "app=loud")]);
    assert_eq!(e.variable(), "TRACED_FILTER");
    assert!(e.to_string().contains("filter directives"), "{e}");
    // Lenient: warned about, and the default kept.
    let c = lenient(&[("TRACED_FILTER", "app=loud")]);
    assert!(
        c.warnings.iter().any(|w| w.contains("TRACED_FILTER")),
        "{:?}",
        c.warnings
    );
    assert!(
        c.span_filter
            .unwrap()
            .filter
            .enabled("app", crate::level::Level::Info)
    );

    // Code wins over the environment.
    let code = Overrides {
        strict: Some(true),
        span_filter: Some("off".into()),
        ..Overrides::default()
    };
    let c = Config::from_lookup(
        &|name| (name == "TRACED_FILTER").then(|| "trace".to_owned()),
        &code,
    )
    .unwrap();
    assert!(
        !c.span_filter
            .unwrap()
            .filter
            .enabled("app", crate::level::Level::Error)
    );
}

#[cfg(feature = "tracing")]
#[test]
fn the_span_filter_filters_tracing_too_under_rust_log() {
    let c = config(&[("TRACED_FILTER", "app=debug"), ("RUST_LOG", "app=trace")]).unwrap();
    assert_eq!(c.tracing.filter, "app=debug,app=trace");
    let c = config(&[("TRACED_FILTER", "app=debug")]).unwrap();
    assert_eq!(c.tracing.filter, "app=debug");
    let e = err(&[("RUST_LOG", "app=loud")]);
    assert_eq!(e.variable(), "RUST_LOG");
}
