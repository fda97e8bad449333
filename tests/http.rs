//! The axum layer and the reqwest client, over real HTTP on loopback.

mod common;

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use common::*;
use opentelemetry::Value;
use opentelemetry::trace::{SpanKind, Status};
use traced::http::client::SendTraced as _;
use traced::http::server::TracedLayer;
use traced::testing::capture_future;

async fn serve() -> String {
    let app = Router::new()
        .route("/users/{id}", get(|| async { "user" }))
        .route(
            "/fail",
            post(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
        )
        .route("/bad", post(|| async { StatusCode::UNPROCESSABLE_ENTITY }))
        .route_layer(TracedLayer::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    format!("http://{addr}")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn one_trace_from_client_to_server() {
    traced::testing::install_propagators();
    let rt = runtime();
    let (_, spans) = capture_future(|f| rt.block_on(f), async {
        let base = serve().await;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("client");
        let ok = client
            .get(format!("{base}/users/42?x=1"))
            .header("authorization", "Bearer secret-token")
            .header("cookie", "session=secret-cookie")
            .header("user-agent", "traced-test")
            .send_traced()
            .await
            .expect("request");
        assert_eq!(ok.status(), 200);
        let fail = client
            .post(format!("{base}/fail"))
            .send_traced()
            .await
            .expect("request");
        assert_eq!(fail.status(), 500);
        let bad = client
            .post(format!("{base}/bad"))
            .send_traced()
            .await
            .expect("request");
        assert_eq!(bad.status(), 422);
        // The server span ends after the response is written; give it a moment.
        tokio::time::sleep(Duration::from_millis(100)).await;
    });

    let server = spans.one("GET /users/{id}");
    let client = spans
        .all()
        .iter()
        .find(|s| s.name == "GET" && s.span_kind == SpanKind::Client)
        .expect("client span");
    assert_eq!(server.span_kind, SpanKind::Server);
    assert_eq!(
        server.span_context.trace_id(),
        client.span_context.trace_id()
    );
    assert_eq!(server.parent_span_id, client.span_context.span_id());
    assert!(server.parent_span_is_remote);

    assert_eq!(
        attr(server, "http.request.method"),
        Some(&Value::String("GET".into()))
    );
    assert_eq!(
        attr(server, "http.route"),
        Some(&Value::String("/users/{id}".into()))
    );
    assert_eq!(
        attr(server, "url.path"),
        Some(&Value::String("/users/42".into()))
    );
    assert_eq!(
        attr(server, "url.scheme"),
        Some(&Value::String("http".into()))
    );
    assert_eq!(
        attr(server, "server.address"),
        Some(&Value::String("127.0.0.1".into()))
    );
    assert!(matches!(attr(server, "server.port"), Some(Value::I64(_))));
    assert_eq!(
        attr(server, "user_agent.original"),
        Some(&Value::String("traced-test".into()))
    );
    assert_eq!(
        attr(server, "http.response.status_code"),
        Some(&Value::I64(200))
    );
    assert_eq!(server.status, Status::Unset);

    assert!(
        matches!(attr(client, "url.full"), Some(Value::String(s)) if s.as_str().ends_with("/users/42?x=1"))
    );
    assert_eq!(
        attr(client, "http.response.status_code"),
        Some(&Value::I64(200))
    );

    let failed = spans.one("POST /fail");
    assert!(is_error(failed));
    assert_eq!(
        attr(failed, "error.type"),
        Some(&Value::String("500".into()))
    );
    // 4xx is the client's fault: not an error on the server span...
    let bad = spans.one("POST /bad");
    assert_eq!(bad.status, Status::Unset);
    assert_eq!(
        attr(bad, "http.response.status_code"),
        Some(&Value::I64(422))
    );
    // ...but it is on the client's.
    let bad_client = spans
        .all()
        .iter()
        .find(|s| s.span_kind == SpanKind::Client && s.span_context.span_id() == bad.parent_span_id)
        .expect("client span of /bad");
    assert!(is_error(bad_client));

    let everything = format!("{:?}", spans.all());
    assert!(!everything.contains("secret-token"), "authorization leaked");
    assert!(!everything.contains("secret-cookie"), "cookie leaked");
}
