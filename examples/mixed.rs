//! A service that mixes `#[traced]` with the `tracing` ecosystem (feature
//! `tracing`): tower-http's `TraceLayer` opens a `tracing` span per request,
//! the handler calls a `#[traced]` function, which runs a
//! `#[tracing::instrument]`ed one and logs with `tracing::info!` and
//! `log::info!`. One request is one trace, and the log records carry the
//! ids of the span they were written in.
//!
//! ```text
//! cargo run --example mixed --features tracing -- --port 8080
//! curl localhost:8080/orders/7
//! ```
//!
//! With no collector configured, spans go to the console tree and log
//! records to the console too; `TRACED_STDOUT_LOGS=compact` adds the
//! compact `tracing` lines. Order 0 is out of stock: its error is an
//! `exception` event of the `place_order` span, or with
//! `OTEL_SEMCONV_EXCEPTION_SIGNAL_OPT_IN=logs` an `exception` log record.

use std::io::Write as _;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use tower_http::trace::{DefaultMakeSpan, TraceLayer};
use traced::traced;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Nothing left to reserve.
#[derive(Debug)]
struct OutOfStock(u64);

impl std::fmt::Display for OutOfStock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "order {} is out of stock", self.0)
    }
}

impl std::error::Error for OutOfStock {}

/// Our code: a span of its own, with the order id as an attribute.
#[traced]
async fn place_order(order_id: u64) -> Result<String, OutOfStock> {
    let reserved = reserve_stock(order_id).await;
    if reserved == 0 {
        return Err(OutOfStock(order_id));
    }
    tracing::info!(order_id, reserved, "order placed");
    log::info!("order {order_id} handed to shipping");
    Ok(format!("order {order_id}: {reserved} reserved\n"))
}

/// A library's code, instrumented with `tracing`.
#[tracing::instrument(level = "info")]
async fn reserve_stock(order_id: u64) -> u32 {
    tokio::task::yield_now().await;
    tracing::debug!("stock checked");
    if order_id == 0 { 0 } else { 3 }
}

async fn order(Path(order_id): Path<u64>) -> (axum::http::StatusCode, String) {
    match place_order(order_id).await {
        Ok(body) => (axum::http::StatusCode::OK, body),
        Err(err) => (axum::http::StatusCode::CONFLICT, format!("{err}\n")),
    }
}

fn main() -> Result<(), BoxError> {
    let _telemetry = traced::builder()
        .service_name("mixed")
        .fallback_exporter(traced::Exporter::Console)
        .init()?;
    let port: u16 = std::env::args()
        .skip_while(|a| a != "--port")
        .nth(1)
        .map_or(Ok(0), |p| p.parse())?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let app = Router::new().route("/orders/{order_id}", get(order)).layer(
            // tower-http's request span is at DEBUG unless told; the default
            // filter keeps INFO and above.
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(tracing::Level::INFO)),
        );
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
        println!("listening on {}", listener.local_addr()?);
        let _ = std::io::stdout().flush();
        axum::serve(listener, app)
            .with_graceful_shutdown(traced::shutdown_signal())
            .await?;
        Ok::<(), BoxError>(())
    })?;
    Ok(())
}
