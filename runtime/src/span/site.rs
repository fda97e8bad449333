//! Call sites: the compile-time facts of one instrumented function, its
//! cached tracer, and starting its span.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use arc_swap::ArcSwapOption;
use opentelemetry::global;
use opentelemetry::trace::{
    Link, Span as _, SpanBuilder, SpanContext, SpanKind, TraceContextExt as _, TraceFlags,
    Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, InstrumentationScope, KeyValue, StringValue, Value};

use crate::pipeline::Start;

use super::backend::{BackendTracer, StartSpan, Visit};
use super::guard::{Measure, Started};
use super::panic;
use super::provider::{self, Installed};
use super::recorder::Recorder;
use crate::metrics::FunctionMetrics;
use crate::semconv;

/// `value`, or `"unknown"` when a build variable is missing (a crate built
/// without cargo).
pub const fn or_unknown(value: Option<&'static str>) -> &'static str {
    match value {
        Some(value) => value,
        None => "unknown",
    }
}

/// The compile-time facts about one instrumented function.
#[derive(Debug)]
pub struct Meta {
    /// The span name.
    pub name: &'static str,
    /// The span kind.
    pub kind: SpanKind,
    /// `code.function.name`: `module::path::function`.
    pub function: &'static str,
    /// `code.file.path`.
    pub file: &'static str,
    /// `code.line.number`.
    pub line: u32,
    /// The instrumentation scope: the calling crate's package name.
    pub scope_name: &'static str,
    /// The instrumentation scope version: the calling crate's version.
    pub scope_version: &'static str,
    /// How many attributes a sampled call sets at most (code, arguments,
    /// `attributes(..)`, `return`, `error.type`): the span's attribute list
    /// is allocated at this size once, instead of growing.
    pub attributes: usize,
    /// What a run-time filter matches on: the module path of the
    /// function, unless `#[traced(target = "..")]` gives another.
    pub target: &'static str,
    /// `#[traced(level = ..)]`; [`Level::Info`](crate::level::Level::Info)
    /// unless given. Carried for a run-time filter; not recorded.
    pub level: crate::level::Level,
    /// Whether calls record their duration in
    /// [`FUNCTION_DURATION`](crate::metrics::FUNCTION_DURATION): `false`
    /// with `#[traced(metrics = false)]`, and for inline spans and
    /// integrations, which record metrics of their own.
    pub metrics: bool,
}

/// How a call site starts spans, resolved once per provider generation.
enum Resolved {
    /// Nothing was installed through `traced`: ask OpenTelemetry's global provider.
    Global,
    /// Nothing was installed through `traced`, and OpenTelemetry's global
    /// provider is the no-op one: start no span. A provider installed later
    /// through `opentelemetry::global` replaces the watched no-op there
    /// (see `provider.rs`), which moves the generation on; as a fallback
    /// for when that watch could not be set up, probed again every
    /// [`GLOBAL_PROBE_EVERY`] calls.
    GlobalNoop,
    /// Tracing is disabled: start no span at all.
    Disabled,
    /// The installed backend's tracer for this call site's scope.
    Tracer(BackendTracer),
}

/// One instrumented function: its facts and its cached tracer.
pub struct CallSite {
    meta: Meta,
    /// The tracer for the provider generation it was resolved for. An
    /// `ArcSwap` rather than a lock: reading it is the common case, on every
    /// call, and takes no lock.
    cache: ArcSwapOption<(u64, Resolved)>,
    /// Whether the last call here recorded: the guess for this one, which
    /// decides whether to size the attribute list before the sampler runs
    /// (a wrong guess costs one allocation, or one growth of the list).
    recorded: AtomicBool,
    /// Calls since the global provider was last found to be the no-op one.
    since_probe: AtomicU32,
    /// The generation this call site found nothing to record in, shifted
    /// left by two, with [`QUIET_DISABLED`] or [`QUIET_NOOP`] in the low
    /// bits; 0 when it found a tracer. Read before the cache: a call with
    /// nothing installed costs two plain loads and a compare, no guard of
    /// the `ArcSwap`.
    quiet: AtomicU64,
    /// The duration histogram of this function (#29).
    metrics: FunctionMetrics,
}

/// The low bits of [`CallSite::quiet`]: which quiet state.
const QUIET_STATE: u64 = 3;

/// `generation` in the high bits of [`CallSite::quiet`] (its top two bits
/// dropped: a wrap after 2^62 installs is of no concern).
#[inline]
fn quiet_tag(generation: u64) -> u64 {
    generation << 2
}

/// [`CallSite::quiet`]: tracing is disabled.
const QUIET_DISABLED: u64 = 1;
/// [`CallSite::quiet`]: nothing installed, and the global provider is the
/// no-op one (probed again every [`GLOBAL_PROBE_EVERY`] calls).
const QUIET_NOOP: u64 = 2;

/// How often a call site that found no provider looks again at
/// OpenTelemetry's global one. Providers installed through `traced::init`,
/// `traced::set_tracer_provider` or `opentelemetry::global` are all seen on
/// the next call; this probe only matters when the global slot already held
/// a provider someone put there before `main` (another crate's constructor),
/// which `traced` cannot watch.
pub const GLOBAL_PROBE_EVERY: u32 = 1024;

impl CallSite {
    /// A call site; `const` so that it can live in a `static`.
    pub const fn new(meta: Meta) -> Self {
        CallSite {
            meta,
            cache: ArcSwapOption::const_empty(),
            recorded: AtomicBool::new(false),
            since_probe: AtomicU32::new(0),
            quiet: AtomicU64::new(0),
            metrics: FunctionMetrics::new(),
        }
    }

    /// The call site of an integration (HTTP, messaging, database), whose
    /// spans are named at run time: scope `traced`, no code attributes.
    pub(crate) const fn integration() -> Self {
        CallSite::new(Meta {
            name: "",
            kind: SpanKind::Internal,
            function: "",
            file: "",
            line: 0,
            scope_name: "traced",
            scope_version: env!("CARGO_PKG_VERSION"),
            attributes: 0,
            target: "traced",
            level: crate::level::Level::Info,
            metrics: false,
        })
    }

    /// Starts a span whose name and attributes are known only at run time
    /// as a child of `parent`. `build` runs only when a provider may record
    /// it, so that nothing installed costs no more than a `#[traced]` call;
    /// without a span, `parent` is still the context to make current (and
    /// to propagate).
    #[inline]
    pub(crate) fn start_dynamic(
        &'static self,
        parent: &Context,
        build: impl FnOnce() -> SpanBuilder,
    ) -> Started {
        self.start_dynamic_in(Some(parent), build)
    }

    /// [`CallSite::start_dynamic`] as a child of the current context.
    /// Without a span there is nothing new to make current, so the result
    /// has no context: a caller that propagates injects the current one.
    #[inline]
    pub(crate) fn start_dynamic_current(
        &'static self,
        build: impl FnOnce() -> SpanBuilder,
    ) -> Started {
        self.start_dynamic_in(None, build)
    }

    #[inline]
    fn start_dynamic_in(
        &'static self,
        parent: Option<&Context>,
        build: impl FnOnce() -> SpanBuilder,
    ) -> Started {
        panic::ensure_panic_hook();
        let resolved = self.resolve();
        let no_span = || Started {
            cx: parent.cloned(),
            recording: false,
            measure: None,
        };
        let dynamic = Dynamic { parent, build };
        match resolved.as_deref().map(|(_, r)| r) {
            Some(Resolved::GlobalNoop) => {
                self.count_noop_call();
                no_span()
            }
            Some(Resolved::Disabled) => no_span(),
            Some(Resolved::Tracer(tracer)) => tracer.visit(dynamic),
            Some(Resolved::Global) | None => {
                dynamic.visit(&global::tracer_provider().tracer_with_scope(self.scope()))
            }
        }
    }

    /// One more call that found the no-op global provider; every
    /// [`GLOBAL_PROBE_EVERY`] of them, the provider is looked at again.
    #[inline]
    fn count_noop_call(&'static self) {
        // A plain load and store, not a locked increment: an approximate
        // count is enough to decide when to look again.
        let calls = self.since_probe.load(Ordering::Relaxed).wrapping_add(1);
        self.since_probe.store(calls, Ordering::Relaxed);
        if calls % GLOBAL_PROBE_EVERY == 0 {
            self.refresh();
        }
    }

    /// Starts this call site's span as a child of the current context.
    /// `record` sets the arguments' attributes, and runs only when the span
    /// records.
    #[inline]
    pub fn start<R: FnOnce(&mut Recorder<'_>)>(&'static self, record: R) -> Started {
        if self.is_quiet() {
            return Started {
                cx: None,
                recording: false,
                measure: None,
            };
        }
        self.start_span(record)
    }

    /// [`CallSite::start`] past the quiet check. Not inlined: the caller's
    /// frame then holds only the `Started`, so a call with nothing
    /// installed does not pay for the stack and saved registers that
    /// starting a span needs (one call more for a span that starts).
    #[inline(never)]
    fn start_span<R: FnOnce(&mut Recorder<'_>)>(&'static self, record: R) -> Started {
        panic::ensure_panic_hook();
        let resolved = self.resolve();
        self.begin_resolved(
            resolved.as_deref().map(|(_, r)| r),
            None,
            Vec::new(),
            record,
        )
    }

    /// Starts this call site's span as a child of `parent` (the current
    /// context when `None`), with `links`.
    #[inline(never)]
    pub fn start_with<R: FnOnce(&mut Recorder<'_>)>(
        &'static self,
        parent: Option<Context>,
        links: Vec<Link>,
        record: R,
    ) -> Started {
        panic::ensure_panic_hook();
        let resolved = self.resolve();
        self.begin_resolved(resolved.as_deref().map(|(_, r)| r), parent, links, record)
    }

    /// Whether this call site found nothing to record in for the current
    /// generation (counting the call, when that was the no-op global
    /// provider, towards the next probe).
    #[inline]
    fn is_quiet(&'static self) -> bool {
        let quiet = self.quiet.load(Ordering::Relaxed);
        if quiet == 0 || quiet & !QUIET_STATE != quiet_tag(provider::generation()) {
            return false;
        }
        if quiet & QUIET_NOOP != 0 {
            self.count_noop_call();
        }
        true
    }

    /// The cache, brought up to date with the installed provider.
    #[inline]
    fn resolve(&'static self) -> arc_swap::Guard<Option<Arc<(u64, Resolved)>>> {
        let generation = provider::generation();
        let cached = self.cache.load();
        if matches!(&*cached, Some(c) if c.0 == generation) {
            return cached;
        }
        drop(cached);
        self.refresh();
        self.cache.load()
    }

    #[cold]
    fn refresh(&'static self) {
        let (generation, installed) = provider::installed();
        let filtered_out = || !crate::filter::current().enabled(self.meta.target, self.meta.level);
        let resolved = match installed {
            None if global_is_noop() => Resolved::GlobalNoop,
            None if filtered_out() => Resolved::Disabled,
            None => Resolved::Global,
            Some(Installed::Disabled) => Resolved::Disabled,
            // Filtered out (`TRACED_FILTER`): no span, as when disabled;
            // its children attach to the nearest span that records.
            Some(Installed::Backend(_)) if filtered_out() => Resolved::Disabled,
            Some(Installed::Backend(backend)) => Resolved::Tracer(backend.tracer(self.scope())),
        };
        let quiet = match resolved {
            Resolved::Disabled => quiet_tag(generation) | QUIET_DISABLED,
            Resolved::GlobalNoop => quiet_tag(generation) | QUIET_NOOP,
            _ => 0,
        };
        self.cache.store(Some(Arc::new((generation, resolved))));
        self.quiet.store(quiet, Ordering::Relaxed);
    }

    /// Records a call `seconds` long in this function's histogram.
    #[inline]
    pub(super) fn record_call(
        &self,
        seconds: f64,
        error_type: Option<&'static str>,
        span: Option<&SpanContext>,
    ) {
        self.metrics.finish(
            seconds,
            self.meta.function,
            || self.scope(),
            error_type,
            span,
        );
    }

    fn scope(&self) -> InstrumentationScope {
        InstrumentationScope::builder(self.meta.scope_name)
            .with_version(self.meta.scope_version)
            .build()
    }

    /// Starts this call site's span as `resolved` says: no span, or one
    /// through whichever tracer, by the one generic [`CallSite::begin`].
    #[inline]
    fn begin_resolved<R: FnOnce(&mut Recorder<'_>)>(
        &'static self,
        resolved: Option<&Resolved>,
        parent: Option<Context>,
        links: Vec<Link>,
        record: R,
    ) -> Started {
        let begin = Begin {
            site: self,
            parent,
            links,
            record,
        };
        match resolved {
            Some(Resolved::GlobalNoop) => {
                self.count_noop_call();
                Started {
                    cx: begin.parent,
                    recording: false,
                    measure: None,
                }
            }
            Some(Resolved::Disabled) => Started {
                cx: begin.parent,
                recording: false,
                measure: None,
            },
            Some(Resolved::Tracer(tracer)) => tracer.visit(begin),
            Some(Resolved::Global) | None => {
                begin.visit(&global::tracer_provider().tracer_with_scope(self.scope()))
            }
        }
    }

    // The span goes into its `Context` as soon as it is built, with its
    // attributes already set: moved once, never boxed twice, and no lock
    // taken per attribute. One function for every tracer.
    #[inline]
    fn begin<T: StartSpan, R: FnOnce(&mut Recorder<'_>)>(
        &'static self,
        tracer: &T,
        parent: Option<Context>,
        links: Vec<Link>,
        record: R,
    ) -> Started {
        // Timed from before the span starts, as the span is.
        let measure = if self.meta.metrics {
            self.metrics
                .start()
                .map(|timing| Measure { timing, site: self })
        } else {
            None
        };
        let predicted = self.recorded.load(Ordering::Relaxed);
        let attributes = if predicted {
            // The code attributes are constants: no formatting to avoid,
            // and the sampler gets to see them.
            let mut attributes = Vec::with_capacity(self.meta.attributes);
            attributes.extend(self.code_attributes());
            attributes
        } else {
            Vec::new()
        };
        let mut start = Start::new(
            std::borrow::Cow::Borrowed(self.meta.name),
            self.meta.kind.clone(),
            attributes,
            links,
        );
        // A timed call's clock reading is the span's start too: one read
        // for both (the span ends with the reading that ends the timing).
        start.start = measure.map(|m| m.timing.started_at());
        let (cx, recording) = in_parent(parent.as_ref(), |cx| {
            tracer.start_then(
                start,
                cx,
                |sc| {
                    if predicted {
                        self.recorded.store(false, Ordering::Relaxed);
                    }
                    // Only the span context has to reach the children.
                    (cx.with_remote_span_context(sc), false)
                },
                |mut span| {
                    if !predicted {
                        self.recorded.store(true, Ordering::Relaxed);
                        span.set_attributes(self.code_attributes());
                    }
                    let mut recorder = Recorder::new(&mut span);
                    record(&mut recorder);
                    recorder.finish();
                    (cx.with_span(span), true)
                },
            )
        });
        Started {
            cx: Some(cx),
            recording,
            measure,
        }
    }

    #[inline]
    fn code_attributes(&self) -> [KeyValue; 3] {
        let meta = &self.meta;
        [
            KeyValue::new(
                semconv::CODE_FUNCTION_NAME,
                Value::String(StringValue::from(meta.function)),
            ),
            KeyValue::new(
                semconv::CODE_FILE_PATH,
                Value::String(StringValue::from(meta.file)),
            ),
            KeyValue::new(semconv::CODE_LINE_NUMBER, Value::I64(i64::from(meta.line))),
        ]
    }
}

/// [`CallSite::begin`] for whichever tracer is found.
struct Begin<R> {
    site: &'static CallSite,
    parent: Option<Context>,
    links: Vec<Link>,
    record: R,
}

impl<R: FnOnce(&mut Recorder<'_>)> Visit for Begin<R> {
    type Output = Started;

    #[inline]
    fn visit<T: StartSpan>(self, tracer: &T) -> Started {
        self.site
            .begin(tracer, self.parent, self.links, self.record)
    }
}

/// A span built at run time, started as a child of `parent` (the current
/// context when `None`). Like a call site's span, an unsampled one carries
/// only its span context, with the caller's W3C `random` flag kept.
struct Dynamic<'p, B> {
    parent: Option<&'p Context>,
    build: B,
}

impl<B: FnOnce() -> SpanBuilder> Visit for Dynamic<'_, B> {
    type Output = Started;

    #[inline]
    fn visit<T: StartSpan>(self, tracer: &T) -> Started {
        let build = self.build;
        in_parent(self.parent, |parent| {
            tracer.start_then(
                Start::from_builder(build()),
                parent,
                |sc| Started {
                    cx: Some(parent.with_remote_span_context(sc)),
                    recording: false,
                    measure: None,
                },
                |span| Started {
                    cx: Some(parent.with_span(span)),
                    recording: true,
                    measure: None,
                },
            )
        })
    }
}

/// Whether OpenTelemetry's global provider is the no-op one.
///
/// The probe must not make a span anyone exports. It starts one in a
/// context with telemetry suppressed, under a made-up parent: the SDK then
/// returns an empty span context (and records nothing), while the no-op
/// tracer hands back the parent's span context, which identifies it.
#[cold]
pub(super) fn global_is_noop() -> bool {
    let marker = SpanContext::new(
        opentelemetry::trace::TraceId::from_bytes(*b"traced.noop.prob"),
        opentelemetry::trace::SpanId::from_bytes(*b"traced.p"),
        TraceFlags::SAMPLED,
        true,
        opentelemetry::trace::TraceState::NONE,
    );
    let probe = Context::new()
        .with_remote_span_context(marker.clone())
        .with_telemetry_suppressed();
    let tracer = global::tracer_provider().tracer("traced.probe");
    let span = tracer.start_with_context("traced.probe", &probe);
    *span.span_context() == marker
}

/// Runs `build` on the explicit parent, or on the current context without
/// cloning it.
#[inline]
fn in_parent<T>(parent: Option<&Context>, build: impl FnOnce(&Context) -> T) -> T {
    match parent {
        Some(parent) => build(parent),
        None => Context::map_current(build),
    }
}
