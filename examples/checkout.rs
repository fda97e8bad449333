//! Tail sampling across two services: a `front` that serves
//! `GET /order/{id}` by asking a `back` for `GET /stock/{id}`.
//!
//! ```text
//! export TRACED_TAIL_SAMPLING=errors,slower_than=200ms,ratio=0.05
//! OTEL_SERVICE_NAME=checkout-back cargo run --example checkout -- back --port 8081
//! OTEL_SERVICE_NAME=checkout-front cargo run --example checkout -- front --port 8080 --back http://127.0.0.1:8081
//! curl http://127.0.0.1:8080/order/7
//! ```
//!
//! The id decides what happens, so a load test knows which traces each
//! rule must keep:
//!
//! | `id % 50` | `back` | `front` answers | kept, in both services, by |
//! | --- | --- | --- | --- |
//! | 7 | `count` fails, `stock` answers 500 | 502 | `errors` |
//! | 23 | `count` takes 250 ms | 200 | `slower_than` (the front waits for it) |
//! | 41 | `count` fails, `stock` answers from its cache | 200 | `errors` in `back`; its `traceresponse` in `front` |
//! | other | answers at once | 200 | `ratio`: the same 5% of trace ids in both |
//!
//! Each service prints `listening on <addr>` once bound, serves until
//! SIGTERM or Ctrl-C, flushes, and prints what tail sampling kept and
//! dropped. Spans go to the console unless `OTEL_TRACES_EXPORTER` or an
//! OTLP endpoint is set; with tail sampling, only the kept traces.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use traced::http::client::SendTraced as _;
use traced::http::server::TracedLayer;
use traced::traced;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

// ---- back: `GET /stock/{id}` ----

/// Why `back` could not count an item.
#[derive(Debug, thiserror::Error)]
enum StockError {
    #[error("item {0} is not in the warehouse")]
    Unknown(u64),
    #[error("the warehouse is busy")]
    Busy,
}

impl IntoResponse for StockError {
    fn into_response(self) -> Response {
        (StatusCode::INTERNAL_SERVER_ERROR, self.to_string()).into_response()
    }
}

/// Counts item `id` in the warehouse.
#[traced]
async fn count(id: u64) -> Result<u64, StockError> {
    match id % 50 {
        7 => Err(StockError::Unknown(id)),
        23 => {
            tokio::time::sleep(Duration::from_millis(250)).await;
            Ok(id % 10)
        }
        41 => Err(StockError::Busy),
        _ => Ok(id % 10),
    }
}

/// The stock of an item; when the warehouse is busy, the last count seen.
#[traced(skip_all)]
async fn stock(Path(id): Path<u64>) -> Result<String, StockError> {
    let left = match count(id).await {
        Err(StockError::Busy) => id % 10,
        left => left?,
    };
    Ok(left.to_string())
}

fn back() -> Router {
    Router::new()
        .route("/stock/{id}", get(stock))
        .layer(TracedLayer::new())
}

// ---- front: `GET /order/{id}` ----

/// Where `back` is, and the one client that calls it.
#[derive(Clone)]
struct Back {
    url: String,
    client: reqwest::Client,
}

/// Why an order failed.
#[derive(Debug, thiserror::Error)]
enum OrderError {
    #[error("back answered {0}")]
    Stock(reqwest::StatusCode),
    #[error("back is unreachable: {0}")]
    Unreachable(#[from] reqwest::Error),
}

impl IntoResponse for OrderError {
    fn into_response(self) -> Response {
        (StatusCode::BAD_GATEWAY, self.to_string()).into_response()
    }
}

/// Asks `back` how many of item `id` are left.
#[traced(skip(back))]
async fn reserve(back: &Back, id: u64) -> Result<String, OrderError> {
    let response = back
        .client
        .get(format!("{}/stock/{id}", back.url))
        .send_traced()
        .await?;
    if !response.status().is_success() {
        return Err(OrderError::Stock(response.status()));
    }
    Ok(response.text().await?)
}

#[traced(skip_all)]
async fn order(State(back): State<Back>, Path(id): Path<u64>) -> Result<String, OrderError> {
    let left = reserve(&back, id).await?;
    Ok(format!("order {id}: reserved, {left} left\n"))
}

fn front(back_url: String) -> Router {
    Router::new()
        .route("/order/{id}", get(order))
        .layer(TracedLayer::new())
        .with_state(Back {
            url: back_url,
            client: reqwest::Client::new(),
        })
}

// ---- both ----

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// Binds, prints `listening on <addr>` (tests read it), and serves until
/// SIGTERM or Ctrl-C, letting the requests in flight finish.
async fn serve(router: Router, port: u16) -> Result<(), BoxError> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    println!("listening on {}", listener.local_addr()?);
    axum::serve(listener, router)
        .with_graceful_shutdown(traced::shutdown_signal())
        .await?;
    Ok(())
}

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let router = match args.first().map(String::as_str) {
        Some("back") => back(),
        Some("front") => front(arg(&args, "--back").ok_or("front needs --back <url>")?),
        _ => {
            return Err(
                "usage: checkout front --back <url> [--port N] | checkout back [--port N]".into(),
            );
        }
    };
    let port = arg(&args, "--port").as_deref().unwrap_or("0").parse()?;
    let telemetry = traced::builder()
        .fallback_exporter(traced::Exporter::Console)
        .init()?;
    tokio::runtime::Runtime::new()?.block_on(serve(router, port))?;
    // Decides the traces still held, and exports the kept ones.
    drop(telemetry);
    let stats = traced::tail_stats();
    println!(
        "tail sampling: kept_errors={} kept_slow={} kept_ratio={} kept_by_downstream={} dropped={} evicted={}",
        stats.kept_errors,
        stats.kept_slow,
        stats.kept_ratio,
        stats.kept_by_downstream,
        stats.dropped,
        stats.evicted
    );
    Ok(())
}
