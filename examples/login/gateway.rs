//! The web server: forwards `POST /login` to the app.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use traced::http::client::SendTraced as _;
use traced::traced;

#[traced(skip_all)]
async fn forward(
    State(app): State<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> (StatusCode, String) {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_owned();
    let sent = reqwest::Client::new()
        .post(format!("{app}/login"))
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
        .with_state(app_url)
}
