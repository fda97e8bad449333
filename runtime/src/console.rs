//! `OTEL_TRACES_EXPORTER=console`: each finished trace as an indented tree.
//!
//! ```text
//! trace 0682f2e2dd650de4ea936dbf4e934977  service demo  4 spans  4.26ms  ✗ 1 error
//! a                                     4.26ms  ██████████████████████████████
//! │  divisor = 0
//! │  at src/main.rs:12
//! └─ b                                  3.17ms         ▐██████████████████████
//!    └─ c                               2.09ms                 ▐██████████████
//!       └─ d ✗                          2.08ms                 ▐██████████████
//!             ERROR attempt to divide by zero
//!             ◆ exception +2.07ms  exception.type="panic" exception.message="attempt to divide by zero"
//! ```
//!
//! A tree is printed when its local root ends: a span whose parent is in
//! another process (or that has none), or whose parent was printed already
//! (a straggler that outlived it). [`SpanExporter::force_flush`] and
//! [`SpanExporter::shutdown`] print what is left as partial trees, their
//! roots marked `…`. Colour is used on a terminal unless `NO_COLOR` is set;
//! failures are marked with `✗` and `ERROR` either way.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::io::{IsTerminal as _, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use anstyle::{AnsiColor, Style};
use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId};
use opentelemetry::{Key, KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

/// Width of the time-axis bar, in terminal columns.
const BAR_WIDTH: usize = 30;
/// Column the durations end before; longer span lines push them right.
const NAME_WIDTH: usize = 36;
/// Longest attribute value shown before it is cut with `…`.
const VALUE_MAX: usize = 200;
/// Longest span name, event name, key or status description shown.
const NAME_MAX: usize = 80;
/// Spans held while waiting for their root; beyond it the oldest trace is
/// printed early, so memory stays bounded.
const BUFFER_MAX: usize = 10_000;
/// Printed span ids remembered, so that a span outliving its parent is
/// printed when it ends instead of waiting for a flush.
const PRINTED_MAX: usize = 10_000;
/// Nesting indented in full; deeper spans keep this indentation and say how
/// deep they are, so a runaway recursion cannot make lines grow without end.
const DEPTH_MAX: usize = 24;

/// A [`SpanExporter`] that prints each finished trace to the terminal as an
/// indented tree: one line per span with its duration and a bar on the
/// trace's time axis, then its attributes and events.
///
/// Spans are held until the local root of their tree ends (at most 10 000
/// of them; beyond that the oldest trace is printed early).
/// [`force_flush`](SpanExporter::force_flush) and
/// [`shutdown`](SpanExporter::shutdown) print whatever is still held.
pub struct ConsoleExporter {
    out: Mutex<Box<dyn Write + Send>>,
    color: bool,
    service: Option<String>,
    state: Mutex<Buffer>,
    shut: AtomicBool,
}

impl std::fmt::Debug for ConsoleExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleExporter")
            .field("color", &self.color)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl Default for ConsoleExporter {
    fn default() -> Self {
        Self::new()
    }
}

impl ConsoleExporter {
    /// Prints to standard output, in colour when it is a terminal and
    /// `NO_COLOR` is unset or empty.
    pub fn new() -> Self {
        let color = use_color(
            std::io::stdout().is_terminal(),
            std::env::var_os("NO_COLOR").as_deref(),
        );
        Self::with_writer(std::io::stdout(), color)
    }

    /// Prints to `out`, in colour (ANSI escapes) if `color`.
    pub fn with_writer(out: impl Write + Send + 'static, color: bool) -> Self {
        ConsoleExporter {
            out: Mutex::new(Box::new(out)),
            color,
            service: None,
            state: Mutex::new(Buffer::default()),
            shut: AtomicBool::new(false),
        }
    }

    fn state(&self) -> MutexGuard<'_, Buffer> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn print(&self, trees: Vec<Vec<SpanData>>) {
        if trees.is_empty() {
            return;
        }
        let mut text = String::new();
        for tree in &trees {
            text.push_str(&render_trace(tree, self.service.as_deref(), self.color));
        }
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        // The console is best effort: a closed stdout must not fail exports.
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }
}

/// Colour on a terminal, unless `NO_COLOR` is set to something
/// (<https://no-color.org>).
fn use_color(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|v| v.is_empty())
}

impl SpanExporter for ConsoleExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        if self.shut.load(Ordering::Relaxed) {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        let trees = self.state().add(batch);
        self.print(trees);
        Ok(())
    }

    fn force_flush(&self) -> OTelSdkResult {
        let trees = self.state().take_all();
        self.print(trees);
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        self.shut.store(true, Ordering::Relaxed);
        self.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.service = resource
            .get(&Key::from_static_str("service.name"))
            .map(|v| v.to_string());
    }
}

/// Finished spans waiting for the root of their tree.
#[derive(Default)]
struct Buffer {
    traces: HashMap<TraceId, Vec<SpanData>>,
    /// Trace ids in the order their first held span arrived; may still
    /// name traces that were printed since (skipped, and compacted away).
    order: VecDeque<TraceId>,
    count: usize,
    printed: HashSet<(TraceId, SpanId)>,
    printed_order: VecDeque<(TraceId, SpanId)>,
}

impl Buffer {
    /// Holds `batch`; returns the trees it completed, and the oldest
    /// traces when too much is held.
    fn add(&mut self, batch: Vec<SpanData>) -> Vec<Vec<SpanData>> {
        let arrived: Vec<(TraceId, SpanId, SpanId, bool)> = batch
            .iter()
            .map(|s| {
                let cx = &s.span_context;
                let (trace, id) = (cx.trace_id(), cx.span_id());
                (trace, id, s.parent_span_id, s.parent_span_is_remote)
            })
            .collect();
        for span in batch {
            let trace = span.span_context.trace_id();
            let held = self.traces.entry(trace).or_default();
            if held.is_empty() {
                self.order.push_back(trace);
            }
            held.push(span);
            self.count += 1;
        }
        let mut trees = Vec::new();
        for (trace, id, parent, remote) in arrived {
            let top = parent == SpanId::INVALID
                || remote
                || parent == id
                || self.printed.contains(&(trace, parent));
            if !top {
                continue;
            }
            if let Some(tree) = self.take_tree(trace, id) {
                self.remember(&tree);
                trees.push(tree);
            }
        }
        while self.count > BUFFER_MAX {
            let Some(trace) = self.order.pop_front() else {
                break;
            };
            if let Some(spans) = self.take_trace(trace) {
                self.remember(&spans);
                trees.push(spans);
            }
        }
        trees
    }

    /// Everything held, oldest trace first.
    fn take_all(&mut self) -> Vec<Vec<SpanData>> {
        let mut trees = Vec::new();
        while let Some(trace) = self.order.pop_front() {
            if let Some(spans) = self.take_trace(trace) {
                self.remember(&spans);
                trees.push(spans);
            }
        }
        trees
    }

    fn take_trace(&mut self, trace: TraceId) -> Option<Vec<SpanData>> {
        let spans = self.traces.remove(&trace)?;
        self.count -= spans.len();
        Some(spans)
    }

    /// Takes the span `root` and every held descendant of it out of its
    /// trace; `None` if it was taken already (with an earlier root).
    fn take_tree(&mut self, trace: TraceId, root: SpanId) -> Option<Vec<SpanData>> {
        let held = self.traces.get_mut(&trace)?;
        let mut children: HashMap<SpanId, Vec<usize>> = HashMap::new();
        for (i, span) in held.iter().enumerate() {
            children.entry(span.parent_span_id).or_default().push(i);
        }
        let mut taken = vec![false; held.len()];
        let mut todo: Vec<usize> = (0..held.len())
            .filter(|&i| held[i].span_context.span_id() == root)
            .collect();
        if todo.is_empty() {
            return None;
        }
        while let Some(i) = todo.pop() {
            if std::mem::replace(&mut taken[i], true) {
                continue;
            }
            let id = held[i].span_context.span_id();
            if let Some(kids) = children.get(&id) {
                todo.extend(kids.iter().filter(|&&k| !taken[k]));
            }
        }
        let (tree, rest): (Vec<_>, Vec<_>) = std::mem::take(held)
            .into_iter()
            .zip(taken)
            .partition(|(_, taken)| *taken);
        *held = rest.into_iter().map(|(span, _)| span).collect();
        if held.is_empty() {
            self.traces.remove(&trace);
            if self.order.len() > 2 * self.traces.len() + 64 {
                let traces = &self.traces;
                self.order.retain(|t| traces.contains_key(t));
            }
        }
        self.count -= tree.len();
        Some(tree.into_iter().map(|(span, _)| span).collect())
    }

    fn remember(&mut self, spans: &[SpanData]) {
        for span in spans {
            let cx = &span.span_context;
            if self.printed.insert((cx.trace_id(), cx.span_id())) {
                self.printed_order.push_back((cx.trace_id(), cx.span_id()));
            }
        }
        while self.printed_order.len() > PRINTED_MAX {
            if let Some(old) = self.printed_order.pop_front() {
                self.printed.remove(&old);
            }
        }
    }
}

fn guide() -> Style {
    Style::new().dimmed()
}
fn name() -> Style {
    Style::new().bold()
}
fn failure() -> Style {
    Style::new().fg_color(Some(AnsiColor::Red.into())).bold()
}
fn timeline() -> Style {
    Style::new().fg_color(Some(AnsiColor::Cyan.into()))
}

/// Writes text, styled when colour is on.
struct Paint<'a> {
    out: &'a mut String,
    color: bool,
}

impl Paint<'_> {
    fn put(&mut self, style: Style, text: &str) {
        if self.color && !style.is_plain() && !text.is_empty() {
            let _ = write!(self.out, "{}{text}{}", style.render(), style.render_reset());
        } else {
            self.out.push_str(text);
        }
    }

    fn plain(&mut self, text: &str) {
        self.out.push_str(text);
    }
}

/// `420ns`, `850µs`, `12.3ms`, `1.20s`, `2m05s`, `1h02m`: three
/// significant digits up to a minute.
fn duration(d: Duration) -> String {
    fn digits(x: f64) -> String {
        if x < 9.995 {
            format!("{x:.2}")
        } else if x < 99.95 {
            format!("{x:.1}")
        } else {
            format!("{x:.0}")
        }
    }
    let ns = d.as_nanos();
    if ns < 1_000 {
        format!("{ns}ns")
    } else if ns < 999_500 {
        format!("{}µs", digits(ns as f64 / 1e3))
    } else if ns < 999_500_000 {
        format!("{}ms", digits(ns as f64 / 1e6))
    } else if ns < 59_995_000_000 {
        format!("{}s", digits(ns as f64 / 1e9))
    } else {
        let secs = (ns + 500_000_000) / 1_000_000_000;
        if secs < 3_600 {
            format!("{}m{:02}s", secs / 60, secs % 60)
        } else {
            let mins = (secs + 30) / 60;
            format!("{}h{:02}m", mins / 60, mins % 60)
        }
    }
}

fn since(later: SystemTime, earlier: SystemTime) -> Duration {
    later.duration_since(earlier).unwrap_or_default()
}

/// `text` on one line (control characters escaped), cut after `max`
/// characters with `…`.
fn clean(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max * 4));
    for (i, c) in text.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

fn value(v: &Value) -> String {
    clean(&crate::value::show(v), VALUE_MAX)
}

/// `BAR_WIDTH` columns with `start..end` of `total` drawn, half columns
/// included; a span too short to see still marks where it started.
fn bar(start: Duration, end: Duration, total: Duration) -> String {
    let total = total.as_secs_f64();
    let cols = BAR_WIDTH as f64;
    let at = |d: Duration| {
        if total > 0.0 {
            (d.as_secs_f64() / total * cols).clamp(0.0, cols)
        } else {
            0.0
        }
    };
    let from = at(start);
    let to = at(end).max(from);
    let mut out = String::with_capacity(BAR_WIDTH * 3);
    for col in 0..BAR_WIDTH {
        let (lo, hi) = (col as f64, col as f64 + 1.0);
        let covered = to.min(hi) - from.max(lo);
        out.push(if covered >= 0.75 {
            '█'
        } else if covered >= 0.25 {
            if from > lo { '▐' } else { '▌' }
        } else if to - from < 0.25 && lo <= from && (from < hi || col + 1 == BAR_WIDTH) {
            '▏'
        } else {
            ' '
        });
    }
    out
}

fn kind(kind: &SpanKind) -> Option<&'static str> {
    match kind {
        SpanKind::Internal => None,
        SpanKind::Server => Some("server"),
        SpanKind::Client => Some("client"),
        SpanKind::Producer => Some("producer"),
        SpanKind::Consumer => Some("consumer"),
    }
}

/// Where the code is, from the `code.*` attributes: `at src/main.rs:12:5`,
/// with the function first when it is not the span's own name.
fn code_hint(attributes: &[KeyValue], span_name: &str) -> Option<String> {
    let get = |key: &str| {
        attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| clean(&kv.value.as_str(), NAME_MAX))
    };
    let file = get("code.file.path")?;
    let mut hint = String::from("at ");
    if let Some(function) = get("code.function.name").filter(|f| f != span_name) {
        let _ = write!(hint, "{function} ");
    }
    hint.push_str(&file);
    if let Some(line) = get("code.line.number") {
        let _ = write!(hint, ":{line}");
        if let Some(column) = get("code.column.number") {
            let _ = write!(hint, ":{column}");
        }
    }
    Some(hint)
}

/// Attributes that [`code_hint`] shows.
fn in_hint(key: &str) -> bool {
    matches!(
        key,
        "code.file.path" | "code.line.number" | "code.column.number" | "code.function.name"
    )
}

/// Renders one trace: a header line (trace id, `service`, span count, the
/// trace's duration, errors), then one line per span, children under their
/// parent in order of start time, each followed by its status, attributes,
/// events and links. Spans whose parent is absent are drawn as roots, marked
/// `…` when the parent is in this process. Any input is drawn, never a
/// panic: cycles of ids, repeated ids, and ends before starts included.
pub(crate) fn render_trace(spans: &[SpanData], service: Option<&str>, color: bool) -> String {
    let mut out = String::new();
    let mut by_start: Vec<usize> = (0..spans.len()).collect();
    by_start.sort_by_key(|&i| spans[i].start_time);
    let Some(&first) = by_start.first() else {
        return out;
    };
    let start = spans[first].start_time;
    let end = spans
        .iter()
        .map(|s| s.end_time.max(s.start_time))
        .max()
        .unwrap_or(start);
    let total = since(end, start);

    let mut index: HashMap<SpanId, usize> = HashMap::new();
    for (i, span) in spans.iter().enumerate() {
        index.entry(span.span_context.span_id()).or_insert(i);
    }
    let mut children = vec![Vec::new(); spans.len()];
    let mut roots = Vec::new();
    for &i in &by_start {
        let span = &spans[i];
        let parent = span.parent_span_id;
        match index.get(&parent) {
            Some(&p) if parent != SpanId::INVALID && p != i => children[p].push(i),
            _ => roots.push(i),
        }
    }

    let errors = spans
        .iter()
        .filter(|s| matches!(s.status, Status::Error { .. }))
        .count();
    let mut paint = Paint {
        out: &mut out,
        color,
    };
    paint.put(name(), "trace");
    paint.plain(&format!(" {}", spans[first].span_context.trace_id()));
    if let Some(service) = service {
        paint.plain("  service ");
        paint.put(name(), &clean(service, NAME_MAX));
    }
    let plural = if spans.len() == 1 { "" } else { "s" };
    paint.put(
        guide(),
        &format!("  {} span{plural}  {}", spans.len(), duration(total)),
    );
    if errors > 0 {
        let plural = if errors == 1 { "" } else { "s" };
        paint.plain("  ");
        paint.put(failure(), &format!("✗ {errors} error{plural}"));
    }
    paint.plain("\n");

    let mut draw = Draw {
        spans,
        children,
        seen: vec![false; spans.len()],
        start,
        total,
        paint,
    };
    for root in roots {
        draw.tree(root);
    }
    // Spans in a cycle of parent ids have no root: draw them all the same.
    for i in by_start {
        draw.tree(i);
    }
    out.push('\n');
    out
}

struct Draw<'a, 'o> {
    spans: &'a [SpanData],
    /// Children of each span, by index, in order of start time.
    children: Vec<Vec<usize>>,
    seen: Vec<bool>,
    start: SystemTime,
    total: Duration,
    paint: Paint<'o>,
}

/// A span waiting to be drawn, with what its line starts with.
struct Frame {
    span: usize,
    prefix: String,
    last: bool,
    depth: usize,
}

impl Draw<'_, '_> {
    /// Draws `root` and its descendants, without recursion (traces can be
    /// deep).
    fn tree(&mut self, root: usize) {
        let mut stack = vec![Frame {
            span: root,
            prefix: String::new(),
            last: true,
            depth: 0,
        }];
        while let Some(frame) = stack.pop() {
            if std::mem::replace(&mut self.seen[frame.span], true) {
                continue;
            }
            let Frame {
                span,
                prefix,
                last,
                depth,
            } = frame;
            let (branch, below) = match (depth, last) {
                (0, _) => ("", String::new()),
                (d, last) if d > DEPTH_MAX => (if last { "└─ " } else { "├─ " }, prefix.clone()),
                (_, true) => ("└─ ", format!("{prefix}   ")),
                (_, false) => ("├─ ", format!("{prefix}│  ")),
            };
            let kids: Vec<usize> = self.children[span]
                .iter()
                .copied()
                .filter(|&k| !self.seen[k])
                .collect();
            self.line(span, &format!("{prefix}{branch}"), depth);
            let detail = format!("{below}{}", if kids.is_empty() { "   " } else { "│  " });
            self.details(span, &detail);
            for (n, &kid) in kids.iter().enumerate().rev() {
                stack.push(Frame {
                    span: kid,
                    prefix: below.clone(),
                    last: n + 1 == kids.len(),
                    depth: depth + 1,
                });
            }
        }
    }

    /// `├─ name [kind] ✗     12.3ms  ████████`
    fn line(&mut self, i: usize, guides: &str, depth: usize) {
        let span = &self.spans[i];
        let failed = matches!(span.status, Status::Error { .. });
        let partial = depth == 0
            && span.parent_span_id != SpanId::INVALID
            && !span.parent_span_is_remote
            && span.parent_span_id != span.span_context.span_id();
        let marker = if partial { "… " } else { "" };
        let label = clean(&span.name, NAME_MAX);
        let mut after = String::new();
        if let Some(kind) = kind(&span.span_kind) {
            let _ = write!(after, " [{kind}]");
        }
        if depth > DEPTH_MAX {
            let _ = write!(after, " (depth {depth})");
        }
        let mark = if failed { " ✗" } else { "" };
        let width = [guides, marker, &label, &after, mark]
            .iter()
            .map(|s| s.chars().count())
            .sum::<usize>();
        let took = since(span.end_time, span.start_time);
        let offset = since(span.start_time, self.start);

        let paint = &mut self.paint;
        paint.put(guide(), guides);
        paint.put(guide(), marker);
        paint.put(if failed { failure() } else { name() }, &label);
        paint.put(guide(), &after);
        paint.put(failure(), mark);
        paint.plain(&" ".repeat(NAME_WIDTH.saturating_sub(width).max(1)));
        paint.plain(&format!("{:>8}  ", duration(took)));
        let style = if failed { failure() } else { timeline() };
        paint.put(style, bar(offset, offset + took, self.total).trim_end());
        paint.plain("\n");
    }

    /// Status, attributes, code location, events and links, one a line.
    fn details(&mut self, i: usize, indent: &str) {
        let span = &self.spans[i];
        let paint = &mut self.paint;
        if let Status::Error { description } = &span.status {
            let text = match clean(description, VALUE_MAX) {
                d if d.is_empty() => "ERROR".to_owned(),
                d => format!("ERROR {d}"),
            };
            paint.put(guide(), indent);
            paint.put(failure(), &text);
            paint.plain("\n");
        }
        for kv in &span.attributes {
            let key = kv.key.as_str();
            if in_hint(key) {
                continue;
            }
            let shown = format!("{} = {}", clean(key, NAME_MAX), value(&kv.value));
            paint.put(guide(), indent);
            if key.starts_with("code.") {
                paint.put(guide(), &shown);
            } else {
                paint.plain(&shown);
            }
            paint.plain("\n");
        }
        if let Some(hint) = code_hint(&span.attributes, &span.name) {
            paint.put(guide(), indent);
            paint.put(guide(), &hint);
            paint.plain("\n");
        }
        let dropped = [
            (span.dropped_attributes_count, "attributes"),
            (span.events.dropped_count, "events"),
            (span.links.dropped_count, "links"),
        ];
        for (count, what) in dropped {
            if count > 0 {
                paint.put(guide(), indent);
                paint.put(guide(), &format!("({count} {what} dropped)"));
                paint.plain("\n");
            }
        }
        for event in span.events.iter() {
            let mut text = format!(
                "◆ {} +{}",
                clean(&event.name, NAME_MAX),
                duration(since(event.timestamp, span.start_time))
            );
            let mut sep = "  ";
            for kv in event
                .attributes
                .iter()
                .filter(|kv| !in_hint(kv.key.as_str()))
            {
                let _ = write!(
                    text,
                    "{sep}{}={}",
                    clean(kv.key.as_str(), NAME_MAX),
                    value(&kv.value)
                );
                sep = " ";
            }
            if let Some(hint) = code_hint(&event.attributes, "") {
                let _ = write!(text, "{sep}{hint}");
            }
            paint.put(guide(), indent);
            let style = if event.name == "exception" {
                failure()
            } else {
                Style::new()
            };
            paint.put(style, &text);
            paint.plain("\n");
        }
        for link in span.links.iter() {
            let cx = &link.span_context;
            paint.put(guide(), indent);
            paint.put(
                guide(),
                &format!("↪ link {}-{}", cx.trace_id(), cx.span_id()),
            );
            paint.plain("\n");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use opentelemetry::trace::{
        Event, Span as _, SpanContext, TraceContextExt as _, TraceFlags, TraceState, Tracer as _,
        TracerProvider as _,
    };
    use opentelemetry::{Array, Context, InstrumentationScope, StringValue};
    use opentelemetry_sdk::trace::{SdkTracerProvider, SpanEvents, SpanLinks};

    use super::*;

    /// A writer the test keeps a handle on.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Shared {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn provider(out: &Shared, color: bool) -> SdkTracerProvider {
        SdkTracerProvider::builder()
            .with_simple_exporter(ConsoleExporter::with_writer(out.clone(), color))
            .with_resource(Resource::builder_empty().with_service_name("demo").build())
            .build()
    }

    /// The talk's `a() -> b() -> c() -> d()`; its twin fails in `d` with
    /// `1/0`. Checks on the way that nothing prints before `a` ends.
    fn chain(out: &Shared, provider: &SdkTracerProvider, fail: bool) {
        let tracer = provider.tracer("test");
        tracer.in_span("a", |cx| {
            cx.span().set_attributes([
                KeyValue::new("divisor", i64::from(!fail)),
                KeyValue::new("code.function.name", "a"),
                KeyValue::new("code.file.path", "src/main.rs"),
                KeyValue::new("code.line.number", 12),
            ]);
            std::thread::sleep(Duration::from_millis(1));
            tracer.in_span("b", |_| {
                std::thread::sleep(Duration::from_millis(1));
                tracer.in_span("c", |_| {
                    tracer.in_span("d", |cx| {
                        std::thread::sleep(Duration::from_millis(2));
                        if fail {
                            let span = cx.span();
                            span.add_event(
                                "exception",
                                vec![
                                    KeyValue::new("exception.type", "panic"),
                                    KeyValue::new("exception.message", "attempt to divide by zero"),
                                ],
                            );
                            span.set_status(Status::error("attempt to divide by zero"));
                        }
                    });
                });
            });
            assert_eq!(out.text(), "", "printed before the root ended");
        });
    }

    fn run_chain(fail: bool, color: bool) -> String {
        let out = Shared::default();
        let provider = provider(&out, color);
        chain(&out, &provider, fail);
        let text = out.text();
        provider.shutdown().unwrap();
        assert_eq!(out.text(), text, "nothing left over for shutdown");
        text
    }

    /// Lines that draw a span (they end in a bar).
    fn span_lines(text: &str) -> Vec<&str> {
        text.lines()
            .filter(|l| l.trim_end().ends_with(['█', '▌', '▐', '▏']))
            .collect()
    }

    /// What a span line starts with: guides, name, kind, marks.
    fn head(line: &str) -> &str {
        let left = line.trim_end_matches(['█', '▌', '▐', '▏', ' ']);
        left.trim_end_matches(|c: char| !c.is_whitespace())
            .trim_end()
    }

    /// The duration a span line shows.
    fn took(line: &str) -> &str {
        let left = line.trim_end_matches(['█', '▌', '▐', '▏', ' ']);
        left.split_whitespace().last().unwrap_or_default()
    }

    /// `12.3ms` as milliseconds.
    fn millis(took: &str) -> f64 {
        let number = |unit: &str| took.strip_suffix(unit)?.parse::<f64>().ok();
        number("ms")
            .or_else(|| number("µs").map(|us| us / 1e3))
            .or_else(|| number("s").map(|s| s * 1e3))
            .unwrap_or_else(|| panic!("not a duration: {took}"))
    }

    /// The text of `text` with ANSI escape sequences removed.
    fn strip_ansi(text: &str) -> String {
        let mut out = String::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn chain_prints_once_as_an_indented_tree() {
        let text = run_chain(false, false);
        println!("{text}");
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("trace "), "{text}");
        assert!(lines[0].contains("service demo  4 spans"), "{text}");
        assert_eq!(text.matches("trace ").count(), 1, "{text}");
        let spans = span_lines(&text);
        let heads: Vec<&str> = spans.iter().map(|l| head(l)).collect();
        assert_eq!(heads, ["a", "└─ b", "   └─ c", "      └─ d"], "{text}");
        for line in &spans {
            // Every span slept 2ms in `d`.
            assert!(millis(took(line)) >= 2.0, "{line}");
            let bar = line.rsplit_once("  ").unwrap().1;
            assert!(
                bar.chars().count() <= BAR_WIDTH && bar.contains('█'),
                "{line}"
            );
        }
        // Each span starts after its parent, ends before it, and the line
        // is as long as the axis allows.
        for pair in spans.windows(2) {
            assert!(millis(took(pair[0])) >= millis(took(pair[1])), "{text}");
        }
        // `a` spans the whole trace; the others start later on the same
        // axis (`a` and `b` slept 1ms before calling on).
        assert!(spans[0].ends_with(&"█".repeat(BAR_WIDTH)), "{text}");
        let starts: Vec<usize> = spans
            .iter()
            .map(|l| {
                let bar: Vec<char> = l.chars().skip(NAME_WIDTH + 10).collect();
                assert_eq!(l.chars().nth(NAME_WIDTH + 9), Some(' '), "{l}");
                bar.iter().position(|&c| c != ' ').unwrap()
            })
            .collect();
        assert!(starts.is_sorted() && starts[0] == 0, "{starts:?} in {text}");
        assert!(starts[3] > 0, "{starts:?} in {text}");
        assert!(text.contains("\n│  divisor = 1\n"), "{text}");
        assert!(text.contains("\n│  at src/main.rs:12\n"), "{text}");
        assert!(!text.contains("code."), "{text}");
        assert!(!text.contains('✗') && !text.contains("ERROR"), "{text}");
        assert!(!text.contains('\u{1b}'), "no colour when off");
    }

    #[test]
    fn failing_twin_is_marked_without_colour() {
        let text = run_chain(true, false);
        println!("{text}");
        assert!(
            text.lines().next().unwrap().ends_with("✗ 1 error"),
            "{text}"
        );
        let spans = span_lines(&text);
        assert!(spans[3].starts_with("      └─ d ✗ "), "{text}");
        assert_eq!(text.matches('✗').count(), 2, "header and d: {text}");
        let d = text.find("└─ d").unwrap();
        let tail = &text[d..];
        assert!(
            tail.contains("\n            ERROR attempt to divide by zero\n"),
            "{text}"
        );
        let event = tail.lines().find(|l| l.contains("◆ exception +")).unwrap();
        assert!(event.starts_with("            ◆ exception +"), "{text}");
        let at = event
            .split('+')
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap();
        assert!(millis(at) >= 2.0, "d slept 2ms before the event: {event}");
        assert!(
            tail.contains(
                "  exception.type=\"panic\" exception.message=\"attempt to divide by zero\""
            ),
            "{text}"
        );
        assert!(!text.contains('\u{1b}'), "no colour when off");
    }

    #[test]
    fn colour_only_styles_the_same_text() {
        for fail in [false, true] {
            let colored = run_chain(fail, true);
            assert!(colored.contains("\u{1b}["), "colour when on");
            let plain = strip_ansi(&colored);
            assert_eq!(span_lines(&plain).len(), 4, "{plain}");
            assert!(!plain.contains('\u{1b}'));
            let red = failure().render().to_string();
            assert_eq!(colored.contains(&format!("{red}d")), fail, "{colored}");
            assert_eq!(
                colored.contains(&format!("{red}ERROR attempt to divide by zero")),
                fail
            );
            assert_eq!(colored.contains(&format!("{red}◆ exception")), fail);
        }
    }

    #[test]
    fn colour_follows_terminal_and_no_color() {
        use std::ffi::OsStr;
        assert!(use_color(true, None));
        assert!(use_color(true, Some(OsStr::new(""))));
        assert!(!use_color(true, Some(OsStr::new("1"))));
        assert!(!use_color(false, None));
    }

    #[test]
    fn partial_trees_print_on_shutdown() {
        let out = Shared::default();
        let provider = provider(&out, false);
        let tracer = provider.tracer("test");
        let parent = tracer.start("parent");
        let cx = Context::new().with_span(parent);
        tracer.start_with_context("child", &cx).end();
        assert_eq!(out.text(), "", "waits for its root");
        provider.shutdown().unwrap();
        let text = out.text();
        assert_eq!(span_lines(&text).len(), 1, "{text}");
        assert!(span_lines(&text)[0].starts_with("… child "), "{text}");
        cx.span().end();
        assert_eq!(out.text(), text, "nothing after shutdown");
    }

    #[test]
    fn a_span_outliving_its_parent_prints_when_it_ends() {
        let out = Shared::default();
        let provider = provider(&out, false);
        let tracer = provider.tracer("test");
        let root = tracer.start("root");
        let cx = Context::new().with_span(root);
        let late = tracer.start_with_context("late", &cx);
        let cx_late = cx.with_span(late);
        tracer.start_with_context("inner", &cx_late).end();
        cx.span().end();
        let first = out.text();
        assert_eq!(span_lines(&first).len(), 1, "root alone: {first}");
        cx_late.span().end();
        let second = out.text()[first.len()..].to_owned();
        let heads: Vec<&str> = span_lines(&second).iter().map(|l| head(l)).collect();
        assert_eq!(heads, ["… late", "└─ inner"], "{second}");
        drop(provider);
    }

    const T1: TraceId = TraceId::from_bytes([1; 16]);

    fn id(n: u64) -> SpanId {
        SpanId::from(n)
    }

    /// A span of trace `T1`, `start..end` milliseconds after a fixed time.
    fn span(name: &'static str, own: u64, parent: u64, start: u64, end: u64) -> SpanData {
        let at = |ms| SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000) + ms;
        SpanData {
            span_context: SpanContext::new(
                T1,
                id(own),
                TraceFlags::SAMPLED,
                false,
                TraceState::NONE,
            ),
            parent_span_id: id(parent),
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: name.into(),
            start_time: at(Duration::from_millis(start)),
            end_time: at(Duration::from_millis(end)),
            attributes: Vec::new(),
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: InstrumentationScope::default(),
        }
    }

    fn export(exporter: &ConsoleExporter, batch: Vec<SpanData>) -> OTelSdkResult {
        let future = std::pin::pin!(exporter.export(batch));
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match future.poll(&mut cx) {
            std::task::Poll::Ready(result) => result,
            std::task::Poll::Pending => panic!("export waited"),
        }
    }

    #[test]
    fn children_are_ordered_by_start_and_bars_share_one_axis() {
        let mut server = span("GET /", 1, 0, 0, 100);
        server.span_kind = SpanKind::Server;
        let spans = [
            span("second", 3, 1, 50, 100),
            server,
            span("first", 2, 1, 0, 50),
        ];
        let text = render_trace(&spans, None, false);
        let lines = span_lines(&text);
        let half = "█".repeat(BAR_WIDTH / 2);
        assert!(lines[0].starts_with("GET / [server] "), "{text}");
        assert!(lines[0].contains(" 100ms  "), "{text}");
        assert!(
            lines[1].starts_with("├─ first ") && lines[1].ends_with(&half),
            "{text}"
        );
        assert!(
            lines[2].starts_with("└─ second ")
                && lines[2].ends_with(&format!("{}{half}", " ".repeat(BAR_WIDTH / 2))),
            "{text}"
        );
        assert!(!text.contains("service"), "{text}");
        let colored = render_trace(&spans, Some("svc"), true);
        assert_ne!(colored, render_trace(&spans, Some("svc"), false));
        assert_eq!(
            strip_ansi(&colored),
            render_trace(&spans, Some("svc"), false)
        );
    }

    #[test]
    fn attributes_events_and_links_are_formatted() {
        let mut s = span("work", 1, 0, 0, 10);
        s.attributes = vec![
            KeyValue::new("user.name", "ana"),
            KeyValue::new("count", 3),
            KeyValue::new("ok", true),
            KeyValue::new("ratio", 0.5),
            KeyValue::new(
                "tags",
                Value::Array(Array::String(vec![
                    StringValue::from("x"),
                    StringValue::from("y"),
                ])),
            ),
            KeyValue::new("ids", Value::Array(Array::I64(vec![1, 2]))),
            KeyValue::new("multi", "one\ntwo"),
            KeyValue::new("big", "z".repeat(1000)),
            KeyValue::new("code.namespace", "app"),
            KeyValue::new("code.function.name", "app::do_work"),
            KeyValue::new("code.file.path", "src/app.rs"),
            KeyValue::new("code.line.number", 7),
        ];
        s.dropped_attributes_count = 2;
        s.events.events.push(Event::new(
            "record inserted",
            s.start_time + Duration::from_micros(850),
            vec![KeyValue::new("id", 42)],
            0,
        ));
        s.links
            .links
            .push(opentelemetry::trace::Link::with_context(SpanContext::new(
                T1,
                id(9),
                TraceFlags::SAMPLED,
                true,
                TraceState::NONE,
            )));
        s.status = Status::error("");
        let text = render_trace(&[s], Some("svc"), false);
        println!("{text}");
        for expected in [
            "   user.name = \"ana\"\n",
            "   count = 3\n",
            "   ok = true\n",
            "   ratio = 0.5\n",
            "   tags = [\"x\", \"y\"]\n",
            "   ids = [1,2]\n",
            "   multi = \"one\\ntwo\"\n",
            "   code.namespace = \"app\"\n",
            "   at app::do_work src/app.rs:7\n",
            "   (2 attributes dropped)\n",
            "   ◆ record inserted +850µs  id=42\n",
            "   ↪ link 01010101010101010101010101010101-0000000000000009\n",
            "   ERROR\n",
        ] {
            assert!(text.contains(expected), "{expected:?} in {text}");
        }
        let big = text.lines().find(|l| l.contains("big = ")).unwrap();
        assert_eq!(
            big.trim_start().chars().count(),
            "big = ".len() + VALUE_MAX + 1
        );
        assert!(big.ends_with('…'));
        assert!(text.starts_with("trace 0101"), "{text}");
        assert!(
            text.lines()
                .next()
                .unwrap()
                .contains("service svc  1 span  10.0ms")
        );
    }

    #[test]
    fn odd_input_is_drawn_without_panicking() {
        assert_eq!(render_trace(&[], None, false), "");
        // A cycle, a span that is its own parent, a repeated id, an end
        // before its start, and a name with a newline and an escape.
        let spans = [
            span("x", 1, 2, 0, 10),
            span("y", 2, 1, 5, 8),
            span("self", 3, 3, 1, 2),
            span("twin", 3, 0, 2, 3),
            span("backwards", 4, 0, 9, 1),
            span("bad\nname\u{1b}[31m", 5, 0, 3, 4),
        ];
        let text = render_trace(&spans, None, false);
        println!("{text}");
        let heads: Vec<&str> = span_lines(&text).iter().map(|l| head(l)).collect();
        assert_eq!(
            heads,
            [
                "self",
                "twin",
                "bad\\nname\\u{1b}[31m",
                "backwards",
                "… x",
                "└─ y"
            ],
            "{text}"
        );
        assert!(!text.contains('\u{1b}'), "{text}");
        let backwards = span_lines(&text)[3];
        assert_eq!(took(backwards), "0ns", "{text}");
        // All at one instant: no axis to divide by.
        let flat = render_trace(&[span("now", 1, 0, 5, 5)], None, false);
        assert!(flat.contains(" 0ns  ▏"), "{flat}");
        // Deep nesting: no stack overflow, lines stay short.
        let deep: Vec<SpanData> = (1..=5_000)
            .map(|n| span("deep", n, n - 1, n, 20_000 - n))
            .collect();
        let text = render_trace(&deep, None, false);
        assert_eq!(span_lines(&text).len(), 5_000);
        assert!(text.lines().all(|l| l.chars().count() < 200));
        assert!(text.contains(&format!("deep (depth {})", 4_999)));
    }

    /// A parent id no test span has.
    const LOST: u64 = u64::MAX;

    #[test]
    fn flush_prints_held_spans_and_memory_stays_bounded() {
        let out = Shared::default();
        let exporter = ConsoleExporter::with_writer(out.clone(), false);
        // Orphans: their parent (id `LOST`) never arrives.
        export(&exporter, vec![span("orphan", 1, LOST, 0, 1)]).unwrap();
        assert_eq!(out.text(), "");
        exporter.force_flush().unwrap();
        assert!(
            span_lines(&out.text())[0].starts_with("… orphan "),
            "{}",
            out.text()
        );
        assert_eq!(exporter.state().count, 0);

        let out = Shared::default();
        let exporter = ConsoleExporter::with_writer(out.clone(), false);
        let mut oldest = span("oldest", 1, LOST, 0, 1);
        oldest.span_context = SpanContext::new(
            TraceId::from(7),
            id(1),
            TraceFlags::SAMPLED,
            false,
            TraceState::NONE,
        );
        export(&exporter, vec![oldest]).unwrap();
        let batch: Vec<SpanData> = (0..BUFFER_MAX as u64)
            .map(|n| span("held", n + 2, LOST, 0, 1))
            .collect();
        export(&exporter, batch).unwrap();
        let text = out.text();
        assert_eq!(span_lines(&text).len(), 1, "only the oldest trace: {text}");
        assert!(text.contains("… oldest"), "{text}");
        assert_eq!(exporter.state().count, BUFFER_MAX);
        exporter.force_flush().unwrap();
        assert_eq!(exporter.state().count, 0);
        assert_eq!(exporter.state().printed.len(), PRINTED_MAX);
        assert_eq!(exporter.state().printed_order.len(), PRINTED_MAX);
        assert!(exporter.state().order.is_empty());
    }

    #[test]
    fn many_finished_traces_leave_nothing_behind() {
        let exporter = ConsoleExporter::with_writer(Shared::default(), false);
        for n in 0..1_000u128 {
            let mut child = span("child", 2, 1, 0, 1);
            let mut root = span("root", 1, 0, 0, 2);
            for s in [&mut child, &mut root] {
                s.span_context = SpanContext::new(
                    TraceId::from(n + 1),
                    s.span_context.span_id(),
                    TraceFlags::SAMPLED,
                    false,
                    TraceState::NONE,
                );
            }
            export(&exporter, vec![child]).unwrap();
            export(&exporter, vec![root]).unwrap();
        }
        let state = exporter.state();
        assert_eq!((state.count, state.traces.len()), (0, 0));
        assert!(state.order.len() <= 64, "{}", state.order.len());
    }

    #[test]
    fn export_after_shutdown_is_an_error() {
        let out = Shared::default();
        let exporter = ConsoleExporter::with_writer(out.clone(), false);
        exporter.shutdown().unwrap();
        assert!(matches!(
            export(&exporter, vec![span("late", 1, 0, 0, 1)]),
            Err(OTelSdkError::AlreadyShutdown)
        ));
        assert_eq!(out.text(), "");
    }

    #[test]
    fn durations_read_at_a_glance() {
        let cases = [
            (Duration::from_nanos(420), "420ns"),
            (Duration::from_nanos(1_000), "1.00µs"),
            (Duration::from_micros(850), "850µs"),
            (Duration::from_nanos(999_700), "1.00ms"),
            (Duration::from_micros(12_300), "12.3ms"),
            (Duration::from_micros(123_400), "123ms"),
            (Duration::from_millis(1_200), "1.20s"),
            (Duration::from_millis(59_999), "1m00s"),
            (Duration::from_secs(125), "2m05s"),
            (Duration::from_secs(3_720), "1h02m"),
            (Duration::MAX, "5124095576030431h00m"),
        ];
        for (d, text) in cases {
            assert_eq!(duration(d), text, "{d:?}");
        }
    }

    #[test]
    fn bars_draw_half_columns_and_tiny_spans() {
        let ms = Duration::from_millis;
        let full = ms(BAR_WIDTH as u64 * 10);
        assert_eq!(bar(ms(0), full, full), "█".repeat(BAR_WIDTH));
        let half_in = bar(ms(5), ms(20), full);
        assert!(half_in.starts_with("▐█ "), "{half_in:?}");
        let half_out = bar(ms(0), ms(15), full);
        assert!(half_out.starts_with("█▌ "), "{half_out:?}");
        let tiny = bar(ms(100), ms(100), full);
        assert_eq!(tiny.trim(), "▏");
        assert_eq!(tiny.find('▏'), Some(10));
        let at_end = bar(full, full, full);
        assert!(at_end.ends_with('▏'), "{at_end:?}");
        assert_eq!(bar(ms(0), ms(0), Duration::ZERO).chars().next(), Some('▏'));
    }
}
