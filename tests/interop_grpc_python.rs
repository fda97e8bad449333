//! Interoperability over gRPC with grpcio and the official OpenTelemetry
//! instrumentation for it (`tests/python/grpc_peer.py`), between
//! processes: a Python client's trace is continued by our server, and our
//! client's trace by a Python server. Both sides use
//! `examples/grpc/greeter.proto`.

mod support;

#[path = "../examples/grpc/greeter.rs"]
mod greeter;

use std::process::Stdio;
use std::time::Duration;

use greeter::{
    CountdownRequest, FailRequest, Greeter, GreeterClient, GreeterServer, HelloReply, HelloRequest,
    TickStream,
};
use opentelemetry::trace::{SpanKind, Status};
use support::python::python;
use support::wait;
use traced::testing::capture_future;

/// How long the Python peer may take to start, answer or finish.
const PEER_TIMEOUT: Duration = Duration::from_secs(60);

fn grpc_peer() -> String {
    format!("{}/tests/python/grpc_peer.py", env!("CARGO_MANIFEST_DIR"))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn json(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("the peer printed {line:?}: {e}"))
}

/// Our Greeter: `SayHello` is all the Python client calls.
struct Ours;

impl Greeter for Ours {
    async fn say_hello(
        &self,
        request: tonic::Request<HelloRequest>,
    ) -> Result<tonic::Response<HelloReply>, tonic::Status> {
        Ok(tonic::Response::new(HelloReply {
            message: format!("hello, {}", request.into_inner().name),
        }))
    }

    async fn countdown(
        &self,
        _: tonic::Request<CountdownRequest>,
    ) -> Result<tonic::Response<TickStream>, tonic::Status> {
        Err(tonic::Status::unimplemented("not for this test"))
    }

    async fn fail(
        &self,
        _: tonic::Request<FailRequest>,
    ) -> Result<tonic::Response<HelloReply>, tonic::Status> {
        Err(tonic::Status::unimplemented("not for this test"))
    }
}

#[test]
fn python_client_trace_is_continued_by_our_server() {
    traced::testing::install_propagators();
    let python = python();
    let rt = runtime();
    let (printed, spans) = capture_future(|f| rt.block_on(f), async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            tonic::transport::Server::builder()
                .layer(traced::grpc::server::TracedLayer::new())
                .add_service(GreeterServer::new(Ours))
                .serve_with_incoming_shutdown(
                    tonic::transport::server::TcpIncoming::from(listener),
                    async move {
                        let _ = stopped.await;
                    },
                )
                .await
                .expect("serve");
        });
        let mut command = tokio::process::Command::new(&python);
        command
            .arg(grpc_peer())
            .arg("client")
            .arg(addr.to_string())
            .kill_on_drop(true);
        let out = tokio::time::timeout(PEER_TIMEOUT, command.output())
            .await
            .unwrap_or_else(|_| {
                panic!("the Python gRPC client did not finish within {PEER_TIMEOUT:?}")
            })
            .expect("run the Python gRPC client");
        assert!(
            out.status.success(),
            "the Python gRPC client failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Stopping waits until every connection is closed, so every call
        // has finished and its span has ended.
        let _ = stop.send(());
        tokio::time::timeout(PEER_TIMEOUT, server)
            .await
            .unwrap_or_else(|_| panic!("our server did not finish within {PEER_TIMEOUT:?}"))
            .expect("the server task");
        String::from_utf8(out.stdout).expect("utf-8")
    });
    let python_span = json(printed.trim());
    assert_eq!(python_span["reply"], "hello, python");
    assert_eq!(python_span["name"], "/traced.demo.Greeter/SayHello");
    let server = spans.one("traced.demo.Greeter/SayHello");
    assert_eq!(server.span_kind, SpanKind::Server);
    assert_eq!(
        server.span_context.trace_id().to_string(),
        python_span["trace_id"].as_str().expect("trace_id")
    );
    assert_eq!(
        server.parent_span_id.to_string(),
        python_span["span_id"].as_str().expect("span_id"),
        "our server span is a child of the Python client's"
    );
    assert!(server.parent_span_is_remote);
    assert_eq!(server.status, Status::Unset);
}

#[test]
fn our_client_trace_is_continued_by_a_python_server() {
    traced::testing::install_propagators();
    let python = python();
    let mut server = wait::KillOnDrop(
        std::process::Command::new(&python)
            .arg(grpc_peer())
            .arg("server")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the Python gRPC server"),
    );
    // It prints its address once it listens.
    let line = wait::first_line(
        server.0.stdout.take().expect("stdout"),
        PEER_TIMEOUT,
        "the Python gRPC server",
    );
    let addr = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("the Python gRPC server printed {line:?}, not its address"))
        .to_owned();

    let rt = runtime();
    let (answer, spans) = capture_future(|f| rt.block_on(f), async {
        #[traced::traced]
        async fn call(target: String) -> serde_json::Value {
            let channel = tonic::transport::Endpoint::from_shared(target.clone())
                .expect("endpoint")
                .timeout(PEER_TIMEOUT)
                .connect()
                .await
                .expect("connect");
            let channel = tower::ServiceBuilder::new()
                .layer(traced::grpc::client::TracedLayer::new().target(&target))
                .service(channel);
            let reply = GreeterClient::new(channel)
                .say_hello(HelloRequest {
                    name: "rust".to_owned(),
                })
                .await
                .expect("SayHello");
            serde_json::from_str(&reply.into_inner().message).expect("json")
        }
        call(format!("http://{addr}")).await
    });
    drop(server);

    let client = spans
        .all()
        .iter()
        .find(|s| s.span_kind == SpanKind::Client)
        .expect("our client span");
    assert_eq!(client.name, "traced.demo.Greeter/SayHello");
    // The instrumentation's server span continues our trace.
    assert_eq!(answer["kind"], "SpanKind.SERVER");
    assert_eq!(answer["name"], "/traced.demo.Greeter/SayHello");
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
        .expect("traceparent in the metadata");
    assert!(
        traceparent.starts_with(&format!(
            "00-{}-{}-",
            client.span_context.trace_id(),
            client.span_context.span_id()
        )),
        "{traceparent}"
    );
}
