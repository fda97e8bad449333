//! Regressions for #26, "traced-view": a user installs it and points an
//! application at it. It says what it is (`--version`, `--help`), takes
//! traces, logs and metrics over gRPC and HTTP alike, and shows a span's
//! log records beside its events, in the terminal and on the page.

mod common;

use std::process::Command;

use common::{http, start};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message as _;

const TRACE: [u8; 16] = [0xab; 16];
const SPAN: [u8; 8] = [0xcd; 8];
const T0: u64 = 1_700_000_000_000_000_000;

fn resource() -> Option<Resource> {
    Some(Resource {
        attributes: vec![KeyValue {
            key: "service.name".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue("shop".into())),
            }),
            ..Default::default()
        }],
        ..Default::default()
    })
}

fn checkout() -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource(),
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    trace_id: TRACE.to_vec(),
                    span_id: SPAN.to_vec(),
                    name: "checkout".into(),
                    start_time_unix_nano: T0,
                    end_time_unix_nano: T0 + 10_000_000,
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn logs(records: Vec<LogRecord>) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: resource(),
            scope_logs: vec![ScopeLogs {
                log_records: records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn record(body: &str, severity: &str, trace: &[u8], span: &[u8], at_ms: u64) -> LogRecord {
    LogRecord {
        time_unix_nano: T0 + at_ms * 1_000_000,
        severity_text: severity.into(),
        body: Some(AnyValue {
            value: Some(any_value::Value::StringValue(body.into())),
        }),
        attributes: vec![KeyValue {
            key: "card".into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue("visa".into())),
            }),
            ..Default::default()
        }],
        trace_id: trace.to_vec(),
        span_id: span.to_vec(),
        ..Default::default()
    }
}

#[tokio::test]
async fn logs_over_grpc_and_http_are_shown_beside_their_span() {
    let (viewer, printed) = start().await;
    let grpc = format!("http://{}", viewer.grpc_addr().unwrap());
    TraceServiceClient::connect(grpc.clone())
        .await
        .unwrap()
        .export(checkout())
        .await
        .expect("a span over gRPC");
    // What an application with the `tracing` feature sends: before #26,
    // `UNIMPLEMENTED`.
    let answer = LogsServiceClient::connect(grpc)
        .await
        .unwrap()
        .export(logs(vec![record(
            "card declined",
            "WARN",
            &TRACE,
            &SPAN,
            2,
        )]))
        .await
        .expect("a log record over gRPC")
        .into_inner();
    assert_eq!(answer.partial_success, None);

    let addr = viewer.http_addr().unwrap();
    let protobuf = logs(vec![
        record("retrying", "INFO", &TRACE, &SPAN, 5),
        // A record of no trace is taken, counted, not kept.
        record("started", "INFO", &[], &[], 0),
    ]);
    let answer = http(
        addr,
        &format!("POST /v1/logs HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-protobuf"),
        &protobuf.encode_to_vec(),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let json = format!(
        r#"{{"resourceLogs":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"shop"}}}}]}},
        "scopeLogs":[{{"logRecords":[{{"timeUnixNano":"{}","severityNumber":17,
        "body":{{"stringValue":"gave up"}},"traceId":"{}","spanId":"{}"}}]}}]}}]}}"#,
        T0 + 8_000_000,
        hex(&TRACE),
        hex(&SPAN)
    );
    let answer = http(
        addr,
        &format!("POST /v1/logs HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json"),
        json.as_bytes(),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());

    // The page's JSON: the records under their span, in time order.
    let ui = viewer.ui_addr().unwrap();
    let trace = http(
        ui,
        &format!("GET /api/traces/{} HTTP/1.1\r\nHost: {ui}", hex(&TRACE)),
        b"",
    )
    .await
    .json();
    let logs = &trace["spans"][0]["logs"];
    let shown: Vec<(&str, &str)> = logs
        .as_array()
        .expect("the span's logs")
        .iter()
        .map(|l| (l["severity"].as_str().unwrap(), l["body"].as_str().unwrap()))
        .collect();
    assert_eq!(
        shown,
        [
            ("WARN", "card declined"),
            ("INFO", "retrying"),
            ("ERROR", "gave up")
        ],
        "{trace}"
    );
    assert_eq!(logs[0]["offset_ns"], 2_000_000);
    assert_eq!(logs[0]["attributes"][0][0], "card");
    assert_eq!(trace["summary"]["logs"], 3);
    // A record's text is searched too.
    let list = http(
        ui,
        &format!("GET /api/traces?q=declined HTTP/1.1\r\nHost: {ui}"),
        b"",
    )
    .await;
    let list = list.json();
    assert_eq!(list["traces"][0]["trace_id"], hex(&TRACE), "{list}");
    assert_eq!(list["stats"]["logs_received"], 4);
    assert_eq!(list["stats"]["logs_without_trace"], 1);

    // The terminal: among the span's events.
    viewer.flush();
    let text = printed.text();
    let lines: Vec<&str> = text.lines().map(str::trim_start).collect();
    let at = |needle: &str| {
        lines
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in\n{text}"))
    };
    let (span, warn, info, error) = (
        at("checkout"),
        at("◆ log WARN card declined +2.00ms"),
        at("◆ log INFO retrying"),
        at("◆ log ERROR gave up"),
    );
    assert!(span < warn && warn < info && info < error, "{text}");
    assert!(lines[warn].contains(r#"card="visa""#), "{text}");
    viewer.shutdown().await;
}

#[tokio::test]
async fn metrics_over_grpc_and_http_are_taken() {
    let (viewer, _) = start().await;
    let point = |v| NumberDataPoint {
        value: Some(number_data_point::Value::AsInt(v)),
        ..Default::default()
    };
    let request = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource(),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: "orders".into(),
                    data: Some(metric::Data::Sum(Sum {
                        data_points: vec![point(1), point(2)],
                        ..Default::default()
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    MetricsServiceClient::connect(format!("http://{}", viewer.grpc_addr().unwrap()))
        .await
        .unwrap()
        .export(request.clone())
        .await
        .expect("metrics over gRPC");
    let addr = viewer.http_addr().unwrap();
    let answer = http(
        addr,
        &format!(
            "POST /v1/metrics HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-protobuf"
        ),
        &request.encode_to_vec(),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let json = serde_json::to_string(&request).unwrap();
    let answer = http(
        addr,
        &format!("POST /v1/metrics HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json"),
        json.as_bytes(),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.text(), "{}");
    let ui = viewer.ui_addr().unwrap();
    let list = http(ui, &format!("GET /api/traces HTTP/1.1\r\nHost: {ui}"), b"")
        .await
        .json();
    assert_eq!(list["exports"]["metrics"], 3, "{list}");
    assert_eq!(list["exports"]["metric_points"], 6, "{list}");
    viewer.shutdown().await;
}

#[test]
fn version_and_help_come_from_the_installed_binary() {
    let run = |arg: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_traced-view"))
            .arg(arg)
            .output()
            .expect("run traced-view");
        assert!(out.status.success(), "{arg}: {out:?}");
        String::from_utf8(out.stdout).expect("UTF-8")
    };
    let version = run("--version");
    assert_eq!(
        version,
        format!("traced-view {}\n", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(run("-V"), version);
    let help = run("--help");
    assert!(
        help.starts_with("traced-view: receive OTLP traces, logs and metrics"),
        "{help}"
    );
    for option in [
        "--grpc",
        "--http",
        "--ui",
        "--max-memory",
        "--version",
        "--help",
    ] {
        assert!(help.contains(option), "{option} in\n{help}");
    }
    assert_eq!(run("-h"), help);
    let wrong = Command::new(env!("CARGO_BIN_EXE_traced-view"))
        .arg("--frobnicate")
        .output()
        .expect("run traced-view");
    assert_eq!(wrong.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&wrong.stderr),
        "traced-view: unknown option `--frobnicate`; see --help\n"
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
