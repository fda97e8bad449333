//! `traceresponse` across services (#28): a service that keeps a trace
//! says so in its response, and its caller keeps its own part of the
//! trace too, over real HTTP on loopback.
//!
//! Each service runs on a thread of its own, on a current-thread tokio
//! runtime, and a span processor hands every span to the tail-sampling
//! hold of the service whose thread started it: one process, but a hold
//! per service, as if each were its own process. The rules are `errors`
//! and `ratio=0`: a trace is kept only when an error says so.
//!
//! The gRPC tests put a tonic service behind an axum one: the same
//! header, in the response metadata.
//!
//! Every test installs the global provider and reads the process-wide
//! `tail_stats()`, so they run one at a time.

#[path = "../examples/grpc/greeter.rs"]
mod greeter;

use std::cell::Cell;
use std::collections::BTreeSet;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use opentelemetry::Context;
use opentelemetry::trace::{SpanId, Status, TraceId};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    InMemorySpanExporter, SdkTracerProvider, SimpleSpanProcessor, Span, SpanData, SpanProcessor,
};
use serial_test::serial;
use traced::http::client::SendTraced as _;
use traced::http::server::TracedLayer;
use traced::{TailRule, TailSampling, TailStats, tail_stats};

type Hold = TailSampling<SimpleSpanProcessor<InMemorySpanExporter>>;

thread_local! {
    /// The service whose thread this is; none on the test's own thread.
    static SERVICE: Cell<Option<usize>> = const { Cell::new(None) };
}

/// One tail-sampling hold per service, chosen by the thread a span
/// starts and ends on.
#[derive(Debug)]
struct PerService(Vec<Hold>);

impl PerService {
    fn current(&self) -> Option<&Hold> {
        SERVICE.with(Cell::get).and_then(|i| self.0.get(i))
    }
}

impl SpanProcessor for PerService {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        if let Some(hold) = self.current() {
            hold.on_start(span, cx);
        }
    }

    fn on_end(&self, span: SpanData) {
        if let Some(hold) = self.current() {
            hold.on_end(span);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.iter().try_for_each(SpanProcessor::force_flush)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0
            .iter()
            .try_for_each(|hold| hold.shutdown_with_timeout(timeout))
    }
}

/// A global provider with `n` services' holds (`errors`, `ratio=0`), and
/// each service's exporter.
fn install(n: usize) -> (SdkTracerProvider, Vec<InMemorySpanExporter>) {
    traced::testing::install_propagators();
    let exporters: Vec<InMemorySpanExporter> =
        (0..n).map(|_| InMemorySpanExporter::default()).collect();
    let holds = exporters
        .iter()
        .map(|e| {
            TailSampling::new(
                SimpleSpanProcessor::new(e.clone()),
                [TailRule::Errors, TailRule::Ratio(0.0)],
            )
        })
        .collect();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(PerService(holds))
        .build();
    traced::set_tracer_provider(provider.clone());
    (provider, exporters)
}

/// A service on a free loopback port, on its own thread.
struct Service {
    base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Service {
    /// Service number `index`, serving the router `app` makes.
    fn start(index: usize, app: impl FnOnce() -> Router + Send + 'static) -> Service {
        Service::spawn(index, |listener, stopped| async move {
            axum::serve(listener, app().layer(TracedLayer::new()))
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
                .expect("serve");
        })
    }

    /// Service number `index`, a traced tonic server of `greeter`.
    fn start_grpc(index: usize, greeter: impl greeter::Greeter) -> Service {
        Service::spawn(index, |listener, stopped| async move {
            tonic::transport::Server::builder()
                .layer(traced::grpc::server::TracedLayer::new())
                .add_service(greeter::GreeterServer::new(greeter))
                .serve_with_incoming_shutdown(
                    tonic::transport::server::TcpIncoming::from(listener),
                    async move {
                        let _ = stopped.await;
                    },
                )
                .await
                .expect("serve");
        })
    }

    /// Service number `index` on its own thread and runtime, `serve` given
    /// a loopback listener and the signal to stop.
    fn spawn<F, Fut>(index: usize, serve: F) -> Service
    where
        F: FnOnce(tokio::net::TcpListener, tokio::sync::oneshot::Receiver<()>) -> Fut
            + Send
            + 'static,
        Fut: Future<Output = ()>,
    {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel::<SocketAddr>();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            SERVICE.with(|s| s.set(Some(index)));
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                addr_tx.send(listener.local_addr().expect("addr")).unwrap();
                serve(listener, stopped).await;
            });
        });
        let addr = addr_rx.recv().expect("the service's address");
        Service {
            base: format!("http://{addr}"),
            stop,
            thread,
        }
    }

    /// Stops it once every request it served has finished, so every span
    /// of it has ended.
    fn stop(self) {
        let _ = self.stop.send(());
        self.thread.join().expect("the service's thread");
    }
}

/// A service whose `/` calls `next` with our client and answers 200,
/// whatever `next` answered.
fn calling(next: String) -> impl FnOnce() -> Router + Send + 'static {
    move || {
        let client = reqwest::Client::new();
        Router::new().route(
            "/",
            get(move || async move {
                let response = client.get(&next).send_traced().await.expect("the call");
                format!("next said {}", response.status())
            }),
        )
    }
}

/// A service whose `/` answers `status`.
fn answering(status: StatusCode) -> impl FnOnce() -> Router + Send + 'static {
    move || Router::new().route("/", get(move || async move { status }))
}

#[derive(Debug)]
struct LookupFailed;

impl std::fmt::Display for LookupFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("cache miss")
    }
}

impl std::error::Error for LookupFailed {}

#[traced::traced]
fn cached_price() -> Result<u64, LookupFailed> {
    Err(LookupFailed)
}

/// A service whose `/` recovers from a failed lookup (a span with status
/// Error) and answers 200.
fn recovering() -> impl FnOnce() -> Router + Send + 'static {
    || {
        Router::new().route(
            "/",
            get(|| async { format!("price {}", cached_price().unwrap_or(0)) }),
        )
    }
}

/// The Greeter behind the gRPC tests: `SayHello` recovers from a failed
/// lookup and answers OK; `Fail` answers the code it is given.
struct TestGreeter;

impl greeter::Greeter for TestGreeter {
    async fn say_hello(
        &self,
        _: tonic::Request<greeter::HelloRequest>,
    ) -> Result<tonic::Response<greeter::HelloReply>, tonic::Status> {
        Ok(tonic::Response::new(greeter::HelloReply {
            message: format!("price {}", cached_price().unwrap_or(0)),
        }))
    }

    async fn countdown(
        &self,
        _: tonic::Request<greeter::CountdownRequest>,
    ) -> Result<tonic::Response<greeter::TickStream>, tonic::Status> {
        Err(tonic::Status::unimplemented("not in these tests"))
    }

    async fn fail(
        &self,
        request: tonic::Request<greeter::FailRequest>,
    ) -> Result<tonic::Response<greeter::HelloReply>, tonic::Status> {
        match request.into_inner().code {
            0 => Ok(tonic::Response::new(greeter::HelloReply::default())),
            code => Err(tonic::Status::new(
                tonic::Code::from(code),
                "failed as asked",
            )),
        }
    }
}

/// What an HTTP service calls on the gRPC one.
#[derive(Debug, Clone, Copy)]
enum Rpc {
    SayHello,
    Fail(i32),
}

/// A service whose `/` calls `rpc` on the Greeter at `target` through our
/// tonic client layer and answers 200 with the `traceresponse` the call's
/// response metadata carried (`none` without one).
fn calling_grpc(target: String, rpc: Rpc) -> impl FnOnce() -> Router + Send + 'static {
    move || {
        Router::new().route(
            "/",
            get(move || async move {
                let channel = tonic::transport::Endpoint::from_shared(target.clone())
                    .expect("endpoint")
                    .connect()
                    .await
                    .expect("connect");
                let channel = tower::ServiceBuilder::new()
                    .layer(traced::grpc::client::TracedLayer::new().target(&target))
                    .service(channel);
                let mut client = greeter::GreeterClient::new(channel);
                let metadata = match rpc {
                    Rpc::SayHello => client
                        .say_hello(greeter::HelloRequest::default())
                        .await
                        .map(|r| r.metadata().clone()),
                    Rpc::Fail(code) => client
                        .fail(greeter::FailRequest { code })
                        .await
                        .map(|r| r.metadata().clone()),
                }
                .unwrap_or_else(|status| status.metadata().clone());
                metadata
                    .get("traceresponse")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("none")
                    .to_owned()
            }),
        )
    }
}

/// Requests `url` from the test's thread (no span of its own) and returns
/// the status and the `traceresponse`.
fn request(url: &str) -> (StatusCode, Option<String>) {
    let (status, header, _) = request_body(url);
    (status, header)
}

/// [`request`], with the body.
fn request_body(url: &str) -> (StatusCode, Option<String>, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let response = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client")
            .get(url)
            .send()
            .await
            .expect("the request");
        let header = response
            .headers()
            .get("traceresponse")
            .map(|v| v.to_str().expect("ascii").to_owned());
        let status = response.status();
        (status, header, response.text().await.expect("the body"))
    })
}

fn exported(exporter: &InMemorySpanExporter) -> Vec<SpanData> {
    exporter.get_finished_spans().unwrap()
}

/// `name kind status` of each span, sorted.
fn shape(spans: &[SpanData]) -> BTreeSet<String> {
    spans
        .iter()
        .map(|s| {
            let status = match s.status {
                Status::Error { .. } => "Error",
                Status::Ok => "Ok",
                Status::Unset => "Unset",
            };
            format!("{} {:?} {status}", s.name, s.span_kind)
        })
        .collect()
}

/// The one trace of `spans`.
fn trace_of(spans: &[SpanData]) -> TraceId {
    let ids: std::collections::HashSet<TraceId> =
        spans.iter().map(|s| s.span_context.trace_id()).collect();
    assert_eq!(ids.len(), 1, "one trace: {ids:?}");
    ids.into_iter().next().unwrap()
}

/// The local root (the server span) of `spans`.
fn root_span(spans: &[SpanData]) -> SpanId {
    spans
        .iter()
        .find(|s| s.parent_span_id == SpanId::INVALID || s.parent_span_is_remote)
        .expect("a local root")
        .span_context
        .span_id()
}

/// How the process-wide counts moved since `before`.
fn since(before: TailStats) -> (u64, u64, u64) {
    let now = tail_stats();
    (
        now.kept_errors - before.kept_errors,
        now.kept_by_downstream - before.kept_by_downstream,
        now.dropped - before.dropped,
    )
}

#[test]
#[serial]
fn a_failing_downstream_keeps_the_upstream_trace() {
    let (provider, exporters) = install(2);
    let before = tail_stats();
    let downstream = Service::start(1, answering(StatusCode::INTERNAL_SERVER_ERROR));
    let upstream = Service::start(0, calling(downstream.base.clone()));
    let (status, header) = request(&upstream.base);
    upstream.stop();
    downstream.stop();
    assert_eq!(status, StatusCode::OK, "the upstream itself succeeded");

    let up = exported(&exporters[0]);
    let down = exported(&exporters[1]);
    assert_eq!(
        shape(&up),
        ["GET / Server Unset", "GET Client Error"]
            .map(String::from)
            .into(),
        "the upstream's root and its client span"
    );
    assert_eq!(
        shape(&down),
        ["GET / Server Error"].map(String::from).into()
    );
    let trace = trace_of(&up);
    assert_eq!(trace_of(&down), trace);
    // The upstream kept the trace, and says so to its own caller, naming
    // its server span.
    assert_eq!(
        header.as_deref(),
        Some(format!("00-{trace}-{}-01", root_span(&up)).as_str())
    );
    // The client span's own error (a 500 is an error for a client) keeps
    // the upstream's part by the errors rule already: credited there.
    assert_eq!(since(before), (2, 0, 0));
    provider.shutdown().unwrap();
}

#[test]
#[serial]
fn a_succeeding_downstream_leaves_the_upstream_trace_dropped() {
    let (provider, exporters) = install(2);
    let before = tail_stats();
    let downstream = Service::start(1, answering(StatusCode::OK));
    let upstream = Service::start(0, calling(downstream.base.clone()));
    let (status, header) = request(&upstream.base);
    upstream.stop();
    downstream.stop();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header, None, "nothing is known to be kept");
    assert!(exported(&exporters[0]).is_empty());
    assert!(exported(&exporters[1]).is_empty());
    assert_eq!(since(before), (0, 0, 2));
    provider.shutdown().unwrap();
}

#[test]
#[serial]
fn a_downstream_that_kept_its_trace_after_a_recovered_error_keeps_the_upstream() {
    let (provider, exporters) = install(2);
    let before = tail_stats();
    let downstream = Service::start(1, recovering());
    let upstream = Service::start(0, calling(downstream.base.clone()));
    let (status, header) = request(&upstream.base);
    upstream.stop();
    downstream.stop();
    assert_eq!(status, StatusCode::OK);

    let up = exported(&exporters[0]);
    let down = exported(&exporters[1]);
    // Nothing failed in the upstream: only the downstream's
    // `traceresponse` kept its part.
    assert_eq!(
        shape(&up),
        ["GET / Server Unset", "GET Client Unset"]
            .map(String::from)
            .into()
    );
    assert_eq!(
        shape(&down),
        ["GET / Server Unset", "cached_price Internal Error"]
            .map(String::from)
            .into()
    );
    let trace = trace_of(&up);
    assert_eq!(trace_of(&down), trace);
    assert!(header.is_some_and(|h| h.ends_with("-01")));
    assert_eq!(since(before), (1, 1, 0));
    provider.shutdown().unwrap();
}

#[test]
#[serial]
fn a_failure_deep_in_a_chain_keeps_the_whole_path() {
    // front → middle → back; back answers 500, middle and front 200.
    let (provider, exporters) = install(3);
    let before = tail_stats();
    let back = Service::start(2, answering(StatusCode::INTERNAL_SERVER_ERROR));
    let middle = Service::start(1, calling(back.base.clone()));
    let front = Service::start(0, calling(middle.base.clone()));
    let (status, header) = request(&front.base);
    front.stop();
    middle.stop();
    back.stop();
    assert_eq!(status, StatusCode::OK);

    let spans: Vec<Vec<SpanData>> = exporters.iter().map(exported).collect();
    // The front saw only a 200: its part is kept by the middle's
    // `traceresponse` alone.
    assert_eq!(
        shape(&spans[0]),
        ["GET / Server Unset", "GET Client Unset"]
            .map(String::from)
            .into()
    );
    assert_eq!(
        shape(&spans[1]),
        ["GET / Server Unset", "GET Client Error"]
            .map(String::from)
            .into()
    );
    assert_eq!(
        shape(&spans[2]),
        ["GET / Server Error"].map(String::from).into()
    );
    let trace = trace_of(&spans[0]);
    assert!(spans.iter().all(|s| trace_of(s) == trace));
    assert_eq!(
        header.as_deref(),
        Some(format!("00-{trace}-{}-01", root_span(&spans[0])).as_str())
    );
    // back and middle by their errors, front by the middle's answer.
    assert_eq!(since(before), (2, 1, 0));
    provider.shutdown().unwrap();
}

#[test]
#[serial]
fn grpc_a_failing_downstream_answers_traceresponse_in_its_metadata() {
    let (provider, exporters) = install(2);
    let before = tail_stats();
    let downstream = Service::start_grpc(1, TestGreeter);
    // INTERNAL: a server error, so the downstream keeps the trace.
    let upstream = Service::start(0, calling_grpc(downstream.base.clone(), Rpc::Fail(13)));
    let (status, _, seen) = request_body(&upstream.base);
    upstream.stop();
    downstream.stop();
    assert_eq!(status, StatusCode::OK);

    let up = exported(&exporters[0]);
    let down = exported(&exporters[1]);
    assert_eq!(
        shape(&up),
        [
            "GET / Server Unset",
            "traced.demo.Greeter/Fail Client Error"
        ]
        .map(String::from)
        .into()
    );
    assert_eq!(
        shape(&down),
        ["traced.demo.Greeter/Fail Server Error"]
            .map(String::from)
            .into()
    );
    let trace = trace_of(&up);
    assert_eq!(trace_of(&down), trace);
    // The trailers-only error response carried it, naming the server span.
    assert_eq!(seen, format!("00-{trace}-{}-01", root_span(&down)));
    assert_eq!(since(before), (2, 0, 0));
    provider.shutdown().unwrap();
}

#[test]
#[serial]
fn grpc_a_succeeding_downstream_answers_nothing() {
    let (provider, exporters) = install(2);
    let before = tail_stats();
    let downstream = Service::start_grpc(1, TestGreeter);
    let upstream = Service::start(0, calling_grpc(downstream.base.clone(), Rpc::Fail(0)));
    let (status, header, seen) = request_body(&upstream.base);
    upstream.stop();
    downstream.stop();
    assert_eq!(status, StatusCode::OK);
    assert_eq!((header, seen.as_str()), (None, "none"));
    assert!(exported(&exporters[0]).is_empty());
    assert!(exported(&exporters[1]).is_empty());
    assert_eq!(since(before), (0, 0, 2));
    provider.shutdown().unwrap();
}

#[test]
#[serial]
fn grpc_a_downstream_that_kept_its_trace_keeps_the_upstream() {
    let (provider, exporters) = install(2);
    let before = tail_stats();
    let downstream = Service::start_grpc(1, TestGreeter);
    let upstream = Service::start(0, calling_grpc(downstream.base.clone(), Rpc::SayHello));
    let (status, header, seen) = request_body(&upstream.base);
    upstream.stop();
    downstream.stop();
    assert_eq!(status, StatusCode::OK);

    let up = exported(&exporters[0]);
    let down = exported(&exporters[1]);
    // An OK call: only the metadata kept the upstream's part.
    assert_eq!(
        shape(&up),
        [
            "GET / Server Unset",
            "traced.demo.Greeter/SayHello Client Unset"
        ]
        .map(String::from)
        .into()
    );
    assert_eq!(
        shape(&down),
        [
            "cached_price Internal Error",
            "traced.demo.Greeter/SayHello Server Unset"
        ]
        .map(String::from)
        .into()
    );
    let trace = trace_of(&up);
    assert_eq!(trace_of(&down), trace);
    // In the response headers, sent while the server span was still open.
    assert_eq!(seen, format!("00-{trace}-{}-01", root_span(&down)));
    assert_eq!(
        header.as_deref(),
        Some(format!("00-{trace}-{}-01", root_span(&up)).as_str())
    );
    assert_eq!(since(before), (1, 1, 0));
    provider.shutdown().unwrap();
}
