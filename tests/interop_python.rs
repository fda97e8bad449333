//! Interoperability with the official OpenTelemetry Python SDK over real
//! HTTP between processes: a Python client's trace is continued by our
//! server, and our client's trace by a Python server.

mod support;

use std::process::Stdio;
use std::time::Duration;

use axum::Router;
use axum::routing::post;
use opentelemetry::trace::SpanKind;
use support::python::{peer, python};
use support::wait;
use traced::http::client::SendTraced as _;
use traced::http::server::TracedLayer;
use traced::testing::capture_future;

/// How long the Python peer may take to start, answer or finish.
const PEER_TIMEOUT: Duration = Duration::from_secs(30);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn json(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("peer printed {line:?}: {e}"))
}

#[test]
fn python_client_trace_is_continued_by_our_server() {
    traced::testing::install_propagators();
    let python = python();
    let rt = runtime();
    for unsampled in [false, true] {
        let (printed, spans) = capture_future(|f| rt.block_on(f), async {
            let app = Router::new()
                .route("/login", post(|| async { "ok" }))
                .layer(TracedLayer::new());
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let url = format!("http://{}/login", listener.local_addr().expect("addr"));
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let server = tokio::spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    .await
                    .expect("serve");
            });
            let mut command = tokio::process::Command::new(&python);
            command.arg(peer()).arg("client").arg(&url);
            if unsampled {
                command.arg("--unsampled");
            }
            let out = tokio::time::timeout(PEER_TIMEOUT, command.output())
                .await
                .unwrap_or_else(|_| {
                    panic!("the Python client did not finish within {PEER_TIMEOUT:?}")
                })
                .expect("run the Python client");
            assert!(
                out.status.success(),
                "Python client failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            // The client has its response, but the server may not have
            // finished with the request: stop it, which waits until every
            // connection is closed and so every request has finished.
            let _ = stop.send(());
            tokio::time::timeout(PEER_TIMEOUT, server)
                .await
                .unwrap_or_else(|_| {
                    panic!("our server did not finish its requests within {PEER_TIMEOUT:?}")
                })
                .expect("the server task");
            String::from_utf8(out.stdout).expect("utf-8")
        });
        let python_span = json(printed.trim());
        assert_eq!(python_span["status"], 200);
        if unsampled {
            // Parent-based sampling: the caller's "not sampled" is respected.
            assert_eq!(python_span["sampled"], false);
            assert!(
                spans.named("POST /login").is_empty(),
                "unsampled trace was recorded"
            );
            continue;
        }
        let server = spans.one("POST /login");
        assert_eq!(server.span_kind, SpanKind::Server);
        assert_eq!(
            server.span_context.trace_id().to_string(),
            python_span["trace_id"].as_str().unwrap()
        );
        assert_eq!(
            server.parent_span_id.to_string(),
            python_span["span_id"].as_str().unwrap()
        );
        assert!(server.span_context.is_sampled());
    }
}

#[test]
fn our_client_trace_is_continued_by_a_python_server() {
    traced::testing::install_propagators();
    let python = python();
    let mut server = wait::KillOnDrop(
        std::process::Command::new(&python)
            .arg(peer())
            .arg("server")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the Python server"),
    );
    // It prints its address once it listens.
    let line = wait::first_line(
        server.0.stdout.take().expect("stdout"),
        PEER_TIMEOUT,
        "the Python server",
    );
    let addr = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("the Python server printed {line:?}, not its address"))
        .to_owned();

    let rt = runtime();
    let (answer, spans) = capture_future(|f| rt.block_on(f), async {
        #[traced::traced]
        async fn call(url: String) -> serde_json::Value {
            let response = reqwest::Client::builder()
                .timeout(PEER_TIMEOUT)
                .build()
                .expect("client")
                .get(url)
                .send_traced()
                .await
                .expect("request");
            serde_json::from_str(&response.text().await.expect("body")).expect("json")
        }
        call(format!("http://{addr}/hello")).await
    });
    drop(server);

    let client = spans
        .all()
        .iter()
        .find(|s| s.span_kind == SpanKind::Client)
        .expect("our client span");
    assert_eq!(
        answer["trace_id"].as_str(),
        Some(client.span_context.trace_id().to_string().as_str())
    );
    assert_eq!(
        answer["parent_span_id"].as_str(),
        Some(client.span_context.span_id().to_string().as_str())
    );
    assert_eq!(answer["sampled"], true);
    let traceparent = answer["received_traceparent"]
        .as_str()
        .expect("traceparent sent");
    assert_eq!(traceparent.len(), 55);
}
