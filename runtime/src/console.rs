//! `OTEL_TRACES_EXPORTER=console`: each finished trace as an indented tree.
//!
//! ```text
//! trace 6f1c…e2a0  service quickstart
//! a                        1.21ms  ██████████████████████████████
//! ├─ b                     1.02ms     ████████████████████████▌
//! │  └─ c              ✗   0.80ms        ███████████████████
//! │        divisor = 0
//! │        ◆ exception +0.70ms  exception.type="quickstart::MathError" …
//! ```
//!
//! A trace is printed when its local root span ends; spans whose parent is
//! in another process count as roots. Colour is used on a terminal, unless
//! `NO_COLOR` is set.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io::{IsTerminal as _, Write};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use anstyle::{AnsiColor, Style};
use opentelemetry::Value;
use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

/// Width of the time-axis bar, in terminal columns.
const BAR_WIDTH: usize = 30;
/// Column the bars start at.
const NAME_WIDTH: usize = 34;
/// Longest attribute value shown before it is cut with `…`.
const VALUE_MAX: usize = 200;
/// Spans held while waiting for their trace's root; beyond it the oldest
/// trace is printed early, so memory stays bounded.
const BUFFER_MAX: usize = 10_000;

/// Prints finished traces as trees on standard output (or any writer).
pub struct ConsoleExporter {
    out: Mutex<Box<dyn Write + Send>>,
    color: bool,
    state: Mutex<Buffer>,
}

#[derive(Default)]
struct Buffer {
    /// Trace ids in the order their first span arrived.
    order: Vec<TraceId>,
    spans: HashMap<TraceId, Vec<SpanData>>,
    count: usize,
    service: Option<String>,
}

impl std::fmt::Debug for ConsoleExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleExporter")
            .field("color", &self.color)
            .finish_non_exhaustive()
    }
}

impl Default for ConsoleExporter {
    fn default() -> Self {
        Self::new()
    }
}

impl ConsoleExporter {
    /// Writes to standard output, in colour when it is a terminal and
    /// `NO_COLOR` is not set.
    pub fn new() -> Self {
        let color = std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Self::with_writer(std::io::stdout(), color)
    }

    /// Writes to `out`, in colour if `color`.
    pub fn with_writer(out: impl Write + Send + 'static, color: bool) -> Self {
        ConsoleExporter {
            out: Mutex::new(Box::new(out)),
            color,
            state: Mutex::new(Buffer::default()),
        }
    }

    fn print(&self, text: &str) {
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // The console is best effort: a closed stdout must not fail exports.
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    /// Prints the traces whose root arrived (all of them when `everything`).
    fn drain(&self, everything: bool) -> String {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut text = String::new();
        let order = std::mem::take(&mut state.order);
        for trace in order {
            let complete = state
                .spans
                .get(&trace)
                .is_some_and(|spans| spans.iter().any(is_root));
            let over = state.count > BUFFER_MAX;
            if everything || complete || over {
                if let Some(spans) = state.spans.remove(&trace) {
                    state.count -= spans.len();
                    text.push_str(&render_trace(&spans, state.service.as_deref(), self.color));
                }
            } else {
                state.order.push(trace);
            }
        }
        text
    }
}

fn is_root(span: &SpanData) -> bool {
    span.parent_span_id == SpanId::INVALID || span.parent_span_is_remote
}

impl SpanExporter for ConsoleExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        {
            let mut state = self
                .state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for span in batch {
                let trace = span.span_context.trace_id();
                let spans = state.spans.entry(trace).or_default();
                let first = spans.is_empty();
                spans.push(span);
                if first {
                    state.order.push(trace);
                }
                state.count += 1;
            }
        }
        let text = self.drain(false);
        if !text.is_empty() {
            self.print(&text);
        }
        Ok(())
    }

    fn force_flush(&self) -> OTelSdkResult {
        let text = self.drain(true);
        if !text.is_empty() {
            self.print(&text);
        }
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        self.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        let service = resource
            .get(&opentelemetry::Key::from_static_str("service.name"))
            .map(|v| v.to_string());
        self.state
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .service = service;
    }
}

struct Paint {
    color: bool,
}

impl Paint {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_owned()
        }
    }
}

fn dim() -> Style {
    Style::new().dimmed()
}
fn bold() -> Style {
    Style::new().bold()
}
fn red() -> Style {
    Style::new().fg_color(Some(AnsiColor::Red.into())).bold()
}
fn cyan() -> Style {
    Style::new().fg_color(Some(AnsiColor::Cyan.into()))
}

/// `850µs`, `12.3ms`, `1.20s`.
pub(crate) fn duration(d: Duration) -> String {
    let micros = d.as_micros();
    if micros < 1_000 {
        format!("{micros}µs")
    } else if micros < 1_000_000 {
        format!("{:.2}ms", d.as_secs_f64() * 1e3)
    } else {
        format!("{:.2}s", d.as_secs_f64())
    }
}

fn since(later: SystemTime, earlier: SystemTime) -> Duration {
    later.duration_since(earlier).unwrap_or_default()
}

fn value(v: &Value) -> String {
    let text = crate::value::show(v);
    if text.chars().count() > VALUE_MAX {
        let cut: String = text.chars().take(VALUE_MAX).collect();
        format!("{cut}…")
    } else {
        text
    }
}

/// A bar of `BAR_WIDTH` columns with `start..end` of `total` filled.
fn bar(start: Duration, end: Duration, total: Duration) -> String {
    let total = total.as_secs_f64().max(f64::MIN_POSITIVE);
    let cols = BAR_WIDTH as f64;
    let from = ((start.as_secs_f64() / total) * cols).clamp(0.0, cols);
    let to = ((end.as_secs_f64() / total) * cols).clamp(from, cols);
    let mut out = String::with_capacity(BAR_WIDTH * 3);
    for col in 0..BAR_WIDTH {
        let (lo, hi) = (col as f64, col as f64 + 1.0);
        let covered = (to.min(hi) - from.max(lo)).max(0.0);
        out.push(if covered >= 0.75 {
            '█'
        } else if covered >= 0.25 {
            '▌'
        } else if to - from < 0.25 && (from >= lo && from < hi) {
            // Too short to see: still mark where it happened.
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

/// Renders one trace: a header, then one line per span with its
/// attributes and events below it.
pub(crate) fn render_trace(spans: &[SpanData], service: Option<&str>, color: bool) -> String {
    let paint = Paint { color };
    let mut out = String::new();
    let Some(first) = spans.iter().min_by_key(|s| s.start_time) else {
        return out;
    };
    let start = first.start_time;
    let end = spans.iter().map(|s| s.end_time).max().unwrap_or(start);
    let total = since(end, start);
    let ids: HashSet<SpanId> = spans.iter().map(|s| s.span_context.span_id()).collect();
    let mut children: HashMap<SpanId, Vec<&SpanData>> = HashMap::new();
    let mut roots = Vec::new();
    for span in spans {
        // A parent that is not here (remote, or lost) makes a root.
        if ids.contains(&span.parent_span_id) && span.parent_span_id != span.span_context.span_id()
        {
            children.entry(span.parent_span_id).or_default().push(span);
        } else {
            roots.push(span);
        }
    }
    roots.sort_by_key(|s| s.start_time);
    let _ = writeln!(
        out,
        "{} {}{}",
        paint.paint(bold(), "trace"),
        first.span_context.trace_id(),
        service
            .map(|s| format!("  service {}", paint.paint(bold(), s)))
            .unwrap_or_default()
    );
    let mut seen = HashSet::new();
    let count = roots.len();
    for (i, root) in roots.into_iter().enumerate() {
        let ctx = Render {
            paint: &paint,
            start,
            total,
            children: &children,
        };
        ctx.span(&mut out, root, "", i + 1 == count, true, &mut seen);
    }
    out.push('\n');
    out
}

struct Render<'a> {
    paint: &'a Paint,
    start: SystemTime,
    total: Duration,
    children: &'a HashMap<SpanId, Vec<&'a SpanData>>,
}

impl Render<'_> {
    fn span(
        &self,
        out: &mut String,
        span: &SpanData,
        prefix: &str,
        last: bool,
        top: bool,
        seen: &mut HashSet<SpanId>,
    ) {
        // Ids are unique in a trace; a repeated one would loop forever.
        if !seen.insert(span.span_context.span_id()) {
            return;
        }
        let (branch, below) = match (top, last) {
            (true, _) => ("", String::new()),
            (false, true) => ("└─ ", format!("{prefix}   ")),
            (false, false) => ("├─ ", format!("{prefix}│  ")),
        };
        let failed = matches!(span.status, Status::Error { .. });
        let mut head = format!("{prefix}{branch}{}", span.name);
        if let Some(kind) = kind(&span.span_kind) {
            let _ = write!(head, " [{kind}]");
        }
        if failed {
            head.push_str(" ✗");
        }
        let width = head.chars().count();
        let pad = NAME_WIDTH.saturating_sub(width).max(1);
        let took = since(span.end_time, span.start_time);
        let offset = since(span.start_time, self.start);
        let name_style = if failed { red() } else { bold() };
        let line_bar = bar(offset, offset + took, self.total);
        let _ = writeln!(
            out,
            "{}{}{:>9}  {}",
            self.paint.paint(name_style, &head),
            " ".repeat(pad),
            duration(took),
            self.paint
                .paint(if failed { red() } else { cyan() }, &line_bar),
        );
        let detail = format!(
            "{below}{}",
            if self.children.contains_key(&span.span_context.span_id()) {
                "│  "
            } else {
                "   "
            }
        );
        if let Status::Error { description } = &span.status {
            let _ = writeln!(
                out,
                "{detail}{}",
                self.paint.paint(red(), &format!("ERROR {description}"))
            );
        }
        let mut code = (None, None);
        for kv in &span.attributes {
            match kv.key.as_str() {
                "code.file.path" => code.0 = Some(kv.value.to_string()),
                "code.line.number" => code.1 = Some(kv.value.to_string()),
                "code.function.name" => {}
                key => {
                    let _ = writeln!(
                        out,
                        "{detail}{} = {}",
                        self.paint.paint(dim(), key),
                        value(&kv.value)
                    );
                }
            }
        }
        if let (Some(file), Some(line)) = code {
            let _ = writeln!(
                out,
                "{detail}{}",
                self.paint.paint(dim(), &format!("at {file}:{line}"))
            );
        }
        for event in span.events.iter() {
            let at = duration(since(event.timestamp, span.start_time));
            let attrs: Vec<String> = event
                .attributes
                .iter()
                .filter(|kv| !kv.key.as_str().starts_with("code."))
                .map(|kv| format!("{}={}", kv.key, value(&kv.value)))
                .collect();
            let text = format!("◆ {} +{at}  {}", event.name, attrs.join(" "));
            let style = if event.name == "exception" {
                red()
            } else {
                Style::new()
            };
            let _ = writeln!(out, "{detail}{}", self.paint.paint(style, text.trim_end()));
        }
        if let Some(kids) = self.children.get(&span.span_context.span_id()) {
            let mut kids = kids.clone();
            kids.sort_by_key(|s| s.start_time);
            let count = kids.len();
            for (i, kid) in kids.into_iter().enumerate() {
                self.span(out, kid, &below, i + 1 == count, false, seen);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use opentelemetry::KeyValue;
    use opentelemetry::trace::{Span as _, TraceContextExt as _, Tracer as _, TracerProvider as _};
    use opentelemetry_sdk::trace::SdkTracerProvider;

    use super::*;

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn chain(color: bool) -> String {
        let out = Shared::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(ConsoleExporter::with_writer(out.clone(), color))
            .with_resource(Resource::builder_empty().with_service_name("demo").build())
            .build();
        let tracer = provider.tracer("test");
        for fail in [false, true] {
            tracer.in_span("a", |cx| {
                cx.span()
                    .set_attribute(KeyValue::new("divisor", i64::from(!fail)));
                tracer.in_span("b", |_| {
                    tracer.in_span("c", |_| {
                        tracer.in_span("d", |cx| {
                            std::thread::sleep(Duration::from_millis(2));
                            if fail {
                                let span = cx.span();
                                span.add_event(
                                    "exception",
                                    vec![
                                        KeyValue::new("exception.type", "panic"),
                                        KeyValue::new("exception.message", "divide by zero"),
                                    ],
                                );
                                span.set_status(Status::error("divide by zero"));
                            }
                        });
                    });
                });
            });
        }
        drop(provider);
        let bytes = out.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn prints_each_trace_as_a_tree() {
        let text = chain(false);
        println!("{text}");
        assert_eq!(text.matches("trace ").count(), 2, "{text}");
        assert!(text.contains("service demo"));
        let lines: Vec<&str> = text.lines().collect();
        let pos = |name: &str| {
            lines
                .iter()
                .position(|l| l.starts_with(name))
                .unwrap_or_else(|| panic!("{name} in {text}"))
        };
        assert!(
            pos("a ") < pos("└─ b")
                && pos("└─ b") < pos("   └─ c")
                && pos("   └─ c") < pos("      └─ d")
        );
        assert!(text.contains("divisor = 1"));
        assert!(text.contains("ms"), "durations shown");
        assert!(text.contains('█'), "bars shown");
        assert!(!text.contains('\u{1b}'), "no colour when off");
    }

    #[test]
    fn failures_stand_out() {
        let text = chain(false);
        assert_eq!(text.matches('✗').count(), 1, "{text}");
        assert!(text.contains("ERROR divide by zero"));
        assert!(text.contains("◆ exception +"));
        assert!(text.contains("exception.message=\"divide by zero\""));
        let colored = chain(true);
        assert!(colored.contains("\u{1b}["), "colour when on");
    }

    #[test]
    fn partial_traces_print_on_flush_and_odd_input_never_panics() {
        let out = Shared::default();
        let exporter = ConsoleExporter::with_writer(out.clone(), false);
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(ConsoleExporter::with_writer(Shared::default(), false))
            .build();
        let tracer = provider.tracer("t");
        let parent = tracer.start("parent");
        let cx = opentelemetry::Context::new().with_span(parent);
        let mut child = tracer.start_with_context("orphan", &cx);
        child.set_attribute(KeyValue::new("big", "x".repeat(1000)));
        child.end();
        let _ = exporter.state.lock().map(|mut s| {
            s.service = None;
        });
        // Only the child arrives: it waits for its root, then flush prints it.
        futures_executor_free(&exporter, vec![]);
        assert!(out.0.lock().unwrap().is_empty());
        let _ = exporter.force_flush();
        let mut span = tracer.start("end-before-start");
        span.end_with_timestamp(SystemTime::UNIX_EPOCH);
        drop(provider);
        assert_eq!(duration(Duration::from_micros(850)), "850µs");
        assert_eq!(duration(Duration::from_micros(12_300)), "12.30ms");
        assert_eq!(duration(Duration::from_millis(1_200)), "1.20s");
        assert_eq!(
            value(&Value::String("y".repeat(500).into()))
                .chars()
                .count(),
            VALUE_MAX + 1
        );
        assert_eq!(
            bar(
                Duration::ZERO,
                Duration::from_secs(1),
                Duration::from_secs(1)
            ),
            "█".repeat(BAR_WIDTH)
        );
        assert_eq!(render_trace(&[], None, false), "");
    }

    /// Calls `export` without an async runtime: the future is ready at once.
    fn futures_executor_free(exporter: &ConsoleExporter, batch: Vec<SpanData>) {
        let future = exporter.export(batch);
        let mut future = std::pin::pin!(future);
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        assert!(future.as_mut().poll(&mut cx).is_ready());
    }
}
