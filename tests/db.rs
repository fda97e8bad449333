//! Database client spans: `rusqlite`, `sqlx` on SQLite, and `sqlx` on a
//! real PostgreSQL server (started from Debian's package, see
//! `support::postgres`).

mod support;

use opentelemetry::Value;
use opentelemetry::trace::SpanKind;
use support::spans::*;
use traced::db::rusqlite::TracedConnection as _;
use traced::testing::{SpanData, capture, capture_future};

fn str_attr(span: &SpanData, key: &str) -> Option<String> {
    attr(span, key).map(Value::to_string)
}

fn int_attr(span: &SpanData, key: &str) -> Option<i64> {
    match attr(span, key) {
        Some(Value::I64(i)) => Some(*i),
        _ => None,
    }
}

#[test]
fn rusqlite_queries_are_client_spans() {
    let spans = capture(|| {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_traced(
            "CREATE TABLE tasks (id INTEGER PRIMARY KEY, title TEXT)",
            [],
        )
        .unwrap();
        conn.execute_traced("INSERT INTO tasks (title) VALUES (?1)", ["secret title"])
            .unwrap();
        let titles = conn
            .query_traced(
                "SELECT title FROM tasks WHERE id = 1 AND title <> 'x' -- first",
                [],
                |row| row.get::<_, String>(0),
            )
            .unwrap();
        assert_eq!(titles, ["secret title"]);
        let missing = conn.query_traced("SELECT * FROM nowhere", [], |_| Ok(()));
        assert!(missing.is_err());
    });

    let insert = spans.one("INSERT tasks");
    assert_eq!(insert.span_kind, SpanKind::Client);
    assert_eq!(
        str_attr(insert, "db.system.name").as_deref(),
        Some("sqlite")
    );
    assert_eq!(
        str_attr(insert, "db.operation.name").as_deref(),
        Some("INSERT")
    );
    assert_eq!(
        str_attr(insert, "db.collection.name").as_deref(),
        Some("tasks")
    );
    assert_eq!(
        str_attr(insert, "db.query.summary").as_deref(),
        Some("INSERT tasks")
    );
    // Parameterised: recorded as written, and the value is nowhere.
    assert_eq!(
        str_attr(insert, "db.query.text").as_deref(),
        Some("INSERT INTO tasks (title) VALUES (?1)")
    );
    assert!(
        insert
            .attributes
            .iter()
            .all(|kv| !kv.value.to_string().contains("secret")),
        "{:?}",
        insert.attributes
    );
    // In memory: no namespace.
    assert_eq!(attr(insert, "db.namespace"), None);
    assert_eq!(attr(insert, "server.address"), None);

    let select = spans.one("SELECT tasks");
    assert_eq!(
        str_attr(select, "db.query.text").as_deref(),
        Some("SELECT title FROM tasks WHERE id = ? AND title <> ?")
    );
    assert_eq!(int_attr(select, "db.response.returned_rows"), Some(1));
    assert!(!is_error(select));

    let failed = spans.one("SELECT nowhere");
    assert!(is_error(failed));
    // SQLITE_ERROR, SQLite's code for "no such table".
    assert_eq!(str_attr(failed, "error.type").as_deref(), Some("1"));
    assert_eq!(
        str_attr(failed, "db.response.status_code").as_deref(),
        Some("1")
    );
    assert_eq!(exceptions(failed).len(), 1);

    assert_eq!(spans.named("CREATE tasks").len(), 1);
}

#[test]
fn rusqlite_spans_are_children_of_the_caller() {
    #[traced::traced]
    fn handler(conn: &rusqlite::Connection) -> rusqlite::Result<usize> {
        conn.execute_traced("CREATE TABLE t (a INTEGER)", [])
    }
    let spans = capture(|| {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        handler(&conn).unwrap();
    });
    let parent = spans.one("handler");
    let child = spans.one("CREATE t");
    assert_eq!(child.parent_span_id, parent.span_context.span_id());
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn sqlx_sqlite_queries_are_client_spans() {
    let dir = std::env::temp_dir().join(format!("traced-sqlx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("tasks.db");
    let url = format!("sqlite://{}?mode=rwc", file.display());
    let (rows, spans) = capture_future(|f| runtime().block_on(f), async {
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        traced::db::sqlx::execute(
            &pool,
            "CREATE TABLE tasks (id INTEGER PRIMARY KEY, title TEXT)",
            |q| q,
        )
        .await
        .unwrap();
        traced::db::sqlx::execute(&pool, "INSERT INTO tasks (title) VALUES (?)", |q| {
            q.bind("secret title")
        })
        .await
        .unwrap();
        let rows = traced::db::sqlx::fetch_all(
            &pool,
            "SELECT title FROM tasks WHERE id IN (1, 2, 3)",
            |q| q,
        )
        .await
        .unwrap();
        let none =
            traced::db::sqlx::fetch_optional(&pool, "SELECT title FROM tasks WHERE id = ?", |q| {
                q.bind(99_i64)
            })
            .await
            .unwrap();
        assert!(none.is_none());
        pool.close().await;
        rows.len()
    });
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(rows, 1);

    let insert = spans.one("INSERT tasks");
    assert_eq!(insert.span_kind, SpanKind::Client);
    assert_eq!(
        str_attr(insert, "db.system.name").as_deref(),
        Some("sqlite")
    );
    assert_eq!(
        str_attr(insert, "db.namespace"),
        Some(file.display().to_string())
    );
    assert_eq!(
        str_attr(insert, "db.query.text").as_deref(),
        Some("INSERT INTO tasks (title) VALUES (?)")
    );
    let selects = spans.named("SELECT tasks");
    assert_eq!(selects.len(), 2);
    let all = selects
        .iter()
        .find(|s| int_attr(s, "db.response.returned_rows") == Some(1))
        .expect("the fetch_all span");
    assert_eq!(
        str_attr(all, "db.query.text").as_deref(),
        Some("SELECT title FROM tasks WHERE id IN (?)")
    );
    assert!(
        selects
            .iter()
            .any(|s| int_attr(s, "db.response.returned_rows") == Some(0))
    );
}

#[test]
fn sqlx_postgres_queries_are_client_spans() {
    let server = support::postgres::Postgres::start();
    let url = server.url();
    let (_, spans) = capture_future(|f| runtime().block_on(f), async {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(std::time::Duration::from_secs(30))
            .connect(&url)
            .await
            .unwrap();
        traced::db::sqlx::execute(
            &pool,
            "CREATE TABLE tasks (id BIGSERIAL PRIMARY KEY, title TEXT)",
            |q| q,
        )
        .await
        .unwrap();
        traced::db::sqlx::execute(&pool, "INSERT INTO tasks (title) VALUES ($1)", |q| {
            q.bind("secret title")
        })
        .await
        .unwrap();
        let rows =
            traced::db::sqlx::fetch_all(&pool, "SELECT title FROM tasks WHERE title <> 'x'", |q| q)
                .await
                .unwrap();
        assert_eq!(rows.len(), 1);
        let missing = traced::db::sqlx::fetch_all(&pool, "SELECT * FROM nowhere", |q| q).await;
        assert!(missing.is_err());
        pool.close().await;
    });

    let insert = spans.one("INSERT tasks");
    assert_eq!(insert.span_kind, SpanKind::Client);
    assert_eq!(
        str_attr(insert, "db.system.name").as_deref(),
        Some("postgresql")
    );
    assert_eq!(
        str_attr(insert, "db.namespace").as_deref(),
        Some("postgres")
    );
    assert_eq!(
        str_attr(insert, "server.address").as_deref(),
        Some("127.0.0.1")
    );
    assert_eq!(
        int_attr(insert, "server.port"),
        Some(i64::from(server.port()))
    );
    assert_eq!(
        str_attr(insert, "db.query.text").as_deref(),
        Some("INSERT INTO tasks (title) VALUES ($1)")
    );
    let select = spans.one("SELECT tasks");
    assert_eq!(
        str_attr(select, "db.query.text").as_deref(),
        Some("SELECT title FROM tasks WHERE title <> ?")
    );
    assert_eq!(int_attr(select, "db.response.returned_rows"), Some(1));
    let failed = spans.one("SELECT nowhere");
    assert!(is_error(failed));
    // SQLSTATE 42P01: undefined_table.
    assert_eq!(str_attr(failed, "error.type").as_deref(), Some("42P01"));
}
