//! Capture finished spans in memory and assert on them.
//!
//! ```
//! # use traced_runtime as traced;
//! let spans = traced::testing::capture(|| {
//!     // call instrumented functions here
//! });
//! assert!(spans.is_empty());
//! ```
//!
//! In an async test (`#[tokio::test] async fn`), where the code under test
//! is awaited rather than called in a closure, start a [`Capture`] first,
//! keep it across the awaits, and read its spans at the end:
//!
//! ```
//! # use traced_runtime as traced;
//! # async fn login(_user: &str) {}
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let capture = traced::testing::Capture::start();
//! login("ana").await; // spans may end on any task or thread
//! let spans = capture.spans(); // flushed: every span that ended is there
//! # assert!(spans.is_empty());
//! # });
//! ```
//!
//! A capture installs its own span backend for as long as it runs, and
//! restores the previous one afterwards. It is built the way
//! [`init`](https://docs.rs/traced/latest/traced/fn.init.html) builds
//! the one it installs, from the same code, over an in-memory exporter in
//! place of OTLP: our own span pipeline unless `TRACED_PIPELINE=sdk` is
//! set (then the OpenTelemetry SDK's provider with its batch processor),
//! so the behaviour tests run on what users run. The spans are read after
//! a flush, so every span that ended is there. Captures in one process
//! take turns: a second capture waits until the first is finished, so
//! tests that capture may run in parallel.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::future::Future;
use std::sync::{Mutex, MutexGuard};

use opentelemetry::Value;
use opentelemetry::trace::{SpanId, SpanKind, Status};
pub use opentelemetry_sdk::trace::SpanData;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanLimits};

pub use crate::span::Pipeline;
use crate::span::backend::Backend;
use crate::span::build::{BackendBuilder, Batch, Settings};
use crate::span::provider::{self, Installed, Ticket};

static TURN: Mutex<()> = Mutex::new(());

/// A running capture: spans finished while it is alive are collected.
///
/// Dropping it restores the span backend that was installed before.
pub struct Capture {
    exporter: InMemorySpanExporter,
    backend: Option<Backend>,
    previous: Option<Option<(Ticket, Installed)>>,
    _turn: MutexGuard<'static, ()>,
}

impl Capture {
    /// Starts capturing; waits while another capture in this process runs.
    ///
    /// The spans go through the pipeline `init` installs for OTLP, our
    /// own, unless `TRACED_PIPELINE` says `sdk`.
    pub fn start() -> Capture {
        Capture::start_on(Pipeline::from_env().unwrap_or(Pipeline::BY_DEFAULT))
    }

    /// Starts capturing through our own span pipeline
    /// ([`PipelineProvider`](crate::PipelineProvider)), whatever the
    /// environment says.
    pub fn start_pipeline() -> Capture {
        Capture::start_on(Pipeline::Traced)
    }

    /// Starts capturing through `pipeline`, whatever the environment says.
    pub fn start_on(pipeline: Pipeline) -> Capture {
        // A test that panicked mid-capture poisons the lock; its capture was
        // restored by `Drop` all the same, so the next one may go on.
        let turn = TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let exporter = InMemorySpanExporter::default();
        let settings = Settings {
            pipeline,
            resource: opentelemetry_sdk::Resource::builder().build(),
            sampler: None,
            limits: SpanLimits::default(),
            value_length_limit: None,
            batch: Batch {
                // Large enough that no test drops a span.
                max_queue_size: Some(1 << 16),
                ..Batch::default()
            },
            tail: None,
        };
        let backend = BackendBuilder::new(settings)
            .with_exporter(exporter.clone())
            .build()
            .expect("the export thread of the capture starts");
        let (_, previous) = provider::install_for_capture(Installed::Backend(backend.clone()));
        Capture {
            exporter,
            backend: Some(backend),
            previous: Some(previous),
            _turn: turn,
        }
    }

    /// Whether this capture runs on our own pipeline.
    pub fn on_pipeline(&self) -> bool {
        self.pipeline() == Pipeline::Traced
    }

    /// The pipeline this capture runs on.
    pub fn pipeline(&self) -> Pipeline {
        self.backend
            .as_ref()
            .map_or(Pipeline::Traced, Backend::pipeline)
    }

    /// The spans finished so far, in the order they finished (after a
    /// flush, so every span that ended is there).
    pub fn spans(&self) -> Spans {
        if let Some(backend) = &self.backend {
            backend
                .force_flush()
                .expect("the capture's backend flushes");
        }
        Spans(self.exporter.get_finished_spans().unwrap_or_default())
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        if let Some(previous) = self.previous.take() {
            provider::restore(previous);
        }
        if let Some(backend) = self.backend.take() {
            let _ = backend.shutdown();
        }
    }
}

/// Runs `f` and returns the spans that finished while it ran.
pub fn capture(f: impl FnOnce()) -> Spans {
    let capture = Capture::start();
    f();
    capture.spans()
}

/// Runs `future` to completion with `block_on` and returns the spans that
/// finished while it ran, together with its output.
///
/// `block_on` is a function such as `tokio::runtime::Runtime::block_on`.
pub fn capture_future<F: Future>(
    block_on: impl FnOnce(F) -> F::Output,
    future: F,
) -> (F::Output, Spans) {
    let capture = Capture::start();
    let output = block_on(future);
    (output, capture.spans())
}

/// Finished spans, with helpers to find spans and render them as a tree.
#[derive(Debug, Clone)]
pub struct Spans(pub Vec<SpanData>);

impl Spans {
    /// How many spans were captured.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no span was captured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// All captured spans.
    pub fn all(&self) -> &[SpanData] {
        &self.0
    }

    /// The one span named `name`.
    ///
    /// # Panics
    ///
    /// When there is no such span or more than one, with the names captured.
    pub fn one(&self, name: &str) -> &SpanData {
        let found: Vec<&SpanData> = self.0.iter().filter(|s| s.name == name).collect();
        match found.as_slice() {
            [one] => one,
            _ => panic!(
                "expected exactly one span named {name:?}, found {}; captured: {:?}",
                found.len(),
                self.0.iter().map(|s| &*s.name).collect::<Vec<_>>()
            ),
        }
    }

    /// Every span named `name`, in the order they finished.
    pub fn named(&self, name: &str) -> Vec<&SpanData> {
        self.0.iter().filter(|s| s.name == name).collect()
    }

    /// The spans as an indented tree: one line per span (name, kind unless
    /// internal, status unless unset, attributes sorted by key without the
    /// `code.*` ones), one line per event below it, children indented by
    /// four spaces and ordered by start time.
    ///
    /// Strings are quoted, so `a=1` is an int and `a="1"` a string.
    pub fn tree(&self) -> String {
        let ids: HashMap<SpanId, &SpanData> = self
            .0
            .iter()
            .map(|s| (s.span_context.span_id(), s))
            .collect();
        let mut children: HashMap<SpanId, Vec<&SpanData>> = HashMap::new();
        let mut roots = Vec::new();
        for span in &self.0 {
            if ids.contains_key(&span.parent_span_id) {
                children.entry(span.parent_span_id).or_default().push(span);
            } else {
                roots.push(span);
            }
        }
        let mut out = String::new();
        roots.sort_by_key(|s| s.start_time);
        for root in roots {
            render(&mut out, root, &children, 0);
        }
        out
    }
}

fn render(
    out: &mut String,
    span: &SpanData,
    children: &HashMap<SpanId, Vec<&SpanData>>,
    depth: usize,
) {
    let pad = "    ".repeat(depth);
    let _ = write!(out, "{pad}{}", span.name);
    if span.span_kind != SpanKind::Internal {
        let _ = write!(out, " kind={:?}", span.span_kind);
    }
    match &span.status {
        Status::Unset => {}
        Status::Ok => out.push_str(" status=Ok"),
        Status::Error { description } => {
            let _ = write!(out, " status=Error({description:?})");
        }
    }
    write_attributes(out, &span.attributes);
    out.push('\n');
    for event in span.events.iter() {
        let _ = write!(out, "{pad}  ! {}", event.name);
        write_attributes(out, &event.attributes);
        out.push('\n');
    }
    if let Some(kids) = children.get(&span.span_context.span_id()) {
        let mut kids = kids.clone();
        kids.sort_by_key(|s| s.start_time);
        for kid in kids {
            render(out, kid, children, depth + 1);
        }
    }
}

/// A value as the tree shows it: strings quoted, everything else bare.
pub fn show(value: &Value) -> String {
    crate::kind::value::show(value)
}

/// Installs the default propagators (W3C `tracecontext` and `baggage`) as
/// `init` does, for tests that inject or extract headers without `init`.
pub fn install_propagators() {
    use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator};
    let list: Vec<Box<dyn TextMapPropagator + Send + Sync>> = vec![
        Box::new(crate::propagation::TraceContext::default()),
        Box::new(opentelemetry_sdk::propagation::BaggagePropagator::new()),
    ];
    opentelemetry::global::set_text_map_propagator(TextMapCompositePropagator::new(list));
}

/// ` key=value` for each attribute but the `code.*` ones, sorted by key.
fn write_attributes(out: &mut String, attributes: &[opentelemetry::KeyValue]) {
    let mut attributes: Vec<_> = attributes
        .iter()
        .filter(|kv| !kv.key.as_str().starts_with("code."))
        .collect();
    attributes.sort_by(|a, b| a.key.as_str().cmp(b.key.as_str()));
    for kv in attributes {
        let _ = write!(out, " {}={}", kv.key, show(&kv.value));
    }
}
