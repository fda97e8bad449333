//! gRPC through tonic: a Greeter server and a client as two processes, one
//! trace. The server is traced with `traced::grpc::server::TracedLayer`,
//! the client's channel with `traced::grpc::client::TracedLayer`; the
//! context travels in the call's metadata. `#[traced]` functions inside
//! the handlers show up under the server spans, and a streaming call's
//! span lasts as long as its stream.
//!
//! ```text
//! cargo run --example grpc                          # server + client, the trace in traced-view
//! cargo run --example grpc -- --serve 50051         # just serves (port 0: any free port)
//! cargo run --example grpc -- --connect 127.0.0.1:50051
//! ```
//!
//! The messages are `examples/grpc/greeter.proto`, written by hand with
//! prost in `greeter.rs` (no protoc at build time).

mod greeter;

use std::time::Duration;

use greeter::{
    CountdownRequest, FailRequest, Greeter, GreeterClient, GreeterServer, HelloReply, HelloRequest,
    Tick, TickStream,
};
use traced::traced;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long the client waits for the server to answer.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
#[error("a greeting needs a name")]
struct NoName;

/// The server's work for `SayHello`: a span of its own under the call's.
#[traced]
async fn greeting(name: &str) -> Result<String, NoName> {
    if name.is_empty() {
        return Err(NoName);
    }
    let message = format!("hello, {name}");
    traced::event!("greeting composed", greeting.length = message.len());
    Ok(message)
}

/// One message of `Countdown`: each is a span under the call's, made while
/// the stream is being sent.
#[traced]
async fn tick(remaining: u32) -> Tick {
    Tick { remaining }
}

struct Demo;

impl Greeter for Demo {
    async fn say_hello(
        &self,
        request: tonic::Request<HelloRequest>,
    ) -> Result<tonic::Response<HelloReply>, tonic::Status> {
        let message = greeting(&request.into_inner().name)
            .await
            .map_err(|e| tonic::Status::invalid_argument(e.to_string()))?;
        Ok(tonic::Response::new(HelloReply { message }))
    }

    async fn countdown(
        &self,
        request: tonic::Request<CountdownRequest>,
    ) -> Result<tonic::Response<TickStream>, tonic::Status> {
        let count = request.into_inner().count;
        let ticks = futures_lite::stream::unfold(count, |left| async move {
            if left == 0 {
                return None;
            }
            Some((Ok(tick(left - 1).await), left - 1))
        });
        Ok(tonic::Response::new(Box::pin(ticks)))
    }

    async fn fail(
        &self,
        request: tonic::Request<FailRequest>,
    ) -> Result<tonic::Response<HelloReply>, tonic::Status> {
        match tonic::Code::from(request.into_inner().code) {
            tonic::Code::Ok => Ok(tonic::Response::new(HelloReply {
                message: "no failure asked".to_owned(),
            })),
            code => Err(tonic::Status::new(code, "failed as asked")),
        }
    }
}

/// The client's visit: three calls in one trace, under this span.
#[traced]
async fn visit(addr: &str) -> Result<(), BoxError> {
    let target = format!("http://{addr}");
    let channel = tonic::transport::Endpoint::from_shared(target.clone())?
        .timeout(CALL_TIMEOUT)
        .connect()
        .await?;
    let channel = tower::ServiceBuilder::new()
        .layer(traced::grpc::client::TracedLayer::new().target(&target))
        .service(channel);
    let mut client = GreeterClient::new(channel);

    let reply = client
        .say_hello(HelloRequest {
            name: "ana".to_owned(),
        })
        .await?;
    println!("SayHello: {}", reply.into_inner().message);

    let mut ticks = client
        .countdown(CountdownRequest { count: 3 })
        .await?
        .into_inner();
    let mut seen = Vec::new();
    while let Some(tick) = ticks.message().await? {
        seen.push(tick.remaining);
    }
    println!("Countdown: {seen:?}");

    // NOT_FOUND: an error on the client's span, not on the server's.
    match client.fail(FailRequest { code: 5 }).await {
        Ok(_) => println!("Fail: answered OK"),
        Err(status) => println!("Fail: {:?} {}", status.code(), status.message()),
    }
    Ok(())
}

fn telemetry(service: &str) -> Result<traced::Telemetry, traced::InitError> {
    traced::builder()
        .service_name(service)
        .fallback_exporter(traced::Exporter::Console)
        .init()
}

/// Serves on `port` until SIGTERM or Ctrl-C, lets the calls in flight
/// finish, then flushes its spans (the guard's drop).
async fn serve(port: u16) -> Result<(), BoxError> {
    let _telemetry = telemetry("greeter")?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on {}", listener.local_addr()?);
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    tonic::transport::Server::builder()
        // Calls to any other service are recorded as `_OTHER`.
        .layer(traced::grpc::server::TracedLayer::new().known([greeter::SERVICE]))
        .add_service(GreeterServer::new(Demo))
        .serve_with_incoming_shutdown(incoming, traced::shutdown_signal())
        .await?;
    Ok(())
}

async fn connect(addr: &str) -> Result<(), BoxError> {
    let _telemetry = telemetry("greeter-client")?;
    visit(addr).await
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter().position(|a| a == flag).map(|i| {
            args.get(i + 1)
                .cloned()
                .ok_or(format!("{flag} needs a value"))
        })
    };
    if let Some(port) = value("--serve") {
        return serve(port?.parse()?).await;
    }
    if let Some(addr) = value("--connect") {
        return connect(&addr?).await;
    }
    demo().await
}

/// Starts `traced-view` in-process, the server and the client as child
/// processes exporting to it over OTLP/gRPC, stops the server once the
/// client is done (it flushes on SIGTERM) and prints the trace the viewer
/// joined from both.
async fn demo() -> Result<(), BoxError> {
    use std::io::IsTerminal as _;
    use tokio::io::AsyncBufReadExt as _;
    let config = traced_view::Config {
        grpc: Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0))),
        http: None,
        quiet: Duration::from_millis(500),
        color: std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        ..traced_view::Config::default()
    };
    let viewer = traced_view::Viewer::start(config, std::io::stdout()).await?;
    println!("{}", viewer.banner());
    let endpoint = format!("http://{}", viewer.grpc_addr().ok_or("no gRPC endpoint")?);
    let exe = std::env::current_exe()?;
    let mut server = tokio::process::Command::new(&exe)
        .args(["--serve", "0"])
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = server.stdout.take().ok_or("no stdout")?;
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let addr = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await? {
            if let Some(addr) = line.strip_prefix("listening on ") {
                return Ok::<_, std::io::Error>(Some(addr.to_owned()));
            }
        }
        Ok(None)
    })
    .await??
    .ok_or("the server exited before listening")?;
    let client = tokio::process::Command::new(&exe)
        .args(["--connect", &addr])
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .status()
        .await?;
    if let Some(pid) = server.id() {
        // SIGTERM, as an orchestrator stops a service, through the `kill`
        // command: no `unsafe` libc call needed.
        let _ = tokio::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await;
    }
    if tokio::time::timeout(Duration::from_secs(10), server.wait())
        .await
        .is_err()
    {
        let _ = server.kill().await;
    }
    viewer.shutdown().await;
    if !client.success() {
        return Err(format!("the client failed: {client}").into());
    }
    Ok(())
}
