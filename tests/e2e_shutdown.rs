//! Graceful shutdown (#16): SIGTERM while requests are in flight lets them
//! finish and every span of a completed request reaches the collector,
//! though the batch processor would not have exported them yet; a second
//! signal stops the process at once. Every example server stops that way
//! (#25): SIGTERM is how orchestrators stop a service.

mod support;

use std::io::{BufRead as _, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::collector::Collector;
use support::{examples, wait};

const REQUESTS: usize = 20;
const TIMEOUT: Duration = Duration::from_secs(30);

/// Every line `from` prints, as it prints them.
fn lines(from: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits for lines until `count` of them satisfy `wanted`; the last
/// matching line.
fn wait_lines(
    rx: &mpsc::Receiver<String>,
    count: usize,
    what: &str,
    wanted: impl Fn(&str) -> bool,
) -> String {
    let deadline = Instant::now() + TIMEOUT;
    let mut seen = 0;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if wanted(&line) => {
                seen += 1;
                if seen == count {
                    return line;
                }
            }
            Ok(_) => {}
            Err(_) => panic!("{what}: saw {seen} of {count} lines within {TIMEOUT:?}"),
        }
    }
}

/// A running example: the process, its `host:port`, and its stdout and
/// stderr line by line.
type Started = (
    Child,
    String,
    mpsc::Receiver<String>,
    mpsc::Receiver<String>,
);

/// Starts the example `name` with `args` and `env` and waits until it
/// prints `listening on <addr>`.
fn start_example(name: &str, args: &[&str], env: &[(&str, &str)]) -> Started {
    let mut command = examples::command(name);
    command
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("start the {name} example: {e}"));
    let stdout = lines(child.stdout.take().expect("stdout"));
    let stderr = lines(child.stderr.take().expect("stderr"));
    let line = wait_lines(&stdout, 1, &format!("{name}'s address"), |l| {
        l.starts_with("listening on ")
    });
    let addr = line.trim_start_matches("listening on ").to_owned();
    (child, addr, stdout, stderr)
}

/// The graceful example, its base URL, stdout and stderr.
fn start(env: &[(&str, &str)]) -> Started {
    let (child, addr, stdout, stderr) = start_example("graceful", &[], env);
    (child, format!("http://{addr}"), stdout, stderr)
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{name} failed");
}

#[test]
fn sigterm_during_load_keeps_every_completed_span() {
    let collector = Collector::start();
    let (mut child, base, stdout, _stderr) = start(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.grpc_endpoint()),
        // Far longer than the test: only the flush at shutdown exports.
        ("OTEL_BSP_SCHEDULE_DELAY", "600000"),
    ]);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .expect("client");
    let requests: Vec<_> = (0..REQUESTS)
        .map(|_| {
            let (client, url) = (client.clone(), format!("{base}/work"));
            rt.spawn(async move {
                let response = client.get(url).send().await?;
                Ok::<_, reqwest::Error>((response.status().as_u16(), response.text().await?))
            })
        })
        .collect();
    // Every request is being served: now the signal.
    wait_lines(&stdout, REQUESTS, "requests in flight", |l| l == "working");
    signal(&child, "TERM");

    for request in requests {
        let (status, body) = rt
            .block_on(request)
            .expect("task")
            .expect("a request in flight completes after SIGTERM");
        assert_eq!((status, body.as_str()), (200, "done"));
    }
    let status = wait::exit(&mut child, TIMEOUT, "the graceful example after SIGTERM");
    assert!(status.success(), "exit status {status:?}");

    let spans = collector.wait_for_spans(3 * REQUESTS, TIMEOUT);
    let named = |name: &str| spans.iter().filter(|s| s.name == name).count();
    assert_eq!(named("GET /work"), REQUESTS, "server spans");
    assert_eq!(named("work"), REQUESTS, "handler spans");
    assert_eq!(named("store"), REQUESTS, "client spans");
    for work in spans.iter().filter(|s| s.name == "work") {
        assert!(
            spans
                .iter()
                .any(|s| s.name == "GET /work" && s.span_id == work.parent_id),
            "`work` under its server span: {work:?}"
        );
    }
}

#[test]
fn a_second_signal_stops_at_once() {
    let (mut child, base, stdout, stderr) = start(&[("OTEL_TRACES_EXPORTER", "none")]);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let client = reqwest::Client::new();
    // A request that never completes keeps the graceful stop waiting.
    let _hanging = rt.spawn(async move { client.get(format!("{base}/hang")).send().await });
    wait_lines(&stdout, 1, "the hanging request", |l| l == "hanging");

    signal(&child, "TERM");
    wait_lines(&stderr, 1, "the first signal's message", |l| {
        l.contains("SIGTERM received; finishing")
    });
    assert!(
        child.try_wait().expect("wait").is_none(),
        "the first signal must wait for the request in flight"
    );
    signal(&child, "TERM");
    let status = wait::exit(
        &mut child,
        Duration::from_secs(10),
        "the graceful example after a second SIGTERM",
    );
    assert_eq!(status.code(), Some(143), "{status:?}");
}

/// How the load test calls an example server.
enum Load {
    /// `POST {path}` with a JSON `body`, [`LOAD_REQUESTS`] times.
    Http {
        path: &'static str,
        body: &'static str,
    },
    /// The gRPC example's own client (`--connect`), [`GRPC_VISITS`] times;
    /// each visit makes three calls, so three server spans.
    GrpcVisits,
}

/// An example server: how to start it, how to load it, and how the names
/// of its server spans start.
struct ExampleServer {
    example: &'static str,
    args: &'static [&'static str],
    load: Load,
    server_span: &'static str,
}

const LOAD_REQUESTS: usize = 100;
const GRPC_VISITS: usize = 4;

const EXAMPLE_SERVERS: [ExampleServer; 4] = [
    ExampleServer {
        example: "login",
        args: &["app", "--port", "0"],
        load: Load::Http {
            path: "/login",
            body: r#"{"user": "ana", "password": "guess"}"#,
        },
        server_span: "POST /login",
    },
    ExampleServer {
        example: "tasks",
        args: &["--serve", "0"],
        load: Load::Http {
            path: "/tasks",
            body: r#"{"title": "write docs"}"#,
        },
        server_span: "POST /tasks",
    },
    ExampleServer {
        example: "w3c_service",
        args: &["--port", "0"],
        load: Load::Http {
            path: "/test",
            body: "[]",
        },
        server_span: "POST /test",
    },
    ExampleServer {
        example: "grpc",
        args: &["--serve", "0"],
        load: Load::GrpcVisits,
        server_span: "traced.demo.Greeter/",
    },
];

/// Sends the load and returns how many server spans it made.
fn load(rt: &tokio::runtime::Runtime, server: &ExampleServer, addr: &str) -> usize {
    match server.load {
        Load::Http { path, body } => {
            let client = reqwest::Client::builder()
                .timeout(TIMEOUT)
                .build()
                .expect("client");
            let url = format!("http://{addr}{path}");
            let requests: Vec<_> = (0..LOAD_REQUESTS)
                .map(|_| {
                    let (client, url) = (client.clone(), url.clone());
                    rt.spawn(async move {
                        client
                            .post(url)
                            .header("content-type", "application/json")
                            .body(body)
                            .send()
                            .await
                            .map(|r| r.status())
                    })
                })
                .collect();
            for request in requests {
                let status = rt.block_on(request).expect("task").unwrap_or_else(|e| {
                    panic!("{}: a request before SIGTERM failed: {e}", server.example)
                });
                // Answered, whatever the answer (the login is refused).
                assert!(!status.is_server_error(), "{}: {status}", server.example);
            }
            LOAD_REQUESTS
        }
        Load::GrpcVisits => {
            for _ in 0..GRPC_VISITS {
                // The client's own spans are not part of the count.
                let out = examples::run(
                    "grpc",
                    &["--connect", addr],
                    &[("OTEL_TRACES_EXPORTER", "none")],
                );
                assert!(
                    out.status.success(),
                    "the gRPC client failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            3 * GRPC_VISITS
        }
    }
}

// Regression for #25: the example servers stopped only on Ctrl-C, so
// SIGTERM (how every orchestrator stops a service) killed them with spans
// still queued. With an export delay far longer than the test, every
// server span that arrives was flushed by the graceful stop.
#[test]
fn every_example_server_stops_on_sigterm_and_flushes() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    for server in &EXAMPLE_SERVERS {
        let collector = Collector::start();
        let endpoint = collector.grpc_endpoint();
        let (mut child, addr, _stdout, stderr) = start_example(
            server.example,
            server.args,
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
                // Far longer than the test: only the flush at shutdown exports.
                ("OTEL_BSP_SCHEDULE_DELAY", "600000"),
            ],
        );
        let expected = load(&rt, server, &addr);
        signal(&child, "TERM");
        let status = wait::exit(
            &mut child,
            TIMEOUT,
            &format!("the {} example after SIGTERM", server.example),
        );
        assert!(
            status.success(),
            "{}: exit status {status:?}",
            server.example
        );
        wait_lines(&stderr, 1, "the signal's message", |l| {
            l.contains("SIGTERM received; finishing")
        });

        let spans = collector.wait_for_spans(expected, TIMEOUT);
        let server_spans = spans
            .iter()
            .filter(|s| s.name.starts_with(server.server_span) && s.kind == "Server")
            .count();
        assert_eq!(
            server_spans, expected,
            "{}: server spans at the collector",
            server.example
        );
    }
}
