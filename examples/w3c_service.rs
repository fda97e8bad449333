//! A test service for the W3C Trace Context test suite, built only on
//! `traced`'s public API.
//!
//! `POST /test` takes a JSON list of `{"url": ..., "arguments": [...]}`; for
//! each element, in order, the service POSTs `arguments` (as JSON) to `url`
//! in the trace the request came with, so the suite can read the
//! `traceparent` and `tracestate` it propagates. It answers with the status
//! of each call (`null` for one that failed).
//!
//! ```text
//! cargo run --example w3c_service -- --port 5000
//! # listening on 127.0.0.1:5000
//! ```
//!
//! Spans go nowhere unless `OTEL_TRACES_EXPORTER` or an OTLP endpoint is set.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use opentelemetry::Context;
use serde::Deserialize;
use serde_json::Value;
use traced::traced;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One call the suite asks for.
#[derive(Debug, Deserialize)]
struct Action {
    url: String,
    #[serde(default)]
    arguments: Value,
}

/// The actions of a request body: a list, or a single action.
fn actions(body: Value) -> Vec<Action> {
    let list = match body {
        Value::Array(list) => list,
        Value::Null => Vec::new(),
        one => vec![one],
    };
    // Elements that are not actions are skipped.
    list.into_iter()
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect()
}

/// The request's server span, continuing the caller's trace.
#[traced(name = "POST /test", kind = server, skip_all, parent = parent)]
async fn handle(
    parent: Context,
    client: reqwest::Client,
    actions: Vec<Action>,
) -> Vec<Option<u16>> {
    let mut statuses = Vec::with_capacity(actions.len());
    for action in actions {
        statuses.push(call(&client, action).await.ok());
    }
    statuses
}

/// One outgoing call, in a client span whose context goes in the headers.
#[traced(name = "POST", kind = client, skip_all, attributes(url.full = action.url.as_str()))]
async fn call(client: &reqwest::Client, action: Action) -> Result<u16, reqwest::Error> {
    let mut headers = HeaderMap::new();
    traced::inject(&mut headers);
    let arguments = match action.arguments {
        Value::Null => Value::Array(Vec::new()),
        other => other,
    };
    let response = client
        .post(&action.url)
        .headers(headers)
        .json(&arguments)
        .send()
        .await?;
    Ok(response.status().as_u16())
}

async fn test(
    State(client): State<reqwest::Client>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Json<Vec<Option<u16>>> {
    let parent = traced::extract(&headers);
    Json(handle(parent, client, actions(body)).await)
}

fn port(args: &[String]) -> Result<u16, BoxError> {
    let value = args
        .iter()
        .position(|a| a == "--port")
        .and_then(|i| args.get(i + 1))
        .map_or("0", String::as_str);
    Ok(value.parse()?)
}

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port = port(&args)?;
    let configured = ["OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT"]
        .iter()
        .any(|v| std::env::var_os(v).is_some());
    let builder = traced::builder().service_name("w3c-service");
    let _telemetry = if configured {
        builder.init()?
    } else {
        builder.no_exporter().init()?
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let app = Router::new().route("/test", post(test)).with_state(client);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
        println!("listening on {}", listener.local_addr()?);
        axum::serve(listener, app)
            .with_graceful_shutdown(traced::shutdown_signal())
            .await?;
        Ok(())
    })
}
