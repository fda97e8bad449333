//! `sqlx` queries on SQLite and PostgreSQL pools in `client` spans.
//!
//! Each helper takes the pool, the SQL text and a closure that binds the
//! parameters, so that the text the span records is the one that runs:
//!
//! ```no_run
//! # use traced_runtime as traced;
//! # async fn f(pool: sqlx::PgPool) -> Result<(), sqlx::Error> {
//! use sqlx::Row as _;
//!
//! let rows = traced::db::sqlx::fetch_all(&pool, "SELECT title FROM tasks WHERE id = $1", |q| {
//!     q.bind(7_i64)
//! })
//! .await?; // span "SELECT tasks", db.system.name = postgresql, server.address, ...
//! let titles: Vec<String> = rows.iter().map(|row| row.get(0)).collect();
//! # Ok(()) }
//! ```

use std::future::Future;

use sqlx::{Database, Executor, Pool, Postgres, Sqlite};

use super::{Failure, Target, fail, record_failure, record_rows, start};
use crate::integrations::measure::instrument_measured;
use crate::metrics::Measured;
use crate::span::ActiveSpan;

/// The query type the helpers hand to the binding closure.
pub type Query<DB> = sqlx::query::Query<'static, DB, <DB as Database>::Arguments>;

mod sealed {
    /// `db.system.name`, `db.namespace`, and `server.address` with
    /// `server.port`.
    pub type Described = (&'static str, Option<String>, Option<(String, u16)>);

    pub trait Sealed {
        fn describe(pool: &sqlx::Pool<Self>) -> Described
        where
            Self: sqlx::Database;
    }
}

fn target<DB: TracedDatabase>(pool: &Pool<DB>) -> Target {
    let (system, namespace, server) = DB::describe(pool);
    Target {
        system,
        namespace,
        server,
    }
}

/// The databases the helpers know the conventions of: [`Sqlite`] and
/// [`Postgres`].
pub trait TracedDatabase: Database + sealed::Sealed {}

impl TracedDatabase for Sqlite {}
impl TracedDatabase for Postgres {}

impl sealed::Sealed for Sqlite {
    fn describe(pool: &Pool<Sqlite>) -> sealed::Described {
        let options = pool.connect_options();
        let file = options.get_filename().to_string_lossy();
        let namespace = (!file.is_empty() && file != ":memory:").then(|| file.into_owned());
        ("sqlite", namespace, None)
    }
}

impl sealed::Sealed for Postgres {
    fn describe(pool: &Pool<Postgres>) -> sealed::Described {
        let options = pool.connect_options();
        // A host starting with `/` is a Unix socket directory, not a server.
        let host = options.get_host();
        (
            "postgresql",
            options.get_database().map(str::to_owned),
            (!host.starts_with('/')).then(|| (host.to_owned(), options.get_port())),
        )
    }
}

/// Runs the query and returns every row, in a `client` span that records
/// `db.response.returned_rows`.
pub fn fetch_all<DB>(
    pool: &Pool<DB>,
    sql: &'static str,
    bind: impl FnOnce(Query<DB>) -> Query<DB>,
) -> impl Future<Output = Result<Vec<DB::Row>, sqlx::Error>>
where
    DB: TracedDatabase,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    let (started, measured) = start(|| target(pool), sql);
    let query = bind(sqlx::query(sql));
    let future = query.fetch_all(pool);
    instrument_measured(started, future, measured, complete, |span, out| match out {
        Ok(rows) => record_rows(span, rows.len()),
        Err(err) => record_error(span, err),
    })
}

/// Runs the query and returns its first row, if any, in a `client` span
/// that records `db.response.returned_rows` (0 or 1).
pub fn fetch_optional<DB>(
    pool: &Pool<DB>,
    sql: &'static str,
    bind: impl FnOnce(Query<DB>) -> Query<DB>,
) -> impl Future<Output = Result<Option<DB::Row>, sqlx::Error>>
where
    DB: TracedDatabase,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    let (started, measured) = start(|| target(pool), sql);
    let query = bind(sqlx::query(sql));
    let future = query.fetch_optional(pool);
    instrument_measured(started, future, measured, complete, |span, out| match out {
        Ok(row) => record_rows(span, usize::from(row.is_some())),
        Err(err) => record_error(span, err),
    })
}

/// Runs a statement that returns no rows (`INSERT`, `UPDATE`, DDL) in a
/// `client` span.
pub fn execute<DB>(
    pool: &Pool<DB>,
    sql: &'static str,
    bind: impl FnOnce(Query<DB>) -> Query<DB>,
) -> impl Future<Output = Result<DB::QueryResult, sqlx::Error>>
where
    DB: TracedDatabase,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    let (started, measured) = start(|| target(pool), sql);
    let query = bind(sqlx::query(sql));
    let future = query.execute(pool);
    instrument_measured(started, future, measured, complete, |span, out| {
        if let Err(err) = out {
            record_error(span, err);
        }
    })
}

/// The database's own code (SQLSTATE for PostgreSQL, the extended result
/// code for SQLite) is the `error.type` of a database error; other
/// failures (pool, I/O, decoding) are `sqlx::Error`.
fn record_error(span: &ActiveSpan, err: &sqlx::Error) {
    let Failure { type_name, code } = failure(err);
    record_failure(span, type_name, code, err.to_string());
}

/// Completes a query's timing with its failure, if it failed.
fn complete<T>(measured: &mut Measured, out: &Result<T, sqlx::Error>) {
    if let Err(err) = out {
        fail(measured, failure(err));
    }
}

fn failure(err: &sqlx::Error) -> Failure {
    let code = match err {
        sqlx::Error::Database(db) => db.code().map(|c| c.into_owned()),
        _ => None,
    };
    Failure {
        type_name: "sqlx::Error",
        code,
    }
}
