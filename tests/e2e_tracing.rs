//! A mixed service through a real collector (feature `tracing`):
//! `examples/mixed.rs` serves `GET /orders/{id}` behind tower-http's
//! `TraceLayer` (a `tracing` span); the handler calls a `#[traced]`
//! function that runs a `#[tracing::instrument]`ed one and logs with
//! `tracing::info!` and `log::info!`. One request is one trace with the
//! parents right, and the log records read back from the collector carry
//! the ids of the span they were written in. With
//! `OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN=logs`, the error of the
//! `#[traced]` function is an `exception` log record linked to its span
//! instead of a span event.

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use support::collector::{Collector, ReceivedLog, ReceivedSpan, Typed};
use support::{examples, wait};

const SERVICE_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

fn one<'a>(spans: &'a [ReceivedSpan], name: &str) -> &'a ReceivedSpan {
    let found: Vec<_> = spans.iter().filter(|s| s.name == name).collect();
    match found.as_slice() {
        [span] => span,
        _ => panic!(
            "expected one span {name:?}, got {}: {:?}",
            found.len(),
            spans.iter().map(|s| &s.name).collect::<Vec<_>>()
        ),
    }
}

fn record<'a>(logs: &'a [ReceivedLog], body: &str) -> &'a ReceivedLog {
    logs.iter()
        .find(|r| r.body_str() == Some(body))
        .unwrap_or_else(|| {
            panic!(
                "no log record {body:?} among {:?}",
                logs.iter().map(|r| &r.body).collect::<Vec<_>>()
            )
        })
}

#[test]
fn a_mixed_service_is_one_trace_and_its_logs_carry_the_span_ids() {
    let collector = Collector::start_with_logs();
    let mut command = examples::command("mixed");
    let child = command
        .args(["--port", "0"])
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", collector.grpc_endpoint())
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .env("OTEL_BLRP_SCHEDULE_DELAY", "100")
        .env("OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN", "logs")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the mixed service");
    let mut child = wait::KillOnDrop(child);
    let line = wait::first_line(
        child.0.stdout.take().expect("stdout"),
        SERVICE_TIMEOUT,
        "the mixed service",
    );
    let addr = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("the service printed {line:?}, not its address"))
        .to_owned();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let get = |id: u64| {
        rt.block_on(async {
            let response = reqwest::Client::builder()
                .timeout(SERVICE_TIMEOUT)
                .build()
                .expect("client")
                .get(format!("http://{addr}/orders/{id}"))
                .send()
                .await
                .expect("request");
            let status = response.status().as_u16();
            (status, response.text().await.expect("body"))
        })
    };
    assert_eq!(get(7), (200, "order 7: 3 reserved\n".to_owned()));
    assert_eq!(get(0), (409, "order 0 is out of stock\n".to_owned()));

    // SIGINT: the service stops gracefully and its guard flushes both
    // pipelines.
    let pid = child.0.id().to_string();
    let _ = Command::new("kill").args(["-INT", &pid]).status();
    let status = wait::exit(&mut child.0, STOP_TIMEOUT, "the mixed service after SIGINT");
    assert!(status.success(), "the service exited with {status}");

    let spans = collector.wait_for_spans(6, SERVICE_TIMEOUT);
    let ordered = |id: i64| {
        spans
            .iter()
            .find(|s| s.name == "place_order" && s.attr("order_id") == Some(&Typed::Int(id)))
            .unwrap_or_else(|| panic!("no place_order span for order {id}"))
    };
    let place = ordered(7);
    let trace: Vec<ReceivedSpan> = spans
        .iter()
        .filter(|s| s.trace_id == place.trace_id)
        .cloned()
        .collect();
    let request = one(&trace, "request");
    let reserve = one(&trace, "reserve_stock");
    assert!(request.is_root(), "{request:#?}");
    assert_eq!(
        place.parent_id, request.span_id,
        "#[traced] under the tower-http span"
    );
    assert_eq!(
        reserve.parent_id, place.span_id,
        "#[tracing::instrument] under #[traced]"
    );
    for span in [place, reserve] {
        assert_eq!(span.trace_id, request.trace_id, "one trace");
    }
    assert_eq!(request.scope_name, "tracing");
    assert_eq!(place.attr("order_id"), Some(&Typed::Int(7)));
    assert_eq!(
        request.resource_attr("service.name"),
        Some(&Typed::Str("mixed".into()))
    );

    let logs = collector.wait_for_logs(3, SERVICE_TIMEOUT);
    let placed = record(&logs, "order placed");
    assert_eq!(
        (placed.trace_id.as_str(), placed.span_id.as_str()),
        (place.trace_id.as_str(), place.span_id.as_str()),
        "the tracing event carries the #[traced] span's ids"
    );
    assert_eq!(placed.severity_text, "INFO");
    assert_eq!(placed.attr("order_id"), Some(&Typed::Int(7)));
    assert_eq!(placed.attr("reserved"), Some(&Typed::Int(3)));
    assert_eq!(
        placed
            .resource
            .iter()
            .find(|(k, _)| k == "service.name")
            .map(|(_, v)| v),
        Some(&Typed::Str("mixed".into()))
    );
    let shipped = record(&logs, "order 7 handed to shipping");
    assert_eq!(
        (shipped.trace_id.as_str(), shipped.span_id.as_str()),
        (place.trace_id.as_str(), place.span_id.as_str()),
        "a `log` record carries them too"
    );
    // DEBUG is below the default filter.
    assert!(logs.iter().all(|r| r.body_str() != Some("stock checked")));

    // The opt-in: the error is a log record linked to its span, and the
    // span keeps its status but no event.
    let failed = ordered(0);
    assert_eq!(failed.status_code, "Error");
    assert_eq!(
        failed.attr("error.type"),
        Some(&Typed::Str("mixed::OutOfStock".into()))
    );
    assert!(failed.event("exception").is_none(), "{failed:#?}");
    let exception = logs
        .iter()
        .find(|r| r.event_name == "exception")
        .unwrap_or_else(|| panic!("no exception log record among {logs:#?}"));
    assert_eq!(
        (exception.trace_id.as_str(), exception.span_id.as_str()),
        (failed.trace_id.as_str(), failed.span_id.as_str())
    );
    assert_eq!(exception.severity_text, "ERROR");
    assert_eq!(exception.scope_name, "traced");
    assert_eq!(
        exception.attr("exception.type"),
        Some(&Typed::Str("mixed::OutOfStock".into()))
    );
    assert_eq!(
        exception.attr("exception.message"),
        Some(&Typed::Str("order 0 is out of stock".into()))
    );
}
