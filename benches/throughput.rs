//! Sustained span throughput through a real collector on loopback (issue
//! #15: "spans per second per core sustained for 10 s with the OTLP
//! exporter to a real collector on loopback, no spans dropped at 100k
//! spans/s").
//!
//! Run it with
//!
//! ```text
//! cargo build --release --example throughput && cargo bench --bench throughput
//! ```
//!
//! The example must be built first: this bench runs
//! `target/release/examples/throughput` and builds nothing itself.
//! `THROUGHPUT_SECS` sets the length of each case (10 s by default),
//! `THROUGHPUT_ONLY` runs only the cases whose name contains it;
//! with `THROUGHPUT_OUT` set, the table is also written to that file.
//!
//! The chain: the example (`examples/throughput.rs`, one `#[traced]` call
//! per span on its main thread) exports over OTLP/gRPC to `rotel-agent`
//! (the collector of the end-to-end tests, installed by
//! `scripts/install-collector.sh` or named by `TRACED_COLLECTOR_BIN`),
//! which forwards everything over OTLP/gRPC, uncompressed, to a receiver in
//! this process that counts the spans of every export. All of it binds
//! 127.0.0.1 only. Each case runs the example as a child process, reads
//! its `RESULT` line (spans created, dropped by a full queue, its CPU
//! time), then polls until the receiver's count stops changing. Cases:
//! the SDK's batch processor (the default pipeline) and ours
//! (`TRACED_PIPELINE=traced`), each paced at 100,000 spans/s and unpaced
//! (as fast as one thread goes), ours with `OTEL_BSP_MAX_QUEUE_SIZE=65536`
//! and `OTEL_BSP_MAX_EXPORT_BATCH_SIZE=4096`, and ours with
//! `OTEL_BSP_MAX_CONCURRENT_EXPORTS=1` (one export at a time, as the SDK)
//! beside its default of 4,
//! and, to tell the collector's share from the app's, both pipelines at
//! 100,000 spans/s exporting straight to the receiver ("no collector").
//!
//! A case accounts for every span when created = received + dropped.
//! "delivered/s" is what reached the receiver divided by the time from the
//! first span to the end of the app's shutdown. The app's and rotel's CPU
//! are per 1,000 created spans; the receiver's CPU is this process's own.
//! On a small machine all three processes share the same cores.

mod counting;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use counting::Counting;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::TraceServiceServer;

/// Longest wait for the collector to listen.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// How long the app may take beyond its emitting time (init, flush and
/// shutdown; an export timeout is 10 s).
const EXIT_GRACE: Duration = Duration::from_secs(120);

/// The receiver's count has settled when it did not change for this long.
const SETTLED: Duration = Duration::from_secs(2);

/// Longest wait for the receiver's count to settle after the app exited.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);

/// How many lines of a log a failure message shows.
const TAIL_LINES: usize = 40;

/// Starts the counting receiver on a free loopback port; it serves until
/// the runtime is dropped.
fn start_receiver(rt: &tokio::runtime::Runtime, count: Arc<AtomicU64>) -> SocketAddr {
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the receiver on 127.0.0.1");
        let addr = listener.local_addr().expect("receiver address");
        let service = TraceServiceServer::new(Counting(count))
            .accept_compressed(tonic::codec::CompressionEncoding::Gzip)
            .max_decoding_message_size(64 * 1024 * 1024);
        tokio::spawn(async move {
            let _ = tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
                .await;
        });
        addr
    })
}

/// `rotel-agent` forwarding to the receiver; killed when dropped.
struct Collector {
    child: Child,
    dir: PathBuf,
    grpc: SocketAddr,
}

impl Collector {
    fn start(bin: &Path, forward_to: SocketAddr) -> Collector {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("throughput-collector-{}", std::process::id()));
        // A stale pid file makes rotel exit 0 without starting.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let (grpc, http) = (free_port(), free_port());
        let log = std::fs::File::create(dir.join("rotel.log")).expect("create the collector log");
        let err = log.try_clone().expect("share the collector log");
        let mut command = Command::new(bin);
        command
            .arg("start")
            .args(["--exporter", "otlp"])
            .arg("--otlp-exporter-endpoint")
            .arg(format!("http://{forward_to}"))
            .args(["--otlp-exporter-protocol", "grpc"])
            // rotel compresses with gzip (this version sends gzip even with
            // `--otlp-exporter-compression none`); the receiver accepts it.
            .arg("--pid-file")
            .arg(dir.join("rotel.pid"))
            .arg("--log-file")
            .arg(dir.join("rotel-daemon.log"))
            .arg("--otlp-grpc-endpoint")
            .arg(grpc.to_string())
            .arg("--otlp-http-endpoint")
            .arg(http.to_string())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err);
        // Every flag has a ROTEL_* twin; inherited ones must not leak in.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("ROTEL_") {
                command.env_remove(key);
            }
        }
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the collector {}: {e}", bin.display()));
        let mut collector = Collector { child, dir, grpc };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let up = [grpc, http]
                .iter()
                .all(|addr| TcpStream::connect_timeout(addr, Duration::from_millis(200)).is_ok());
            if up {
                return collector;
            }
            if let Ok(Some(status)) = collector.child.try_wait() {
                panic!(
                    "the collector exited with {status} before listening on {grpc} and {http}; \
                     its log ends with:\n{}",
                    collector.log_tail()
                );
            }
            assert!(
                Instant::now() < deadline,
                "the collector did not listen on {grpc} and {http} within {START_TIMEOUT:?}; \
                 its log ends with:\n{}",
                collector.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_tail(&self) -> String {
        tail(&self.dir.join("rotel.log"))
    }

    /// The collector's CPU time so far.
    fn cpu_ms(&self) -> u64 {
        cpu_ms(self.child.id()).unwrap_or_else(|| {
            panic!(
                "cannot read the collector's CPU time (has it exited?); its log ends with:\n{}",
                self.log_tail()
            )
        })
    }

    /// Panics with the log tail if the collector is gone.
    fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "the collector exited with {status}; its log ends with:\n{}",
                self.log_tail()
            );
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
}

/// The last lines of a file.
fn tail(path: &Path) -> String {
    let raw = std::fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&raw);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
}

/// User + system CPU time of process `pid`, in milliseconds.
fn cpu_ms(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
    // `fields[0]` is field 3; utime and stime are fields 14 and 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) * 1000 / clock_ticks())
}

/// `getconf CLK_TCK`, else 100.
fn clock_ticks() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8_lossy(&out.stdout).trim().parse().ok())
            .filter(|&ticks| ticks > 0)
            .unwrap_or(100)
    })
}

/// `$TRACED_COLLECTOR_BIN`, else what `scripts/install-collector.sh`
/// prints (it installs rotel once, then only finds it).
fn collector_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("TRACED_COLLECTOR_BIN").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install-collector.sh");
    let out = Command::new("bash")
        .arg(&script)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    assert!(
        out.status.success(),
        "{} failed ({}):\n{}",
        script.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    PathBuf::from(stdout.lines().last().unwrap_or_default().trim())
}

fn example_binary() -> PathBuf {
    // This bench runs from target/release/deps/.
    let exe = std::env::current_exe().expect("current exe");
    let release = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/release");
    let example = release.join("examples").join("throughput");
    assert!(
        example.exists(),
        "{} is missing: run `cargo build --release --example throughput` first",
        example.display()
    );
    example
}

struct Case {
    name: &'static str,
    rate: u64,
    env: &'static [(&'static str, &'static str)],
    /// Export straight to the receiver, without the collector: what the
    /// collector costs.
    direct: bool,
}

const CASES: &[Case] = &[
    Case {
        name: "sdk",
        rate: 100_000,
        env: &[("TRACED_PIPELINE", "sdk")],
        direct: false,
    },
    Case {
        name: "traced",
        rate: 100_000,
        env: &[("TRACED_PIPELINE", "traced")],
        direct: false,
    },
    Case {
        name: "sdk",
        rate: 0,
        env: &[("TRACED_PIPELINE", "sdk")],
        direct: false,
    },
    Case {
        name: "traced",
        rate: 0,
        env: &[("TRACED_PIPELINE", "traced")],
        direct: false,
    },
    Case {
        name: "traced, queue 65536, batch 4096",
        rate: 0,
        env: &[
            ("TRACED_PIPELINE", "traced"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "65536"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "4096"),
        ],
        direct: false,
    },
    Case {
        name: "traced, queue 65536, batch 4096, one export at a time",
        rate: 100_000,
        env: &[
            ("TRACED_PIPELINE", "traced"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "65536"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "4096"),
            ("OTEL_BSP_MAX_CONCURRENT_EXPORTS", "1"),
        ],
        direct: false,
    },
    Case {
        name: "traced, queue 65536, batch 4096",
        rate: 100_000,
        env: &[
            ("TRACED_PIPELINE", "traced"),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "65536"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "4096"),
        ],
        direct: false,
    },
    Case {
        name: "traced, SDK exporter (by hand)",
        rate: 100_000,
        env: &[("THROUGHPUT_EXPORTER", "sdk")],
        direct: false,
    },
    Case {
        name: "traced, SDK exporter (by hand)",
        rate: 0,
        env: &[("THROUGHPUT_EXPORTER", "sdk")],
        direct: false,
    },
    Case {
        name: "traced, one export at a time",
        rate: 100_000,
        env: &[
            ("TRACED_PIPELINE", "traced"),
            ("OTEL_BSP_MAX_CONCURRENT_EXPORTS", "1"),
        ],
        direct: false,
    },
    Case {
        name: "sdk, no collector",
        rate: 100_000,
        env: &[("TRACED_PIPELINE", "sdk")],
        direct: true,
    },
    Case {
        name: "traced, no collector",
        rate: 100_000,
        env: &[("TRACED_PIPELINE", "traced")],
        direct: true,
    },
];

/// The example's `RESULT` line.
struct Report {
    created: u64,
    elapsed_ms: u64,
    dropped: u64,
    cpu_ms: u64,
    shutdown_ms: u64,
}

impl Report {
    fn parse(stdout: &str) -> Option<Report> {
        let line = stdout.lines().find_map(|l| l.strip_prefix("RESULT "))?;
        let field = |name: &str| -> Option<u64> {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))?
                .parse()
                .ok()
        };
        Some(Report {
            created: field("created")?,
            elapsed_ms: field("elapsed_ms")?,
            dropped: field("dropped")?,
            cpu_ms: field("cpu_ms")?,
            shutdown_ms: field("shutdown_ms")?,
        })
    }
}

struct Outcome {
    report: Report,
    received: u64,
    collector_cpu_ms: u64,
    receiver_cpu_ms: u64,
}

/// Runs the example for one case and waits (bounded) for what it sent to
/// reach the receiver.
fn run_case(
    example: &Path,
    collector: &mut Collector,
    receiver: SocketAddr,
    count: &AtomicU64,
    case: &Case,
    secs: u64,
) -> Outcome {
    let endpoint = if case.direct {
        receiver
    } else {
        collector.grpc
    };
    let dir = &collector.dir;
    let (out_path, err_path) = (dir.join("app.out"), dir.join("app.err"));
    let stdout = std::fs::File::create(&out_path).expect("create the app's stdout file");
    let stderr = std::fs::File::create(&err_path).expect("create the app's stderr file");
    let mut command = Command::new(example);
    command.arg(case.rate.to_string()).arg(secs.to_string());
    for (key, _) in std::env::vars_os() {
        let key_str = key.to_string_lossy();
        if key_str.starts_with("OTEL_") || key_str.starts_with("TRACED_") {
            command.env_remove(&key);
        }
    }
    command
        .env("OTEL_TRACES_EXPORTER", "otlp")
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{endpoint}"))
        .env("OTEL_SERVICE_NAME", "throughput")
        .envs(case.env.iter().copied())
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr);

    let before = count.load(Ordering::Relaxed);
    let collector_before = collector.cpu_ms();
    let receiver_before = cpu_ms(std::process::id()).expect("own CPU time");
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", example.display()));
    let deadline = Instant::now() + Duration::from_secs(secs) + EXIT_GRACE;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the app") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the app did not exit within {secs} s + {EXIT_GRACE:?}; its stderr ends \
                 with:\n{}\nthe collector's log ends with:\n{}",
                tail(&err_path),
                collector.log_tail()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = std::fs::read_to_string(&out_path).unwrap_or_default();
    let report = Report::parse(&out).filter(|_| status.success());
    let report = report.unwrap_or_else(|| {
        panic!(
            "the app exited with {status} without a RESULT line; stdout:\n{out}\nits stderr \
             ends with:\n{}\nthe collector's log ends with:\n{}",
            tail(&err_path),
            collector.log_tail()
        )
    });

    // Poll until every span is accounted for, or the count stopped moving.
    let settle_deadline = Instant::now() + SETTLE_TIMEOUT;
    let mut last = count.load(Ordering::Relaxed);
    let mut last_change = Instant::now();
    loop {
        let now = count.load(Ordering::Relaxed);
        if now != last {
            last = now;
            last_change = Instant::now();
        }
        let received = now - before;
        let complete = received + report.dropped >= report.created;
        if complete || last_change.elapsed() >= SETTLED || Instant::now() >= settle_deadline {
            break;
        }
        collector.assert_running();
        std::thread::sleep(Duration::from_millis(50));
    }
    collector.assert_running();
    Outcome {
        received: count.load(Ordering::Relaxed) - before,
        collector_cpu_ms: collector.cpu_ms() - collector_before,
        receiver_cpu_ms: cpu_ms(std::process::id()).expect("own CPU time") - receiver_before,
        report,
    }
}

fn table(rows: &[(&Case, Outcome)], secs: u64) -> String {
    let mut out = format!(
        "| pipeline ({secs} s) | rate | created | received | dropped | accounted | created/s \
         | delivered/s | app CPU ms / 1k spans | rotel CPU ms / 1k | receiver CPU ms / 1k \
         | shutdown ms |\n"
    );
    out.push_str("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|\n");
    for (case, o) in rows {
        let r = &o.report;
        let per_1k = |ms: u64| format!("{:.3}", ms as f64 * 1000.0 / r.created.max(1) as f64);
        let accounted = if r.created == o.received + r.dropped {
            "yes".to_owned()
        } else {
            format!(
                "no ({} missing)",
                r.created as i64 - (o.received + r.dropped) as i64
            )
        };
        let rate = if case.rate == 0 {
            "unpaced".to_owned()
        } else {
            format!("{}/s", case.rate)
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {:.0} | {:.0} | {} | {} | {} | {} |\n",
            case.name,
            rate,
            r.created,
            o.received,
            r.dropped,
            accounted,
            r.created as f64 * 1000.0 / r.elapsed_ms.max(1) as f64,
            o.received as f64 * 1000.0 / (r.elapsed_ms + r.shutdown_ms).max(1) as f64,
            per_1k(r.cpu_ms),
            per_1k(o.collector_cpu_ms),
            per_1k(o.receiver_cpu_ms),
            r.shutdown_ms,
        ));
    }
    out
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is read from the args.
    let secs: u64 = std::env::var("THROUGHPUT_SECS")
        .ok()
        .map(|v| v.parse().expect("THROUGHPUT_SECS is a number of seconds"))
        .unwrap_or(10);
    let example = example_binary();
    let bin = collector_bin();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let count = Arc::new(AtomicU64::new(0));
    let receiver = start_receiver(&rt, count.clone());
    let mut collector = Collector::start(&bin, receiver);
    let mut rows = Vec::new();
    // `THROUGHPUT_ONLY=text`: only the cases whose name contains it.
    let only = std::env::var("THROUGHPUT_ONLY").unwrap_or_default();
    for case in CASES.iter().filter(|c| c.name.contains(only.as_str())) {
        let rate = if case.rate == 0 {
            "unpaced".to_owned()
        } else {
            format!("{}/s", case.rate)
        };
        eprintln!("throughput: {}, {rate}, for {secs} s", case.name);
        let outcome = run_case(&example, &mut collector, receiver, &count, case, secs);
        rows.push((case, outcome));
    }
    drop(collector);
    let table = table(&rows, secs);
    println!("{table}");
    if let Ok(path) = std::env::var("THROUGHPUT_OUT") {
        std::fs::write(&path, &table).unwrap_or_else(|e| panic!("cannot write {path}: {e}"));
    }
}
