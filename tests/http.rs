//! The axum layer and the reqwest client, over real HTTP on loopback.

mod support;

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use opentelemetry::Value;
use opentelemetry::trace::{SpanKind, Status};
use support::spans::*;
use traced::http::client::SendTraced as _;
use traced::http::server::TracedLayer;
use traced::testing::capture_future;

/// How long a server has to finish the requests it is serving once told
/// to stop.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// A server on a free loopback port.
struct Server {
    base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Stops accepting and waits until every connection is closed, so
    /// every request it served has finished and its span has ended.
    async fn shut_down(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(SHUTDOWN_TIMEOUT, self.task)
            .await
            .unwrap_or_else(|_| {
                panic!("the server did not finish its requests within {SHUTDOWN_TIMEOUT:?}")
            })
            .expect("the server task");
    }
}

async fn serve() -> Server {
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
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
            .expect("serve");
    });
    Server {
        base: format!("http://{addr}"),
        stop,
        task,
    }
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
        let server = serve().await;
        let base = server.base.clone();
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
        // A response can reach the client before the server has finished
        // with its request: wait for the server to finish them all.
        drop(client);
        server.shut_down().await;
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
