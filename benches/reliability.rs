//! The login app under load while its collector fails: writes the table in
//! `docs/reliability.md`. Run it with `scripts/reliability.sh` (which
//! builds the example and installs `wrk`); `RELIABILITY_SECS` sets the
//! length of each phase (30 s by default).
//!
//! Each phase starts the app (`examples/login`, `app` mode) exporting over
//! OTLP/gRPC to a receiver of ours in this process that counts the spans it
//! accepts, loads it with `wrk` (a valid login, 2 threads, 32 connections),
//! samples its resident memory every second, then stops it with SIGINT (it
//! flushes) and reads what it reports on stderr: requests handled and
//! spans dropped (`traced::dropped_spans()`). Phases:
//!
//! - `off`: `OTEL_TRACES_EXPORTER=none`, the baseline;
//! - `healthy`: the receiver answers;
//! - `healthy, larger batches`: the same with `OTEL_BSP_MAX_QUEUE_SIZE=65536`
//!   and `OTEL_BSP_MAX_EXPORT_BATCH_SIZE=4096`, what a service at this rate
//!   would set;
//! - `healthy, our pipeline`: the same with `TRACED_PIPELINE=traced` (our
//!   own span pipeline, issue #15, instead of the SDK's batch processor);
//! - `down`: the port is closed;
//! - `black hole`: a listener accepts connections and never answers;
//! - `restarted`: the receiver is stopped after a third of the phase and
//!   started again on the same port after two thirds.
//!
//! Every request of the login creates the same five spans, so a phase
//! accounts for every span when exported + dropped = 5 × handled.

mod counting;

use std::io::{BufRead as _, BufReader, Read as _};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use counting::Counting;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::TraceServiceServer;

/// Spans one valid login creates in the app: `POST /login`, `login`,
/// `validate`, `check_credentials`, `SELECT users`.
const SPANS_PER_REQUEST: u64 = 5;

/// Longest wait for the app to start or to stop after SIGINT (a shutdown
/// against a black hole waits for the export timeout, 10 s).
const PROCESS_TIMEOUT: Duration = Duration::from_secs(60);

const WRK_SCRIPT: &str = r#"
wrk.method = "POST"
wrk.body = '{"user": "ana", "password": "s3cret"}'
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %d\n",
    summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
"#;

/// The receiver, serving until aborted.
struct Receiver {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start(addr: SocketAddr, count: Arc<AtomicU64>) -> Receiver {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .unwrap_or_else(|e| panic!("cannot bind the receiver on {addr}: {e}"));
        let addr = listener.local_addr().expect("receiver address");
        let service =
            TraceServiceServer::new(Counting(count)).max_decoding_message_size(64 * 1024 * 1024);
        let task = tokio::spawn(async move {
            let _ = tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
                .await;
        });
        Receiver { addr, task }
    }

    /// Gone at once, connections and all, as a crashed collector.
    async fn kill(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// Accepts connections and never reads or answers.
async fn black_hole() -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the black hole");
    let addr = listener.local_addr().expect("address");
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    (addr, task)
}

/// A port nothing listens on.
fn closed_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address")
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Off,
    Healthy,
    HealthyLargerBatches,
    HealthyOurPipeline,
    Down,
    BlackHole,
    Restarted,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Off => "off (no export)",
            Phase::Healthy => "healthy collector",
            Phase::HealthyLargerBatches => "healthy, larger batches",
            Phase::HealthyOurPipeline => "healthy, our pipeline",
            Phase::Down => "collector down (port closed)",
            Phase::BlackHole => "collector black-holed",
            Phase::Restarted => "collector restarted mid-run",
        }
    }
}

struct Outcome {
    phase: Phase,
    requests: u64,
    seconds: f64,
    socket_errors: u64,
    status_errors: u64,
    p50_us: u64,
    p99_us: u64,
    p999_us: u64,
    rss_kib: Vec<u64>,
    handled: u64,
    exported: u64,
    dropped: u64,
}

fn login_binary() -> PathBuf {
    // This bench runs from target/release/deps/; the example is built by
    // scripts/reliability.sh into target/release/examples/.
    let exe = std::env::current_exe().expect("current exe");
    let release = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/release");
    let login = release.join("examples").join("login");
    assert!(
        login.exists(),
        "{} is missing: run scripts/reliability.sh (it builds it with `cargo build --release --example login`)",
        login.display()
    );
    login
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn start_app(
    login: &PathBuf,
    endpoint: Option<SocketAddr>,
    env: &[(&str, &str)],
) -> (Child, String) {
    let mut command = Command::new(login);
    command
        .envs(env.iter().copied())
        .args(["app", "--port", "0"])
        .env("LOGIN_STATS", "1")
        .env("OTEL_SERVICE_NAME", "app")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match endpoint {
        Some(addr) => command
            .env("OTEL_TRACES_EXPORTER", "otlp")
            .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{addr}")),
        None => command.env("OTEL_TRACES_EXPORTER", "none"),
    };
    let mut child = command.spawn().expect("start the login app");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(PROCESS_TIMEOUT)
        .expect("the app did not print its address in time");
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line from the app: {line:?}"))
        .to_owned();
    (child, addr)
}

/// SIGINT, then waits (bounded) for the exit and returns its stderr.
fn stop_app(mut child: Child) -> String {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(status.success(), "kill -INT failed");
    let deadline = Instant::now() + PROCESS_TIMEOUT;
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the app did not stop within {PROCESS_TIMEOUT:?} of SIGINT"
        );
        std::thread::park_timeout(Duration::from_millis(50));
    }
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    stderr
}

/// `login-stats: handled=N dropped=M`, which the app prints with
/// `LOGIN_STATS` set.
fn stats(stderr: &str) -> (u64, u64) {
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix("login-stats: "))
        .unwrap_or_else(|| panic!("the app printed no stats line:\n{stderr}"));
    let field = |name: &str| -> u64 {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {line:?}"))
    };
    (field("handled"), field("dropped"))
}

fn run_wrk(addr: &str, secs: u64, script: &std::path::Path) -> (u64, f64, u64, u64, [u64; 3]) {
    let out = Command::new("wrk")
        .args([
            "-t2",
            "-c32",
            &format!("-d{secs}s"),
            "--timeout",
            "5s",
            "-s",
        ])
        .arg(script)
        .arg(format!("http://{addr}/login"))
        .output()
        .expect("run wrk");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "wrk failed: {text}");
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or_else(|| panic!("no RESULT line from wrk:\n{text}"));
    let n: Vec<u64> = line
        .split_whitespace()
        .map(|v| v.parse().expect("a number"))
        .collect();
    (n[0], n[1] as f64 / 1e6, n[2], n[3], [n[4], n[5], n[6]])
}

fn run_phase(
    rt: &tokio::runtime::Runtime,
    login: &PathBuf,
    phase: Phase,
    secs: u64,
    script: &std::path::Path,
) -> Outcome {
    let count = Arc::new(AtomicU64::new(0));
    let mut receiver = None;
    let mut hole = None;
    let endpoint = match phase {
        Phase::Off => None,
        Phase::Healthy
        | Phase::HealthyLargerBatches
        | Phase::HealthyOurPipeline
        | Phase::Restarted => {
            let r = rt.block_on(Receiver::start(
                "127.0.0.1:0".parse().unwrap(),
                count.clone(),
            ));
            let addr = r.addr;
            receiver = Some(r);
            Some(addr)
        }
        Phase::Down => Some(closed_port()),
        Phase::BlackHole => {
            let (addr, task) = rt.block_on(black_hole());
            hole = Some(task);
            Some(addr)
        }
    };
    let batches: &[(&str, &str)] = match phase {
        Phase::HealthyLargerBatches => &[
            ("TRACED_PIPELINE", "sdk"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "65536"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "4096"),
        ],
        Phase::HealthyOurPipeline => &[("TRACED_PIPELINE", "traced")],
        // The other phases measure the SDK's pipeline, as they always did
        // (ours is `init`'s default for OTLP now).
        _ => &[("TRACED_PIPELINE", "sdk")],
    };
    let (child, addr) = start_app(login, endpoint, batches);
    let pid = child.id();
    let started = Instant::now();
    let ((requests, seconds, socket_errors, status_errors, percentiles), rss) =
        std::thread::scope(|s| {
            let wrk = s.spawn(|| run_wrk(&addr, secs, script));
            let mut rss = Vec::new();
            let phase_length = Duration::from_secs(secs);
            let mut next = started;
            while !wrk.is_finished() {
                if Instant::now() >= next {
                    rss.extend(rss_kib(pid));
                    next += Duration::from_secs(1);
                }
                if phase == Phase::Restarted {
                    let elapsed = started.elapsed();
                    if elapsed >= phase_length / 3 && receiver.is_some() {
                        rt.block_on(receiver.take().unwrap().kill());
                    }
                    if elapsed >= phase_length * 2 / 3 && receiver.is_none() {
                        let addr = endpoint.expect("an endpoint");
                        receiver = Some(rt.block_on(Receiver::start(addr, count.clone())));
                    }
                }
                std::thread::park_timeout(Duration::from_millis(20));
            }
            (wrk.join().expect("wrk thread"), rss)
        });
    let stderr = stop_app(child);
    let (handled, dropped) = stats(&stderr);
    if let Some(r) = receiver {
        rt.block_on(r.kill());
    }
    if let Some(task) = hole {
        task.abort();
    }
    Outcome {
        phase,
        requests,
        seconds,
        socket_errors,
        status_errors,
        p50_us: percentiles[0],
        p99_us: percentiles[1],
        p999_us: percentiles[2],
        rss_kib: rss,
        handled,
        exported: count.load(Ordering::Relaxed),
        dropped,
    }
}

fn ms(us: u64) -> String {
    format!("{:.2}", us as f64 / 1000.0)
}

fn table(outcomes: &[Outcome], secs: u64) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "| phase ({secs} s) | requests/s | errors | p50 ms | p99 ms | p99.9 ms | RSS MiB first → max → last | spans created | exported | dropped | accounted |\n"
    ));
    out.push_str("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---|\n");
    for o in outcomes {
        let mib = |k: u64| format!("{:.1}", k as f64 / 1024.0);
        let rss = match (o.rss_kib.first(), o.rss_kib.iter().max(), o.rss_kib.last()) {
            (Some(f), Some(m), Some(l)) => format!("{} → {} → {}", mib(*f), mib(*m), mib(*l)),
            _ => "–".into(),
        };
        let created = if o.phase == Phase::Off {
            0
        } else {
            o.handled * SPANS_PER_REQUEST
        };
        let accounted = if o.phase == Phase::Off {
            "–".to_owned()
        } else if o.exported + o.dropped == created {
            "yes".to_owned()
        } else {
            format!(
                "no ({} missing)",
                created as i64 - (o.exported + o.dropped) as i64
            )
        };
        out.push_str(&format!(
            "| {} | {:.0} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            o.phase.name(),
            o.requests as f64 / o.seconds,
            o.socket_errors + o.status_errors,
            ms(o.p50_us),
            ms(o.p99_us),
            ms(o.p999_us),
            rss,
            created,
            o.exported,
            o.dropped,
            accounted,
        ));
    }
    out
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is read from the args.
    let secs: u64 = std::env::var("RELIABILITY_SECS")
        .ok()
        .map(|v| v.parse().expect("RELIABILITY_SECS is a number of seconds"))
        .unwrap_or(30);
    let login = login_binary();
    let script =
        std::env::temp_dir().join(format!("traced-reliability-{}.lua", std::process::id()));
    std::fs::write(&script, WRK_SCRIPT).expect("write the wrk script");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    // `RELIABILITY_PHASES=healthy,restarted` runs only those (by the first
    // word of their names); the table then has only them.
    let only: Option<Vec<String>> = std::env::var("RELIABILITY_PHASES")
        .ok()
        .map(|v| v.split(',').map(|p| p.trim().to_owned()).collect());
    let mut outcomes = Vec::new();
    for phase in [
        Phase::Off,
        Phase::Healthy,
        Phase::HealthyLargerBatches,
        Phase::HealthyOurPipeline,
        Phase::Down,
        Phase::BlackHole,
        Phase::Restarted,
    ]
    .into_iter()
    .filter(|p| {
        only.as_ref().is_none_or(|only| {
            let name = p.name();
            only.iter()
                .any(|o| name.split([' ', ',']).next() == Some(o.as_str()) || name == o)
        })
    }) {
        eprintln!("reliability: {} for {secs} s", phase.name());
        outcomes.push(run_phase(&rt, &login, phase, secs, &script));
    }
    let _ = std::fs::remove_file(&script);
    let table = table(&outcomes, secs);
    println!("{table}");
    if let Ok(path) = std::env::var("RELIABILITY_OUT") {
        std::fs::write(&path, &table).unwrap_or_else(|e| panic!("cannot write {path}: {e}"));
    }
}
