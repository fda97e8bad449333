//! Joined traces as console trees, drawn by the same code as
//! `OTEL_TRACES_EXPORTER=console`.
//!
//! A span whose service differs from its parent's (or that has no parent
//! here) carries its service after its name, and a span whose parent is in
//! another process is marked `⇢`:
//!
//! ```text
//! trace 776a17a1208996d2df26e9b46e5dd531  service gateway → app  8 spans  26.4ms
//! POST /login (gateway) [server]        26.4ms  ██████████████████████████████
//! └─ forward                            26.1ms  ██████████████████████████████
//!    └─ POST [client]                   8.95ms  ▐█████████▌
//!       └─ ⇢ POST /login (app) [server]   4.69ms    █████▌
//!          └─ login                     4.51ms    █████▌
//! ```
//!
//! A span's log records are drawn among its events, in time order:
//! `◆ log INFO user logged in +1.20ms  user="ana"`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use opentelemetry::trace::{Event, SpanId};
use opentelemetry_sdk::trace::SpanData;

use crate::join::{Log, Ready, Span, Why};

/// Marks a span whose parent is in another process.
pub(crate) const CROSS_PROCESS: &str = "⇢";

/// The spans of `all[from..]`, named for the joined tree: `⇢` before the
/// name of a span whose parent is in another process, and ` (service)`
/// after it when the service differs from the parent's, or the parent is
/// not in the trace. The records of `logs` that name a span join its
/// events.
pub(crate) fn decorate(all: &[Arc<Span>], logs: &[Arc<Log>], from: usize) -> Vec<SpanData> {
    let by_id: HashMap<SpanId, &Span> = all
        .iter()
        .map(|s| (s.data.span_context.span_id(), &**s))
        .collect();
    let mut logs_of: HashMap<SpanId, Vec<&Log>> = HashMap::new();
    for log in logs {
        logs_of.entry(log.span_id).or_default().push(log);
    }
    all.get(from..)
        .unwrap_or_default()
        .iter()
        .map(|span| {
            let parent = by_id
                .get(&span.data.parent_span_id)
                .filter(|_| span.data.parent_span_id != SpanId::INVALID);
            let other_service = parent.is_none_or(|p| p.service != span.service);
            let cross = span.data.parent_span_is_remote
                || parent.is_some_and(|p| p.service != span.service);
            let mut name = String::new();
            if cross {
                let _ = write!(name, "{CROSS_PROCESS} ");
            }
            name.push_str(&span.data.name);
            if other_service {
                let _ = write!(name, " ({})", span.service);
            }
            let mut data = span.data.clone();
            data.name = Cow::Owned(name);
            if let Some(logs) = logs_of.get(&span.data.span_context.span_id()) {
                data.events
                    .events
                    .extend(logs.iter().map(|log| log_event(log)));
                data.events.events.sort_by_key(|e| e.timestamp);
            }
            data
        })
        .collect()
}

/// A log record as an event of its span: `log INFO user logged in`.
fn log_event(log: &Log) -> Event {
    let mut name = format!("log {}", log.severity);
    if !log.body.is_empty() {
        let _ = write!(name, " {}", log.body);
    }
    Event::new(name, log.time, log.attributes.clone(), 0)
}

/// The services of `spans`, in order of first start: `gateway → app`.
fn services(spans: &[Arc<Span>]) -> String {
    let mut by_start: Vec<&Span> = spans.iter().map(|s| &**s).collect();
    by_start.sort_by_key(|s| s.data.start_time);
    let mut seen: Vec<&str> = Vec::new();
    for span in by_start {
        if !seen.contains(&&*span.service) {
            seen.push(&span.service);
        }
    }
    seen.join(" → ")
}

/// The text printed for `ready`: a note when it is not a complete trace,
/// then the tree.
pub(crate) fn render(ready: &Ready, color: bool) -> String {
    let mut out = String::new();
    let new = ready.all.len().saturating_sub(ready.printed_before);
    match ready.why {
        Why::Complete => {}
        Why::Late => {
            let _ = writeln!(
                out,
                "({new} late span{} of a trace printed before)",
                plural(new)
            );
        }
        Why::NoRoot => out.push_str("(incomplete: its root span never arrived)\n"),
        Why::Evicted => {
            out.push_str("(incomplete: let go early to stay within the memory limits)\n")
        }
        Why::Flushed
            if ready
                .all
                .iter()
                .all(|s| s.data.parent_span_id != SpanId::INVALID) =>
        {
            out.push_str("(incomplete: its root span had not arrived)\n")
        }
        Why::Flushed => {}
    }
    let spans = decorate(&ready.all, &ready.logs, ready.printed_before);
    let services = services(&ready.all[ready.printed_before.min(ready.all.len())..]);
    out.push_str(&traced_runtime::__render_trace(
        &spans,
        Some(&services),
        color,
    ));
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
