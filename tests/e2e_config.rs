//! The example programs configured from `OTEL_*` variables, without a
//! collector: a bad value is a warning naming the variable and the program
//! runs on the default (strict, it is the error), and the console exporter
//! prints the tasks example's trace.

mod support;

use support::examples::run;

#[test]
fn bad_environment_values_are_warnings_or_strict_errors_that_name_the_variable() {
    for (variable, value, expected) in [
        (
            "OTEL_TRACES_EXPORTER",
            "kafka",
            "`otlp`, `console` and `none`",
        ),
        ("OTEL_TRACES_SAMPLER", "sometimes", "parentbased_always_on"),
        ("OTEL_TRACES_SAMPLER_ARG", "2", "0.0 to 1.0"),
        (
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            "udp",
            "`grpc`, `http/protobuf` or `http/json`",
        ),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "ten", "milliseconds"),
        ("OTEL_SDK_DISABLED", "yes", "`true` or `false`"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "-1", "greater than 0"),
        ("OTEL_RESOURCE_ATTRIBUTES", "novalue", "key=value"),
        ("OTEL_PROPAGATORS", "xray", "not supported"),
        ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "big", "whole number"),
    ] {
        let mut env = vec![(variable, value)];
        if variable != "OTEL_TRACES_EXPORTER" {
            env.push(("OTEL_TRACES_EXPORTER", "console"));
        }
        if variable == "OTEL_TRACES_SAMPLER_ARG" {
            env.push(("OTEL_TRACES_SAMPLER", "traceidratio"));
        }
        let names = |stderr: &str| {
            stderr.contains(variable)
                && stderr.contains(&format!("{value:?}"))
                && stderr.contains(expected)
        };
        let out = run("quickstart", &[], &env);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{variable}={value} must start: {stderr}"
        );
        assert!(names(&stderr), "{variable}={value}: {stderr}");
        assert!(stderr.contains("instead"), "{variable}={value}: {stderr}");
        assert_eq!(stderr.matches(variable).count(), 1, "warned once: {stderr}");

        env.push(("TRACED_CONFIG_STRICT", "true"));
        let out = run("quickstart", &[], &env);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "strict, {variable}={value} must fail"
        );
        assert!(names(&stderr), "{variable}={value}: {stderr}");
    }
}

#[test]
fn tasks_example_adds_the_record_inserted_event() {
    let out = run(
        "tasks",
        &[],
        &[("OTEL_TRACES_EXPORTER", "console"), ("NO_COLOR", "1")],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "tasks failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("201 Created"), "{stdout}");
    assert_eq!(stdout.matches("◆ record inserted").count(), 2, "{stdout}");
    assert!(
        stdout.contains("task.id=1") && stdout.contains("task.id=2"),
        "{stdout}"
    );
    assert!(stdout.contains("INSERT tasks [client]"), "{stdout}");
    assert!(stdout.contains("POST /tasks [server]"), "{stdout}");
}
