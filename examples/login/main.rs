//! The talk's login flow as two services: a `gateway` (the web server) that
//! forwards `POST /login` to an `app`, which validates the payload (422 on a
//! bad body) and checks the credentials in a SQLite database it creates and
//! seeds on start (400 on wrong credentials, 200 with a token otherwise).
//!
//! ```text
//! cargo run --example login                 # both services + three sample requests
//! cargo run --example login -- --ui         # the same, then the web waterfall until Ctrl-C
//! cargo run --example login -- app --port 8081
//! cargo run --example login -- gateway --port 8080 --app http://127.0.0.1:8081
//! ```
//!
//! The demo starts `traced-view` in-process and points both services at
//! it (the gateway over gRPC, the app over HTTP), so each request prints as
//! one tree: gateway → app → validation → database. Run on their own, the
//! services print their traces to the console unless `OTEL_TRACES_EXPORTER`
//! or an OTLP endpoint is set. The password never appears in a span.

mod app;
mod gateway;

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn port(args: &[String]) -> Result<u16, BoxError> {
    Ok(arg(args, "--port").as_deref().unwrap_or("0").parse()?)
}

/// Binds, prints `listening on <addr>` (tests read it), and serves until
/// SIGTERM or Ctrl-C, letting the requests in flight finish.
async fn serve(router: axum::Router, port: u16) -> Result<(), BoxError> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    println!("listening on {}", listener.local_addr()?);
    axum::serve(listener, router)
        .with_graceful_shutdown(traced::shutdown_signal())
        .await?;
    Ok(())
}

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Runtime::new()?;
    match args.first().map(String::as_str) {
        Some("app") => {
            let telemetry = telemetry("app")?;
            runtime.block_on(serve(app::router(app::Db::open_seeded()?), port(&args)?))?;
            // Flushes; then every span is exported or counted as dropped.
            drop(telemetry);
            if std::env::var_os("LOGIN_STATS").is_some() {
                // Read by the reliability load test (benches/reliability.rs).
                eprintln!(
                    "login-stats: handled={} dropped={}",
                    app::HANDLED.load(std::sync::atomic::Ordering::Relaxed),
                    traced::dropped_spans()
                );
            }
            Ok(())
        }
        Some("gateway") => {
            let _telemetry = telemetry("gateway")?;
            let app_url = arg(&args, "--app").ok_or("gateway needs --app <url>")?;
            runtime.block_on(serve(gateway::router(app_url), port(&args)?))
        }
        None => runtime.block_on(demo(false)),
        Some("--ui") => runtime.block_on(demo(true)),
        Some(other) => {
            Err(format!("unknown command {other:?}; use `app`, `gateway` or nothing").into())
        }
    }
}

fn telemetry(service: &str) -> Result<traced::Telemetry, traced::InitError> {
    traced::builder()
        .service_name(service)
        .fallback_exporter(traced::Exporter::Console)
        .init()
}

/// Whether the environment says where traces go; the demo then leaves
/// them there instead of starting `traced-view`.
fn exporter_configured() -> bool {
    [
        "OTEL_TRACES_EXPORTER",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .iter()
    .any(|key| std::env::var_os(key).is_some())
}

/// Starts `traced-view` in-process and both services as child processes
/// exporting to it (the gateway over gRPC, the app over HTTP), sends a
/// valid login, a bad body and wrong credentials through the gateway,
/// stops the services (they flush on SIGTERM) and prints the joined traces;
/// with `ui`, keeps the page up until Ctrl-C. When the environment
/// configures an exporter, the services use it and no viewer is started.
async fn demo(ui: bool) -> Result<(), BoxError> {
    use std::io::IsTerminal as _;
    let viewer = if exporter_configured() {
        None
    } else {
        let loopback = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
        let config = traced_view::Config {
            grpc: loopback,
            http: loopback,
            ui: if ui { loopback } else { None },
            // The services export every 100 ms (below): a request is
            // quiet well within this.
            quiet: Duration::from_millis(500),
            color: std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
            ..traced_view::Config::default()
        };
        let viewer = traced_view::Viewer::start(config, std::io::stdout()).await?;
        println!("{}", viewer.banner());
        Some(viewer)
    };
    let endpoint = |addr: Option<SocketAddr>| addr.map(|a| format!("http://{a}"));
    let grpc = endpoint(viewer.as_ref().and_then(|v| v.grpc_addr()));
    let http = endpoint(viewer.as_ref().and_then(|v| v.http_addr()));
    let env = |endpoint: &Option<String>, protocol: &'static str| match endpoint {
        Some(url) => vec![
            ("OTEL_TRACES_EXPORTER", "otlp".to_owned()),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", url.clone()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.to_owned()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100".to_owned()),
        ],
        None => Vec::new(),
    };
    let exe = std::env::current_exe()?;
    let (mut app, app_addr) = spawn(&exe, &["app"], &env(&http, "http/protobuf")).await?;
    let app_url = format!("http://{app_addr}");
    let (mut gateway, gateway_addr) =
        spawn(&exe, &["gateway", "--app", &app_url], &env(&grpc, "grpc")).await?;
    let client = reqwest::Client::new();
    let url = format!("http://{gateway_addr}/login");
    for (what, body) in [
        ("valid login", r#"{"user": "ana", "password": "s3cret"}"#),
        ("bad body", r#"{"user": ""}"#),
        ("wrong password", r#"{"user": "ana", "password": "guess"}"#),
    ] {
        let response = client
            .post(&url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?;
        println!("{what}: {} {}", response.status(), response.text().await?);
    }
    // Stopping flushes: once both have exited, the viewer has every span.
    for child in [&mut gateway, &mut app] {
        stop(child).await;
    }
    if let Some(viewer) = viewer {
        viewer.flush();
        if ui {
            println!("the traces are on {}; Ctrl-C to stop", viewer.banner());
            traced::shutdown_signal().await;
        }
        viewer.shutdown().await;
    }
    Ok(())
}

async fn spawn(
    exe: &std::path::Path,
    args: &[&str],
    env: &[(&str, String)],
) -> Result<(tokio::process::Child, String), BoxError> {
    use tokio::io::AsyncBufReadExt as _;
    let mut child = tokio::process::Command::new(exe)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let addr = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await? {
            if let Some(addr) = line.strip_prefix("listening on ") {
                return Ok::<_, std::io::Error>(Some(addr.to_owned()));
            }
            println!("{line}");
        }
        Ok(None)
    })
    .await??
    .ok_or("the service exited before listening")?;
    // Keep echoing what the service prints (its console traces).
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            println!("{line}");
        }
    });
    Ok((child, addr))
}

/// Asks the service to stop as an orchestrator would, so it flushes its
/// spans.
async fn stop(child: &mut tokio::process::Child) {
    if let Some(pid) = child.id() {
        // SIGTERM through the `kill` command: no `unsafe` libc call needed.
        let _ = tokio::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await;
    }
    if tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .is_err()
    {
        let _ = child.kill().await;
    }
}
