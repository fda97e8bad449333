//! The web server: forwards `POST /login` to the app.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use traced::http::client::SendTraced as _;
use traced::traced;

/// Where requests are forwarded, and the one HTTP client that sends them:
/// built once, its connections are kept and reused (a client per request
/// would pay for a new client, a new connection pool and a new TCP
/// connection each time, about 18 ms here).
#[derive(Clone)]
struct App {
    url: String,
    client: reqwest::Client,
}

#[traced(skip_all)]
async fn forward(
    State(app): State<App>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> (StatusCode, String) {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_owned();
    let sent = app
        .client
        .post(format!("{}/login", app.url))
        .header("content-type", content_type)
        .body(body)
        .send_traced()
        .await;
    match sent {
        Ok(response) => {
            let status =
                StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            (status, response.text().await.unwrap_or_default())
        }
        Err(err) => (
            StatusCode::BAD_GATEWAY,
            format!("the app is unreachable: {err}"),
        ),
    }
}

pub fn router(app_url: String) -> Router {
    Router::new()
        .route("/login", post(forward))
        .layer(traced::http::server::TracedLayer::new())
        .with_state(App {
            url: app_url,
            client: reqwest::Client::new(),
        })
}
