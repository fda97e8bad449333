//! OpenTelemetry-native function instrumentation.
//!
//! `#[traced]` turns a function into a span: its arguments become typed
//! attributes, a returned `Err` or a panic becomes an `exception` event with
//! status Error, and the span is current while the body runs (across
//! `.await`s too), so nested instrumented calls become its children.
//!
//! ```
//! use traced::traced;
//!
//! #[derive(Debug)]
//! struct ParseError;
//! impl std::fmt::Display for ParseError {
//!     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
//!         f.write_str("empty input")
//!     }
//! }
//! impl std::error::Error for ParseError {}
//!
//! #[traced]
//! fn parse(input: &str, strict: bool) -> Result<usize, ParseError> {
//!     if input.is_empty() { Err(ParseError) } else { Ok(input.len()) }
//! }
//!
//! assert_eq!(parse("abc", true).unwrap(), 3);
//! ```
//!
//! See [`traced`](macro@traced) for every option.
//!
//! # Cargo features
//!
//! A library that only instruments its functions depends on `traced` with
//! `default-features = false`: the attribute, [`event!`]/[`attributes!`],
//! propagation ([`inject`], [`extract`], [`Headers`]) and
//! [`set_tracer_provider`], on `opentelemetry` and `opentelemetry_sdk` and
//! a few small crates — no tokio, tonic, reqwest or hyper. An application
//! keeps the defaults and calls `traced::init()`.
//!
//! | feature | default | adds |
//! | --- | :-: | --- |
//! | `otlp-grpc` | yes | OTLP over gRPC; implies `init` |
//! | `otlp-http` | yes | OTLP over HTTP (protobuf, JSON); implies `init` |
//! | `console` | yes | `ConsoleExporter`, a tree per finished trace |
//! | `tls` | yes | `https://` collector endpoints with rustls, trust roots and mTLS from `OTEL_EXPORTER_OTLP_[TRACES_]CERTIFICATE`/`_CLIENT_*` or the builder; implies `init` |
//! | `signal` | yes | `shutdown_signal()`: SIGTERM/Ctrl-C as a graceful stop; implies `init` |
//! | `init` | | `init()`, `builder()`, `Telemetry`, `InitError` |
//! | `axum` | | [`http::server::TracedLayer`](http) |
//! | `reqwest` | | [`http::client::SendTraced`](http) |
//! | `serde` | | `Json`: a `Serialize` value recorded as JSON, secret keys' values replaced |
//! | `tonic` | | `grpc::server::TracedLayer`, `grpc::client::TracedLayer`: gRPC spans |
//! | `rusqlite` | | `db::rusqlite`: a `client` span per query, with the database conventions |
//! | `sqlx` | | `db::sqlx`: a `client` span per query, SQLite and PostgreSQL (Rust 1.94) |
//! | `lapin` | | `messaging::lapin`: RabbitMQ `producer` and `process` spans, the context in the AMQP headers (Rust 1.88) |
//! | `tracing` | | the `tracing` ecosystem in the same traces, `tracing`/`log` events as OTLP logs with trace ids: `tracing_layer()`, `DEFAULT_TRACING_FILTER`; implies `init` |
//! | `testing` | | `testing`: capture finished spans in memory |
//! | `tokio` | | `spawn`, `spawn_blocking`: tokio tasks in the caller's context |

#![warn(missing_docs)]
// On docs.rs (`--cfg docsrs`, a nightly rustdoc) every item shows the
// feature it needs.
#![cfg_attr(docsrs, feature(doc_cfg))]

/// Turns a function into an OpenTelemetry span.
///
/// ```
/// # use traced::traced;
/// # #[derive(Debug)] struct Form { user: String }
/// #[traced(name = "POST /login", kind = server, skip(body),
///          attributes(http.request.method = "POST", user.name = form.user.as_str()))]
/// async fn login(form: Form, body: Vec<u8>) -> Result<String, std::io::Error> {
///     Ok(format!("token for {}", form.user))
/// }
/// ```
///
/// # The span
///
/// One span per call, named after the function (`Type::method` when the
/// attribute is on an `impl` block), of kind `internal`, in the
/// instrumentation scope of the calling crate (its package name and
/// version). It carries `code.function.name` (`module::path::function`),
/// `code.file.path` and `code.line.number`, fixed at compile time.
///
/// # Arguments
///
/// Every parameter becomes an attribute named after it, converted by its
/// type: integers → int (a `u64` beyond `i64::MAX` → string), floats →
/// double, `bool` → bool, `&str`/`String`/`Cow<str>` → string, slices,
/// arrays and `Vec`s of those → arrays, `Option<T>` → `T` or no attribute,
/// references and smart pointers to these likewise, any other `Debug` type →
/// its `Debug` string. `self` is not recorded; pattern parameters record the
/// names they bind. A type that implements neither `Debug` nor
/// [`IntoAttr`] is a compile error on that parameter.
///
/// Parameters whose names mark secrets (`password`, `passwd`, `secret`,
/// `token`, `api_key`/`apikey`, `authorization`, `auth`, `cookie`,
/// `credential`, `private_key`, `session`, … matched on `_`-separated
/// segments, case-insensitively) are recorded as `"[REDACTED]"` unless
/// `attributes(..)` names them explicitly.
///
/// Nothing is formatted and no `attributes(..)` expression is evaluated when
/// the span is not sampled.
///
/// # Options
///
/// - `name = "POST /login"`: the span name.
/// - `kind = server`: `internal` (default), `server`, `client`, `producer` or
///   `consumer`.
/// - `skip(a, b)`: leave these parameters out; `skip_all`: leave all out.
/// - `attributes(user.id = user.id, http.request.method = "POST")`: extra
///   attributes; keys may be dotted, values are any expression over the
///   parameters. A key equal to a parameter's name replaces that parameter's
///   automatic recording (which is also how a redacted parameter is recorded
///   on purpose).
/// - `ret`: record the returned value (for a `Result`, the `Ok` value) as the
///   attribute `return`.
/// - `errors = false`: do not record a returned `Err` (recorded by default).
/// - `metrics = false`: do not record the calls' durations in the histogram
///   [`metrics::FUNCTION_DURATION`] (recorded by default when a meter provider is installed).
/// - `parent = expr`: the parent, a `Context` or a `SpanContext`, instead of
///   the current context.
/// - `links(expr, ..)`: links to other spans (`SpanContext`s or `Context`s).
/// - `crate = path`: where `traced` is, for crates that re-export it.
///
/// `parent = ..` and `links(..)` take OpenTelemetry's types; name them
/// through [`traced::opentelemetry`](crate::opentelemetry), which is the
/// version `traced` uses:
///
/// ```
/// use traced::opentelemetry::{Context, trace::SpanContext};
///
/// struct Job { queued_in: Context, batch: SpanContext }
///
/// // A child of the span that queued the job, linked to its batch.
/// #[traced::traced(parent = &job.queued_in, links(&job.batch), skip(job))]
/// fn run(job: &Job) {}
///
/// run(&Job { queued_in: Context::current(), batch: SpanContext::empty_context() });
/// ```
///
/// # Semantic conventions
///
/// Keys in `attributes(..)`, [`event!`] and [`attributes!`] are checked at
/// compile time against the OpenTelemetry semantic conventions registry
/// (release [`semconv::attribute::RELEASE`]):
///
/// - a deprecated key is an error naming its replacement (`http.method` →
///   `http.request.method`); `#[allow(deprecated)] http.method = m` keeps
///   emitting it, e.g. for an old dashboard;
/// - a literal of the wrong type is an error at the literal
///   (`http.response.status_code = "200"`: the key expects an int);
/// - a string literal close to, but not equal to, a member of an enum key is
///   a "did you mean" (`db.system.name = "postgres"` → `"postgresql"`);
///   values far from every member are your own, as the registry's enums
///   are open;
/// - a key in a registry namespace (`http.`, `db.`, `messaging.`, …) that is
///   not in the registry but close to a key that is, is a "did you mean"
///   (`http.request.methd`); template keys such as
///   `"http.request.header.content-type"` are understood.
///
/// Keys outside the registry's namespaces, and keys not close to any
/// registry key, are your own and pass. Experimental (development) keys
/// pass too. Values that are not literals are converted by their type, as
/// for parameters.
///
/// # Errors
///
/// When the returned value is `Err(e)` — of any `Result` type, aliases
/// included — the span gets status Error with the error's message, the
/// attribute `error.type` (the error's type name) and an event `exception`
/// with `exception.type` and `exception.message` (`Display`, or `Debug` when
/// there is no `Display`). When `e` implements `std::error::Error` (or is an
/// `anyhow::Error` or `Box<dyn Error + Send + Sync>`), the messages of its
/// `source()` chain, outermost first, are the event's string-array attribute
/// `traced.error.source_chain` (ours: the conventions have no such key, and
/// `exception.*` is theirs).
///
/// The `exception` event is recorded once, on the span the error first
/// leaves: when `?` carries the same error up through `a → b → c → d`, `d`
/// has the event and `c`, `b`, `a` get status Error and `error.type` only,
/// as the semantic conventions ask. "The same error" is the last exception
/// recorded on this thread inside the span, with the same type and message.
///
/// # Panics
///
/// A panic inside the span adds an `exception` event (`exception.type` =
/// `panic`, `exception.message` = the payload when it is a `&str` or a
/// `String`, and the panic's `code.file.path`, `code.line.number` and
/// `code.column.number`, and `exception.stacktrace` when backtraces are on
/// through `RUST_BACKTRACE`/`RUST_LIB_BACKTRACE`), sets status Error, ends
/// the span and keeps
/// unwinding: the panic is never swallowed; the spans it unwinds through
/// further out get status Error and `error.type` without a second event, and a panic hook installed
/// before ours still runs. The hook that reads the message is installed on
/// the first instrumented call, with or without [`init()`]. Under
/// `panic = "abort"` nothing unwinds: the process ends inside the panic hook,
/// so the span is neither ended nor exported.
///
/// # Async
///
/// For `async fn` the span is created when the function is called, is
/// current during every poll (on whichever thread polls it), and ends when
/// the future completes. A future dropped before it completes ends its span
/// with an event named `traced.cancelled` ([`CANCELLED_EVENT`]). Instrumented
/// futures are `Send` when the function's body is.
///
/// # Expands roughly to
///
/// ```text
/// fn parse(input: &str, strict: bool) -> Result<usize, ParseError> {
///     let started = {
///         static SITE: CallSite = CallSite::new(Meta { name: "parse", kind: Internal, .. });
///         // The closure runs only when the span is sampled.
///         SITE.start(|rec| {
///             rec.attr("input", /* string */);
///             rec.attr("strict", /* bool */);
///         })
///     };
///     let guard = started.enter();            // span current until dropped
///     // The closure sees every way out: the tail, `return` and `?`.
///     let out = (move || -> Result<usize, ParseError> { /* body */ })();
///     /* if `out` is `Err(e)`: status, `error.type`, `exception` event */
///     out                                     // `guard` drops: the span ends
/// }
/// ```
///
/// A function returning `()` keeps its body as it is after `enter()`, and a
/// `#[track_caller]` function binds its body's value without a closure (so
/// that `Location::caller()` stays the caller's; an `Err` leaving it through
/// `return` or `?` ends the span without being recorded). An `async fn`
/// becomes a function returning the instrumented future:
///
/// ```text
/// fn load(id: u64) -> impl Future<Output = Result<User, LoadError>> {
///     let started = /* as above: the span starts at the call */;
///     started.instrument(
///         async move {
///             let out: Result<User, LoadError> = { /* body */ };
///             out
///         },
///         |span, out| { /* if `out` is `Err(e)`: status, `error.type`, `exception` event */ },
///     )
/// }
/// ```
///
/// A function returning `impl Future` or `Pin<Box<dyn Future>>` runs its
/// body at the call with the span current, and the future it returns is
/// wrapped the same way.
pub use traced_macros::traced;

/// Leaves one method of a `#[traced]` `impl` block uninstrumented.
///
/// ```
/// # use traced::{traced, untraced};
/// struct Cache;
///
/// #[traced]
/// impl Cache {
///     fn load(&self, key: &str) -> usize { self.hash(key) }  // span "Cache::load"
///
///     #[untraced]
///     fn hash(&self, key: &str) -> usize { key.len() }       // no span
/// }
/// # assert_eq!(Cache.load("ab"), 2);
/// ```
pub use traced_macros::untraced;

/// Adds an event to the current span, with typed attributes converted like
/// `#[traced]` parameters. Nothing is evaluated when the current span does
/// not record.
///
/// ```
/// # let id = 7_u64;
/// traced::event!("record inserted", task.id = id, db.collection.name = "tasks");
/// ```
///
/// Keys are checked against the semantic conventions at compile time, like
/// those of `#[traced(attributes(..))]`: see [`traced`](macro@traced#semantic-conventions).
pub use traced_macros::event;

/// Sets attributes on the current span, converted like `#[traced]`
/// parameters. Nothing is evaluated when the current span does not record.
///
/// ```
/// # let rows = 3_usize;
/// traced::attributes!(db.response.returned_rows = rows, db.system.name = "sqlite");
/// ```
///
/// Keys are checked against the semantic conventions at compile time, like
/// those of `#[traced(attributes(..))]`: see [`traced`](macro@traced#semantic-conventions).
pub use traced_macros::attributes;

// What `event!` and `attributes!` expand to once their keys are checked.
// Not public API.
#[doc(hidden)]
pub use traced_runtime::{attributes as __runtime_attributes, event as __runtime_event};

/// [`init()`](fn@init) with `service.version` set to the calling crate's
/// version (its `CARGO_PKG_VERSION`, which no function in `traced` can
/// see). `OTEL_RESOURCE_ATTRIBUTES` and code still win over it.
///
/// ```no_run
/// let _telemetry = traced::init!()?;
/// # Ok::<(), traced::InitError>(())
/// ```
#[cfg(feature = "init")]
#[macro_export]
macro_rules! init {
    () => {
        $crate::builder()
            .service_version(::core::env!("CARGO_PKG_VERSION"))
            .init()
    };
}

#[cfg(feature = "init")]
pub use traced_runtime::{
    Builder, Compression, Exporter, InitError, MetricsTemporality, OtlpProtocol, Telemetry,
    builder, init,
};

#[cfg(feature = "console")]
pub use traced_runtime::ConsoleExporter;

#[cfg(feature = "serde")]
pub use traced_runtime::Json;

#[cfg(feature = "signal")]
pub use traced_runtime::shutdown_signal;

pub use traced_runtime::{TRACE_FLAG_RANDOM, TraceContext, dropped_spans};

/// Tail sampling (#28): keep every failed and every slow trace and a share
/// of the rest, decided once each trace's part in this process has ended
/// (`TRACED_TAIL_SAMPLING`, `Builder::tail_sampling`, or [`TailSampling`]
/// on a provider of your own); [`tail_stats`] says what it decided.
/// [`tail_keep_now`] and [`tail_is_kept`] carry the decision across
/// services (the HTTP and gRPC integrations use them for `traceresponse`).
pub use traced_runtime::{
    KeepFn, TailRule, TailSampling, TailStats, tail_is_kept, tail_keep_now, tail_stats,
};

/// Rate, errors and duration (#29): every `#[traced]` call's duration in
/// the histogram [`metrics::FUNCTION_DURATION`], the integrations' request
/// durations by the semantic conventions, with exemplars that lead to kept
/// traces. `init` installs the meter provider from `OTEL_METRICS_EXPORTER`;
/// [`set_meter_provider`] installs one of your own, [`set_function_metrics`]
/// switches the per-function histogram at run time.
pub use traced_runtime::{metrics, set_function_metrics, set_meter_provider};

/// Choosing spans at run time: `TRACED_FILTER`, `Builder::filter` or
/// [`set_filter`], in `RUST_LOG`'s directive syntax.
pub use traced_runtime::{Filter, FilterError, set_filter};

/// Inline spans, without a function: [`span!`] for the rest of a block,
/// [`in_span`] for a closure, [`in_span_async`] for a future.
pub use traced_runtime::{ActiveSpan, Outcome, SyncGuard, in_span, in_span_async, span};

/// Carrying the current context into other futures, tasks and threads.
pub use traced_runtime::{FutureExt, current_context, thread};
#[cfg(feature = "tokio")]
pub use traced_runtime::{spawn, spawn_blocking};

// Every snippet of the migration guide compiles and runs as a doc test
// (`cargo test --doc -p traced`).
#[cfg(doctest)]
#[doc = include_str!("../docs/migrating-from-tracing.md")]
pub struct MigratingFromTracing;

// Every builder snippet of the recipes compiles as a doc test; their
// blocks of variables are read by a test of `traced-runtime`'s `init`.
#[cfg(doctest)]
#[doc = include_str!("../docs/recipes.md")]
pub struct Recipes;

pub use traced_runtime::{
    ArrayElem, CANCELLED_EVENT, GLOBAL_PROBE_EVERY, Headers, IntoAttr, IntoLink, IntoParent,
    REDACTED, Recordable, extract, inject, inject_context, set_tracer_provider,
};

/// Our own span pipeline (what `init` installs with `TRACED_PIPELINE=traced`
/// or `Builder::pipeline`): its provider,
/// builder, tracer and span, and installing it by hand.
pub use traced_runtime::{
    Pipeline, PipelineBuilder, PipelineProvider, PipelineSpan, PipelineTracer,
    set_pipeline_provider,
};

#[cfg(feature = "testing")]
pub use traced_runtime::testing;

#[cfg(feature = "tracing")]
pub use traced_runtime::{
    DEFAULT_TRACING_FILTER, set_logger_provider, tracing_filter, tracing_layer,
};

pub use traced_runtime::db;
#[cfg(feature = "tonic")]
pub use traced_runtime::grpc;
pub use traced_runtime::http;
pub use traced_runtime::messaging;

pub use traced_runtime::semconv;

/// The OpenTelemetry API that `traced` is built on, at the version it
/// uses: contexts for `parent = ..`, span contexts for `links(..)`, the
/// global provider, without a second `opentelemetry` dependency that
/// could resolve to another, incompatible version.
///
/// ```
/// use traced::opentelemetry::trace::TraceContextExt;
///
/// let cx = traced::opentelemetry::Context::current();
/// assert!(!cx.span().span_context().is_valid()); // no span is current
/// ```
pub use traced_runtime::opentelemetry;

/// The OpenTelemetry SDK that `traced` is built on, with the features
/// `traced` turns on (`trace`; `logs` with `tracing`, `testing` with
/// `testing`): providers, samplers, processors and exporters for code
/// that builds its own provider.
///
/// ```
/// use traced::opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
///
/// let provider = SdkTracerProvider::builder()
///     .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(0.25))))
///     .with_simple_exporter(traced::ConsoleExporter::new())
///     .build();
/// traced::set_tracer_provider(provider.clone());
/// // ... and before the process exits:
/// provider.shutdown().unwrap();
/// ```
pub use traced_runtime::opentelemetry_sdk;

/// Used only by code that `#[traced]` generates. Not public API.
#[doc(hidden)]
pub use traced_runtime::__private;
