//! The console exporter: buffering, layout and styling.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{
    Event, Span as _, SpanContext, SpanId, SpanKind, Status, TraceContextExt as _, TraceFlags,
    TraceId, TraceState, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Array, Context, InstrumentationScope, KeyValue, StringValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanEvents, SpanExporter, SpanLinks};

use super::buffer::*;
use super::render::*;
use super::style::*;
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
        tail.contains("  exception.type=\"panic\" exception.message=\"attempt to divide by zero\""),
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
        span_context: SpanContext::new(T1, id(own), TraceFlags::SAMPLED, false, TraceState::NONE),
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
