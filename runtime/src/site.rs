//! Call sites, span guards and instrumented futures: what `#[traced]` expands to.

use std::future::Future;
use std::pin::Pin;
use std::sync::RwLock;
use std::task::{Context as TaskContext, Poll};

use opentelemetry::global::{self, BoxedSpan};
use opentelemetry::trace::Link;
use opentelemetry::trace::{
    Span as _, SpanContext, SpanKind, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, InstrumentationScope, Key, KeyValue, StringValue, Value};
use opentelemetry_sdk::trace::{SdkTracer, Span as SdkSpan};

use crate::provider::{self, Installed};
use crate::record;

/// The value recorded for a parameter whose name marks a secret.
pub const REDACTED: &str = "[REDACTED]";

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
}

/// How a call site starts spans, resolved once per provider generation.
enum Resolved {
    /// Nothing was installed through `traced`: ask OpenTelemetry's global provider.
    Global,
    /// Tracing is disabled: start no span at all.
    Disabled,
    /// The SDK tracer for this call site's scope.
    Sdk(SdkTracer),
}

/// One instrumented function: its facts and its cached tracer.
pub struct CallSite {
    meta: Meta,
    cache: RwLock<Option<(u64, Resolved)>>,
}

impl CallSite {
    /// A call site; `const` so that it can live in a `static`.
    pub const fn new(meta: Meta) -> Self {
        CallSite {
            meta,
            cache: RwLock::new(None),
        }
    }

    /// Starts this call site's span as a child of `parent` (the current
    /// context when `None`), with `links`.
    #[inline(never)]
    pub fn start_with(&'static self, parent: Option<Context>, links: Vec<Link>) -> Started {
        let resolved = self.resolve();
        let tracer = |build: &dyn Fn(&Context) -> AnySpan| match &parent {
            Some(parent) => build(parent),
            None => Context::map_current(|cx| build(cx)),
        };
        let builder = || self.builder().with_links(links.clone());
        let span = match &*resolved {
            Some((_, Resolved::Sdk(t))) => {
                tracer(&|cx| AnySpan::Sdk(t.build_with_context(builder(), cx)))
            }
            Some((_, Resolved::Global)) | None => {
                let t = global::tracer_provider().tracer_with_scope(self.scope());
                tracer(&|cx| AnySpan::Global(t.build_with_context(builder(), cx)))
            }
            Some((_, Resolved::Disabled)) => AnySpan::None,
        };
        drop(resolved);
        Started::new(self, span, parent)
    }

    /// The cache, brought up to date with the installed provider.
    fn resolve(&'static self) -> std::sync::RwLockReadGuard<'static, Option<(u64, Resolved)>> {
        let generation = provider::generation();
        let cache = self.cache.read().unwrap_or_else(|p| p.into_inner());
        if matches!(&*cache, Some((seen, _)) if *seen == generation) {
            return cache;
        }
        drop(cache);
        self.refresh();
        self.cache.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts this call site's span as a child of the current context.
    #[inline]
    pub fn start(&'static self) -> Started {
        record::ensure_panic_hook();
        let generation = provider::generation();
        {
            let cache = self.cache.read().unwrap_or_else(|p| p.into_inner());
            if let Some((seen, resolved)) = &*cache {
                if *seen == generation {
                    return self.start_resolved(resolved);
                }
            }
        }
        self.refresh();
        self.start()
    }

    #[cold]
    fn refresh(&'static self) {
        let (generation, installed) = provider::installed();
        let resolved = match installed {
            None => Resolved::Global,
            Some(Installed::Disabled) => Resolved::Disabled,
            Some(Installed::Sdk(provider)) => {
                Resolved::Sdk(provider.tracer_with_scope(self.scope()))
            }
        };
        let mut cache = self.cache.write().unwrap_or_else(|p| p.into_inner());
        *cache = Some((generation, resolved));
    }

    fn scope(&self) -> InstrumentationScope {
        InstrumentationScope::builder(self.meta.scope_name)
            .with_version(self.meta.scope_version)
            .build()
    }

    #[inline]
    fn start_resolved(&'static self, resolved: &Resolved) -> Started {
        let span = match resolved {
            Resolved::Sdk(tracer) => AnySpan::Sdk(Context::map_current(|parent| {
                tracer.build_with_context(self.builder(), parent)
            })),
            Resolved::Global => {
                let tracer = global::tracer_provider().tracer_with_scope(self.scope());
                AnySpan::Global(Context::map_current(|parent| {
                    tracer.build_with_context(self.builder(), parent)
                }))
            }
            Resolved::Disabled => AnySpan::None,
        };
        Started::new(self, span, None)
    }

    #[inline]
    fn builder(&self) -> opentelemetry::trace::SpanBuilder {
        opentelemetry::trace::SpanBuilder::from_name(self.meta.name)
            .with_kind(self.meta.kind.clone())
    }
}

/// The span of one call, before it becomes current.
pub struct Started {
    span: AnySpan,
    /// The explicit parent, if one was given: the span's context is built
    /// on it instead of on the current context.
    parent: Option<Context>,
}

impl Started {
    /// The span, with the code attributes set first when it records.
    #[inline]
    fn new(site: &'static CallSite, mut span: AnySpan, parent: Option<Context>) -> Started {
        if span.is_recording() {
            let meta = &site.meta;
            span.set_attributes([
                KeyValue::new(
                    Key::from_static_str("code.function.name"),
                    Value::String(StringValue::from(meta.function)),
                ),
                KeyValue::new(
                    Key::from_static_str("code.file.path"),
                    Value::String(StringValue::from(meta.file)),
                ),
                KeyValue::new(
                    Key::from_static_str("code.line.number"),
                    Value::I64(i64::from(meta.line)),
                ),
            ]);
        }
        Started { span, parent }
    }

    /// Whether the span records: when `false`, generated code evaluates no
    /// argument and no attribute expression.
    #[inline]
    pub fn is_recording(&self) -> bool {
        self.span.is_recording()
    }

    /// Records one attribute; `None` records nothing.
    ///
    /// Goes straight into the span: no intermediate buffer to allocate.
    #[inline]
    pub fn attr(&mut self, key: &'static str, value: Option<Value>) {
        if let Some(value) = value {
            self.span
                .set_attribute(KeyValue::new(Key::from_static_str(key), value));
        }
    }

    /// Records a parameter whose name marks a secret.
    #[inline]
    pub fn redacted(&mut self, key: &'static str) {
        self.attr(key, Some(Value::String(StringValue::from(REDACTED))));
    }

    /// Makes the span current for a synchronous body; dropping the guard
    /// ends the span (recording a panic if one is unwinding through it).
    #[inline]
    pub fn enter(self) -> SyncGuard {
        let active = ActiveSpan::new(self.span, self.parent);
        let attached = active.cx.clone().attach();
        SyncGuard {
            active,
            _attached: attached,
        }
    }

    /// Wraps a future so that the span is current during every poll and
    /// ends when the future completes or is dropped.
    ///
    /// `finish` runs once with the output, before the span ends; generated
    /// code uses it to record errors and return values.
    #[inline]
    pub fn instrument<F, D>(self, future: F, finish: D) -> Instrumented<F, D>
    where
        F: Future,
        D: FnOnce(&ActiveSpan, &F::Output),
    {
        Instrumented {
            future,
            active: Some(ActiveSpan::new(self.span, self.parent)),
            finish: Some(finish),
        }
    }
}

impl Started {
    /// For a function that returns a future: runs `make` (the function's
    /// body, which builds the future) with the span current, then wraps the
    /// future it returns like [`Started::instrument`], so the returned
    /// future, not the constructor, carries the span.
    #[inline]
    pub fn instrument_returned<F, D>(
        self,
        make: impl FnOnce() -> F,
        finish: D,
    ) -> Instrumented<F, D>
    where
        F: Future,
        D: FnOnce(&ActiveSpan, &F::Output),
    {
        let mut slot = Some(ActiveSpan::new(self.span, self.parent));
        let future = {
            let _attached = slot.as_ref().map(|active| active.cx.clone().attach());
            // Ends the span if the constructor panics.
            let unwinding = PollPanic(Some(&mut slot));
            let future = make();
            unwinding.disarm();
            future
        };
        Instrumented {
            future,
            active: slot,
            finish: Some(finish),
        }
    }
}

/// A started span in its context: what errors, return values and panics are
/// recorded on.
pub struct ActiveSpan {
    cx: Context,
    /// Whether a panic was already unwinding when the span became current:
    /// such a panic is not this span's.
    panicking_at_start: bool,
}

impl ActiveSpan {
    fn new(span: AnySpan, parent: Option<Context>) -> Self {
        let cx = match (span, parent) {
            (AnySpan::Sdk(span), None) => Context::current_with_span(span),
            (AnySpan::Global(span), None) => Context::current_with_span(span),
            (AnySpan::None, None) => Context::current(),
            (AnySpan::Sdk(span), Some(parent)) => parent.with_span(span),
            (AnySpan::Global(span), Some(parent)) => parent.with_span(span),
            (AnySpan::None, Some(parent)) => parent,
        };
        ActiveSpan {
            cx,
            panicking_at_start: std::thread::panicking(),
        }
    }

    /// Whether the span records.
    #[inline]
    pub fn is_recording(&self) -> bool {
        self.cx.span().is_recording()
    }

    /// Records one attribute; `None` records nothing.
    #[inline]
    pub fn attr(&self, key: &'static str, value: Option<Value>) {
        if let Some(value) = value {
            self.cx
                .span()
                .set_attribute(KeyValue::new(Key::from_static_str(key), value));
        }
    }

    /// The span's context (with the span in it).
    pub fn context(&self) -> &Context {
        &self.cx
    }

    /// The span's own span context.
    pub fn span_context(&self) -> SpanContext {
        self.cx.span().span_context().clone()
    }

    pub(crate) fn record_error(
        &self,
        type_name: &'static str,
        message: String,
        sources: Vec<StringValue>,
    ) {
        record::record_error(&self.cx.span(), type_name, message, sources);
    }

    /// Ends the span, recording the panic that is unwinding through it, if any.
    fn end(&self) {
        if std::thread::panicking() && !self.panicking_at_start {
            record::record_panic(&self.cx.span());
        }
        self.cx.span().end();
    }

    fn end_cancelled(&self) {
        record::record_cancelled(&self.cx.span());
        self.cx.span().end();
    }
}

/// Keeps a synchronous call's span current; ends it when dropped.
pub struct SyncGuard {
    active: ActiveSpan,
    _attached: opentelemetry::ContextGuard,
}

impl SyncGuard {
    /// The span, to record the call's outcome on.
    #[inline]
    pub fn span(&self) -> &ActiveSpan {
        &self.active
    }
}

impl Drop for SyncGuard {
    fn drop(&mut self) {
        self.active.end();
    }
}

pin_project_lite::pin_project! {
    /// A future whose span is current during every poll.
    ///
    /// The span ends when the future completes; a future dropped before it
    /// completes ends its span with an event named `cancelled`.
    pub struct Instrumented<F, D> {
        #[pin]
        future: F,
        active: Option<ActiveSpan>,
        finish: Option<D>,
    }

    impl<F, D> PinnedDrop for Instrumented<F, D> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(active) = this.active.take() {
                // Not completed: dropped mid-flight, or unwinding from a
                // panic inside `poll` (which `poll` already recorded).
                active.end_cancelled();
            }
        }
    }
}

impl<F, D> Future for Instrumented<F, D>
where
    F: Future,
    D: FnOnce(&ActiveSpan, &F::Output),
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, task: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _attached = match this.active {
            Some(active) => active.cx.clone().attach(),
            // Polled after completion: let the inner future decide (it
            // usually panics with a clear message).
            None => return this.future.poll(task),
        };
        let unwinding = PollPanic(Some(this.active));
        let poll = this.future.poll(task);
        let slot = unwinding.disarm();
        if let Poll::Ready(output) = &poll {
            if let Some(active) = slot.take() {
                if let Some(finish) = this.finish.take() {
                    finish(&active, output);
                }
                active.end();
            }
        }
        poll
    }
}

/// Alive only while an instrumented future is polled: if the poll panics,
/// its drop records the panic and ends the span before unwinding goes on.
struct PollPanic<'a>(Option<&'a mut Option<ActiveSpan>>);

impl<'a> PollPanic<'a> {
    fn disarm(mut self) -> &'a mut Option<ActiveSpan> {
        self.0.take().expect("armed until disarmed")
    }
}

impl Drop for PollPanic<'_> {
    fn drop(&mut self) {
        if let Some(active) = self.0.take().and_then(Option::take) {
            active.end();
        }
    }
}

/// The span of a call, from an SDK tracer or from the global provider.
// Not boxed: the span moves into a `Context` right after it starts, and a
// box here would cost an allocation per call.
#[allow(clippy::large_enum_variant)]
enum AnySpan {
    Sdk(SdkSpan),
    Global(BoxedSpan),
    /// Tracing is disabled.
    None,
}

impl AnySpan {
    #[inline]
    fn is_recording(&self) -> bool {
        match self {
            AnySpan::Sdk(span) => span.is_recording(),
            AnySpan::Global(span) => span.is_recording(),
            AnySpan::None => false,
        }
    }

    #[inline]
    fn set_attribute(&mut self, attribute: KeyValue) {
        match self {
            AnySpan::Sdk(span) => span.set_attribute(attribute),
            AnySpan::Global(span) => span.set_attribute(attribute),
            AnySpan::None => {}
        }
    }

    fn set_attributes(&mut self, attributes: impl IntoIterator<Item = KeyValue>) {
        match self {
            AnySpan::Sdk(span) => span.set_attributes(attributes),
            AnySpan::Global(span) => span.set_attributes(attributes),
            AnySpan::None => {}
        }
    }
}
