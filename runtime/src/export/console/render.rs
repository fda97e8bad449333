//! Drawing one trace as an indented tree on a shared time axis.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::{SpanId, SpanKind, Status};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::trace::SpanData;

use anstyle::Style;

use super::style::{Paint, failure, guide, name, timeline};

/// Width of the time-axis bar, in terminal columns.
pub(super) const BAR_WIDTH: usize = 30;
/// Column the durations end before; longer span lines push them right.
pub(super) const NAME_WIDTH: usize = 36;
/// Longest attribute value shown before it is cut with `…`.
pub(super) const VALUE_MAX: usize = 200;
/// Longest span name, event name, key or status description shown.
pub(super) const NAME_MAX: usize = 80;
/// Nesting indented in full; deeper spans keep this indentation and say how
/// deep they are, so a runaway recursion cannot make lines grow without end.
pub(super) const DEPTH_MAX: usize = 24;

pub(super) fn duration(d: Duration) -> String {
    pub(super) fn digits(x: f64) -> String {
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

pub(super) fn since(later: SystemTime, earlier: SystemTime) -> Duration {
    later.duration_since(earlier).unwrap_or_default()
}

/// `text` on one line (control characters escaped), cut after `max`
/// characters with `…`.
pub(super) fn clean(text: &str, max: usize) -> String {
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

pub(super) fn value(v: &Value) -> String {
    clean(&crate::kind::value::show(v), VALUE_MAX)
}

/// `BAR_WIDTH` columns with `start..end` of `total` drawn, half columns
/// included; a span too short to see still marks where it started.
pub(super) fn bar(start: Duration, end: Duration, total: Duration) -> String {
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

pub(super) fn kind(kind: &SpanKind) -> Option<&'static str> {
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
pub(super) fn code_hint(attributes: &[KeyValue], span_name: &str) -> Option<String> {
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
pub(super) fn in_hint(key: &str) -> bool {
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
pub fn render_trace(spans: &[SpanData], service: Option<&str>, color: bool) -> String {
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

pub(super) struct Draw<'a, 'o> {
    spans: &'a [SpanData],
    /// Children of each span, by index, in order of start time.
    children: Vec<Vec<usize>>,
    seen: Vec<bool>,
    start: SystemTime,
    total: Duration,
    paint: Paint<'o>,
}

/// A span waiting to be drawn, with what its line starts with.
pub(super) struct Frame {
    span: usize,
    prefix: String,
    last: bool,
    depth: usize,
}

impl Draw<'_, '_> {
    /// Draws `root` and its descendants, without recursion (traces can be
    /// deep).
    pub(super) fn tree(&mut self, root: usize) {
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
    pub(super) fn line(&mut self, i: usize, guides: &str, depth: usize) {
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
    pub(super) fn details(&mut self, i: usize, indent: &str) {
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
