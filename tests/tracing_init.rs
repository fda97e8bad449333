//! `traced::init` with the feature `tracing` installs the global `tracing`
//! subscriber and the `log` logger (a process of its own: both are
//! global, and once set stay set). A second `init` keeps them, strict or
//! not; `tracing` spans nest with ours and `log` records become log
//! records with the ids of their span.

use opentelemetry::logs::AnyValue;
use opentelemetry_sdk::logs::{InMemoryLogExporter, SdkLoggerProvider};
use traced::testing::Capture;
use traced::traced;

#[traced]
fn handler() {
    let _library = tracing::info_span!("library.call").entered();
    log::info!("from the log crate");
    log::debug!("below the default filter");
}

#[test]
fn init_installs_the_subscriber_and_the_log_logger_once() {
    let first = traced::builder()
        .no_exporter()
        .no_logs()
        .strict(true)
        .init()
        .expect("init");
    drop(first);
    // Ours already: kept, and strict init does not complain about it.
    let _telemetry = traced::builder()
        .no_exporter()
        .no_logs()
        .strict(true)
        .init()
        .expect("a second init");

    let exporter = InMemoryLogExporter::default();
    let logs = SdkLoggerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    traced::set_logger_provider(logs.clone());
    let capture = Capture::start();
    tracing::info_span!("request").in_scope(handler);
    let spans = capture.spans();
    let (request, handler, library) = (
        spans.one("request"),
        spans.one("handler"),
        spans.one("library.call"),
    );
    assert_eq!(handler.parent_span_id, request.span_context.span_id());
    assert_eq!(library.parent_span_id, handler.span_context.span_id());

    let records = exporter.get_emitted_logs().expect("logs");
    let bodies: Vec<_> = records.iter().map(|r| r.record.body().cloned()).collect();
    assert_eq!(
        bodies,
        [Some(AnyValue::String("from the log crate".into()))],
        "DEBUG is filtered out"
    );
    let tc = records[0].record.trace_context().expect("in a span");
    assert_eq!(
        (tc.trace_id, tc.span_id),
        (
            library.span_context.trace_id(),
            library.span_context.span_id()
        )
    );
}
