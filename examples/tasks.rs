//! The talk's task-creation endpoint: `POST /tasks` inserts a task
//! (SQLite, through `traced::db::rusqlite`), adds the event "record
//! inserted" with the new id to the current span, and, with
//! `TASKS_AMQP_URL` set, publishes a job on the RabbitMQ queue `tasks`
//! (through `traced::messaging::lapin`) for the worker (`tasks_worker`).
//! One trace goes across the three hops: web → producer → worker.
//!
//! ```text
//! cargo run --example tasks                    # serves, creates two tasks, prints the traces
//! cargo run --example tasks -- --serve 8080   # just serves (port 0: any free port)
//! TASKS_AMQP_URL=amqp://127.0.0.1:5672 cargo run --example tasks_worker
//! ```

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;
use serde::{Deserialize, Serialize};
use traced::db::rusqlite::TracedConnection as _;
use traced::traced;

#[derive(Debug, Deserialize)]
struct NewTask {
    title: String,
}

#[derive(Debug, Serialize)]
struct Task {
    id: i64,
    title: String,
}

type Db = Arc<Mutex<rusqlite::Connection>>;

/// The queue jobs go to.
const QUEUE: &str = "tasks";

#[derive(Clone)]
struct App {
    db: Db,
    /// Where jobs are published; `None` without `TASKS_AMQP_URL`.
    jobs: Option<lapin::Channel>,
}

/// The database call is a `client` span named `INSERT tasks`, written by
/// `traced::db::rusqlite`.
fn insert(db: &Db, title: &str) -> Result<i64, rusqlite::Error> {
    let conn = db.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    conn.execute_traced("INSERT INTO tasks (title) VALUES (?1)", [title])?;
    Ok(conn.last_insert_rowid())
}

fn internal(e: impl std::fmt::Display) -> (StatusCode, String) {
    (StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

#[traced(skip(app), attributes(task.title = task.title.as_str()))]
async fn create_task(
    State(app): State<App>,
    Json(task): Json<NewTask>,
) -> Result<(StatusCode, Json<Task>), (StatusCode, String)> {
    let id = insert(&app.db, &task.title).map_err(internal)?;
    traced::event!("record inserted", task.id = id);
    if let Some(channel) = &app.jobs {
        // A `producer` span "send tasks", its context in the AMQP headers.
        let job = serde_json::json!({ "id": id, "title": task.title });
        let properties = lapin::BasicProperties::default()
            .with_message_id(id.to_string().into())
            .with_delivery_mode(2);
        traced::messaging::lapin::publish(
            channel,
            "",
            QUEUE,
            job.to_string().as_bytes(),
            properties,
        )
        .await
        .map_err(internal)?;
    }
    Ok((
        StatusCode::CREATED,
        Json(Task {
            id,
            title: task.title,
        }),
    ))
}

fn router(jobs: Option<lapin::Channel>) -> Result<Router, rusqlite::Error> {
    let conn = rusqlite::Connection::open_in_memory()?;
    conn.execute_batch("CREATE TABLE tasks (id INTEGER PRIMARY KEY, title TEXT NOT NULL)")?;
    let app = App {
        db: Arc::new(Mutex::new(conn)),
        jobs,
    };
    Ok(Router::new()
        .route("/tasks", post(create_task))
        .layer(traced::http::server::TracedLayer::new())
        .with_state(app))
}

/// A connection and a channel to the broker at `TASKS_AMQP_URL` with the
/// durable queue `tasks` declared, or `None` when the variable is unset.
async fn jobs_channel() -> Result<Option<(lapin::Connection, lapin::Channel)>, lapin::Error> {
    let Ok(url) = std::env::var("TASKS_AMQP_URL") else {
        return Ok(None);
    };
    let connection =
        lapin::Connection::connect(&url, lapin::ConnectionProperties::default()).await?;
    let channel = connection.create_channel().await?;
    channel
        .queue_declare(
            QUEUE.into(),
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await?;
    Ok(Some((connection, channel)))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let _telemetry = traced::builder()
        .service_name("tasks")
        .fallback_exporter(traced::Exporter::Console)
        .init()?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let serve = args.iter().position(|a| a == "--serve");
    let port: u16 = match serve {
        Some(i) => args.get(i + 1).map_or(Ok(8080), |p| p.parse())?,
        None => 0,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    println!("listening on {addr}");
    // The connection stays open as long as `main` runs.
    let amqp = jobs_channel().await?;
    let app = router(amqp.as_ref().map(|(_, channel)| channel.clone()))?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    if serve.is_some() {
        return Ok(server.await??);
    }
    let client = reqwest::Client::new();
    for title in ["write the talk", "record the live"] {
        let response = client
            .post(format!("http://{addr}/tasks"))
            .json(&serde_json::json!({ "title": title }))
            .send()
            .await?;
        println!(
            "POST /tasks {title:?}: {} {}",
            response.status(),
            response.text().await?
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    Ok(())
}
