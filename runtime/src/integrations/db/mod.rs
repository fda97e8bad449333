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

use opentelemetry::trace::{SpanBuilder, SpanKind, TraceContextExt as _, TracerProvider as _};
use opentelemetry::{Context, InstrumentationScope, KeyValue, global};

use crate::semconv::{
    DB_COLLECTION_NAME, DB_NAMESPACE, DB_OPERATION_NAME, DB_QUERY_SUMMARY, DB_QUERY_TEXT,
    DB_RESPONSE_RETURNED_ROWS, DB_RESPONSE_STATUS_CODE, DB_SYSTEM_NAME, SERVER_ADDRESS,
    SERVER_PORT,
};
use crate::span::{ActiveSpan, Started};

/// The tracer database spans start with, in the scope `traced`.
fn tracer() -> global::BoxedTracer {
    let scope = InstrumentationScope::builder("traced")
        .with_version(env!("CARGO_PKG_VERSION"))
        .build();
    global::tracer_provider().tracer_with_scope(scope)
}

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

/// The span of one query, the name and attributes made from its text.
pub(crate) fn span_builder(target: &Target, sql: &str) -> SpanBuilder {
    let scanned = sql::scan(sql);
    let summary = sql::summarize(&scanned.sanitized);
    let mut attributes = Vec::with_capacity(8);
    attributes.push(KeyValue::new(DB_SYSTEM_NAME, target.system));
    if let Some(namespace) = &target.namespace {
        attributes.push(KeyValue::new(DB_NAMESPACE, namespace.clone()));
    }
    let name = summary.text();
    if let Some(op) = summary.operation {
        attributes.push(KeyValue::new(DB_OPERATION_NAME, op));
    }
    if let Some(table) = summary.collection {
        attributes.push(KeyValue::new(DB_COLLECTION_NAME, table));
    }
    if let Some(summary) = &name {
        attributes.push(KeyValue::new(DB_QUERY_SUMMARY, summary.clone()));
    }
    attributes.push(KeyValue::new(
        DB_QUERY_TEXT,
        sql::query_text(sql, &scanned).into_owned(),
    ));
    if let Some((host, port)) = &target.server {
        attributes.push(KeyValue::new(SERVER_ADDRESS, host.clone()));
        attributes.push(KeyValue::new(SERVER_PORT, i64::from(*port)));
    }
    SpanBuilder::from_name(name.unwrap_or_else(|| target.system.to_owned()))
        .with_kind(SpanKind::Client)
        .with_attributes(attributes)
}

/// Starts the span of a query to `target` as a child of the current span.
pub(crate) fn start(target: &Target, sql: &str) -> Started {
    crate::span::start_dynamic(&tracer(), span_builder(target, sql), &Context::current())
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

    impl Target {
        fn default_for(system: &'static str) -> Target {
            Target {
                system,
                ..Target::default()
            }
        }
    }
}
