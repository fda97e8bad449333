//! Where finished spans go, beyond the SDK's own exporters: drop counting
//! and reporting, value truncation, the console tree, and our pipeline's
//! OTLP/gRPC exporter.

#[cfg(feature = "console")]
pub(crate) mod console;
#[cfg(feature = "init")]
pub(crate) mod console_metrics;
// OTLP metrics with our exemplars (#29).
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
pub(crate) mod metrics;
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
pub(crate) mod otlp;
// Wraps the OTLP exporter; `dropped_spans()` is there in every build.
#[cfg_attr(
    not(any(feature = "otlp-grpc", feature = "otlp-http")),
    allow(dead_code)
)]
pub(crate) mod reported;
#[cfg_attr(not(feature = "init"), allow(dead_code))]
pub(crate) mod truncate;

#[cfg(feature = "console")]
pub use console::ConsoleExporter;
pub use reported::dropped_spans;
