//! The talk's task-creation endpoint: `POST /tasks` inserts a task and adds
//! the event "record inserted" with the new id to the current span.
//!
//! ```text
//! cargo run --example tasks                    # serves, creates two tasks, prints the traces
//! cargo run --example tasks -- --serve 8080   # just serves
//! ```

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
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

const INSERT_TASK: &str = "INSERT INTO tasks (title) VALUES (?1)";

#[traced(kind = client, name = "INSERT tasks", skip_all,
         attributes(db.system.name = "sqlite", db.operation.name = "INSERT",
                    db.collection.name = "tasks", db.query.text = INSERT_TASK))]
fn insert(db: &Db, title: &str) -> Result<i64, rusqlite::Error> {
    let conn = db.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    conn.execute(INSERT_TASK, [title])?;
    Ok(conn.last_insert_rowid())
}

#[traced(skip(db), attributes(task.title = task.title.as_str()))]
async fn create_task(
    State(db): State<Db>,
    Json(task): Json<NewTask>,
) -> Result<(StatusCode, Json<Task>), (StatusCode, String)> {
    let id =
        insert(&db, &task.title).map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    traced::event!("record inserted", task.id = id);
    Ok((
        StatusCode::CREATED,
        Json(Task {
            id,
            title: task.title,
        }),
    ))
}

fn router() -> Result<Router, rusqlite::Error> {
    let conn = rusqlite::Connection::open_in_memory()?;
    conn.execute_batch("CREATE TABLE tasks (id INTEGER PRIMARY KEY, title TEXT NOT NULL)")?;
    Ok(Router::new()
        .route("/tasks", post(create_task))
        .layer(traced::http::server::TracedLayer::new())
        .with_state(Arc::new(Mutex::new(conn))))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let _telemetry = traced::builder()
        .service_name("tasks")
        .fallback_exporter(traced::Exporter::Console)
        .init()?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port: u16 = match args.iter().position(|a| a == "--serve") {
        Some(i) => args.get(i + 1).map_or(Ok(8080), |p| p.parse())?,
        None => 0,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    println!("listening on {addr}");
    let app = router()?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    if port != 0 {
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
