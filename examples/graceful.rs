//! A service that stops without losing spans: SIGTERM or Ctrl-C lets the
//! requests in flight finish, then `main` returns and the `Telemetry` guard
//! flushes every finished span. A second signal stops it at once.
//!
//! ```text
//! cargo run --example graceful -- --port 8080
//! curl localhost:8080/work &  kill -TERM <pid>   # the request completes, its spans are exported
//! ```

use std::io::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use traced::traced;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Some work that takes a while: long enough for a signal to arrive while
/// requests are in flight.
#[traced]
async fn work() -> &'static str {
    // Tests read this line to know the request is being served.
    println!("working");
    let _ = std::io::stdout().flush();
    tokio::time::sleep(Duration::from_millis(300)).await;
    store().await;
    "done"
}

#[traced(kind = client)]
async fn store() {
    tokio::time::sleep(Duration::from_millis(20)).await;
}

/// A request that never completes, to show that a second signal does not
/// wait for it.
async fn hang() -> &'static str {
    println!("hanging");
    let _ = std::io::stdout().flush();
    std::future::pending::<()>().await;
    "never"
}

fn main() -> Result<(), BoxError> {
    let _telemetry = traced::builder()
        .service_name("graceful")
        .fallback_exporter(traced::Exporter::Console)
        .init()?;
    let port: u16 = std::env::args()
        .skip_while(|a| a != "--port")
        .nth(1)
        .map_or(Ok(0), |p| p.parse())?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let app = Router::new()
            .route("/work", get(work))
            .route("/hang", get(hang))
            .layer(traced::http::server::TracedLayer::new());
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
        println!("listening on {}", listener.local_addr()?);
        let _ = std::io::stdout().flush();
        axum::serve(listener, app)
            .with_graceful_shutdown(traced::shutdown_signal())
            .await?;
        Ok::<(), BoxError>(())
    })?;
    // `_telemetry` is dropped after this line: it flushes what is queued.
    Ok(())
}
