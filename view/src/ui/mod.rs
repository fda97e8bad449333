//! The web page: the list of recent traces, searchable, and a waterfall per
//! trace. One self-contained HTML file (`page.html`: no library, no CDN,
//! works offline) reading two JSON routes:
//!
//! - `GET /api/traces?q=WORDS&limit=N`: the newest traces matching `q`
//!   (see `join::matches`), and the viewer's counters;
//! - `GET /api/traces/{trace id}`: every span of one trace, each with its
//!   log records;
//! - `GET /api/metrics`: the RED table (`red/`): per service, metric and
//!   operation the calls, errors, rate (per second), error ratio (a
//!   fraction) and p50/p95/p99 (seconds), each `{value, exemplar}` with
//!   the exemplar's `trace_id`, `span_id` and `value_s`; and what was
//!   kept and dropped (`stats`).
//!
//! Every route answers loopback hosts only (`guard.rs`). The joiner's lock
//! is held only to copy a snapshot of pointers; the search and the JSON
//! are made from the snapshot, off the async workers. The RED table is
//! read under its own lock, which no export waits on for long (see
//! `Store::red`).

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId};
use serde::{Deserialize, Serialize};

use crate::guard::{self, Hosts};
use crate::join::{Held, Log, Stats, Summary, matches, summary};
use crate::print::decorate;
use crate::receive::{ExportStats, Receiver};

const PAGE: &str = include_str!("page.html");
/// Traces listed when the page does not say.
const LIST_DEFAULT: usize = 200;
/// Most traces listed at once.
const LIST_MAX: usize = 2_000;

#[derive(Deserialize)]
struct ListQuery {
    q: Option<String>,
    limit: Option<usize>,
}

#[derive(Serialize)]
struct List {
    traces: Vec<Summary>,
    stats: Stats,
    exports: ExportStats,
}

#[derive(Serialize)]
struct TraceView {
    trace_id: String,
    summary: Summary,
    dropped: u64,
    spans: Vec<SpanView>,
    /// Log records of the trace that name no span held in it.
    logs: Vec<LogView>,
}

#[derive(Serialize)]
struct SpanView {
    span_id: String,
    parent_id: Option<String>,
    name: String,
    service: String,
    kind: &'static str,
    /// The parent is in another process.
    cross_process: bool,
    start_unix_ns: u128,
    duration_ns: u128,
    error: Option<String>,
    attributes: Vec<(String, String)>,
    events: Vec<EventView>,
    /// The log records that name this span, in time order.
    logs: Vec<LogView>,
    links: Vec<String>,
}

#[derive(Serialize)]
struct LogView {
    /// Since the span's start (or the trace's, for a record of no span
    /// held); negative before it.
    offset_ns: i128,
    service: String,
    severity: String,
    body: String,
    attributes: Vec<(String, String)>,
}

#[derive(Serialize)]
struct EventView {
    name: String,
    offset_ns: u128,
    attributes: Vec<(String, String)>,
}

async fn list(State(receiver): State<Arc<Receiver>>, Query(query): Query<ListQuery>) -> Response {
    let limit = query.limit.unwrap_or(LIST_DEFAULT).min(LIST_MAX);
    let words = query.q.unwrap_or_default();
    let (held, stats) = {
        let joiner = receiver.joiner();
        (joiner.snapshot(), joiner.stats())
    };
    let search = tokio::task::spawn_blocking(move || {
        held.iter()
            .filter(|t| matches(t, &words))
            .take(limit)
            .map(summary)
            .collect::<Vec<_>>()
    });
    let Ok(traces) = search.await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "the search failed").into_response();
    };
    Json(List {
        traces,
        stats,
        exports: receiver.stats(),
    })
    .into_response()
}

fn kind(kind: &SpanKind) -> &'static str {
    match kind {
        SpanKind::Internal => "internal",
        SpanKind::Server => "server",
        SpanKind::Client => "client",
        SpanKind::Producer => "producer",
        SpanKind::Consumer => "consumer",
    }
}

async fn trace(State(receiver): State<Arc<Receiver>>, Path(id): Path<String>) -> Response {
    let Ok(id) = TraceId::from_hex(&id) else {
        return (StatusCode::BAD_REQUEST, "not a trace id: 32 hex digits").into_response();
    };
    let Some(trace) = receiver.joiner().trace(id) else {
        return (
            StatusCode::NOT_FOUND,
            "no such trace (it may have been let go)",
        )
            .into_response();
    };
    match tokio::task::spawn_blocking(move || view(&trace)).await {
        Ok(view) => Json(view).into_response(),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the trace cannot be shown",
        )
            .into_response(),
    }
}

fn log_view(log: &Log, since: std::time::SystemTime) -> LogView {
    let unix = crate::join::unix_ns;
    LogView {
        offset_ns: unix(log.time) as i128 - unix(since) as i128,
        service: log.service.to_string(),
        severity: log.severity.clone(),
        body: log.body.clone(),
        attributes: log
            .attributes
            .iter()
            .map(|kv| (kv.key.to_string(), kv.value.to_string()))
            .collect(),
    }
}

fn view(trace: &Held) -> TraceView {
    // `decorate` says which spans cross a process boundary; its names are
    // for the terminal, the page shows the service on its own.
    let marked = decorate(&trace.spans, &[], 0);
    let mut logs = trace.logs.clone();
    logs.sort_by_key(|l| l.time);
    let spans: Vec<SpanView> = trace
        .spans
        .iter()
        .zip(marked)
        .map(|(span, marked)| {
            let data = &span.data;
            let unix = crate::join::unix_ns;
            let id = data.span_context.span_id();
            SpanView {
                span_id: id.to_string(),
                parent_id: (data.parent_span_id != SpanId::INVALID)
                    .then(|| data.parent_span_id.to_string()),
                name: data.name.to_string(),
                service: span.service.to_string(),
                kind: kind(&data.span_kind),
                cross_process: marked.name.starts_with(crate::print::CROSS_PROCESS),
                start_unix_ns: unix(data.start_time),
                duration_ns: unix(data.end_time).saturating_sub(unix(data.start_time)),
                error: match &data.status {
                    Status::Error { description } => Some(description.to_string()),
                    _ => None,
                },
                attributes: data
                    .attributes
                    .iter()
                    .map(|kv| (kv.key.to_string(), kv.value.to_string()))
                    .collect(),
                events: data
                    .events
                    .iter()
                    .map(|e| EventView {
                        name: e.name.to_string(),
                        offset_ns: unix(e.timestamp).saturating_sub(unix(data.start_time)),
                        attributes: e
                            .attributes
                            .iter()
                            .map(|kv| (kv.key.to_string(), kv.value.to_string()))
                            .collect(),
                    })
                    .collect(),
                logs: logs
                    .iter()
                    .filter(|l| l.span_id == id)
                    .map(|l| log_view(l, data.start_time))
                    .collect(),
                links: data
                    .links
                    .iter()
                    .map(|l| format!("{}-{}", l.span_context.trace_id(), l.span_context.span_id()))
                    .collect(),
            }
        })
        .collect();
    let start = trace
        .spans
        .iter()
        .map(|s| s.data.start_time)
        .min()
        .unwrap_or(std::time::UNIX_EPOCH);
    let held: std::collections::HashSet<SpanId> = trace
        .spans
        .iter()
        .map(|s| s.data.span_context.span_id())
        .collect();
    TraceView {
        trace_id: trace.id.to_string(),
        summary: summary(trace),
        dropped: trace.dropped,
        spans,
        logs: logs
            .iter()
            .filter(|l| !held.contains(&l.span_id))
            .map(|l| log_view(l, start))
            .collect(),
    }
}

async fn metrics(State(receiver): State<Arc<Receiver>>) -> Response {
    let red = receiver.red().red();
    Json(red).into_response()
}

async fn page() -> Response {
    ([(header::CACHE_CONTROL, "no-store")], Html(PAGE)).into_response()
}

/// The page and its JSON, answering `hosts` only.
pub(crate) fn router(receiver: Arc<Receiver>, hosts: Hosts) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/api/traces", get(list))
        .route("/api/traces/{id}", get(trace))
        .route("/api/metrics", get(metrics))
        .with_state(receiver)
        .layer(axum::middleware::from_fn_with_state(hosts, guard::http))
}
