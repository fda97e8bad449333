//! End to end through a real OpenTelemetry collector on loopback: the
//! example programs export over OTLP (gRPC and HTTP/protobuf), and the
//! collector's log says what it received.

mod support;

use std::time::{Duration, Instant};

use support::collector::{Collector, ReceivedSpan, Typed};
use support::examples::run;

fn by_name<'a>(spans: &'a [ReceivedSpan], name: &str) -> Vec<&'a ReceivedSpan> {
    spans.iter().filter(|s| s.name == name).collect()
}

fn attr<'a>(span: &'a ReceivedSpan, key: &str) -> Option<&'a Typed> {
    span.attributes
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

fn check_quickstart(spans: &[ReceivedSpan]) {
    assert_eq!(spans.len(), 8, "two traces of a -> b -> c -> d: {spans:#?}");
    for span in spans {
        assert!(
            span.resource
                .iter()
                .any(|(k, v)| k == "service.name" && *v == Typed::Str("quickstart".into())),
            "service.name on {}: {:?}",
            span.name,
            span.resource
        );
        assert_eq!(span.kind, "Internal", "{}", span.name);
    }
    let roots = by_name(spans, "a");
    assert_eq!(roots.len(), 2);
    for root in roots {
        assert_eq!(root.parent_id, "", "a is a root");
        let trace: Vec<&ReceivedSpan> = spans
            .iter()
            .filter(|s| s.trace_id == root.trace_id)
            .collect();
        assert_eq!(trace.len(), 4);
        let find = |name: &str| *trace.iter().find(|s| s.name == name).expect(name);
        let (b, c, d) = (find("b"), find("c"), find("d"));
        assert_eq!(b.parent_id, root.span_id);
        assert_eq!(c.parent_id, b.span_id);
        assert_eq!(d.parent_id, c.span_id);
        assert_eq!(attr(d, "dividend"), Some(&Typed::Int(10)));
        assert_eq!(
            attr(c, "calc.operation"),
            Some(&Typed::Str("divide".into()))
        );
        assert_eq!(
            attr(d, "code.function.name"),
            Some(&Typed::Str("quickstart::d".into()))
        );
        match attr(root, "divisor") {
            Some(Typed::Int(0)) => {
                for span in [root, b, c, d] {
                    assert_eq!(span.status_code, "Error", "{} failed", span.name);
                }
                let exception = d
                    .events
                    .iter()
                    .find(|e| e.name == "exception")
                    .expect("exception event on d");
                let get = |k: &str| {
                    exception
                        .attributes
                        .iter()
                        .find(|(key, _)| key == k)
                        .map(|(_, v)| v.clone())
                };
                assert_eq!(
                    get("exception.message"),
                    Some(Typed::Str("cannot divide 10 by zero".into()))
                );
                assert_eq!(
                    get("exception.type"),
                    Some(Typed::Str("quickstart::MathError".into()))
                );
            }
            Some(Typed::Int(2)) => {
                for span in [root, b, c, d] {
                    assert_eq!(span.status_code, "Unset", "{} succeeded", span.name);
                }
                assert_eq!(attr(d, "return"), Some(&Typed::Int(5)));
            }
            other => panic!("unexpected divisor {other:?}"),
        }
    }
}

#[test]
fn quickstart_over_grpc() {
    let collector = Collector::start();
    let out = run(
        "quickstart",
        &[],
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.grpc_endpoint())],
    );
    assert!(
        out.status.success(),
        "quickstart failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    check_quickstart(&collector.wait_for_spans(8, Duration::from_secs(20)));
}

#[test]
fn quickstart_over_http_protobuf() {
    let collector = Collector::start();
    let out = run(
        "quickstart",
        &[],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.http_endpoint()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ],
    );
    assert!(
        out.status.success(),
        "quickstart failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    check_quickstart(&collector.wait_for_spans(8, Duration::from_secs(20)));
}

#[test]
fn the_talks_environment_unchanged() {
    // The talk's Dockerfile: a scheme-less endpoint and INSECURE=true.
    let collector = Collector::start();
    let endpoint = collector
        .grpc_endpoint()
        .trim_start_matches("http://")
        .to_owned();
    let out = run(
        "quickstart",
        &[],
        &[
            ("OTEL_SERVICE_NAME", "ignored-because-code-sets-it"),
            ("OTEL_TRACES_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_EXPORTER_OTLP_INSECURE", "true"),
        ],
    );
    assert!(
        out.status.success(),
        "quickstart failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        collector.wait_for_spans(8, Duration::from_secs(20)).len(),
        8
    );
}

#[test]
fn graceful_shutdown_delivers_every_span() {
    let collector = Collector::start();
    let out = run(
        "burst",
        &["10000"],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.grpc_endpoint()),
            ("OTEL_SERVICE_NAME", "burst"),
            // The queue holds the whole burst; shutdown must then send all of it.
            ("OTEL_BSP_MAX_QUEUE_SIZE", "16384"),
        ],
    );
    assert!(
        out.status.success(),
        "burst failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let spans = collector.wait_for_spans(10_000, Duration::from_secs(60));
    let units = by_name(&spans, "unit_of_work");
    assert_eq!(units.len(), 10_000, "every finished span arrives");
    let mut indexes: Vec<i64> = units
        .iter()
        .map(|s| match attr(s, "index") {
            Some(Typed::Int(i)) => *i,
            other => panic!("index: {other:?}"),
        })
        .collect();
    indexes.sort_unstable();
    indexes.dedup();
    assert_eq!(indexes.len(), 10_000, "no span twice, none missing");
}

/// The same programs on the SDK's pipeline (`TRACED_PIPELINE=sdk`; ours
/// is `init`'s default for OTLP): the same spans reach the collector.
#[test]
fn quickstart_over_grpc_on_the_sdk_pipeline() {
    let collector = Collector::start();
    let out = run(
        "quickstart",
        &[],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.grpc_endpoint()),
            ("TRACED_PIPELINE", "sdk"),
        ],
    );
    assert!(
        out.status.success(),
        "quickstart failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    check_quickstart(&collector.wait_for_spans(8, Duration::from_secs(20)));
}

#[test]
fn quickstart_over_http_protobuf_on_the_sdk_pipeline() {
    let collector = Collector::start();
    let out = run(
        "quickstart",
        &[],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.http_endpoint()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("TRACED_PIPELINE", "sdk"),
        ],
    );
    assert!(
        out.status.success(),
        "quickstart failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    check_quickstart(&collector.wait_for_spans(8, Duration::from_secs(20)));
}

/// `OTEL_EXPORTER_OTLP_COMPRESSION=gzip` on both transports of our
/// pipeline's own exporters (and, for comparison, the SDK's): the
/// collector decompresses the same spans.
#[test]
fn gzip_over_both_transports_on_both_pipelines() {
    for pipeline in ["traced", "sdk"] {
        for protocol in ["grpc", "http/protobuf"] {
            let collector = Collector::start();
            let endpoint = if protocol == "grpc" {
                collector.grpc_endpoint()
            } else {
                collector.http_endpoint()
            };
            let out = run(
                "quickstart",
                &[],
                &[
                    ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
                    ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
                    ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
                    ("TRACED_PIPELINE", pipeline),
                ],
            );
            assert!(
                out.status.success(),
                "{pipeline}, {protocol}: quickstart failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            check_quickstart(&collector.wait_for_spans(8, Duration::from_secs(20)));
        }
    }
}

#[test]
fn graceful_shutdown_delivers_every_span_on_our_pipeline() {
    burst_on_our_pipeline(&[]);
}

/// The same with small batches, four of them in flight at once over one
/// gRPC connection: each span still arrives exactly once.
#[test]
fn concurrent_exports_deliver_every_span_once_on_our_pipeline() {
    burst_on_our_pipeline(&[
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "64"),
        ("OTEL_BSP_MAX_CONCURRENT_EXPORTS", "4"),
    ]);
}

/// The burst example's 10,000 spans on our pipeline with `extra` in the
/// environment: every finished span reaches the collector, once.
fn burst_on_our_pipeline(extra: &[(&str, &str)]) {
    let collector = Collector::start();
    let endpoint = collector.grpc_endpoint();
    let mut env = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_SERVICE_NAME", "burst"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "16384"),
        ("TRACED_PIPELINE", "traced"),
    ];
    env.extend_from_slice(extra);
    let out = run("burst", &["10000"], &env);
    assert!(
        out.status.success(),
        "burst failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let spans = collector.wait_for_spans(10_000, Duration::from_secs(60));
    let units = by_name(&spans, "unit_of_work");
    assert_eq!(units.len(), 10_000, "every finished span arrives");
    let mut indexes: Vec<i64> = units
        .iter()
        .map(|s| match attr(s, "index") {
            Some(Typed::Int(i)) => *i,
            other => panic!("index: {other:?}"),
        })
        .collect();
    indexes.sort_unstable();
    indexes.dedup();
    assert_eq!(indexes.len(), 10_000, "no span twice, none missing");
}

#[test]
fn a_collector_that_is_down_costs_spans_not_the_application() {
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    for protocol in ["grpc", "http/protobuf"] {
        let started = Instant::now();
        let out = run(
            "burst",
            &["2000"],
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
                ("OTEL_EXPORTER_OTLP_TIMEOUT", "1000"),
                ("OTEL_BSP_EXPORT_TIMEOUT", "2000"),
            ],
        );
        let took = started.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{protocol}: the application must finish normally: {stderr}"
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("emitted 2000 spans"));
        // Bounded by the export timeouts, not by the number of spans.
        assert!(took < Duration::from_secs(30), "{protocol}: took {took:?}");
        assert!(
            stderr.contains("traced:"),
            "{protocol}: the failed export is reported: {stderr:?}"
        );
    }
}

#[test]
fn a_collector_that_stops_mid_run() {
    let mut collector = Collector::start();
    let endpoint = collector.grpc_endpoint();
    let child = std::thread::spawn(move || {
        run(
            "burst",
            &["3000", "50"],
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
                ("OTEL_BSP_SCHEDULE_DELAY", "100"),
                ("OTEL_EXPORTER_OTLP_TIMEOUT", "1000"),
            ],
        )
    });
    let before = collector.wait_for_spans(1, Duration::from_secs(20)).len();
    assert!(
        before > 0,
        "some spans arrived before the collector stopped"
    );
    collector.stop();
    let out = child.join().expect("runner thread");
    assert!(
        out.status.success(),
        "the application finishes normally: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn init_and_shutdown_inside_tokio_runtimes() {
    // The gRPC exporter needs a reactor of its own; a blocking shutdown on a
    // current-thread runtime must not deadlock; the blocking HTTP client
    // must not be built or dropped on a runtime thread.
    let collector = Collector::start();
    let mut expected = 0;
    for flavour in ["current-thread", "multi-thread"] {
        for (protocol, endpoint) in [
            ("grpc", collector.grpc_endpoint()),
            ("http/protobuf", collector.http_endpoint()),
        ] {
            let started = Instant::now();
            let out = run(
                "burst",
                &["50", "0", flavour],
                &[
                    ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
                    ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
                ],
            );
            assert!(
                out.status.success(),
                "{flavour}/{protocol}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{flavour}/{protocol}: no deadlock"
            );
            expected += 50;
        }
    }
    assert_eq!(
        collector
            .wait_for_spans(expected, Duration::from_secs(20))
            .len(),
        expected
    );
}

#[test]
fn disabled_sdk_creates_no_spans() {
    let collector = Collector::start();
    let out = run(
        "quickstart",
        &[],
        &[
            ("OTEL_SDK_DISABLED", "true"),
            ("OTEL_RESOURCE_ATTRIBUTES", "test.run=disabled"),
            ("OTEL_TRACES_EXPORTER", "otlp,console"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.grpc_endpoint()),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("a(2) = Ok(11)"),
        "the program still runs: {stdout}"
    );
    assert!(
        !stdout.contains("trace "),
        "no console trace when disabled: {stdout}"
    );
    // Not "nothing arrived within a while": the same program, enabled, then
    // sends to the same collector, and its spans must be all that arrived.
    let out = run(
        "quickstart",
        &[],
        &[
            ("OTEL_RESOURCE_ATTRIBUTES", "test.run=enabled"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.grpc_endpoint()),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let spans = collector.wait_for_spans(8, Duration::from_secs(20));
    assert_eq!(
        spans.len(),
        8,
        "the enabled run's 8 spans and nothing from the disabled one: {spans:#?}"
    );
    for span in &spans {
        assert_eq!(
            span.resource_attr("test.run"),
            Some(&Typed::Str("enabled".into())),
            "no span exported when disabled: {span:#?}"
        );
    }
}
