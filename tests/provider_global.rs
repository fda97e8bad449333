//! Providers installed or replaced only through `opentelemetry::global`,
//! the way the OpenTelemetry documentation sets up the SDK: `#[traced]`
//! sees each from the first call after, as it does for
//! `traced::set_tracer_provider`. Its own test binary, since it owns the
//! global provider; one test, since the steps share it.

use opentelemetry::global;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use traced::traced;

#[traced]
fn work(n: u32) -> u32 {
    n + 1
}

fn provider() -> (SdkTracerProvider, InMemorySpanExporter) {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    (provider, exporter)
}

fn names(exporter: &InMemorySpanExporter) -> Vec<String> {
    exporter
        .get_finished_spans()
        .expect("spans")
        .into_iter()
        .map(|s| s.name.into_owned())
        .collect()
}

#[test]
fn every_provider_change_through_either_api_is_seen_on_the_next_call() {
    // Nothing installed: calls work and start nothing.
    for n in 0..10 {
        assert_eq!(work(n), n + 1);
    }

    // Installed through the global only: the very next call records.
    let (first, first_spans) = provider();
    global::set_tracer_provider(first.clone());
    work(1);
    assert_eq!(names(&first_spans), ["work"], "the first call after");

    // Replaced through the global.
    let (second, second_spans) = provider();
    global::set_tracer_provider(second.clone());
    work(2);
    assert_eq!(
        names(&first_spans).len(),
        1,
        "the old provider gets no more"
    );
    assert_eq!(names(&second_spans), ["work"]);

    // Installed through traced, then replaced through the global: the
    // global one wins from the next call, as it would for any other
    // OpenTelemetry instrumentation.
    let (third, third_spans) = provider();
    traced::set_tracer_provider(third.clone());
    work(3);
    assert_eq!(names(&third_spans), ["work"]);
    let (fourth, fourth_spans) = provider();
    global::set_tracer_provider(fourth.clone());
    work(4);
    assert_eq!(names(&third_spans).len(), 1);
    assert_eq!(names(&fourth_spans), ["work"]);

    // And back through traced.
    traced::set_tracer_provider(third.clone());
    work(5);
    assert_eq!(names(&third_spans).len(), 2);
    assert_eq!(names(&fourth_spans).len(), 1);
    assert_eq!(names(&second_spans).len(), 1);

    for p in [first, second, third, fourth] {
        let _ = p.shutdown();
    }
}
