//! #26: a first program with no collector says once, in one line, what to
//! do, however many batches fail, and nothing else on stderr.

use std::process::Command;

/// Set in the child process, which runs `init()` against a port nothing
/// listens on.
const CHILD: &str = "TRACED_FIRST_FAILURE_CHILD";

/// Batches the child exports, each of `PER_BATCH` spans, then one more span
/// exported at shutdown.
const BATCHES: u64 = 4;
const PER_BATCH: u64 = 3;

#[traced::traced]
fn handle(n: u64) -> u64 {
    n + 1
}

#[test]
fn no_collector_is_said_once_in_one_line() {
    if std::env::var_os(CHILD).is_some() {
        let telemetry = traced::init().expect("init");
        for batch in 0..BATCHES {
            for n in 0..PER_BATCH {
                handle(batch * 10 + n);
            }
            assert!(telemetry.flush().is_err(), "no collector: the export fails");
        }
        handle(99);
        drop(telemetry);
        println!("dropped={}", traced::dropped_spans());
        return;
    }
    // A port nothing listens on: bound by the system, then let go. The
    // user's default, localhost:4317, may be taken on this machine.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let mut child = Command::new(std::env::current_exe().unwrap());
    child
        .args([
            "--exact",
            "no_collector_is_said_once_in_one_line",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint);
    for (name, _) in std::env::vars() {
        if name.starts_with("OTEL_") && name != "OTEL_EXPORTER_OTLP_ENDPOINT"
            // The pipeline is inherited: CI runs this on each.
            || name.starts_with("TRACED_") && name != "TRACED_PIPELINE"
            || name == "RUST_LOG"
        {
            child.env_remove(name);
        }
    }
    let out = child.output().expect("the test binary runs again");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let dropped: u64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("dropped="))
        .unwrap_or_else(|| panic!("the child ran: {stdout}"))
        .parse()
        .unwrap();
    assert_eq!(dropped, BATCHES * PER_BATCH + 1, "every batch failed");
    let ours: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("traced:"))
        .collect();
    assert_eq!(
        ours,
        [format!(
            "traced: no collector at {endpoint} (connection refused), so spans are dropped; \
             start `traced-view` to see them, or set OTEL_TRACES_EXPORTER=console to print them \
             (said once until an export succeeds)"
        )],
        "one line, once: {stderr}"
    );
    assert!(
        !stderr.contains("os error") && !stderr.contains("transport error"),
        "no raw transport error: {stderr}"
    );
}
