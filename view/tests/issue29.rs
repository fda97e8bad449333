//! Regressions for #29, "See them": `traced-view` receives the duration
//! histograms and shows, per service and per function or route, the rate,
//! the error ratio and p50/p95/p99, in the terminal and on the page, each
//! figure linked to an exemplar trace.
//!
//! The figures expected are worked out by hand in the comments: the
//! percentiles interpolate linearly inside the bucket the rank falls in.

mod common;

use common::{field, grpc, http, start};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Exemplar, Histogram, HistogramDataPoint, Metric, ResourceMetrics,
    ScopeMetrics, exemplar, metric,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message as _;
use serde_json::Value;
use tonic::Code;

const S: u64 = 1_000_000_000;
const T0: u64 = 1_700_000_000 * S;
/// The runtime's bounds, in seconds: bucket 1 is (5ms, 10ms], bucket 2
/// (10ms, 25ms], bucket 3 (25ms, 50ms], bucket 7 (250ms, 500ms].
const BOUNDS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];
const METRICS: &str = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";

/// Exemplar traces: a fast checkout, a slower one, a checkout that timed
/// out, a failed `GET /users/{id}`.
const FAST: u8 = 0xa1;
const SLOWER: u8 = 0xb2;
const TIMED_OUT: u8 = 0xe3;
const FAILED_GET: u8 = 0xc4;

fn text(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
        ..Default::default()
    }
}

fn int(key: &str, value: i64) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::IntValue(value)),
        }),
        ..Default::default()
    }
}

fn resource(service: &str) -> Option<Resource> {
    Some(Resource {
        attributes: vec![text("service.name", service)],
        ..Default::default()
    })
}

/// A point over `[start, time]` with `counts` as `(bucket, count)`.
fn point(
    attributes: Vec<KeyValue>,
    start: u64,
    time: u64,
    counts: &[(usize, u64)],
    exemplars: Vec<Exemplar>,
) -> HistogramDataPoint {
    let mut buckets = vec![0u64; BOUNDS.len() + 1];
    for (bucket, count) in counts {
        buckets[*bucket] = *count;
    }
    HistogramDataPoint {
        attributes,
        start_time_unix_nano: start,
        time_unix_nano: time,
        count: buckets.iter().sum(),
        bucket_counts: buckets,
        explicit_bounds: BOUNDS.to_vec(),
        exemplars,
        ..Default::default()
    }
}

fn example(trace: u8, value: f64, at: u64) -> Exemplar {
    Exemplar {
        trace_id: vec![trace; 16],
        span_id: vec![trace; 8],
        value: Some(exemplar::Value::AsDouble(value)),
        time_unix_nano: at,
        ..Default::default()
    }
}

fn histogram(
    name: &str,
    temporality: AggregationTemporality,
    points: Vec<HistogramDataPoint>,
) -> Metric {
    Metric {
        name: name.into(),
        unit: "s".into(),
        data: Some(metric::Data::Histogram(Histogram {
            data_points: points,
            aggregation_temporality: temporality as i32,
        })),
        ..Default::default()
    }
}

fn export(services: Vec<(&str, Vec<Metric>)>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: services
            .into_iter()
            .map(|(service, metrics)| ResourceMetrics {
                resource: resource(service),
                scope_metrics: vec![ScopeMetrics {
                    metrics,
                    ..Default::default()
                }],
                ..Default::default()
            })
            .collect(),
    }
}

fn checkout(failed: bool) -> Vec<KeyValue> {
    let mut attributes = vec![text("code.function.name", "shop::checkout")];
    if failed {
        attributes.push(text("error.type", "Timeout"));
    }
    attributes
}

/// One span per exemplar trace, so that each figure's link opens a trace.
fn spans() -> ExportTraceServiceRequest {
    let span = |trace: u8, name: &str| Span {
        trace_id: vec![trace; 16],
        span_id: vec![trace; 8],
        name: name.into(),
        start_time_unix_nano: T0,
        end_time_unix_nano: T0 + 10_000_000,
        ..Default::default()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: resource("shop"),
            scope_spans: vec![ScopeSpans {
                spans: vec![
                    span(FAST, "checkout"),
                    span(SLOWER, "checkout"),
                    span(TIMED_OUT, "checkout"),
                    span(FAILED_GET, "GET /users/{id}"),
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn hex(n: u8) -> String {
    format!("{n:02x}").repeat(16)
}

/// The operation's row in `/api/metrics`.
fn row<'a>(red: &'a Value, service: &str, metric: &str, operation: &str) -> &'a Value {
    red["services"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["service"] == service))
        .and_then(|s| s["metrics"].as_array())
        .and_then(|m| m.iter().find(|m| m["metric"] == metric))
        .and_then(|m| m["operations"].as_array())
        .and_then(|o| o.iter().find(|o| o["operation"] == operation))
        .unwrap_or_else(|| panic!("no {service} {metric} {operation} in {red:#}"))
}

/// A figure's value is `value` (to 1e-9), and its exemplar is in `trace`.
fn figure(row: &Value, name: &str, value: f64, trace: Option<u8>) {
    let figure = &row[name];
    let actual = figure["value"]
        .as_f64()
        .unwrap_or_else(|| panic!("no {name} in {row:#}"));
    assert!(
        (actual - value).abs() < 1e-9,
        "{name} is {actual}, not {value}: {row:#}"
    );
    match trace {
        Some(trace) => assert_eq!(
            figure["exemplar"]["trace_id"],
            hex(trace),
            "{name}: {row:#}"
        ),
        None => assert!(figure["exemplar"].is_null(), "{name}: {row:#}"),
    }
}

async fn red(viewer: &traced_view::Viewer) -> Value {
    let ui = viewer.ui_addr().unwrap();
    let answer = http(ui, &format!("GET /api/metrics HTTP/1.1\r\nHost: {ui}"), b"").await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer.json()
}

fn post_metrics(addr: std::net::SocketAddr, mime: &str) -> String {
    format!("POST /v1/metrics HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {mime}")
}

#[tokio::test]
async fn rate_errors_and_percentiles_over_http_and_grpc_link_to_their_traces() {
    let (viewer, printed) = start().await;
    let http_addr = viewer.http_addr().unwrap();
    let answer = http(
        http_addr,
        "POST /v1/traces HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-protobuf",
        &spans().encode_to_vec(),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());

    // The shop's first export, over HTTP, 10 s after its start
    // (cumulative): 38 checkouts, 30 of them in (5ms, 10ms], 8 in (10ms,
    // 25ms]; 2 timed out in (250ms, 500ms].
    let cumulative = AggregationTemporality::Cumulative;
    let first = export(vec![(
        "shop",
        vec![histogram(
            "traced.function.duration",
            cumulative,
            vec![
                point(
                    checkout(false),
                    T0,
                    T0 + 10 * S,
                    &[(1, 30), (2, 8)],
                    vec![example(FAST, 0.007, T0 + 5 * S)],
                ),
                point(
                    checkout(true),
                    T0,
                    T0 + 10 * S,
                    &[(7, 2)],
                    vec![example(TIMED_OUT, 0.3, T0 + 6 * S)],
                ),
            ],
        )],
    )]);
    let answer = http(
        http_addr,
        &post_metrics(http_addr, "application/x-protobuf"),
        &first.encode_to_vec(),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let answer = ExportMetricsServiceResponse::decode(&answer.body[..]).unwrap();
    assert_eq!(answer.partial_success, None);

    // The second, over gRPC, 20 s after the start: 76 and 4 in all, the
    // slowest call 400ms. In the same request, the gateway's HTTP server
    // (delta) over the last 10 s: 10 `GET /users/{id}`, one a 500, all in
    // (25ms, 50ms]; 5 `POST /orders` in (0, 5ms].
    let mut timed_out = point(checkout(true), T0, T0 + 20 * S, &[(7, 4)], Vec::new());
    timed_out.max = Some(0.4);
    let get = |status: i64, count: u64, exemplars| {
        let mut attributes = vec![
            text("http.request.method", "GET"),
            text("http.route", "/users/{id}"),
            int("http.response.status_code", status),
        ];
        if status >= 500 {
            attributes.push(text("error.type", "500"));
        }
        point(
            attributes,
            T0 + 10 * S,
            T0 + 20 * S,
            &[(3, count)],
            exemplars,
        )
    };
    let post = point(
        vec![
            text("http.request.method", "POST"),
            text("http.route", "/orders"),
            int("http.response.status_code", 201),
        ],
        T0 + 10 * S,
        T0 + 20 * S,
        &[(0, 5)],
        Vec::new(),
    );
    let second = export(vec![
        (
            "shop",
            vec![histogram(
                "traced.function.duration",
                cumulative,
                vec![
                    point(
                        checkout(false),
                        T0,
                        T0 + 20 * S,
                        &[(1, 60), (2, 16)],
                        vec![example(SLOWER, 0.02, T0 + 15 * S)],
                    ),
                    timed_out,
                ],
            )],
        ),
        (
            "gateway",
            vec![histogram(
                "http.server.request.duration",
                AggregationTemporality::Delta,
                vec![
                    get(200, 9, Vec::new()),
                    get(500, 1, vec![example(FAILED_GET, 0.03, T0 + 12 * S)]),
                    post,
                ],
            )],
        ),
    ]);
    let answer = MetricsServiceClient::connect(format!("http://{}", viewer.grpc_addr().unwrap()))
        .await
        .unwrap()
        .export(second)
        .await
        .expect("metrics over gRPC")
        .into_inner();
    assert_eq!(answer.partial_success, None);

    let red = red(&viewer).await;
    let checkout = row(&red, "shop", "traced.function.duration", "shop::checkout");
    assert_eq!(
        (&checkout["count"], &checkout["errors"]),
        (&80.into(), &4.into())
    );
    assert_eq!(checkout["window_s"], 20.0);
    // 80 calls in 20 s; the latest exemplar is the slower checkout's.
    figure(checkout, "rate", 4.0, Some(SLOWER));
    // 4 of 80 timed out.
    figure(checkout, "error_ratio", 0.05, Some(TIMED_OUT));
    // Buckets: 60 in bucket 1, 16 in bucket 2, 4 in bucket 7.
    // p50: rank 40 of bucket 1: 5ms + 5ms × 40/60.
    figure(checkout, "p50", 0.005 + 0.005 * 40.0 / 60.0, Some(FAST));
    // p95: rank 76, 60 before bucket 2: 10ms + 15ms × 16/16 = 25ms.
    figure(checkout, "p95", 0.025, Some(SLOWER));
    // p99: rank 79.2, 76 before bucket 7, which ends at the max, 400ms:
    // 250ms + 150ms × 3.2/4 = 370ms.
    figure(checkout, "p99", 0.37, Some(TIMED_OUT));

    let users = row(
        &red,
        "gateway",
        "http.server.request.duration",
        "GET /users/{id}",
    );
    assert_eq!((&users["count"], &users["errors"]), (&10.into(), &1.into()));
    // 10 calls in 10 s, one failed; every figure's exemplar is the one
    // failed call's, in bucket 3 with all the others.
    figure(users, "rate", 1.0, Some(FAILED_GET));
    figure(users, "error_ratio", 0.1, Some(FAILED_GET));
    // Ranks 5, 9.5 and 9.9 of bucket 3's 10: 25ms + 25ms × rank/10.
    figure(users, "p50", 0.0375, Some(FAILED_GET));
    figure(users, "p95", 0.04875, Some(FAILED_GET));
    figure(users, "p99", 0.04975, Some(FAILED_GET));
    let orders = row(
        &red,
        "gateway",
        "http.server.request.duration",
        "POST /orders",
    );
    figure(orders, "rate", 0.5, None);
    figure(orders, "error_ratio", 0.0, None);
    // Rank 2.5 of bucket 0's 5, from 0 to 5ms.
    figure(orders, "p50", 0.0025, None);
    assert_eq!(red["stats"]["series"], 5, "{red:#}");
    assert_eq!(red["stats"]["points"], 7, "{red:#}");

    // Each exemplar opens its trace on the page.
    let ui = viewer.ui_addr().unwrap();
    for trace in [FAST, SLOWER, TIMED_OUT, FAILED_GET] {
        let answer = http(
            ui,
            &format!("GET /api/traces/{} HTTP/1.1\r\nHost: {ui}", hex(trace)),
            b"",
        )
        .await;
        assert_eq!(answer.status, 200, "{}", answer.text());
    }
    // The page has the view, and links a figure to `#trace=..&span=..`.
    let page = http(ui, &format!("GET / HTTP/1.1\r\nHost: {ui}"), b"")
        .await
        .text();
    assert!(page.contains("api/metrics") && page.contains("\"#trace=\" + e.trace_id"));

    // The terminal: the table once flushed, exemplar ids beside figures.
    viewer.flush();
    let text = printed.text();
    let line = |needle: &str| {
        text.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in\n{text}"))
    };
    assert!(line("RED shop").contains("p99"), "{text}");
    let checkout = line("shop::checkout");
    for cell in [
        "80",
        "4.00/s [b2b2b2b2]",
        "5.0% [e3e3e3e3]",
        "8.33ms [a1a1a1a1]",
        "25.0ms [b2b2b2b2]",
        "370ms [e3e3e3e3]",
    ] {
        assert!(checkout.contains(cell), "{cell:?} in\n{text}");
    }
    assert!(
        line("    GET /users/{id}").contains("10.0% [c4c4c4c4]"),
        "{text}"
    );
    // Printed once: a second flush has nothing new.
    viewer.flush();
    assert_eq!(printed.text().matches("RED shop").count(), 1);
    viewer.shutdown().await;
}

#[tokio::test]
async fn hostile_metrics_are_refused_and_the_series_bound_holds() {
    let (viewer, _) = start().await;
    let addr = viewer.http_addr().unwrap();
    // Not a message; a negative count in JSON.
    let answer = http(
        addr,
        &post_metrics(addr, "application/x-protobuf"),
        &[0x0a, 0xff, 0x01],
    )
    .await;
    assert_eq!(answer.status, 400, "{}", answer.text());
    let json = r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"traced.function.duration",
        "histogram":{"aggregationTemporality":2,"dataPoints":[{"timeUnixNano":"1","count":"-1"}]}}]}]}]}"#;
    let answer = http(
        addr,
        &post_metrics(addr, "application/json"),
        json.as_bytes(),
    )
    .await;
    assert_eq!(answer.status, 400, "{}", answer.text());
    let grpc_addr = viewer.grpc_addr().unwrap();
    let status = grpc(
        grpc_addr,
        &grpc_addr.to_string(),
        METRICS,
        field(0x0a, &[0xff]),
        false,
    )
    .await
    .expect_err("not a message");
    assert_eq!(status.code(), Code::InvalidArgument, "{status}");

    // Points that decode but make no sense are rejected one by one: buckets
    // that do not match their bounds, a NaN bound, a huge bucket array, no
    // time.
    let function = |name: String| vec![text("code.function.name", &name)];
    let mut mismatched = point(function("a".into()), T0, T0 + S, &[(0, 1)], Vec::new());
    mismatched.bucket_counts.pop();
    let mut nan = point(function("b".into()), T0, T0 + S, &[(0, 1)], Vec::new());
    nan.explicit_bounds[3] = f64::NAN;
    let huge = HistogramDataPoint {
        attributes: function("c".into()),
        time_unix_nano: T0,
        count: 1,
        bucket_counts: [vec![1], vec![0; 100_000]].concat(),
        explicit_bounds: (0..100_000).map(f64::from).collect(),
        ..Default::default()
    };
    let mut timeless = point(function("d".into()), T0, T0 + S, &[(0, 1)], Vec::new());
    timeless.time_unix_nano = 0;
    let mut negative = point(function("e".into()), T0, T0 + S, &[(0, 1)], Vec::new());
    negative.min = Some(-f64::INFINITY);
    negative.max = Some(f64::NAN);
    let request = export(vec![(
        "shop",
        vec![histogram(
            "traced.function.duration",
            AggregationTemporality::Cumulative,
            vec![mismatched, nan, huge, timeless, negative],
        )],
    )]);
    let answer = http(
        addr,
        &post_metrics(addr, "application/x-protobuf"),
        &request.encode_to_vec(),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let partial = ExportMetricsServiceResponse::decode(&answer.body[..])
        .unwrap()
        .partial_success
        .expect("a partial success");
    assert_eq!(partial.rejected_data_points, 4, "{partial:?}");
    assert!(
        partial
            .error_message
            .contains("14 bucket counts for 14 bounds"),
        "{partial:?}"
    );

    // 1 005 functions: the first 999 new series are kept beside `e`, the
    // others dropped and said so.
    let many: Vec<HistogramDataPoint> = (0..1_005)
        .map(|n| point(function(format!("f{n}")), T0, T0 + S, &[(0, 1)], Vec::new()))
        .collect();
    let request = export(vec![(
        "shop",
        vec![histogram(
            "traced.function.duration",
            AggregationTemporality::Cumulative,
            many,
        )],
    )]);
    let answer = MetricsServiceClient::connect(format!("http://{grpc_addr}"))
        .await
        .unwrap()
        .export(request)
        .await
        .expect("an export over the bound is taken in part")
        .into_inner();
    let partial = answer.partial_success.expect("a partial success");
    assert_eq!(partial.rejected_data_points, 6, "{partial:?}");
    assert!(
        partial.error_message.contains("keeps 1000 series"),
        "{partial:?}"
    );

    // A new series past the bound is dropped over JSON too, and said so
    // there; the viewer still answers and shows what it kept.
    let gateway = export(vec![(
        "gateway",
        vec![histogram(
            "http.server.request.duration",
            AggregationTemporality::Delta,
            vec![point(
                vec![text("http.request.method", "GET")],
                T0,
                T0 + S,
                &[(0, 1)],
                Vec::new(),
            )],
        )],
    )]);
    let answer = http(
        addr,
        &post_metrics(addr, "application/json"),
        serde_json::to_string(&gateway).unwrap().as_bytes(),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(
        answer.json()["partialSuccess"]["rejectedDataPoints"],
        "1",
        "{}",
        answer.text()
    );
    let red = red(&viewer).await;
    let stats = &red["stats"];
    assert_eq!(stats["series"], 1_000, "{stats}");
    assert_eq!(stats["series_max"], 1_000, "{stats}");
    assert_eq!(stats["dropped_points"], 7, "{stats}");
    assert_eq!(stats["rejected_points"], 4, "{stats}");
    let shop = &red["services"][0];
    assert_eq!(shop["service"], "shop");
    assert_eq!(
        shop["metrics"][0]["operations"].as_array().unwrap().len(),
        1_000
    );
    // `e`'s min and max were not finite: left out.
    figure(
        row(&red, "shop", "traced.function.duration", "e"),
        "p50",
        0.0025,
        None,
    );
    viewer.shutdown().await;
}
