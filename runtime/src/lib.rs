//! Runtime of the `traced` crate. Depend on `traced`, which re-exports
//! everything public here; this crate's own API is not meant to be used
//! directly.
//!
//! One folder per subsystem, imports in one direction
//! (`init → export → kind → span → tail, pipeline → propagation`; `semconv`,
//! `redact` and `filter` for all; an integration depends on the core,
//! never the core on it):
//!
//! | module | owns |
//! | --- | --- |
//! | `span` | the hot path: call sites, the span backend (`backend.rs`: the one type that tells the SDK's provider from our pipeline, and `build.rs`, which builds either for `init` and `testing` alike), the provider slot, guards, instrumented futures, the exception writer and the panic hook |
//! | `pipeline` | our own span pipeline behind the OpenTelemetry API: provider, tracer, span record, sampling, ids, and the export worker split by job (queue, batching, export, flush and shutdown) |
//! | `kind` | autoref dispatch: how a value becomes an attribute, whether an outcome is an error and how to describe it |
//! | `propagation` | header carriers, `inject`/`extract`, the strict W3C propagator, `parent`/`links` |
//! | `metrics` | rate, errors and duration (#29): the per-function histogram bound once per call site, the integrations' duration histograms, the exemplars |
//! | `tail` | tail sampling: the rules, the hold of each trace until its local part ended, its bounds, and `TailSampling`, the SDK span processor it runs in |
//! | `filter`, `level` | choosing spans at run time (`TRACED_FILTER`, `RUST_LOG` syntax) by a call site's target and level |
//! | `redact` | secret names and the scrubber of free text, `Debug` output and SQL |
//! | `init` | the `OTEL_*` variables, the configuration, the OTLP exporter, the `Telemetry` guard (feature `init`) |
//! | `export` | drop counting, value truncation, our OTLP encoders, the console tree (feature `console`) |
//! | `integrations` | HTTP server and client (features `axum`, `reqwest`), gRPC (feature `tonic`), messaging, databases, the `tracing` bridge (feature `tracing`) |
//! | `event`, `testing` | `event!`/`attributes!`; capturing spans in tests (feature `testing`) |
//! | `context` | carrying the current context into futures, tokio tasks (feature `tokio`) and threads |

#![warn(missing_docs)]
// On docs.rs (`--cfg docsrs`, a nightly rustdoc) every item shows the
// feature it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod context;
mod event;
mod export;
mod filter;
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
#[cfg(feature = "init")]
mod init;
mod integrations;
mod kind;
mod level;
pub mod metrics;
mod pipeline;
mod propagation;
mod redact;
pub mod semconv;
mod span;
mod tail;

#[cfg(feature = "testing")]
pub mod testing;

/// The OpenTelemetry API this crate is built on; `traced::opentelemetry`.
pub use opentelemetry;
/// The OpenTelemetry SDK this crate is built on; `traced::opentelemetry_sdk`.
pub use opentelemetry_sdk;

pub use context::{FutureExt, current_context, thread};
#[cfg(feature = "tokio")]
pub use context::{spawn, spawn_blocking};
#[cfg(feature = "console")]
pub use export::ConsoleExporter;
pub use export::dropped_spans;
pub use filter::{Filter, FilterError, set_filter};
#[cfg(feature = "signal")]
pub use init::shutdown_signal;
#[cfg(feature = "init")]
pub use init::{
    Builder, Compression, Exporter, InitError, MetricsTemporality, OtlpProtocol, Telemetry,
    builder, init,
};
pub use integrations::db;
#[cfg(feature = "tonic")]
pub use integrations::grpc;
pub use integrations::http;
pub use integrations::messaging;
#[cfg(feature = "tracing")]
pub use integrations::tracing::{DEFAULT_TRACING_FILTER, tracing_filter, tracing_layer};
#[cfg(feature = "serde")]
pub use kind::json::Json;
pub use kind::value::{ArrayElem, IntoAttr, Recordable};
pub use metrics::{set_function_metrics, set_meter_provider};
pub use pipeline::{PipelineBuilder, PipelineProvider, PipelineSpan, PipelineTracer};
pub use propagation::{
    Headers, IntoLink, IntoParent, TRACE_FLAG_RANDOM, TraceContext, extract, inject, inject_context,
};
#[cfg(feature = "tracing")]
pub use span::logger::set_logger_provider;
/// Inline spans: `span!` (in this crate's root), a closure, a future.
pub use span::{ActiveSpan, Outcome, SyncGuard, in_span, in_span_async};
pub use span::{
    CANCELLED_EVENT, GLOBAL_PROBE_EVERY, Pipeline, REDACTED, set_pipeline_provider,
    set_tracer_provider,
};
pub use tail::{
    KeepFn, TailRule, TailSampling, TailStats, tail_is_kept, tail_keep_now, tail_stats,
};

/// The console tree of one trace, for `traced-view`, which draws joined
/// traces the way the console exporter does. Not public API.
#[cfg(feature = "console")]
#[doc(hidden)]
pub use export::console::render_trace as __render_trace;

/// Used only by code that `#[traced]` generates. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::event::{Attributes, add_event, recording_context, set_attributes};
    pub use crate::level::Level;
    pub use crate::propagation::{link, links, parent};
    pub use crate::span::{
        ActiveSpan, CallSite, Instrumented, Meta, Recorder, Started, SyncGuard, is_secret_key,
        or_unknown,
    };
    pub use opentelemetry::Context;
    pub use opentelemetry::trace::SpanKind;

    /// The traits that autoref dispatch picks between; generated code
    /// imports them all in a block of its own.
    pub use crate::kind::traits as kind;

    pub use crate::kind::Tag;
    pub use crate::kind::outcome::set_status;
    pub use crate::kind::value::value;
    pub use crate::kind::{record_err, to_value};

    /// `%value` and `?value` in `fields(..)`, `ret(Display)` and `ret(Debug)`.
    pub mod format {
        pub use crate::kind::format::{debug, display};
    }

    /// Checks a value against its semantic-convention key's type: one
    /// function per registry type.
    pub mod expects {
        pub use crate::kind::expects::{boolean, booleans, double, doubles, int, ints, strings};
    }
}
