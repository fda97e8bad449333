//! A provider installed only through `opentelemetry::global`, never through
//! `traced`: `#[traced]` finds it, and costs next to nothing before it
//! exists. Its own test binary, since it owns the global provider.

use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use traced::traced;

#[traced]
fn work(n: u32) -> u32 {
    n + 1
}

#[test]
fn a_provider_installed_directly_in_the_global_is_found() {
    // Nothing installed: calls work and start nothing.
    for n in 0..10 {
        assert_eq!(work(n), n + 1);
    }
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    opentelemetry::global::set_tracer_provider(provider.clone());
    // Call sites look at the global provider again within 1024 calls.
    for n in 0..2048 {
        work(n);
    }
    let spans = exporter.get_finished_spans().expect("spans");
    assert!(
        spans.len() >= 1024,
        "only {} of 2048 calls recorded",
        spans.len()
    );
    assert!(
        spans.iter().all(|s| s.name == "work"),
        "the probe must not leave spans"
    );
    let _ = provider.shutdown();
}
