//! The `tracing` ecosystem in our traces (feature `tracing`), in process:
//! `tracing` spans and `#[traced]` spans nest both ways, sync and async;
//! events become log records with the ids of the span they happen in; the
//! default filter drops library internals.
//!
//! Each test puts `traced::tracing_layer()` on a subscriber of its own
//! thread (`set_default`), and captures spans with `traced::testing`: the
//! layer follows the provider the capture installs.

mod support;

use std::collections::HashMap;

use opentelemetry::trace::SpanId;
use opentelemetry_sdk::logs::in_memory_exporter::LogDataWithResource;
use opentelemetry_sdk::logs::{InMemoryLogExporter, SdkLoggerProvider};
use serial_test::serial;
use traced::testing::{Capture, Spans, capture};
use traced::traced;
use tracing_subscriber::layer::SubscriberExt as _;

/// A subscriber for this thread with our layers on it.
fn subscribe() -> tracing::subscriber::DefaultGuard {
    tracing::subscriber::set_default(tracing_subscriber::registry().with(traced::tracing_layer()))
}

/// The span names as a tree, children indented: what the parent ids say.
fn names(spans: &Spans) -> String {
    let ids: HashMap<SpanId, &str> = spans
        .all()
        .iter()
        .map(|s| (s.span_context.span_id(), s.name.as_ref()))
        .collect();
    let mut by_parent: HashMap<SpanId, Vec<_>> = HashMap::new();
    let mut roots = Vec::new();
    for span in spans.all() {
        if ids.contains_key(&span.parent_span_id) {
            by_parent.entry(span.parent_span_id).or_default().push(span);
        } else {
            roots.push(span);
        }
    }
    fn walk(
        out: &mut String,
        span: &opentelemetry_sdk::trace::SpanData,
        by_parent: &HashMap<SpanId, Vec<&opentelemetry_sdk::trace::SpanData>>,
        depth: usize,
    ) {
        out.push_str(&"    ".repeat(depth));
        out.push_str(&span.name);
        out.push('\n');
        let mut kids = by_parent
            .get(&span.span_context.span_id())
            .cloned()
            .unwrap_or_default();
        kids.sort_by_key(|s| s.start_time);
        for kid in kids {
            walk(out, kid, by_parent, depth + 1);
        }
    }
    roots.sort_by_key(|s| s.start_time);
    let mut out = String::new();
    for root in roots {
        walk(&mut out, root, &by_parent, 0);
    }
    let trace_ids: std::collections::HashSet<_> = spans
        .all()
        .iter()
        .map(|s| s.span_context.trace_id())
        .collect();
    assert_eq!(trace_ids.len(), 1, "one trace:\n{out}");
    out
}

#[traced]
fn handler() -> u32 {
    // A library's `tracing` span inside ours, and ours inside it.
    let _library = tracing::info_span!("library.call").entered();
    helper() + 1
}

#[traced]
fn helper() -> u32 {
    1
}

#[test]
fn tracing_spans_and_traced_spans_nest_both_ways() {
    let spans = capture(|| {
        let _subscriber = subscribe();
        tracing::info_span!("request").in_scope(|| assert_eq!(handler(), 2));
    });
    insta::assert_snapshot!(names(&spans), @r"
    request
        handler
            library.call
                helper
    ");
    let library = spans.one("library.call");
    assert_eq!(library.instrumentation_scope.name(), "tracing");
}

#[traced]
async fn load(id: u64) -> u64 {
    fetch(id).await
}

#[tracing::instrument]
async fn fetch(id: u64) -> u64 {
    tokio::task::yield_now().await;
    decode(id)
}

#[traced]
fn decode(id: u64) -> u64 {
    id * 2
}

#[test]
fn across_awaits_too() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (out, spans) = traced::testing::capture_future(
        |f| {
            let _subscriber = subscribe();
            rt.block_on(f)
        },
        async { load(21).await },
    );
    assert_eq!(out, 42);
    insta::assert_snapshot!(names(&spans), @r"
    load
        fetch
            decode
    ");
}

#[test]
fn library_internals_are_dropped_by_default() {
    // `RUST_LOG` is added on top of the default filter; only a directive
    // naming `h2` or `hyper` would turn these on (the in-process check of
    // that is in the runtime, `filter::build`).
    let rust_log = std::env::var("RUST_LOG").unwrap_or_default();
    assert!(
        !rust_log.contains("h2") && !rust_log.contains("hyper"),
        "run this test without h2 or hyper in RUST_LOG"
    );
    let spans = capture(|| {
        let _subscriber = subscribe();
        let _app = tracing::info_span!("app.work").entered();
        let _h2 = tracing::info_span!(target: "h2::proto::connection", "Connection").entered();
        let _hyper = tracing::info_span!(target: "hyper::proto::h1", "parse").entered();
        let _rustls = tracing::warn_span!(target: "rustls::client", "handshake").entered();
    });
    insta::assert_snapshot!(names(&spans), @"app.work");
}

/// Installs an in-memory logger provider for as long as it lives.
struct Logs {
    exporter: InMemoryLogExporter,
    provider: SdkLoggerProvider,
}

impl Logs {
    fn install() -> Logs {
        let exporter = InMemoryLogExporter::default();
        let provider = SdkLoggerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        traced::set_logger_provider(provider.clone());
        Logs { exporter, provider }
    }

    fn records(&self) -> Vec<LogDataWithResource> {
        self.provider.force_flush().expect("flush");
        self.exporter.get_emitted_logs().expect("logs")
    }
}

impl Drop for Logs {
    fn drop(&mut self) {
        if let Some(previous) = traced::set_logger_provider(SdkLoggerProvider::builder().build()) {
            let _ = previous.shutdown();
        }
    }
}

fn body(record: &LogDataWithResource) -> String {
    match record.record.body() {
        Some(opentelemetry::logs::AnyValue::String(s)) => s.to_string(),
        other => format!("{other:?}"),
    }
}

#[traced]
fn logged(user: &str) {
    tracing::info!(user, "user logged in");
    tracing::info_span!("library.call").in_scope(|| tracing::warn!("slow"));
}

#[test]
#[serial]
fn events_are_log_records_with_the_ids_of_their_span() {
    let capture = Capture::start();
    let logs = Logs::install();
    {
        let _subscriber = subscribe();
        logged("ana");
        tracing::info!("outside any span");
    }
    let spans = capture.spans();
    let records = logs.records();
    let find = |text: &str| {
        records.iter().find(|r| body(r) == text).unwrap_or_else(|| {
            panic!(
                "no record {text:?} in {:?}",
                records.iter().map(body).collect::<Vec<_>>()
            )
        })
    };
    let ours = spans.one("logged").span_context.clone();
    let library = spans.one("library.call").span_context.clone();

    let logged_in = find("user logged in");
    let tc = logged_in.record.trace_context().expect("in a span");
    assert_eq!((tc.trace_id, tc.span_id), (ours.trace_id(), ours.span_id()));
    assert_eq!(logged_in.record.severity_text(), Some("INFO"));
    assert!(
        logged_in
            .record
            .attributes_iter()
            .any(|(k, v)| k.as_str() == "user"
                && *v == opentelemetry::logs::AnyValue::String("ana".into())),
        "the event's fields are attributes"
    );

    let slow = find("slow");
    let tc = slow.record.trace_context().expect("in a span");
    assert_eq!(
        (tc.trace_id, tc.span_id),
        (library.trace_id(), library.span_id())
    );

    assert!(find("outside any span").record.trace_context().is_none());
}

#[test]
#[serial]
fn without_a_logger_provider_events_cost_no_record() {
    // No provider installed through `traced`: the layer is there, the
    // records go nowhere, and nothing panics.
    let spans = capture(|| {
        let _subscriber = subscribe();
        logged("bo");
    });
    assert_eq!(spans.named("logged").len(), 1);
}

// Regression for #25: `tracing` events reached log records unscrubbed.
#[test]
#[serial]
fn log_records_are_scrubbed_like_spans() {
    let capture = Capture::start();
    let logs = Logs::install();
    {
        let _subscriber = subscribe();
        tracing::warn!(
            password = "hunter2",
            dsn = "postgres://app:s3cret@db/prod",
            user = "ana",
            "login failed for postgres://app:s3cret@db/prod with password=\"hunter2\""
        );
    }
    drop(capture);
    let records = logs.records();
    let record = records
        .iter()
        .find(|r| body(r).starts_with("login failed"))
        .unwrap_or_else(|| {
            panic!(
                "no record in {:?}",
                records.iter().map(body).collect::<Vec<_>>()
            )
        });
    let text = format!("{:?}", record.record);
    for secret in ["hunter2", "s3cret"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    let attr = |key: &str| {
        record
            .record
            .attributes_iter()
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        attr("password"),
        Some(opentelemetry::logs::AnyValue::String("[REDACTED]".into()))
    );
    // What is not secret stays as it was.
    assert_eq!(
        attr("user"),
        Some(opentelemetry::logs::AnyValue::String("ana".into()))
    );
    assert_eq!(record.record.severity_text(), Some("WARN"));
}
