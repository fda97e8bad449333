//! Emits spans at a steady rate, for `benches/throughput.rs`:
//! `throughput RATE SECONDS`.
//!
//! `traced::init()` configures the export from the environment (`OTEL_*`,
//! and `TRACED_PIPELINE` for the span pipeline). The main thread then calls
//! a `#[traced]` function with two arguments (the `work` of
//! `benches/overhead.rs`) `RATE` times a second for `SECONDS` seconds. The
//! pace is kept in slices of 1 ms: a slice emits its share of `RATE`, then
//! the thread sleeps until the slice's deadline; a thread behind its
//! schedule does not sleep at all. `RATE` 0 emits as fast as the thread
//! can. The init guard is dropped afterwards (it flushes and shuts down),
//! and one line goes to stdout:
//!
//! ```text
//! RESULT created=N elapsed_ms=E dropped=D cpu_ms=C shutdown_ms=S
//! ```
//!
//! `created`: spans started; `elapsed_ms`: how long emitting took;
//! `dropped`: `traced::dropped_spans()` after the shutdown; `cpu_ms`: the
//! process's user + system CPU time from start to the end of the shutdown
//! (`/proc/self/stat`); `shutdown_ms`: how long dropping the guard took.
//!
//! With `THROUGHPUT_EXPORTER=sdk`, the pipeline is ours but built by hand
//! with `opentelemetry-otlp`'s gRPC exporter (as a user who builds
//! `PipelineProvider` themselves gets it), in place of the exporter of our
//! own that `init` installs: what encoding OTLP from our records saves.
//! That setup reads only `OTEL_EXPORTER_OTLP_ENDPOINT`, and keeps our
//! pipeline's defaults.
//!
//! ```text
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317 \
//!     cargo run --release --example throughput -- 100000 10
//! ```

use std::time::{Duration, Instant};

use traced::traced;

#[traced]
fn work(a: u64, b: &str) -> u64 {
    std::hint::black_box(a) + b.len() as u64
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: throughput RATE SECONDS";
    let rate: u64 = args.next().ok_or(usage)?.parse()?;
    let seconds: u64 = args.next().ok_or(usage)?.parse()?;

    let telemetry = if std::env::var("THROUGHPUT_EXPORTER").as_deref() == Ok("sdk") {
        Setup::ByHand(by_hand()?)
    } else {
        Setup::Init(traced::init()?)
    };
    let started = Instant::now();
    let created = if rate == 0 {
        unpaced(Duration::from_secs(seconds))
    } else {
        paced(rate, seconds)
    };
    let elapsed = started.elapsed();
    let stopping = Instant::now();
    drop(telemetry);
    let shutdown = stopping.elapsed();
    let dropped = traced::dropped_spans();
    let cpu_ms = cpu_ms().ok_or("cannot read /proc/self/stat")?;
    println!(
        "RESULT created={created} elapsed_ms={} dropped={dropped} cpu_ms={cpu_ms} shutdown_ms={}",
        elapsed.as_millis(),
        shutdown.as_millis()
    );
    Ok(())
}

/// How the export was set up; dropping it flushes and shuts down.
enum Setup {
    Init(#[allow(dead_code)] traced::Telemetry),
    ByHand((traced::PipelineProvider, tokio::runtime::Runtime)),
}

impl Drop for Setup {
    fn drop(&mut self) {
        if let Setup::ByHand((provider, _)) = self {
            if let Err(err) = provider.shutdown() {
                eprintln!("throughput: shutting the pipeline down failed: {err}");
            }
        }
    }
}

/// Our pipeline with `opentelemetry-otlp`'s gRPC exporter, on a runtime
/// of its own (the exporter needs a reactor).
fn by_hand()
-> Result<(traced::PipelineProvider, tokio::runtime::Runtime), Box<dyn std::error::Error>> {
    use opentelemetry_otlp::WithExportConfig as _;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")?;
    let exporter = {
        let _entered = runtime.enter();
        opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .build()?
    };
    let provider = traced::PipelineProvider::builder()
        .with_exporter(exporter)
        .build()?;
    traced::set_pipeline_provider(provider.clone());
    Ok((provider, runtime))
}

/// `rate` spans a second for `seconds`, in slices of 1 ms; returns how
/// many were created.
fn paced(rate: u64, seconds: u64) -> u64 {
    let start = Instant::now();
    let mut created = 0_u64;
    for slice in 1..=seconds * 1000 {
        // Cumulative, so a rate that is no multiple of 1,000 comes out even.
        let due = rate * slice / 1000;
        while created < due {
            std::hint::black_box(work(created, "payload"));
            created += 1;
        }
        let deadline = start + Duration::from_millis(slice);
        let now = Instant::now();
        if now < deadline {
            std::thread::sleep(deadline - now);
        }
    }
    created
}

/// As many spans as the thread can create in `length`.
fn unpaced(length: Duration) -> u64 {
    let start = Instant::now();
    let mut created = 0_u64;
    loop {
        for _ in 0..1024 {
            std::hint::black_box(work(created, "payload"));
            created += 1;
        }
        if start.elapsed() >= length {
            return created;
        }
    }
}

/// User + system CPU time of this process so far, in milliseconds:
/// fields 14 and 15 of `/proc/self/stat`, in clock ticks.
fn cpu_ms() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // `fields[0]` is field 3.
    let utime: u64 = fields.get(14 - 3)?.parse().ok()?;
    let stime: u64 = fields.get(15 - 3)?.parse().ok()?;
    Some((utime + stime) * 1000 / clock_ticks())
}

/// `getconf CLK_TCK` (no libc here), else 100, the value on every Linux
/// architecture this runs on.
fn clock_ticks() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8_lossy(&out.stdout).trim().parse().ok())
        .filter(|&ticks| ticks > 0)
        .unwrap_or(100)
}
