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
//!
//! The demo runs the service as a child process exporting to `traced-view`,
//! started in-process, which prints the traces; when `OTEL_TRACES_EXPORTER`
//! or an OTLP endpoint is set, it runs in one process and exports there.

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

/// Whether the environment says where traces go; the demo then leaves
/// them there instead of starting `traced-view`.
fn exporter_configured() -> bool {
    [
        "OTEL_TRACES_EXPORTER",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .iter()
    .any(|key| std::env::var_os(key).is_some())
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().position(|a| a == "--serve") {
        Some(i) => serve(args.get(i + 1).map_or(Ok(8080), |p| p.parse())?).await,
        None if exporter_configured() => {
            let _telemetry = telemetry()?;
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
            let addr = listener.local_addr()?;
            println!("listening on {addr}");
            let app = router(None)?;
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let server = tokio::spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
            });
            create_tasks(&addr.to_string()).await?;
            // A graceful stop lets the requests finish, so every server span
            // has ended before the guard flushes.
            let _ = stop.send(());
            server.await??;
            Ok(())
        }
        None => demo().await,
    }
}

fn telemetry() -> Result<traced::Telemetry, traced::InitError> {
    traced::builder()
        .service_name("tasks")
        .fallback_exporter(traced::Exporter::Console)
        .init()
}

/// Serves on `port` until SIGTERM or Ctrl-C, lets the requests in flight
/// finish, then flushes its spans (the guard's drop).
async fn serve(port: u16) -> Result<(), BoxError> {
    let _telemetry = telemetry()?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on {}", listener.local_addr()?);
    // The connection stays open as long as the server runs.
    let amqp = jobs_channel().await?;
    let app = router(amqp.as_ref().map(|(_, channel)| channel.clone()))?;
    axum::serve(listener, app)
        .with_graceful_shutdown(traced::shutdown_signal())
        .await?;
    Ok(())
}

async fn create_tasks(addr: &str) -> Result<(), BoxError> {
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
    Ok(())
}

/// Starts `traced-view` in-process and the service as a child process
/// exporting to it over gRPC, creates two tasks, stops the service (it
/// flushes on SIGTERM) and prints the traces the viewer received.
async fn demo() -> Result<(), BoxError> {
    use std::io::IsTerminal as _;
    use tokio::io::AsyncBufReadExt as _;
    let loopback = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    let config = traced_view::Config {
        grpc: loopback,
        http: None,
        quiet: std::time::Duration::from_millis(500),
        color: std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        ..traced_view::Config::default()
    };
    let viewer = traced_view::Viewer::start(config, std::io::stdout()).await?;
    println!("{}", viewer.banner());
    let grpc = format!("http://{}", viewer.grpc_addr().ok_or("no gRPC endpoint")?);
    let mut child = tokio::process::Command::new(std::env::current_exe()?)
        .args(["--serve", "0"])
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &grpc)
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let addr = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await? {
            if let Some(addr) = line.strip_prefix("listening on ") {
                return Ok::<_, std::io::Error>(Some(addr.to_owned()));
            }
        }
        Ok(None)
    })
    .await??
    .ok_or("the service exited before listening")?;
    create_tasks(&addr).await?;
    if let Some(pid) = child.id() {
        // SIGTERM, as an orchestrator stops a service, through the `kill`
        // command: no `unsafe` libc call needed.
        let _ = tokio::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await;
    }
    if tokio::time::timeout(std::time::Duration::from_secs(10), child.wait())
        .await
        .is_err()
    {
        let _ = child.kill().await;
    }
    viewer.shutdown().await;
    Ok(())
}
