//! Rate, errors and duration end to end (#29): `#[traced]` calls through
//! `init` to a real collector, with head sampling at 10%. The counts are
//! exact whatever the sampler kept, and every exemplar leads to a trace
//! the collector received.
//!
//! Both tests install `init`'s providers for the process: one at a time.

mod support;

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use opentelemetry_sdk::trace::Sampler;
use support::collector::{Collector, ReceivedSpan, Typed};
use support::metrics::{ReceivedPoint, parse_metrics};
use traced::metrics::FUNCTION_DURATION;
use traced::{OtlpProtocol, traced};

/// One `init` at a time in this process.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// How long the collector may take to print what it received.
const RECEIVE_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug)]
struct OutOfStock;

impl std::fmt::Display for OutOfStock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("out of stock")
    }
}

impl std::error::Error for OutOfStock {}

/// Fails for 3 of every 100 ids.
#[traced]
fn reserve(id: u32) -> Result<u32, OutOfStock> {
    if id % 100 < 3 {
        Err(OutOfStock)
    } else {
        Ok(std::hint::black_box(id) * 2)
    }
}

/// Not measured: `metrics = false`.
#[traced(metrics = false)]
fn unmeasured() {}

/// Runs `calls` calls of `reserve` (each a trace of its own) and one of
/// `unmeasured` under `init` exporting to `collector` over `protocol`
/// with head sampling at 10%, then shuts down (the last metrics export,
/// then the spans).
fn run(collector: &Collector, protocol: OtlpProtocol, calls: u32) {
    let endpoint = match protocol {
        OtlpProtocol::Grpc => collector.grpc_endpoint(),
        _ => collector.http_endpoint(),
    };
    let telemetry = traced::builder()
        .service_name("metrics-e2e")
        .endpoint(endpoint)
        .protocol(protocol)
        .sampler(Sampler::TraceIdRatioBased(0.1))
        // Only the export at shutdown: the counts below are its totals.
        .metric_export_interval(Duration::from_secs(3600))
        .init()
        .expect("init");
    for id in 0..calls {
        let _ = reserve(id);
    }
    unmeasured();
    drop(telemetry);
}

/// The data points of `reserve`: (succeeded, failed).
fn reserve_points(points: &[ReceivedPoint]) -> (ReceivedPoint, ReceivedPoint) {
    let ours: Vec<&ReceivedPoint> = points
        .iter()
        .filter(|p| p.metric == FUNCTION_DURATION)
        .collect();
    let function = Typed::Str("e2e_metrics::reserve".to_owned());
    for point in &ours {
        assert_eq!(point.unit, "s");
        assert_eq!(
            point.attr("code.function.name"),
            Some(&function),
            "only `reserve` is measured (`unmeasured` has metrics = false): {point:?}"
        );
        assert_eq!(
            point.resource_attr("service.name"),
            Some(&Typed::Str("metrics-e2e".to_owned()))
        );
        assert_eq!(
            point.bounds,
            [
                0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0
            ]
        );
        assert_eq!(point.buckets.iter().sum::<u64>(), point.count);
    }
    let ok: Vec<&&ReceivedPoint> = ours
        .iter()
        .filter(|p| p.attr("error.type").is_none())
        .collect();
    let failed: Vec<&&ReceivedPoint> = ours
        .iter()
        .filter(|p| p.attr("error.type").is_some())
        .collect();
    assert_eq!(
        (ok.len(), failed.len()),
        (1, 1),
        "one series each: {ours:#?}"
    );
    ((*ok[0]).clone(), (*failed[0]).clone())
}

fn check(collector: &Collector, calls: u32) {
    let points = collector.wait_for_metric(FUNCTION_DURATION, RECEIVE_TIMEOUT);
    let (ok, failed) = reserve_points(&points);
    let failures = u64::from(calls) * 3 / 100;
    // Exact, although only about a tenth of the calls were sampled.
    assert_eq!(ok.count, u64::from(calls) - failures);
    assert_eq!(failed.count, failures);
    assert_eq!(
        failed.attr("error.type"),
        Some(&Typed::Str("e2e_metrics::OutOfStock".to_owned()))
    );

    let spans: Vec<ReceivedSpan> = collector
        .wait_for_spans(1, RECEIVE_TIMEOUT)
        .into_iter()
        .filter(|s| s.name == "reserve")
        .collect();
    // About 10% sampled: a binomial count of mean calls/10, far inside these bounds.
    let expected = f64::from(calls) / 10.0;
    let sd = (expected * 0.9).sqrt();
    #[allow(clippy::cast_precision_loss)]
    let exported = spans.len() as f64;
    assert!(
        (exported - expected).abs() < 6.0 * sd,
        "{exported} spans exported of {calls} calls sampled at 10%"
    );
    let by_id: HashMap<&str, &ReceivedSpan> =
        spans.iter().map(|s| (s.span_id.as_str(), s)).collect();
    let traces: HashSet<&str> = spans.iter().map(|s| s.trace_id.as_str()).collect();

    // Every exemplar is the measurement of an exported span: its trace
    // and span, its value the span's duration.
    let mut seen = 0;
    for point in [&ok, &failed] {
        assert!(!point.exemplars.is_empty(), "no exemplar on {point:#?}");
        for exemplar in &point.exemplars {
            seen += 1;
            assert!(
                traces.contains(exemplar.trace_id.as_str()),
                "exemplar {exemplar:?}: its trace was not exported"
            );
            let span = by_id
                .get(exemplar.span_id.as_str())
                .unwrap_or_else(|| panic!("exemplar {exemplar:?}: its span was not exported"));
            assert_eq!(span.trace_id, exemplar.trace_id);
            let failed_span = span.status_code == "Error";
            assert_eq!(failed_span, std::ptr::eq(point, &failed), "{span:?}");
            #[allow(clippy::cast_precision_loss)]
            let duration = (span.end_time - span.start_time) as f64 / 1e9;
            // The same two clock readings time the call and bound its
            // span: equal but for the rounding to nanoseconds and the
            // collector's printing of the double.
            assert!(
                (exemplar.value - duration).abs() < 1e-6,
                "exemplar value {} for a span of {duration} s",
                exemplar.value
            );
            // The exemplar sits in the bucket of its value.
            assert!(exemplar.value >= 0.0 && exemplar.value.is_finite());
        }
    }
    assert!(seen >= 2);
    // The histogram's sum covers every call; the exported spans are a
    // sample of them, whose durations it must at least cover.
    #[allow(clippy::cast_precision_loss)]
    let sampled: f64 = spans
        .iter()
        .map(|s| (s.end_time - s.start_time) as f64 / 1e9)
        .sum();
    assert!(ok.sum + failed.sum > 0.0);
    assert!(
        ok.sum + failed.sum + 0.001 * exported >= sampled * 0.9,
        "histogram sum {} below the exported spans' {sampled}",
        ok.sum + failed.sum
    );
}

#[test]
fn counts_are_exact_under_head_sampling_and_exemplars_lead_to_exported_traces_over_grpc() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let collector = Collector::start_with_metrics();
    run(&collector, OtlpProtocol::Grpc, 10_000);
    check(&collector, 10_000);
}

#[test]
fn the_same_over_http_protobuf() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let collector = Collector::start_with_metrics();
    run(&collector, OtlpProtocol::HttpProtobuf, 2_000);
    check(&collector, 2_000);
}

#[test]
fn the_collector_output_parser_reads_histograms_and_exemplars() {
    let log = "\
ResourceSpans #0
Resource attributes:
     -> service.name: Str(svc)
ResourceMetrics #0
Resource SchemaURL: 
Resource attributes:
     -> service.name: Str(svc)
ScopeMetrics #0
InstrumentationScope my.crate 0.1.0
Metric #0
Descriptor:
     -> Name: traced.function.duration
     -> Description: 
     -> Unit: s
     -> DataType: Histogram
     -> AggregationTemporality: AGGREGATION_TEMPORALITY_CUMULATIVE
HistogramDataPoints #0
Data point attributes:
     -> code.function.name: Str(a::b)
StartTimestamp: 1
Timestamp: 2
Count: 3
Sum: 0.25
ExplicitBounds #0: 0.005
Buckets #0, Count: 1
Buckets #1, Count: 2
Exemplars:
Exemplar #0
     -> Trace ID: 573784199c8066a5a25551d2a707aecf
     -> Span ID: 1bf2ab08eb7a710b
     -> Timestamp: 1796687584786704218
     -> Value: 0.2
ResourceSpans #1
Resource attributes:
     -> service.name: Str(other)
";
    let points = parse_metrics(log);
    assert_eq!(points.len(), 1);
    let point = &points[0];
    assert_eq!(point.metric, "traced.function.duration");
    assert_eq!(point.unit, "s");
    assert_eq!(point.scope_name, "my.crate");
    assert_eq!(
        point.attr("code.function.name"),
        Some(&Typed::Str("a::b".into()))
    );
    assert_eq!((point.count, point.sum), (3, 0.25));
    assert_eq!(point.bounds, [0.005]);
    assert_eq!(point.buckets, [1, 2]);
    assert_eq!(point.exemplars.len(), 1);
    assert_eq!(
        point.exemplars[0].trace_id,
        "573784199c8066a5a25551d2a707aecf"
    );
    assert_eq!(point.exemplars[0].span_id, "1bf2ab08eb7a710b");
    assert_eq!(point.exemplars[0].value, 0.2);
    // The spans' parser skips the metrics.
    let spans = support::collector::parse(log);
    assert!(spans.is_empty());
}

/// Under tail sampling an exemplar comes only from a trace the rules keep
/// (an error under `errors`, a trace `ratio` keeps), and never makes a
/// trace kept: that would leave fragments of traces other services
/// dropped. So the traces exported are exactly those the rules kept, and
/// every exemplar's trace is among them.
#[test]
fn under_tail_sampling_exemplars_come_from_kept_traces_and_keep_none() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let collector = Collector::start_with_metrics();
    let before = traced::tail_stats();
    let telemetry = traced::builder()
        .service_name("metrics-e2e")
        .endpoint(collector.grpc_endpoint())
        // The hold runs on the SDK's pipeline.
        .pipeline(traced::Pipeline::Sdk)
        .tail_sampling([traced::TailRule::Errors, traced::TailRule::Ratio(0.25)])
        .metric_export_interval(Duration::from_secs(3600))
        .init()
        .expect("init");
    for id in 0..1_000 {
        let _ = reserve(id);
    }
    drop(telemetry);
    let after = traced::tail_stats();
    let points = collector.wait_for_metric(FUNCTION_DURATION, RECEIVE_TIMEOUT);
    let (ok, failed) = reserve_points(&points);
    assert_eq!((ok.count, failed.count), (970, 30));
    let kept_errors = after.kept_errors - before.kept_errors;
    let kept_ratio = after.kept_ratio - before.kept_ratio;
    assert_eq!(kept_errors, 30);
    assert_eq!(after.kept_by_downstream, before.kept_by_downstream);
    let spans = collector.wait_for_spans(
        usize::try_from(kept_errors + kept_ratio).expect("small"),
        RECEIVE_TIMEOUT,
    );
    let exported: HashSet<&str> = spans.iter().map(|s| s.trace_id.as_str()).collect();
    assert_eq!(exported.len() as u64, kept_errors + kept_ratio);
    for point in [&ok, &failed] {
        assert!(!point.exemplars.is_empty(), "no exemplar on {point:#?}");
        for exemplar in &point.exemplars {
            assert!(
                exported.contains(exemplar.trace_id.as_str()),
                "exemplar {exemplar:?}: its trace was not kept"
            );
        }
    }
}

#[traced]
fn first() {}
#[traced]
fn second() {}
#[traced]
fn third() {}

/// Past the cardinality limit, measurements go to the overflow series:
/// the totals stay right while the series are bounded.
#[test]
fn past_the_cardinality_limit_measurements_go_to_the_overflow_series() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let collector = Collector::start_with_metrics();
    let telemetry = traced::builder()
        .service_name("metrics-e2e")
        .endpoint(collector.grpc_endpoint())
        .metrics_cardinality_limit(2)
        .metric_export_interval(Duration::from_secs(3600))
        .init()
        .expect("init");
    for _ in 0..5 {
        first();
        second();
        third();
    }
    drop(telemetry);
    let points: Vec<ReceivedPoint> = collector
        .wait_for_metric(FUNCTION_DURATION, RECEIVE_TIMEOUT)
        .into_iter()
        .filter(|p| p.metric == FUNCTION_DURATION)
        .collect();
    // Two series of their own (the limit), the third function's calls in
    // the overflow series.
    let overflow: Vec<&ReceivedPoint> = points
        .iter()
        .filter(|p| p.attr("otel.metric.overflow") == Some(&Typed::Bool(true)))
        .collect();
    assert_eq!(overflow.len(), 1, "{points:#?}");
    assert_eq!(overflow[0].count, 5);
    assert_eq!(points.len(), 3, "{points:#?}");
    assert_eq!(points.iter().map(|p| p.count).sum::<u64>(), 15);
}

/// `OTEL_METRICS_EXPORTER=console`: the quickstart's four functions, one
/// line per series on stdout when the guard is dropped, failed calls in a
/// series of their own with their error type.
#[test]
fn the_console_exporter_prints_a_line_per_series() {
    let out = support::examples::run(
        "quickstart",
        &[],
        &[
            ("OTEL_TRACES_EXPORTER", "console"),
            ("OTEL_METRICS_EXPORTER", "console"),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    for (function, calls) in [("a", 2), ("b", 2), ("c", 2), ("d", 2)] {
        let ok = format!(
            "traced.function.duration{{code.function.name=quickstart::{function}}} count={}",
            calls / 2
        );
        let failed = format!(
            "traced.function.duration{{code.function.name=quickstart::{function},error.type=quickstart::MathError}} count={}",
            calls / 2
        );
        assert!(stdout.contains(&ok), "no `{ok}` in:\n{stdout}");
        assert!(stdout.contains(&failed), "no `{failed}` in:\n{stdout}");
    }
    // Without the variable, console traces come with no metrics at all.
    let quiet = support::examples::run("quickstart", &[], &[("OTEL_TRACES_EXPORTER", "console")]);
    assert!(
        !String::from_utf8_lossy(&quiet.stdout).contains("traced.function.duration"),
        "metrics printed without OTEL_METRICS_EXPORTER"
    );
}
