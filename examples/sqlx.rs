//! `sqlx` queries as `client` spans (feature `sqlx`): an in-memory SQLite
//! database, a table, two inserts and a query, under one `#[traced]`
//! function. Each query's span is named after its operation and table
//! (`INSERT tasks`), carries the database conventions (`db.system.name`,
//! `db.query.text` with its placeholders, never the values bound to them)
//! and the rows it returned.
//!
//! ```text
//! cargo run --example sqlx                            # prints the trace
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317 \
//!     cargo run --example sqlx                        # sends it over OTLP
//! ```
//!
//! The same helpers take a `sqlx::PgPool` for PostgreSQL.

use sqlx::Row as _;
use sqlx::SqlitePool;
use sqlx::sqlite::SqlitePoolOptions;
use traced::traced;

#[traced(skip(pool))]
async fn add_task(pool: &SqlitePool, title: &str) -> Result<(), sqlx::Error> {
    let title = title.to_owned();
    traced::db::sqlx::execute(pool, "INSERT INTO tasks (title) VALUES (?)", |q| {
        q.bind(title)
    })
    .await?;
    Ok(())
}

#[traced(skip(pool), ret)]
async fn titles(pool: &SqlitePool) -> Result<Vec<String>, sqlx::Error> {
    let rows =
        traced::db::sqlx::fetch_all(pool, "SELECT title FROM tasks ORDER BY id", |q| q).await?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

#[traced(skip(pool))]
async fn run(pool: &SqlitePool) -> Result<Vec<String>, sqlx::Error> {
    traced::db::sqlx::execute(
        pool,
        "CREATE TABLE tasks (id INTEGER PRIMARY KEY, title TEXT NOT NULL)",
        |q| q,
    )
    .await?;
    add_task(pool, "write the talk").await?;
    add_task(pool, "give the talk").await?;
    titles(pool).await
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Console output unless OTEL_TRACES_EXPORTER or an OTLP endpoint is set.
    let _telemetry = traced::builder()
        .service_name("sqlx-example")
        .fallback_exporter(traced::Exporter::Console)
        .init()?;
    let pool = SqlitePoolOptions::new().connect("sqlite::memory:").await?;
    println!("{:?}", run(&pool).await?);
    Ok(())
}
