//! The tonic layers, over real gRPC (HTTP/2) on loopback, spans captured
//! in memory.

mod support;

#[path = "../examples/grpc/greeter.rs"]
mod greeter;

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use greeter::{
    CountdownRequest, FailRequest, Greeter, GreeterClient, GreeterServer, HelloReply, HelloRequest,
    Tick, TickStream,
};
use opentelemetry::Value;
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{SpanId, SpanKind, Status};
use support::spans::*;
use traced::testing::{Capture, SpanData, capture_future};

/// How long a call, a server's shutdown or a span we wait for may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// `Countdown` with this count sends one tick, then fails with UNAVAILABLE
/// (the status goes in the trailers).
const FAIL_MID_STREAM: u32 = 99;
/// `Countdown` with this count sends one tick, then never ends.
const ENDLESS: u32 = 1000;

/// A handler's own work: a span under the server's.
#[traced::traced]
async fn handle(name: &str) -> String {
    format!("hello, {name}")
}

/// The Greeter the tests talk to.
struct TestGreeter;

impl Greeter for TestGreeter {
    async fn say_hello(
        &self,
        request: tonic::Request<HelloRequest>,
    ) -> Result<tonic::Response<HelloReply>, tonic::Status> {
        // What arrived in the metadata, so the test can see what was
        // injected.
        let traceparent = request
            .metadata()
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("none")
            .to_owned();
        let _ = handle(&request.into_inner().name).await;
        Ok(tonic::Response::new(HelloReply {
            message: traceparent,
        }))
    }

    async fn countdown(
        &self,
        request: tonic::Request<CountdownRequest>,
    ) -> Result<tonic::Response<TickStream>, tonic::Status> {
        use futures_lite::StreamExt as _;
        let count = request.into_inner().count;
        let stream: TickStream = match count {
            FAIL_MID_STREAM => {
                Box::pin(futures_lite::stream::once(Ok(Tick { remaining: 1 })).chain(
                    futures_lite::stream::once(Err(tonic::Status::unavailable("gone mid-stream"))),
                ))
            }
            ENDLESS => Box::pin(
                futures_lite::stream::once(Ok(Tick { remaining: 1 }))
                    .chain(futures_lite::stream::pending()),
            ),
            _ => Box::pin(futures_lite::stream::unfold(count, |left| async move {
                if left == 0 {
                    return None;
                }
                let tick = traced_tick(left - 1).await;
                Some((Ok(tick), left - 1))
            })),
        };
        Ok(tonic::Response::new(stream))
    }

    async fn fail(
        &self,
        request: tonic::Request<FailRequest>,
    ) -> Result<tonic::Response<HelloReply>, tonic::Status> {
        match request.into_inner().code {
            0 => Ok(tonic::Response::new(HelloReply::default())),
            code => Err(tonic::Status::new(
                tonic::Code::from(code),
                "failed as asked",
            )),
        }
    }
}

/// One message of a stream, made while the server sends it.
#[traced::traced]
async fn traced_tick(remaining: u32) -> Tick {
    Tick { remaining }
}

/// A traced tonic server on a free loopback port.
struct Server {
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    async fn start() -> Server {
        Server::start_with(traced::grpc::server::TracedLayer::new()).await
    }

    async fn start_with(layer: traced::grpc::server::TracedLayer) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            tonic::transport::Server::builder()
                .layer(layer)
                .add_service(GreeterServer::new(TestGreeter))
                .serve_with_incoming_shutdown(
                    tonic::transport::server::TcpIncoming::from(listener),
                    async move {
                        let _ = stopped.await;
                    },
                )
                .await
                .expect("serve");
        });
        Server { addr, stop, task }
    }

    fn target(&self) -> String {
        format!("http://{}", self.addr)
    }

    async fn channel(&self) -> tonic::transport::Channel {
        tonic::transport::Endpoint::from_shared(self.target())
            .expect("endpoint")
            .timeout(TIMEOUT)
            .connect()
            .await
            .expect("connect")
    }

    /// A client whose channel is traced.
    async fn client(
        &self,
    ) -> GreeterClient<traced::grpc::client::TracedService<tonic::transport::Channel>> {
        let channel = tower::ServiceBuilder::new()
            .layer(traced::grpc::client::TracedLayer::new().target(&self.target()))
            .service(self.channel().await);
        GreeterClient::new(channel)
    }

    /// Stops accepting and waits until every connection is closed, so
    /// every call it served has finished and its span has ended.
    async fn shut_down(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(TIMEOUT, self.task)
            .await
            .unwrap_or_else(|_| panic!("the server did not finish within {TIMEOUT:?}"))
            .expect("the server task");
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn string(span: &SpanData, key: &str) -> Option<String> {
    match attr(span, key) {
        Some(Value::String(s)) => Some(s.to_string()),
        None => None,
        other => panic!("{key} is not a string: {other:?}"),
    }
}

fn of_kind<'a>(spans: &'a [SpanData], name: &str, kind: SpanKind) -> Vec<&'a SpanData> {
    spans
        .iter()
        .filter(|s| s.name == name && s.span_kind == kind)
        .collect()
}

fn one_of_kind<'a>(spans: &'a [SpanData], name: &str, kind: SpanKind) -> &'a SpanData {
    match of_kind(spans, name, kind.clone()).as_slice() {
        [one] => one,
        other => panic!(
            "expected one {kind:?} span {name:?}, found {}: {spans:#?}",
            other.len()
        ),
    }
}

#[test]
fn one_trace_from_client_to_server() {
    traced::testing::install_propagators();
    let rt = runtime();
    let ((received, port), spans) = capture_future(|f| rt.block_on(f), async {
        let server = Server::start().await;
        let port = server.addr.port();
        #[traced::traced(skip_all)]
        async fn caller(server: &Server) -> String {
            let mut client = server.client().await;
            client
                .say_hello(HelloRequest {
                    name: "ana".to_owned(),
                })
                .await
                .expect("SayHello")
                .into_inner()
                .message
        }
        let received = caller(&server).await;
        server.shut_down().await;
        (received, port)
    });
    let spans = spans.all();
    let method = "traced.demo.Greeter/SayHello";
    let caller = spans.iter().find(|s| s.name == "caller").expect("caller");
    let client = one_of_kind(spans, method, SpanKind::Client);
    let server = one_of_kind(spans, method, SpanKind::Server);
    let handler = spans.iter().find(|s| s.name == "handle").expect("handle");

    // One trace: caller → client → (metadata) → server → handler.
    assert_eq!(client.parent_span_id, caller.span_context.span_id());
    assert_eq!(server.parent_span_id, client.span_context.span_id());
    assert!(server.parent_span_is_remote);
    assert_eq!(handler.parent_span_id, server.span_context.span_id());
    for span in [client, server, handler] {
        assert_eq!(span.span_context.trace_id(), caller.span_context.trace_id());
    }
    // The header the server received is the client span's context
    // (sampled; `random` too, as traces started here are).
    assert_eq!(
        received,
        format!(
            "00-{}-{}-03",
            client.span_context.trace_id(),
            client.span_context.span_id()
        )
    );

    let port = i64::from(port);
    for span in [client, server] {
        assert_eq!(string(span, "rpc.system.name").as_deref(), Some("grpc"));
        assert_eq!(string(span, "rpc.method").as_deref(), Some(method));
        assert_eq!(
            string(span, "rpc.response.status_code").as_deref(),
            Some("OK")
        );
        assert_eq!(string(span, "server.address").as_deref(), Some("127.0.0.1"));
        assert_eq!(attr(span, "server.port"), Some(&Value::I64(port)));
        assert_eq!(attr(span, "error.type"), None);
        assert_eq!(span.status, Status::Unset);
        assert_eq!(attr(span, "rpc.method_original"), None);
    }
}

#[test]
fn error_rules_by_status_code() {
    traced::testing::install_propagators();
    // (code, name, an error on the server's span?)
    let table: [(i32, &str, bool); 17] = [
        (0, "OK", false),
        (1, "CANCELLED", false),
        (2, "UNKNOWN", true),
        (3, "INVALID_ARGUMENT", false),
        (4, "DEADLINE_EXCEEDED", true),
        (5, "NOT_FOUND", false),
        (6, "ALREADY_EXISTS", false),
        (7, "PERMISSION_DENIED", false),
        (8, "RESOURCE_EXHAUSTED", false),
        (9, "FAILED_PRECONDITION", false),
        (10, "ABORTED", false),
        (11, "OUT_OF_RANGE", false),
        (12, "UNIMPLEMENTED", true),
        (13, "INTERNAL", true),
        (14, "UNAVAILABLE", true),
        (15, "DATA_LOSS", true),
        (16, "UNAUTHENTICATED", false),
    ];
    let rt = runtime();
    let (_, spans) = capture_future(|f| rt.block_on(f), async {
        let server = Server::start().await;
        let mut client = server.client().await;
        for (code, _, _) in table {
            let answer = client.fail(FailRequest { code }).await;
            assert_eq!(answer.is_ok(), code == 0, "code {code}");
        }
        drop(client);
        server.shut_down().await;
    });
    let spans = spans.all();
    let method = "traced.demo.Greeter/Fail";
    let clients = of_kind(spans, method, SpanKind::Client);
    let servers = of_kind(spans, method, SpanKind::Server);
    assert_eq!(clients.len(), table.len());
    assert_eq!(servers.len(), table.len());
    for (code, name, server_error) in table {
        let client = clients
            .iter()
            .find(|s| string(s, "rpc.response.status_code").as_deref() == Some(name))
            .unwrap_or_else(|| panic!("a client span with {name}"));
        let server = servers
            .iter()
            .find(|s| s.parent_span_id == client.span_context.span_id())
            .unwrap_or_else(|| panic!("the server span of the call with {name}"));
        assert_eq!(
            string(server, "rpc.response.status_code").as_deref(),
            Some(name)
        );
        // Clients: every code but OK is an error.
        let client_error = code != 0;
        assert_eq!(is_error(client), client_error, "client, {name}");
        assert_eq!(
            string(client, "error.type").as_deref(),
            client_error.then_some(name),
            "client, {name}"
        );
        // Servers: only the server's own failures.
        assert_eq!(is_error(server), server_error, "server, {name}");
        assert_eq!(
            string(server, "error.type").as_deref(),
            server_error.then_some(name),
            "server, {name}"
        );
        // The code says it: no description, and no exception event for a
        // status the peer answered with.
        if client_error {
            assert_eq!(client.status, Status::error(""));
        }
        assert!(exceptions(client).is_empty(), "{name}");
        assert!(exceptions(server).is_empty(), "{name}");
    }
}

#[test]
fn a_streaming_call_ends_its_spans_with_the_stream() {
    traced::testing::install_propagators();
    let rt = runtime();
    let ((first_at, ticks), spans) = capture_future(|f| rt.block_on(f), async {
        let server = Server::start().await;
        let mut client = server.client().await;
        let mut stream = client
            .countdown(CountdownRequest { count: 3 })
            .await
            .expect("Countdown")
            .into_inner();
        let mut ticks = Vec::new();
        let mut first_at = None;
        while let Some(tick) = stream.message().await.expect("a tick") {
            first_at.get_or_insert_with(SystemTime::now);
            ticks.push(tick.remaining);
        }
        drop(stream);
        drop(client);
        server.shut_down().await;
        (first_at.expect("a first tick"), ticks)
    });
    assert_eq!(ticks, [2, 1, 0]);
    let spans = spans.all();
    let method = "traced.demo.Greeter/Countdown";
    let client = one_of_kind(spans, method, SpanKind::Client);
    let server = one_of_kind(spans, method, SpanKind::Server);
    // The status came in the trailers, after the messages.
    for span in [client, server] {
        assert_eq!(
            string(span, "rpc.response.status_code").as_deref(),
            Some("OK")
        );
        assert_eq!(span.status, Status::Unset);
        assert!(span.events.is_empty(), "{:?}", span.events);
    }
    // The client's span lasted past the first message: it ended with the
    // stream, not with the response headers.
    assert!(client.end_time > first_at, "{client:#?}");
    // Each message was made inside the server's span, which ended after
    // the last of them.
    let made: Vec<&SpanData> = spans.iter().filter(|s| s.name == "traced_tick").collect();
    assert_eq!(made.len(), 3);
    for tick in &made {
        assert_eq!(tick.parent_span_id, server.span_context.span_id());
        assert!(tick.end_time <= server.end_time);
    }
}

#[test]
fn a_status_in_the_trailers_of_a_stream_is_recorded() {
    traced::testing::install_propagators();
    let rt = runtime();
    let (outcome, spans) = capture_future(|f| rt.block_on(f), async {
        let server = Server::start().await;
        let mut client = server.client().await;
        let mut stream = client
            .countdown(CountdownRequest {
                count: FAIL_MID_STREAM,
            })
            .await
            .expect("Countdown")
            .into_inner();
        let first = stream.message().await.expect("the first tick");
        assert!(first.is_some());
        let outcome = stream.message().await;
        drop(stream);
        drop(client);
        server.shut_down().await;
        outcome.map(|_| ()).map_err(|status| status.code())
    });
    assert_eq!(outcome, Err(tonic::Code::Unavailable));
    let spans = spans.all();
    let method = "traced.demo.Greeter/Countdown";
    // UNAVAILABLE is an error for both sides.
    for kind in [SpanKind::Client, SpanKind::Server] {
        let span = one_of_kind(spans, method, kind.clone());
        assert_eq!(
            string(span, "rpc.response.status_code").as_deref(),
            Some("UNAVAILABLE"),
            "{kind:?}"
        );
        assert_eq!(
            string(span, "error.type").as_deref(),
            Some("UNAVAILABLE"),
            "{kind:?}"
        );
        assert!(is_error(span), "{kind:?}");
    }
}

/// Polls the capture until `ready` finds what it waits for.
async fn wait_for<T>(capture: &Capture, what: &str, ready: impl Fn(&[SpanData]) -> Option<T>) -> T {
    tokio::time::timeout(TIMEOUT, async {
        loop {
            if let Some(found) = ready(capture.spans().all()) {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{what}: not within {TIMEOUT:?}"))
}

#[test]
fn a_dropped_stream_ends_both_spans_as_cancelled() {
    traced::testing::install_propagators();
    let rt = runtime();
    let capture = Capture::start();
    rt.block_on(async {
        let server = Server::start().await;
        let mut client = server.client().await;
        let mut stream = client
            .countdown(CountdownRequest { count: ENDLESS })
            .await
            .expect("Countdown")
            .into_inner();
        assert!(stream.message().await.expect("the first tick").is_some());
        // The caller goes away mid-stream.
        drop(stream);
        let method = "traced.demo.Greeter/Countdown";
        let client_span = wait_for(&capture, "the client span ends", |spans| {
            of_kind(spans, method, SpanKind::Client)
                .first()
                .map(|s| (*s).clone())
        })
        .await;
        // The server sees the stream reset and drops the response body.
        let server_span = wait_for(&capture, "the server span ends", |spans| {
            of_kind(spans, method, SpanKind::Server)
                .first()
                .map(|s| (*s).clone())
        })
        .await;
        drop(client);
        server.shut_down().await;

        for span in [&client_span, &server_span] {
            assert!(
                span.events
                    .iter()
                    .any(|e| e.name == traced::CANCELLED_EVENT),
                "{span:#?}"
            );
            assert_eq!(
                string(span, "rpc.response.status_code").as_deref(),
                Some("CANCELLED")
            );
        }
        // CANCELLED is an error for the client, the caller's business for
        // the server.
        assert!(is_error(&client_span));
        assert_eq!(
            string(&client_span, "error.type").as_deref(),
            Some("CANCELLED")
        );
        assert_eq!(server_span.status, Status::Unset);
        assert_eq!(
            server_span.parent_span_id,
            client_span.span_context.span_id()
        );
    });
}

#[test]
fn malformed_trace_metadata_starts_a_new_trace() {
    traced::testing::install_propagators();
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent = "00f067aa0ba902b7";
    let cases: Vec<Vec<&[u8]>> = vec![
        vec![b"garbage"],
        vec![b""],
        vec![
            format!("00-{}-{parent}-01", trace.to_uppercase())
                .leak()
                .as_bytes(),
        ],
        vec![
            format!("00-{}-{parent}-01", "0".repeat(32))
                .leak()
                .as_bytes(),
        ],
        vec![
            format!("00-{trace}-{}-01", "0".repeat(16))
                .leak()
                .as_bytes(),
        ],
        vec![format!("ff-{trace}-{parent}-01").leak().as_bytes()],
        vec![format!("00-{trace}-{parent}-01-extra").leak().as_bytes()],
        vec![b"00-\xff\xfe-\x80-01"],
        vec![
            format!("00-{trace}-{parent}-01").leak().as_bytes(),
            format!("00-{trace}-{}-01", "1".repeat(16))
                .leak()
                .as_bytes(),
        ],
    ];
    let rt = runtime();
    let (_, spans) = capture_future(|f| rt.block_on(f), async {
        let server = Server::start().await;
        // No client layer: the metadata goes as the test wrote it.
        let mut client = GreeterClient::new(server.channel().await);
        for values in &cases {
            let mut request = tonic::Request::new(HelloRequest {
                name: "bob".to_owned(),
            });
            for value in values {
                let value = tonic::metadata::MetadataValue::try_from(*value).expect("a value");
                request.metadata_mut().append("traceparent", value);
            }
            client
                .say_hello(request)
                .await
                .unwrap_or_else(|e| panic!("served despite {values:?}: {e}"));
        }
        // The valid one alone is continued.
        let mut request = tonic::Request::new(HelloRequest {
            name: "bob".to_owned(),
        });
        request.metadata_mut().insert(
            "traceparent",
            format!("00-{trace}-{parent}-01").parse().expect("a value"),
        );
        client.say_hello(request).await.expect("served");
        drop(client);
        server.shut_down().await;
    });
    let servers = of_kind(
        spans.all(),
        "traced.demo.Greeter/SayHello",
        SpanKind::Server,
    );
    assert_eq!(servers.len(), cases.len() + 1);
    let (continued, new): (Vec<&SpanData>, Vec<&SpanData>) = servers
        .iter()
        .partition(|s| s.span_context.trace_id().to_string() == trace);
    assert_eq!(
        continued.len(),
        1,
        "only the valid traceparent is continued"
    );
    assert_eq!(continued[0].parent_span_id.to_string(), parent);
    for span in new {
        assert_eq!(span.parent_span_id, SpanId::INVALID, "{span:#?}");
        assert!(span.span_context.is_valid());
    }
}

#[test]
fn unknown_and_malformed_methods() {
    traced::testing::install_propagators();
    let rt = runtime();
    let (codes, spans) = capture_future(|f| rt.block_on(f), async {
        let server = Server::start().await;
        let channel = tower::ServiceBuilder::new()
            .layer(traced::grpc::client::TracedLayer::new().target(&server.target()))
            .service(server.channel().await);
        let mut grpc = tonic::client::Grpc::new(channel);
        let mut codes = Vec::new();
        for path in ["/traced.demo.Greeter/Nope", "/nonsense"] {
            grpc.ready().await.expect("ready");
            let answer = grpc
                .unary::<_, HelloReply, _>(
                    tonic::Request::new(HelloRequest::default()),
                    http::uri::PathAndQuery::from_static(path),
                    tonic_prost::ProstCodec::<HelloRequest, HelloReply>::default(),
                )
                .await;
            codes.push(answer.map(|_| ()).map_err(|s| s.code()));
        }
        drop(grpc);
        server.shut_down().await;
        codes
    });
    assert_eq!(
        codes,
        [
            Err(tonic::Code::Unimplemented),
            Err(tonic::Code::Unimplemented)
        ]
    );
    let spans = spans.all();
    // A well-formed path names its method, even one the server lacks.
    for kind in [SpanKind::Client, SpanKind::Server] {
        let span = one_of_kind(spans, "traced.demo.Greeter/Nope", kind.clone());
        assert_eq!(
            string(span, "rpc.response.status_code").as_deref(),
            Some("UNIMPLEMENTED")
        );
        assert!(is_error(span), "UNIMPLEMENTED is an error on both sides");
    }
    // A path that names no method: `_OTHER`, the span named `grpc`.
    for kind in [SpanKind::Client, SpanKind::Server] {
        let span = one_of_kind(spans, "grpc", kind.clone());
        assert_eq!(string(span, "rpc.method").as_deref(), Some("_OTHER"));
        assert_eq!(
            string(span, "rpc.method_original").as_deref(),
            Some("/nonsense")
        );
    }
}

#[test]
fn a_refused_connection_is_an_exception_on_the_client_span() {
    traced::testing::install_propagators();
    // A port nobody listens on: bound, then closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let rt = runtime();
    let (outcome, spans) = capture_future(|f| rt.block_on(f), async {
        let target = format!("http://127.0.0.1:{closed}");
        // Lazy: the connection is tried on the first call.
        let channel = tonic::transport::Endpoint::from_shared(target.clone())
            .expect("endpoint")
            .connect_lazy();
        let channel = tower::ServiceBuilder::new()
            .layer(traced::grpc::client::TracedLayer::new().target(&target))
            .service(channel);
        let mut client = GreeterClient::new(channel);
        client
            .say_hello(HelloRequest::default())
            .await
            .map(|_| ())
            .map_err(|s| s.code())
    });
    assert_eq!(outcome, Err(tonic::Code::Unavailable));
    let span = one_of_kind(
        spans.all(),
        "traced.demo.Greeter/SayHello",
        SpanKind::Client,
    );
    assert!(is_error(span));
    assert_eq!(
        string(span, "rpc.response.status_code").as_deref(),
        Some("UNAVAILABLE")
    );
    assert_eq!(string(span, "error.type").as_deref(), Some("UNAVAILABLE"));
    assert_eq!(exceptions(span).len(), 1, "{span:#?}");
    assert_eq!(
        attr(span, "server.port"),
        Some(&Value::I64(i64::from(closed)))
    );
}

/// Calls `path` with an empty `HelloRequest` through a traced channel;
/// returns the status code.
async fn call_path(server: &Server, path: &'static str) -> tonic::Code {
    let channel = tower::ServiceBuilder::new()
        .layer(traced::grpc::client::TracedLayer::new().target(&server.target()))
        .service(server.channel().await);
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.expect("ready");
    grpc.unary::<_, HelloReply, _>(
        tonic::Request::new(HelloRequest::default()),
        http::uri::PathAndQuery::from_static(path),
        tonic_prost::ProstCodec::<HelloRequest, HelloReply>::default(),
    )
    .await
    .map_or_else(|status| status.code(), |_| tonic::Code::Ok)
}

#[test]
fn a_server_that_knows_its_services_records_others_as_other() {
    traced::testing::install_propagators();
    let rt = runtime();
    let (codes, spans) = capture_future(|f| rt.block_on(f), async {
        let layer = traced::grpc::server::TracedLayer::new().known([greeter::SERVICE]);
        let server = Server::start_with(layer).await;
        let codes = [
            call_path(&server, greeter::SAY_HELLO).await,
            call_path(&server, "/made.up.Service/Anything").await,
        ];
        server.shut_down().await;
        codes
    });
    assert_eq!(codes, [tonic::Code::Ok, tonic::Code::Unimplemented]);
    let spans = spans.all();
    // The known service's method keeps its name.
    let known = one_of_kind(spans, "traced.demo.Greeter/SayHello", SpanKind::Server);
    assert_eq!(attr(known, "rpc.method_original"), None);
    // Anything else is `_OTHER` on the server; the client named it.
    let other = one_of_kind(spans, "grpc", SpanKind::Server);
    assert_eq!(string(other, "rpc.method").as_deref(), Some("_OTHER"));
    assert_eq!(
        string(other, "rpc.method_original").as_deref(),
        Some("made.up.Service/Anything")
    );
    assert_eq!(
        string(other, "rpc.response.status_code").as_deref(),
        Some("UNIMPLEMENTED")
    );
    let client = one_of_kind(spans, "made.up.Service/Anything", SpanKind::Client);
    assert_eq!(other.parent_span_id, client.span_context.span_id());
}

#[test]
fn an_unsampled_caller_is_respected() {
    traced::testing::install_propagators();
    let rt = runtime();
    let (message, spans) = capture_future(|f| rt.block_on(f), async {
        let server = Server::start().await;
        let mut client = server.client().await;
        // The caller's context says "not sampled" (with W3C's `random`).
        let mut incoming = std::collections::HashMap::new();
        incoming.insert(
            "traceparent".to_owned(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02".to_owned(),
        );
        let parent = traced::extract(&incoming);
        let message = client
            .say_hello(HelloRequest::default())
            .with_context(parent)
            .await
            .expect("SayHello")
            .into_inner()
            .message;
        drop(client);
        server.shut_down().await;
        message
    });
    // What went out continues the caller's trace, unsampled, `random` kept.
    assert!(
        message.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-") && message.ends_with("-02"),
        "{message}"
    );
    assert!(spans.is_empty(), "nothing was sampled: {:?}", spans.all());
}

#[test]
fn credential_metadata_is_never_copied_into_spans() {
    let rt = runtime();
    let ((), spans) = capture_future(|f| rt.block_on(f), async {
        let server = Server::start().await;
        let mut client = server.client().await;
        let mut request = tonic::Request::new(HelloRequest {
            name: "ana".to_owned(),
        });
        let metadata = request.metadata_mut();
        metadata.insert("authorization", "Bearer grpc-s3cret".parse().unwrap());
        metadata.insert("x-api-key", "grpc-k3y".parse().unwrap());
        metadata.insert("cookie", "session=grpc-c00kie".parse().unwrap());
        client.say_hello(request).await.expect("SayHello");
        server.shut_down().await;
    });
    let everything = format!("{:?}", spans.all());
    assert!(
        everything.contains("traced.demo.Greeter/SayHello"),
        "{everything}"
    );
    for secret in ["grpc-s3cret", "grpc-k3y", "grpc-c00kie"] {
        assert!(
            !everything.contains(secret),
            "{secret} leaked: {everything}"
        );
    }
}
