//! A span of our pipeline: everything it records is kept in the span
//! itself, and handed over whole to the export thread when it ends.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use opentelemetry::trace::{Event, Link, SpanContext, SpanId, SpanKind, Status};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::SpanLimits;

use super::queue::Shared;

/// A span started by a [`PipelineTracer`](super::PipelineTracer).
///
/// Like the SDK's span, it is ended by [`end`](opentelemetry::trace::Span::end)
/// or, at the latest, when dropped; it may be sent to and ended on any
/// thread. A span that does not record carries only its span context.
#[derive(Debug)]
pub struct PipelineSpan {
    pub(crate) context: SpanContext,
    /// `None`: not recording, or already ended.
    pub(crate) open: Option<Open>,
}

/// What a recording span holds until it ends: the pipeline it goes to,
/// and its record.
#[derive(Debug)]
pub(crate) struct Open {
    /// Stays with the span: the export thread gets only the record, so it
    /// never touches this reference count, which the calling threads
    /// change for every span (a count written by both sides would move its
    /// cache line between the cores twice per span).
    pub(crate) shared: Arc<Shared>,
    pub(crate) record: Record,
}

/// What a span records, as the export thread gets it.
#[derive(Clone, Debug)]
pub(crate) struct Record {
    /// Interned (see [`intern`]): the export thread groups spans by scope
    /// with a pointer comparison, and no reference count moves per span.
    pub(crate) scope: &'static InstrumentationScope,
    pub(crate) parent: SpanId,
    pub(crate) parent_is_remote: bool,
    pub(crate) kind: SpanKind,
    pub(crate) name: Cow<'static, str>,
    pub(crate) start: SystemTime,
    pub(crate) attributes: Vec<KeyValue>,
    pub(crate) dropped_attributes: u32,
    /// Events, links and a status: most spans have none of them, so they
    /// are kept out of line, and the record, which moves several times on
    /// its way to the export thread, stays about 90 bytes smaller.
    pub(crate) extra: Option<Box<Extra>>,
}

/// What a span holds besides its attributes, when it holds any of it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Extra {
    pub(crate) events: Vec<Event>,
    pub(crate) dropped_events: u32,
    pub(crate) links: Vec<Link>,
    pub(crate) dropped_links: u32,
    pub(crate) status: Status,
}

/// What a span without extras has.
static NONE: Extra = Extra {
    events: Vec::new(),
    dropped_events: 0,
    links: Vec::new(),
    dropped_links: 0,
    status: Status::Unset,
};

impl Extra {
    /// Applies the span limits to what a span started with: links and
    /// events beyond the limits are dropped and counted, and so are their
    /// attributes beyond theirs (as the SDK's tracer does).
    pub(crate) fn limit(&mut self, limits: &SpanLimits) {
        let max = limits.max_links_per_span as usize;
        self.dropped_links += self.links.len().saturating_sub(max) as u32;
        self.links.truncate(max);
        for link in &mut self.links {
            let max = limits.max_attributes_per_link as usize;
            link.dropped_attributes_count = link.attributes.len().saturating_sub(max) as u32;
            link.attributes.truncate(max);
        }
        let max = limits.max_events_per_span as usize;
        self.dropped_events += self.events.len().saturating_sub(max) as u32;
        self.events.truncate(max);
        for event in &mut self.events {
            let max = limits.max_attributes_per_event as usize;
            event.dropped_attributes_count = event.attributes.len().saturating_sub(max) as u32;
            event.attributes.truncate(max);
        }
    }
}

impl Record {
    /// The events, links and status (all empty when none was recorded).
    pub(crate) fn extra(&self) -> &Extra {
        self.extra.as_deref().unwrap_or(&NONE)
    }

    fn extra_mut(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Box::default)
    }
}

/// A tracer's shared part: its scope and the pipeline it feeds.
#[derive(Debug)]
pub(crate) struct Scoped {
    pub(crate) scope: &'static InstrumentationScope,
    pub(crate) shared: Arc<Shared>,
}

/// `scope`, kept for the life of the process, once per distinct scope.
///
/// Scopes name libraries, so there are a handful per process; a caller
/// that makes a tracer per request under the same scope gets the same one
/// back. Interning is what lets a finished span carry its scope without a
/// reference count that both the calling and the export thread write.
pub(crate) fn intern(scope: InstrumentationScope) -> &'static InstrumentationScope {
    static SCOPES: Mutex<Option<HashSet<&'static InstrumentationScope>>> = Mutex::new(None);
    let mut scopes = SCOPES.lock().unwrap_or_else(PoisonError::into_inner);
    let scopes = scopes.get_or_insert_with(HashSet::new);
    if let Some(known) = scopes.get(&scope) {
        return known;
    }
    if scopes.len() >= MAX_SCOPES {
        // A scope made per request (a name with an id in it) would leak
        // one allocation per request (#25): past the cap, new scopes share
        // one, said once on stderr.
        static OVERFLOW: std::sync::OnceLock<&'static InstrumentationScope> =
            std::sync::OnceLock::new();
        return OVERFLOW.get_or_init(|| {
            eprintln!(
                "traced: more than {MAX_SCOPES} instrumentation scopes; spans of new ones are exported under `{OVERFLOW_SCOPE}`"
            );
            Box::leak(Box::new(InstrumentationScope::builder(OVERFLOW_SCOPE).build()))
        });
    }
    let scope: &'static InstrumentationScope = Box::leak(Box::new(scope));
    scopes.insert(scope);
    scope
}

/// How many distinct instrumentation scopes are kept; libraries name a
/// handful per process.
pub(crate) const MAX_SCOPES: usize = 1024;

/// The scope spans of scopes past [`MAX_SCOPES`] are exported under.
pub(crate) const OVERFLOW_SCOPE: &str = "traced.scope_overflow";

/// A span that ended, on its way to the export thread.
#[derive(Clone, Debug)]
pub(crate) struct Finished {
    pub(crate) context: SpanContext,
    pub(crate) end: SystemTime,
    pub(crate) record: Record,
}

impl PipelineSpan {
    /// A span that records nothing, with `context` for its children.
    pub(crate) fn dropped(context: SpanContext) -> Self {
        PipelineSpan {
            context,
            open: None,
        }
    }

    fn finish(&mut self, end: Option<SystemTime>) {
        let Some(Open { shared, record }) = self.open.take() else {
            return;
        };
        // Recorded but not sampled (`RecordOnly`): no exporter gets it,
        // as with the SDK's batch processor.
        if !self.context.is_sampled() {
            return;
        }
        let end = end.unwrap_or_else(opentelemetry::time::now);
        shared.push(Finished {
            context: self.context.clone(),
            end,
            record,
        });
    }
}

impl opentelemetry::trace::Span for PipelineSpan {
    fn add_event_with_timestamp<T>(
        &mut self,
        name: T,
        timestamp: SystemTime,
        mut attributes: Vec<KeyValue>,
    ) where
        T: Into<Cow<'static, str>>,
    {
        let Some(open) = &mut self.open else {
            return;
        };
        let limits = open.shared.config.limits;
        let extra = open.record.extra_mut();
        if extra.events.len() < limits.max_events_per_span as usize {
            let max = limits.max_attributes_per_event as usize;
            let dropped = attributes.len().saturating_sub(max);
            attributes.truncate(max);
            extra
                .events
                .push(Event::new(name, timestamp, attributes, dropped as u32));
        } else {
            extra.dropped_events += 1;
        }
    }

    fn span_context(&self) -> &SpanContext {
        &self.context
    }

    fn is_recording(&self) -> bool {
        self.open.is_some()
    }

    fn set_attribute(&mut self, attribute: KeyValue) {
        let Some(open) = &mut self.open else {
            return;
        };
        let record = &mut open.record;
        if record.attributes.len() < open.shared.config.limits.max_attributes_per_span as usize {
            record.attributes.push(attribute);
        } else {
            record.dropped_attributes += 1;
        }
    }

    fn set_status(&mut self, status: Status) {
        if let Some(open) = &mut self.open {
            // Ok > Error > Unset, as in the SDK.
            if status > open.record.extra().status {
                open.record.extra_mut().status = status;
            }
        }
    }

    fn update_name<T>(&mut self, new_name: T)
    where
        T: Into<Cow<'static, str>>,
    {
        if let Some(open) = &mut self.open {
            open.record.name = new_name.into();
        }
    }

    fn add_link(&mut self, span_context: SpanContext, mut attributes: Vec<KeyValue>) {
        let Some(open) = &mut self.open else {
            return;
        };
        let limits = open.shared.config.limits;
        let extra = open.record.extra_mut();
        if extra.links.len() < limits.max_links_per_span as usize {
            let max = limits.max_attributes_per_link as usize;
            let dropped = attributes.len().saturating_sub(max);
            attributes.truncate(max);
            extra
                .links
                .push(Link::new(span_context, attributes, dropped as u32));
        } else {
            extra.dropped_links += 1;
        }
    }

    fn end_with_timestamp(&mut self, timestamp: SystemTime) {
        self.finish(Some(timestamp));
    }

    fn end(&mut self) {
        self.finish(None);
    }
}

impl Drop for PipelineSpan {
    fn drop(&mut self) {
        self.finish(None);
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::Context;
    use opentelemetry::trace::{
        Span as _, TraceContextExt as _, TraceFlags, TraceId, TraceState, Tracer as _,
        TracerProvider as _,
    };
    use opentelemetry_sdk::trace::Sampler;

    use super::super::PipelineProvider;
    use super::*;

    #[test]
    fn a_dropped_span_keeps_the_parents_flags_but_sampled() {
        let provider = PipelineProvider::builder()
            .with_sampler(Sampler::AlwaysOff)
            .build()
            .unwrap();
        let random = crate::propagation::TRACE_FLAG_RANDOM.to_u8();
        let parent = Context::new().with_remote_span_context(SpanContext::new(
            TraceId::from(7_u128),
            SpanId::from(8_u64),
            TraceFlags::new(0x01 | random),
            true,
            TraceState::NONE,
        ));
        let span = provider.tracer("t").start_with_context("s", &parent);
        assert!(!span.is_recording());
        let context = span.span_context();
        assert_eq!(context.trace_flags().to_u8(), random);
        assert_eq!(context.trace_id(), TraceId::from(7_u128));
        assert!(context.is_valid() && !context.is_remote());
        // A root span has no parent's flags to keep, but its trace id is
        // the default generator's, random: the `random` flag, unsampled.
        let root = provider
            .tracer("t")
            .start_with_context("r", &Context::new());
        assert_eq!(root.span_context().trace_flags().to_u8(), random);
    }

    #[test]
    fn equal_scopes_are_interned_once_and_different_ones_apart() {
        let scope = |version: &'static str| {
            InstrumentationScope::builder("intern-test")
                .with_version(version)
                .with_attributes([KeyValue::new("k", 1)])
                .build()
        };
        let first = intern(scope("1"));
        assert!(std::ptr::eq(first, intern(scope("1"))));
        let other = intern(scope("2"));
        assert!(!std::ptr::eq(first, other));
        assert_eq!(other.version(), Some("2"));
        assert_eq!(*first, scope("1"));
    }

    // Regression for #25: every distinct scope was leaked, so a scope per
    // request grew memory without bound.
    #[test]
    fn scopes_past_the_cap_share_one() {
        let mut last = None;
        for i in 0..MAX_SCOPES + 10 {
            last = Some(intern(
                InstrumentationScope::builder(format!("per-request-{i}")).build(),
            ));
        }
        let last = last.unwrap();
        assert_eq!(last.name(), OVERFLOW_SCOPE);
        let again = intern(InstrumentationScope::builder("one more").build());
        assert!(std::ptr::eq(last, again));
    }
}
