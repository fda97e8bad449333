//! The gRPC example as two real processes, a Greeter server and a client,
//! each exporting over OTLP to a real collector: the client's visit is one
//! trace across the process boundary, with the RPC conventions on both
//! sides.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::collector::{Collector, ReceivedSpan, Typed};
use support::{examples, wait};

/// How long the server may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the server may take to flush and exit after SIGINT.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// The example's server, stopped with SIGINT so that it flushes; killed if
/// the test fails before that.
struct GrpcServer {
    child: Option<Child>,
    addr: String,
}

impl GrpcServer {
    fn start(collector: &Collector) -> GrpcServer {
        let mut child = examples::command("grpc")
            .args(["--serve", "0"])
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", collector.grpc_endpoint())
            .env("OTEL_BSP_SCHEDULE_DELAY", "100")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the gRPC server");
        let line = wait::first_line(
            child.stdout.take().expect("stdout"),
            START_TIMEOUT,
            "the gRPC server",
        );
        let Some(addr) = line.strip_prefix("listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the server printed {line:?}, not its address");
        };
        GrpcServer {
            child: Some(child),
            addr: addr.to_owned(),
        }
    }

    fn stop(mut self) {
        let mut child = self.child.take().expect("a running server");
        let pid = child.id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let status = wait::exit(&mut child, STOP_TIMEOUT, "the gRPC server after SIGINT");
        assert!(status.success(), "the server exited with {status}");
    }
}

impl Drop for GrpcServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn service(span: &ReceivedSpan) -> &str {
    span.resource_attr("service.name")
        .and_then(Typed::as_str)
        .unwrap_or_else(|| panic!("no service.name on {span:?}"))
}

fn text<'a>(span: &'a ReceivedSpan, key: &str) -> Option<&'a str> {
    span.attr(key).and_then(Typed::as_str)
}

#[test]
fn a_client_visit_is_one_trace_across_two_processes() {
    let collector = Collector::start();
    let server = GrpcServer::start(&collector);
    let port: i64 = server
        .addr
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .expect("a port");
    let endpoint = collector.grpc_endpoint();
    let out = examples::run(
        "grpc",
        &["--connect", &server.addr],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the client failed: {printed}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(printed.contains("SayHello: hello, ana"), "{printed}");
    assert!(printed.contains("Countdown: [2, 1, 0]"), "{printed}");
    assert!(printed.contains("Fail: NotFound"), "{printed}");
    server.stop();

    // Client: visit + three calls. Server: three calls, `greeting`, three
    // `tick`s.
    let spans = collector.wait_for_spans(11, Duration::from_secs(20));
    let trace = &spans
        .iter()
        .find(|s| s.name == "visit")
        .expect("the client's visit")
        .trace_id;
    let in_trace: Vec<&ReceivedSpan> = spans.iter().filter(|s| &s.trace_id == trace).collect();
    assert_eq!(in_trace.len(), 11, "one trace: {spans:#?}");
    let find = |service_name: &str, name: &str, kind: &str| -> &ReceivedSpan {
        let found: Vec<&&ReceivedSpan> = in_trace
            .iter()
            .filter(|s| service(s) == service_name && s.name == name && s.kind == kind)
            .collect();
        match found.as_slice() {
            [one] => one,
            _ => panic!("one {kind} span {name} of {service_name} in {in_trace:#?}"),
        }
    };
    let visit = find("greeter-client", "visit", "Internal");
    assert!(visit.is_root());
    for (method, code, client_error) in [
        ("SayHello", "OK", false),
        ("Countdown", "OK", false),
        ("Fail", "NOT_FOUND", true),
    ] {
        let name = format!("traced.demo.Greeter/{method}");
        let client = find("greeter-client", &name, "Client");
        let server = find("greeter", &name, "Server");
        assert_eq!(client.parent_id, visit.span_id);
        // Across the process boundary.
        assert_eq!(server.parent_id, client.span_id, "{name}");
        for span in [client, server] {
            assert_eq!(text(span, "rpc.system.name"), Some("grpc"));
            assert_eq!(text(span, "rpc.method"), Some(name.as_str()));
            assert_eq!(text(span, "rpc.response.status_code"), Some(code));
            assert_eq!(text(span, "server.address"), Some("127.0.0.1"));
            assert_eq!(span.attr("server.port"), Some(&Typed::Int(port)));
            assert_eq!(span.scope_name, "traced");
        }
        // NOT_FOUND: the client's error, the caller's business for the
        // server.
        if client_error {
            assert_eq!(client.status_code, "Error");
            assert_eq!(text(client, "error.type"), Some(code));
        } else {
            assert_eq!(client.status_code, "Unset");
        }
        assert_eq!(server.status_code, "Unset", "{name}");
        assert_eq!(text(server, "error.type"), None);
    }
    let say_hello = find("greeter", "traced.demo.Greeter/SayHello", "Server");
    let greeting = find("greeter", "greeting", "Internal");
    assert_eq!(greeting.parent_id, say_hello.span_id);
    assert!(greeting.event("greeting composed").is_some());
    let countdown = find("greeter", "traced.demo.Greeter/Countdown", "Server");
    let ticks: Vec<&&ReceivedSpan> = in_trace.iter().filter(|s| s.name == "tick").collect();
    assert_eq!(ticks.len(), 3);
    for tick in ticks {
        assert_eq!(
            tick.parent_id, countdown.span_id,
            "made inside the stream's span"
        );
    }
}
