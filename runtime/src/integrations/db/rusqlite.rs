//! `rusqlite` queries in `client` spans.

use super::{Failure, Target, fail, record_failure, record_rows, start};
use crate::integrations::measure::exemplar_span;
use crate::metrics::Measured;
use crate::span::ActiveSpan;
use crate::span::SyncGuard;

/// Runs `rusqlite` statements in `client` spans with the database
/// conventions (see [`crate::db`]): `db.system.name` = `sqlite`,
/// `db.namespace` = the database file (none in memory), the operation,
/// table, summary and query text read from the SQL.
///
/// ```
/// # use traced_runtime as traced;
/// use traced::db::rusqlite::TracedConnection as _;
///
/// let conn = rusqlite::Connection::open_in_memory()?;
/// conn.execute_traced("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)", [])?;
/// conn.execute_traced("INSERT INTO t (name) VALUES (?1)", ["ana"])?;      // span "INSERT t"
/// let names = conn.query_traced("SELECT name FROM t", [], |row| row.get::<_, String>(0))?;
/// assert_eq!(names, ["ana"]);                                            // returned_rows = 1
/// # Ok::<(), rusqlite::Error>(())
/// ```
pub trait TracedConnection {
    /// [`rusqlite::Connection::execute`] in a `client` span; returns the
    /// number of rows changed.
    fn execute_traced<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;

    /// Prepares `sql` (through the statement cache), runs it with `params`
    /// and maps every row with `map`, in a `client` span that records
    /// `db.response.returned_rows`.
    fn query_traced<T, P, F>(&self, sql: &str, params: P, map: F) -> rusqlite::Result<Vec<T>>
    where
        P: rusqlite::Params,
        F: FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>;
}

impl TracedConnection for rusqlite::Connection {
    fn execute_traced<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        let (started, measured) = start(|| target(self), sql);
        let guard = started.enter();
        let out = self.execute(sql, params);
        if let (Err(err), Some(span)) = (&out, guard.recording_span()) {
            record_error(span, err, sql);
        }
        end(guard, measured, out.as_ref().err());
        out
    }

    fn query_traced<T, P, F>(&self, sql: &str, params: P, map: F) -> rusqlite::Result<Vec<T>>
    where
        P: rusqlite::Params,
        F: FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    {
        let (started, measured) = start(|| target(self), sql);
        let guard = started.enter();
        let out: rusqlite::Result<Vec<T>> = self
            .prepare_cached(sql)
            .and_then(|mut statement| statement.query_map(params, map)?.collect());
        if let Some(span) = guard.recording_span() {
            match &out {
                Ok(rows) => record_rows(span, rows.len()),
                Err(err) => record_error(span, err, sql),
            }
        }
        end(guard, measured, out.as_ref().err());
        out
    }
}

/// Stops the query's timing, ends its span, then records the duration:
/// tail sampling has then seen how the span ended (see `crate::metrics`).
fn end(guard: SyncGuard, measured: Option<Measured>, err: Option<&rusqlite::Error>) {
    let stopped = measured.map(|mut measured| {
        if let Some(err) = err {
            fail(&mut measured, failure(err));
        }
        measured.stop(guard.recording_span().and_then(exemplar_span))
    });
    drop(guard);
    if let Some(stopped) = stopped {
        stopped.record();
    }
}

fn target(conn: &rusqlite::Connection) -> Target {
    Target {
        system: "sqlite",
        namespace: conn
            .path()
            .filter(|path| !path.is_empty())
            .map(str::to_owned),
        server: None,
    }
}

/// SQLite's extended result code, when SQLite itself failed, is the
/// `error.type`; any other failure (a bad parameter, a type mismatch) is a
/// `rusqlite::Error`.
fn record_error(span: &ActiveSpan, err: &rusqlite::Error, sql: &str) {
    let Failure { type_name, code } = failure(err);
    record_failure(span, type_name, code, message(err, sql));
}

fn failure(err: &rusqlite::Error) -> Failure {
    let code = match err {
        rusqlite::Error::SqliteFailure(failure, _) => Some(failure.extended_code.to_string()),
        _ => None,
    };
    Failure {
        type_name: "rusqlite::Error",
        code,
    }
}

/// The error's message without the statement's literals (#25): SQLite's
/// own message quotes the token it stopped at (`near "'hunter2'"`), and
/// `rusqlite`'s `Display` of an input error quotes the whole statement.
/// Both are read as SQL and lose their literals, as `db.query.text` does.
fn message(err: &rusqlite::Error, sql: &str) -> String {
    match err {
        rusqlite::Error::SqliteFailure(_, Some(msg)) => {
            // SQLite quotes the statement (`in <sql> at offset 28`) and the
            // token it stopped at in double quotes, which SQL would read as
            // a name: an unterminated literal inside that token
            // (`"'hunter2 WHERE id = 1"`) survives the sanitizer.
            let msg = if sql.is_empty() {
                msg.clone()
            } else {
                msg.replace(sql, &super::sql::sanitize(sql))
            };
            hide_quoted_literals(&super::sql::sanitize(&msg))
        }
        // Any other error, `SqlInputError` among them (rusqlite's feature
        // `modern_sqlite`, which a build may or may not have): its `Display`
        // quotes the statement and the token it stopped at, as above.
        other => {
            let text = other.to_string();
            let text = if sql.is_empty() {
                text
            } else {
                text.replace(sql, &super::sql::sanitize(sql))
            };
            hide_quoted_literals(&text)
        }
    }
}

/// `text` with every double-quoted token that holds a single quote (a
/// literal SQLite quotes in its message) replaced by `"?"`.
fn hide_quoted_literals(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('"') {
        out.push_str(&rest[..=open]);
        let after = &rest[open + 1..];
        match after.find('"') {
            Some(close) => {
                let token = &after[..close];
                out.push_str(if token.contains('\'') { "?" } else { token });
                out.push('"');
                rest = &after[close + 1..];
            }
            None => {
                // An unterminated quote: whatever follows may be the literal.
                out.push('?');
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::message;

    // Regression for #25: a failed statement put its raw SQL, literals
    // included, in `exception.message`.
    #[test]
    fn issue25_failed_statements_keep_no_literal() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute("CREATE TABLE users (id INTEGER, password TEXT)", [])
            .unwrap();
        for sql in [
            "UPDATE users SET password = 'hunter2 WHERE id = 1",
            "UPDATE users SET password = 'hunter2' WHERE idd = 1",
            "UPDATE users SET password = 'hunter2' WHERE id = 1 AND",
            "INSERT INTO nope VALUES ('hunter2')",
            "UPDATE users SET password = 'hunter2', x = 'hunter2' WHERE id = ?1",
        ] {
            let err = conn.execute(sql, [1]).unwrap_err();
            let text = message(&err, sql);
            assert!(!text.contains("hunter2"), "{sql}: {err} -> {text}");
            assert!(!text.is_empty());
        }
    }
}
