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
        .route(
            "/inject",
            get(|| async {
                // The context the layer made current, as it would go out.
                let mut headers = std::collections::HashMap::new();
                traced::inject(&mut headers);
                headers.remove("traceparent").unwrap_or_default()
            }),
        )
        .layer(TracedLayer::new());
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
        // Tail sampling is off: no `traceresponse` (#28), even for a 5xx.
        assert!(fail.headers().get("traceresponse").is_none());
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

    // The code says it: no status description (#11).
    assert_eq!(failed.status, Status::error(""));
    assert_eq!(bad_client.status, Status::error(""));

    let everything = format!("{:?}", spans.all());
    assert!(!everything.contains("secret-token"), "authorization leaked");
    assert!(!everything.contains("secret-cookie"), "cookie leaked");
}

// Regression for #11: with the layer on the router (not `route_layer`), a
// request to an unknown path still gets a server span that continues the
// caller's trace; and the server records what the request says about
// itself.
#[test]
fn unmatched_requests_and_request_attributes() {
    traced::testing::install_propagators();
    let rt = runtime();
    let (_, spans) = capture_future(|f| rt.block_on(f), async {
        let server = serve().await;
        let base = server.base.clone();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("client");
        let missing = client
            .get(format!("{base}/no/such/path"))
            .send_traced()
            .await
            .expect("request");
        assert_eq!(missing.status(), 404);
        let signed = client
            .get(format!("{base}/users/7?X-Amz-Signature=s3cr3t&page=2"))
            .header("x-forwarded-for", "203.0.113.9, 10.0.0.1")
            .header("x-forwarded-proto", "https")
            .send_traced()
            .await
            .expect("request");
        assert_eq!(signed.status(), 200);
        let forwarded = client
            .get(format!("{base}/users/8"))
            .header("forwarded", "for=\"[2001:db8::7]:4711\";proto=http")
            .send_traced()
            .await
            .expect("request");
        assert_eq!(forwarded.status(), 200);
        drop(client);
        server.shut_down().await;
    });

    let missing = spans
        .all()
        .iter()
        .find(|s| s.span_kind == SpanKind::Server && s.name == "GET")
        .expect("a server span for the unmatched request");
    assert_eq!(attr(missing, "http.route"), None);
    assert_eq!(
        attr(missing, "http.response.status_code"),
        Some(&Value::I64(404))
    );
    assert_eq!(missing.status, Status::Unset, "a 404 is not a server error");
    let caller = spans
        .all()
        .iter()
        .find(|s| {
            s.span_kind == SpanKind::Client && s.span_context.span_id() == missing.parent_span_id
        })
        .expect("the unmatched request continues the caller's trace");
    assert_eq!(
        caller.span_context.trace_id(),
        missing.span_context.trace_id()
    );

    let users = spans.named("GET /users/{id}");
    assert_eq!(users.len(), 2);
    let signed = users
        .iter()
        .find(|s| attr(s, "url.path") == Some(&Value::String("/users/7".into())))
        .expect("/users/7");
    assert_eq!(
        attr(signed, "url.query"),
        Some(&Value::String("X-Amz-Signature=REDACTED&page=2".into()))
    );
    assert_eq!(
        attr(signed, "client.address"),
        Some(&Value::String("203.0.113.9".into()))
    );
    assert_eq!(
        attr(signed, "url.scheme"),
        Some(&Value::String("https".into()))
    );
    assert_eq!(
        attr(signed, "network.protocol.version"),
        Some(&Value::String("1.1".into()))
    );
    let forwarded = users
        .iter()
        .find(|s| attr(s, "url.path") == Some(&Value::String("/users/8".into())))
        .expect("/users/8");
    assert_eq!(
        attr(forwarded, "client.address"),
        Some(&Value::String("2001:db8::7".into()))
    );
    assert_eq!(
        attr(forwarded, "url.scheme"),
        Some(&Value::String("http".into()))
    );
    let signed_client = spans
        .all()
        .iter()
        .find(|s| {
            s.span_kind == SpanKind::Client && s.span_context.span_id() == signed.parent_span_id
        })
        .expect("client span of /users/7");
    assert!(
        matches!(attr(signed_client, "url.full"), Some(Value::String(u)) if u.as_str().ends_with("/users/7?X-Amz-Signature=REDACTED&page=2")),
        "{:?}",
        attr(signed_client, "url.full")
    );
    assert!(
        !format!("{:?}", spans.all()).contains("s3cr3t"),
        "a signature leaked"
    );
}

// Regression for #11: the caller's W3C `random` flag survives a server span
// that is not sampled, and a client span sent from such a context.
#[test]
fn the_random_flag_survives_unsampled_requests() {
    traced::testing::install_propagators();
    let rt = runtime();
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let (_, spans) = capture_future(|f| rt.block_on(f), async {
        let server = serve().await;
        let base = server.base.clone();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("client");
        for (flags, expected) in [("02", "02"), ("00", "00")] {
            let echoed = client
                .get(format!("{base}/inject"))
                .header(
                    "traceparent",
                    format!("00-{trace}-00f067aa0ba902b7-{flags}"),
                )
                .send()
                .await
                .expect("request")
                .text()
                .await
                .expect("body");
            assert!(echoed.starts_with(&format!("00-{trace}-")), "{echoed}");
            assert!(
                echoed.ends_with(&format!("-{expected}")),
                "flags {flags}: {echoed}"
            );
        }
        // The client side: an unsampled caller context with `random`.
        let mut incoming = std::collections::HashMap::new();
        incoming.insert(
            "traceparent".to_owned(),
            format!("00-{trace}-00f067aa0ba902b7-02"),
        );
        let parent = traced::extract(&incoming);
        // `send_traced` takes the current context when it is called.
        let request = {
            let _current = parent.attach();
            client.get(format!("{base}/inject")).send_traced()
        };
        let response = request.await.expect("request");
        let echoed = response.text().await.expect("body");
        assert!(echoed.ends_with("-02"), "through send_traced: {echoed}");
        drop(client);
        server.shut_down().await;
    });
    assert!(
        spans.is_empty(),
        "nothing here was sampled: {:?}",
        spans.all()
    );
}

// Regression for #11: a failed request's exception and status say what
// failed without the URL, which may carry credentials and signatures.
#[test]
fn transport_errors_do_not_leak_the_url() {
    traced::testing::install_propagators();
    let rt = runtime();
    // A port nobody listens on: bound, then closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let (_, spans) = capture_future(|f| rt.block_on(f), async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("client");
        let failed = client
            .get(format!(
                "http://alice:hunter2@127.0.0.1:{closed}/x?sig=s1gn4ture"
            ))
            .send_traced()
            .await;
        assert!(failed.is_err());
    });
    let span = spans.one("GET");
    assert!(is_error(span));
    let description = description(span);
    assert!(
        description.starts_with("the connection failed"),
        "{description}"
    );
    let everything = format!("{:?}", spans.all());
    for secret in ["hunter2", "s1gn4ture"] {
        assert!(
            !everything.contains(secret),
            "{secret} leaked: {everything}"
        );
    }
    assert_eq!(
        attr(span, "error.type"),
        Some(&Value::String("connect".into()))
    );
}
