//! The tracer the `tracing` layer starts its spans with: the provider
//! `#[traced]` uses, looked up again whenever it changes.
//!
//! tracing-opentelemetry keeps one tracer for the life of the layer, and a
//! global subscriber lives as long as the process. A tracer bound to one
//! provider would keep exporting to it after `traced::set_tracer_provider`
//! (or `traced::testing`) replaced it; this one compares the provider
//! generation on each span, like a `#[traced]` call site does.

use std::sync::Arc;

use arc_swap::ArcSwapOption;
use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::trace::noop::NoopTracer;
use opentelemetry::trace::{SpanBuilder, Tracer, TracerProvider as _};
use opentelemetry::{Context, InstrumentationScope};

use crate::span::provider::{self, Installed};

/// The scope of the spans made from `tracing` spans.
const SCOPE: &str = "tracing";

/// A [`Tracer`] over whatever provider `traced` has installed.
#[derive(Default)]
pub(crate) struct FollowingTracer {
    cache: ArcSwapOption<(u64, BoxedTracer)>,
}

impl std::fmt::Debug for FollowingTracer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FollowingTracer").finish_non_exhaustive()
    }
}

fn scope() -> InstrumentationScope {
    InstrumentationScope::builder(SCOPE).build()
}

impl FollowingTracer {
    fn current(&self) -> Arc<(u64, BoxedTracer)> {
        let generation = provider::generation();
        if let Some(cached) = self.cache.load_full().filter(|c| c.0 == generation) {
            return cached;
        }
        let (generation, installed) = provider::installed();
        let tracer = match installed {
            Some(Installed::Backend(backend)) => backend.boxed_tracer(scope()),
            // `OTEL_SDK_DISABLED`: spans that only carry their parent's
            // context, as `#[traced]` spans do then.
            Some(Installed::Disabled) => BoxedTracer::new(Box::new(NoopTracer::new())),
            // Nothing installed through `traced`: OpenTelemetry's global
            // provider, asked again on every span (generation 0 is never
            // cached, since the global provider has no generation).
            None => global::tracer_provider().tracer_with_scope(scope()),
        };
        let fresh = Arc::new((generation, tracer));
        if generation != 0 {
            self.cache.store(Some(fresh.clone()));
        }
        fresh
    }
}

impl Tracer for FollowingTracer {
    type Span = super::scrub::ScrubbedSpan;

    /// The span's fields and events are scrubbed on the way (#25).
    fn build_with_context(&self, builder: SpanBuilder, parent_cx: &Context) -> Self::Span {
        let builder = super::scrub::builder(builder);
        super::scrub::ScrubbedSpan(self.current().1.build_with_context(builder, parent_cx))
    }
}
