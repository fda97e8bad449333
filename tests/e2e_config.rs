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
        // Lenient first (ours run strict unless told otherwise).
        let mut env = vec![(variable, value), ("TRACED_CONFIG_STRICT", "false")];
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

/// `OTEL_PROPAGATORS=tracecontext,baggage,b3` starts, and one trace crosses
/// two processes in both formats: this test sends a request with only a
/// `b3` header (then only a `traceparent`) to the `w3c_service` example,
/// which calls back a local server; the callback carries the same trace in
/// `traceparent` and in `b3`, with the same span id.
#[test]
fn b3_and_tracecontext_propagate_across_two_processes() {
    use std::process::Stdio;
    use std::time::Duration;

    use axum::Router;
    use axum::extract::State;
    use axum::http::HeaderMap;
    use axum::routing::post;
    use support::{examples, wait};
    use tokio::sync::mpsc;

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const PARENT: &str = "00f067aa0ba902b7";

    let mut child = examples::command("w3c_service")
        .args(["--port", "0"])
        .env("OTEL_PROPAGATORS", "tracecontext,baggage,b3")
        .env("TRACED_CONFIG_STRICT", "true")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the w3c_service example");
    let line = wait::first_line(
        child.stdout.take().expect("stdout"),
        Duration::from_secs(30),
        "the w3c_service example",
    );
    let addr = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("the service printed {line:?}"))
        .to_owned();

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let seen = rt.block_on(async {
        let (tx, mut rx) = mpsc::unbounded_channel::<HeaderMap>();
        async fn record(State(tx): State<mpsc::UnboundedSender<HeaderMap>>, headers: HeaderMap) {
            let _ = tx.send(headers);
        }
        let app = Router::new().route("/cb", post(record)).with_state(tx);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let callback = format!("http://{}/cb", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let mut seen = Vec::new();
        for (name, value) in [
            ("b3", format!("{TRACE}-{PARENT}-1")),
            ("traceparent", format!("00-{TRACE}-{PARENT}-01")),
        ] {
            let body = serde_json::json!([{ "url": callback, "arguments": [] }]);
            let response = client
                .post(format!("http://{addr}/test"))
                .header(name, value)
                .json(&body)
                .send()
                .await
                .expect("the service answers");
            assert!(response.status().is_success(), "{}", response.status());
            let headers = tokio::time::timeout(Duration::from_secs(5), rx.recv())
                .await
                .expect("a callback within 5 s")
                .expect("the callback server runs");
            seen.push((name, headers));
        }
        seen
    });
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    wait::exit(
        &mut child,
        Duration::from_secs(10),
        "the w3c_service example",
    );

    for (sent, headers) in seen {
        let get = |k: &str| {
            headers
                .get(k)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_else(|| panic!("sent {sent}: no {k} in {headers:?}"))
                .to_owned()
        };
        let traceparent = get("traceparent");
        let b3 = get("b3");
        let tp: Vec<&str> = traceparent.split('-').collect();
        let b: Vec<&str> = b3.split('-').collect();
        assert_eq!(tp[1], TRACE, "sent {sent}: {traceparent}");
        assert_eq!(b[0], TRACE, "sent {sent}: {b3}");
        assert_eq!(tp[2], b[1], "one span id in both: {traceparent} {b3}");
        assert_ne!(b[1], PARENT, "a child span of the caller's");
        assert_eq!(b[2], "1", "sampled: {b3}");
    }
}
