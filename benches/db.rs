//! What the database helpers add to a query: the same statement run bare
//! and through `traced::db` (rusqlite's `query_traced`/`execute_traced`,
//! sqlx's `fetch_all` on SQLite), against an in-memory SQLite database so
//! that the query itself is as cheap as a query gets and the overhead
//! shows. Also the SQL sanitiser on its own, on a text with literals.
//!
//! Groups run in this order because a provider cannot be uninstalled:
//! `disabled` (nothing installed), then `sampled_simple` (an SDK provider
//! with the simple processor and an exporter that drops everything,
//! installed through `traced::set_tracer_provider`).
//!
//! ```text
//! cargo bench --bench db -- --warm-up-time 1 --measurement-time 3
//! ```

mod common;

use std::hint::black_box;

use common::Pipeline;
use criterion::{Criterion, criterion_group, criterion_main};
use traced::db::rusqlite::TracedConnection as _;

/// A parameterised lookup by primary key: recorded as written.
const SELECT: &str = "SELECT name FROM users WHERE id = ?1";
/// An update: the common write.
const UPDATE: &str = "UPDATE users SET visits = visits + 1 WHERE id = ?1";
/// A text with literals, which the sanitiser rewrites.
const LITERALS: &str =
    "SELECT name FROM users WHERE email = 'ana@example.com' AND id IN (1, 2, 3) -- login";

fn connection() -> rusqlite::Connection {
    let conn = rusqlite::Connection::open_in_memory().expect("sqlite in memory");
    conn.execute_batch(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, visits INTEGER NOT NULL);
         INSERT INTO users (name, visits) VALUES ('ana', 0), ('bia', 0);",
    )
    .expect("schema");
    conn
}

fn bare_select(conn: &rusqlite::Connection) -> Vec<String> {
    let mut statement = conn.prepare_cached(SELECT).expect("prepare");
    statement
        .query_map([1], |row| row.get(0))
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows")
}

fn sqlx_pool(rt: &tokio::runtime::Runtime) -> sqlx::SqlitePool {
    rt.block_on(async {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .expect("sqlx sqlite");
        sqlx::query("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
            .execute(&pool)
            .await
            .expect("schema");
        sqlx::query("INSERT INTO users (name) VALUES ('ana')")
            .execute(&pool)
            .await
            .expect("row");
        pool
    })
}

const SQLX_SELECT: &str = "SELECT name FROM users WHERE id = ?";

fn group(c: &mut Criterion, pipeline: Pipeline) {
    let _provider = pipeline.install();
    let conn = connection();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let pool = sqlx_pool(&rt);
    let mut group = c.benchmark_group(format!("db/{}", pipeline.name()));
    group.bench_function("rusqlite_select/bare", |b| {
        b.iter(|| black_box(bare_select(&conn)));
    });
    group.bench_function("rusqlite_select/traced", |b| {
        b.iter(|| {
            black_box(
                conn.query_traced(SELECT, [1], |row| row.get::<_, String>(0))
                    .expect("query"),
            )
        });
    });
    group.bench_function("rusqlite_update/bare", |b| {
        b.iter(|| black_box(conn.execute(UPDATE, [1]).expect("update")));
    });
    group.bench_function("rusqlite_update/traced", |b| {
        b.iter(|| black_box(conn.execute_traced(UPDATE, [1]).expect("update")));
    });
    group.bench_function("sqlx_sqlite_fetch_all/bare", |b| {
        b.iter(|| {
            rt.block_on(async {
                black_box(
                    sqlx::query(SQLX_SELECT)
                        .bind(1)
                        .fetch_all(&pool)
                        .await
                        .expect("query"),
                )
            })
        });
    });
    group.bench_function("sqlx_sqlite_fetch_all/traced", |b| {
        b.iter(|| {
            rt.block_on(async {
                black_box(
                    traced::db::sqlx::fetch_all(&pool, SQLX_SELECT, |q| q.bind(1))
                        .await
                        .expect("query"),
                )
            })
        });
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    c.bench_function("db/sanitize_literals", |b| {
        b.iter(|| black_box(traced::db::sanitize(black_box(LITERALS))));
    });
    group(c, Pipeline::Disabled);
    group(c, Pipeline::SampledSimple);
}

criterion_group!(db, benches);
criterion_main!(db);
