//! Database client spans with the stable database semantic conventions,
//! so that users don't hand-write them.
//!
//! Each query runs in a `client` span named after its `db.query.summary`
//! (`SELECT users`), or after the system when the text names no operation,
//! with `db.system.name`, `db.namespace`, `db.operation.name`,
//! `db.collection.name`, `db.query.summary`, `db.query.text`,
//! `db.response.returned_rows` for queries that return rows, and for
//! network databases `server.address` and `server.port`. A failed query
//! sets status Error, `error.type` (the database's code when it has one,
//! also in `db.response.status_code`) and an `exception` event.
//!
//! With a meter provider installed, each query's duration goes to the
//! histogram `db.client.operation.duration` with `db.system.name`,
//! `db.namespace`, `db.operation.name`, `db.collection.name`,
//! `db.query.summary` (read from the text: an operation and tables, never
//! the text itself), `server.address`, `server.port` and, for a failed
//! query, `error.type` and `db.response.status_code`; its exemplar is the
//! query's span when the trace is kept.
//!
//! `db.query.text` is the text as written when it is parameterised (has
//! `?`, `?1`, `$1`, `:name` or `@name` placeholders, so no values are in
//! it), and otherwise the text with every literal replaced by `?`
//! ([`sanitize`]). Parameter values are never recorded.
//!
//! - [`rusqlite`] (feature `rusqlite`): [`rusqlite::TracedConnection`].
//! - [`sqlx`] (feature `sqlx`): [`sqlx::fetch_all`], [`sqlx::fetch_optional`],
//!   [`sqlx::execute`] for SQLite and PostgreSQL pools.
// Without a client feature only the sanitiser is used.
#![cfg_attr(
    not(any(feature = "rusqlite", feature = "sqlx")),
    allow(dead_code, unused_imports)
)]

#[cfg(feature = "rusqlite")]
pub mod rusqlite;
mod sql;
#[cfg(feature = "sqlx")]
pub mod sqlx;

pub use sql::sanitize;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use opentelemetry::trace::{SpanBuilder, SpanKind, TraceContextExt as _};
use opentelemetry::{KeyValue, StringValue};

use crate::metrics::{DurationMetric, Measured};
use crate::semconv::{
    DB_COLLECTION_NAME, DB_NAMESPACE, DB_OPERATION_NAME, DB_QUERY_SUMMARY, DB_QUERY_TEXT,
    DB_RESPONSE_RETURNED_ROWS, DB_RESPONSE_STATUS_CODE, DB_SYSTEM_NAME, ERROR_TYPE, SERVER_ADDRESS,
    SERVER_PORT, attribute, metric,
};
use crate::span::{ActiveSpan, Started};

/// Where database spans start: the scope `traced`, the tracer cached per
/// provider.
static SITE: crate::span::CallSite = crate::span::CallSite::integration();

/// `db.client.operation.duration`: the span's attributes but the query
/// text (the summary, operation and table stand for it, bounded), then
/// `error.type` and `db.response.status_code` of a failure.
static DURATION: DurationMetric = DurationMetric::new(
    metric::DB_CLIENT_OPERATION_DURATION,
    "Duration of database client operations.",
    &[
        attribute::DB_SYSTEM_NAME,
        attribute::DB_NAMESPACE,
        attribute::DB_OPERATION_NAME,
        attribute::DB_COLLECTION_NAME,
        attribute::DB_QUERY_SUMMARY,
        attribute::SERVER_ADDRESS,
        attribute::SERVER_PORT,
        attribute::ERROR_TYPE,
        attribute::DB_RESPONSE_STATUS_CODE,
    ],
);

/// The database a query goes to.
#[derive(Debug, Clone, Default)]
pub(crate) struct Target {
    /// `db.system.name`: `sqlite`, `postgresql`.
    pub(crate) system: &'static str,
    /// `db.namespace`.
    pub(crate) namespace: Option<String>,
    /// `server.address` and `server.port`, for network databases.
    pub(crate) server: Option<(String, u16)>,
}

/// What a query's text gives its span, worked out once per distinct text
/// (per thread) rather than on every call: scanning and summarising cost
/// more than the span itself, and an application runs the same few
/// statements over and over. The values are shared strings, so a span
/// takes them without copying.
struct FromText {
    name: Option<StringValue>,
    operation: Option<StringValue>,
    collection: Option<StringValue>,
    text: StringValue,
}

impl FromText {
    fn new(sql: &str) -> FromText {
        let scanned = sql::scan(sql);
        let summary = sql::summarize(&scanned.sanitized);
        let shared = |s: String| StringValue::from(Arc::<str>::from(s));
        FromText {
            name: summary.text().map(shared),
            operation: summary.operation.map(shared),
            collection: summary.collection.map(shared),
            text: shared(sql::query_text(sql, &scanned).into_owned()),
        }
    }
}

/// Distinct query texts remembered per thread; past this the cache starts
/// again (an application that builds its SQL with literals inlined would
/// otherwise grow it without bound).
const TEXTS_PER_THREAD: usize = 256;

thread_local! {
    static TEXTS: RefCell<HashMap<Box<str>, Rc<FromText>>> = RefCell::new(HashMap::new());
}

fn from_text(sql: &str) -> Rc<FromText> {
    TEXTS.with(|texts| {
        let mut texts = texts.borrow_mut();
        if let Some(found) = texts.get(sql) {
            return found.clone();
        }
        if texts.len() >= TEXTS_PER_THREAD {
            texts.clear();
        }
        let made = Rc::new(FromText::new(sql));
        texts.insert(sql.into(), made.clone());
        made
    })
}

/// The span of one query, the name and attributes made from its text.
pub(crate) fn span_builder(target: &Target, sql: &str) -> SpanBuilder {
    let from = from_text(sql);
    let mut attributes = Vec::with_capacity(8);
    attributes.push(KeyValue::new(DB_SYSTEM_NAME, target.system));
    if let Some(namespace) = &target.namespace {
        attributes.push(KeyValue::new(DB_NAMESPACE, namespace.clone()));
    }
    if let Some(op) = &from.operation {
        attributes.push(KeyValue::new(DB_OPERATION_NAME, op.clone()));
    }
    if let Some(table) = &from.collection {
        attributes.push(KeyValue::new(DB_COLLECTION_NAME, table.clone()));
    }
    if let Some(summary) = &from.name {
        attributes.push(KeyValue::new(DB_QUERY_SUMMARY, summary.clone()));
    }
    attributes.push(KeyValue::new(DB_QUERY_TEXT, from.text.clone()));
    if let Some((host, port)) = &target.server {
        attributes.push(KeyValue::new(SERVER_ADDRESS, host.clone()));
        attributes.push(KeyValue::new(SERVER_PORT, i64::from(*port)));
    }
    let name = match &from.name {
        Some(name) => name.as_str().to_owned(),
        None => target.system.to_owned(),
    };
    SpanBuilder::from_name(name)
        .with_kind(SpanKind::Client)
        .with_attributes(attributes)
}

/// Starts the span of a query to `target` as a child of the current span,
/// and its timing when queries are measured. `target` is only worked out
/// when the span may record or the query is measured.
pub(crate) fn start(target: impl FnOnce() -> Target, sql: &str) -> (Started, Option<Measured>) {
    if DURATION.is_on() {
        // Measured, the span's attributes are built once for both.
        let builder = span_builder(&target(), sql);
        let measured = DURATION.start_picked(builder.attributes.as_deref().unwrap_or_default());
        (SITE.start_dynamic_current(|| builder), measured)
    } else {
        let started = SITE.start_dynamic_current(|| span_builder(&target(), sql));
        (started, None)
    }
}

/// Why a query failed, for its duration: `error.type` is the database's
/// `code` when there is one (also as `db.response.status_code`), else
/// `type_name`.
pub(crate) struct Failure {
    pub(crate) type_name: &'static str,
    pub(crate) code: Option<String>,
}

/// Completes the timing of a failed query: `error.type`, and
/// `db.response.status_code` when the database gave a code.
pub(crate) fn fail(measured: &mut Measured, failure: Failure) {
    let Failure { type_name, code } = failure;
    match code {
        Some(code) => {
            measured.set(KeyValue::new(ERROR_TYPE, code.clone()));
            measured.set(KeyValue::new(DB_RESPONSE_STATUS_CODE, code));
        }
        None => measured.set(KeyValue::new(ERROR_TYPE, type_name)),
    }
}

/// `db.response.returned_rows`.
pub(crate) fn record_rows(span: &ActiveSpan, rows: usize) {
    if span.is_recording() {
        span.context().span().set_attribute(KeyValue::new(
            DB_RESPONSE_RETURNED_ROWS,
            i64::try_from(rows).unwrap_or(i64::MAX),
        ));
    }
}

/// A failed query: `error.type` is the database's `code` when there is
/// one (also as `db.response.status_code`), else `type_name`.
pub(crate) fn record_failure(
    span: &ActiveSpan,
    type_name: &str,
    code: Option<String>,
    message: String,
) {
    if !span.is_recording() {
        return;
    }
    if let Some(code) = &code {
        span.context()
            .span()
            .set_attribute(KeyValue::new(DB_RESPONSE_STATUS_CODE, code.clone()));
    }
    span.record_error_as(type_name, code.as_deref(), message, Vec::new());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_is_conventional_and_leaves_the_text_out() {
        DURATION.assert_conventional();
        let target = Target {
            system: "postgresql",
            namespace: Some("app".into()),
            server: Some(("db.internal".into(), 5432)),
        };
        let builder = span_builder(&target, "SELECT id FROM tasks WHERE title = 'x'");
        assert_eq!(
            DURATION.pick(builder.attributes.as_deref().unwrap_or_default()),
            [
                KeyValue::new(DB_SYSTEM_NAME, "postgresql"),
                KeyValue::new(DB_NAMESPACE, "app"),
                KeyValue::new(DB_OPERATION_NAME, "SELECT"),
                KeyValue::new(DB_COLLECTION_NAME, "tasks"),
                KeyValue::new(DB_QUERY_SUMMARY, "SELECT tasks"),
                KeyValue::new(SERVER_ADDRESS, "db.internal"),
                KeyValue::new(SERVER_PORT, 5432_i64),
            ]
        );
    }

    #[test]
    fn span_name_and_attributes_from_the_text() {
        let target = Target {
            system: "postgresql",
            namespace: Some("app".into()),
            server: Some(("127.0.0.1".into(), 5432)),
        };
        let builder = span_builder(&target, "SELECT id FROM tasks WHERE title = 'x'");
        assert_eq!(builder.name, "SELECT tasks");
        assert_eq!(builder.span_kind, Some(SpanKind::Client));
        let attrs = builder.attributes.unwrap();
        let get = |key: &str| {
            attrs
                .iter()
                .find(|kv| kv.key.as_str() == key)
                .map(|kv| kv.value.to_string())
        };
        assert_eq!(get("db.system.name").as_deref(), Some("postgresql"));
        assert_eq!(get("db.namespace").as_deref(), Some("app"));
        assert_eq!(get("db.operation.name").as_deref(), Some("SELECT"));
        assert_eq!(get("db.collection.name").as_deref(), Some("tasks"));
        assert_eq!(get("db.query.summary").as_deref(), Some("SELECT tasks"));
        assert_eq!(
            get("db.query.text").as_deref(),
            Some("SELECT id FROM tasks WHERE title = ?")
        );
        assert_eq!(get("server.address").as_deref(), Some("127.0.0.1"));
        assert_eq!(get("server.port").as_deref(), Some("5432"));

        // No operation in the text: the span is named after the system.
        let builder = span_builder(&Target::default_for("sqlite"), "?");
        assert_eq!(builder.name, "sqlite");
    }

    #[test]
    fn the_text_cache_gives_each_text_its_own_span_and_stays_bounded() {
        let target = Target::default_for("sqlite");
        let name = |sql: &str| span_builder(&target, sql).name.into_owned();
        assert_eq!(name("SELECT a FROM users"), "SELECT users");
        // More distinct texts than the cache holds: it starts again, and
        // every text still gets its own name.
        for i in 0..TEXTS_PER_THREAD + 10 {
            assert_eq!(
                name(&format!("DELETE FROM t{i} WHERE id = {i}")),
                format!("DELETE t{i}")
            );
        }
        assert!(TEXTS.with(|t| t.borrow().len()) <= TEXTS_PER_THREAD);
        assert_eq!(name("SELECT a FROM users"), "SELECT users");
        assert_eq!(name("UPDATE users SET a = 1"), "UPDATE users");
    }

    impl Target {
        fn default_for(system: &'static str) -> Target {
            Target {
                system,
                ..Target::default()
            }
        }
    }
}
