//! What users feel, per span (#24): wall time of the calling thread and CPU
//! of all threads (the export thread included), and the share of spans
//! exported at full speed, for the same `work(a: u64, b: &str)` with two
//! attributes:
//!
//! - `traced_pipeline`: `#[traced]` on our pipeline, as `init` installs it;
//! - `traced_sdk`: `#[traced]` on the SDK's provider with its batch
//!   processor, as `init` installs it with `TRACED_PIPELINE=sdk`;
//! - `sdk_batch`: hand-written OpenTelemetry on the SDK's batch processor;
//! - `fastrace`: `#[fastrace::trace]` with two properties, the root
//!   amortized over [`CALLS_PER_ROOT`] calls.
//!
//! Every exporter is the SDK's `SpanExporter` (fastrace: a `Reporter`) that
//! counts and returns at once; queues and batches are the defaults. Rounds
//! interleave the contenders, so that a slow moment of the machine falls on
//! all of them; the median round is reported. Under glibc's malloc here,
//! under mimalloc in `yardstick_mimalloc`:
//!
//! ```text
//! cargo bench --bench yardstick
//! cargo bench --bench yardstick_mimalloc
//! ```

mod common;

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{hand_written, work};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider, SpanData, SpanExporter};

/// Spans per contender per round.
const SPANS: u64 = 200_000;
/// Rounds; the median is reported.
const ROUNDS: usize = 7;
/// fastrace records nothing without a root: one per this many calls.
const CALLS_PER_ROOT: u64 = 100;

/// Counts what it is given and returns at once.
#[derive(Debug, Clone, Default)]
struct Counting(Arc<AtomicU64>);

impl SpanExporter for Counting {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.fetch_add(batch.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

struct CountingReporter(Arc<AtomicU64>);

impl fastrace::collector::Reporter for CountingReporter {
    fn report(&mut self, spans: Vec<fastrace::collector::SpanRecord>) {
        self.0.fetch_add(spans.len() as u64, Ordering::Relaxed);
    }
}

/// CPU time used so far by `clock` (`CLOCK_PROCESS_CPUTIME_ID`: all
/// threads; `CLOCK_THREAD_CPUTIME_ID`: this one).
fn cpu(clock: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable `timespec` that outlives the call,
    // and both clock ids are defined on Linux; `clock_gettime` writes only
    // to `ts` and has no other requirement.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[inline(never)]
#[fastrace::trace(properties = { "a": "{a}", "b": "{b}" })]
fn fastrace_work(a: u64, b: &str) -> u64 {
    black_box(a).wrapping_add(b.len() as u64)
}

/// One contender's figures for one round, per span.
#[derive(Clone, Copy, Default)]
struct Round {
    wall_ns: f64,
    thread_cpu_ns: f64,
    process_cpu_ns: f64,
    exported: f64,
}

/// Runs `calls` on this thread, then `flush`; times them and counts what
/// `exported` gained.
fn measure(calls: impl FnOnce(), flush: impl FnOnce(), exported: &AtomicU64) -> Round {
    let before = exported.load(Ordering::Relaxed);
    let process = cpu(libc::CLOCK_PROCESS_CPUTIME_ID);
    let thread = cpu(libc::CLOCK_THREAD_CPUTIME_ID);
    let wall = Instant::now();
    calls();
    let wall = wall.elapsed();
    let thread = cpu(libc::CLOCK_THREAD_CPUTIME_ID) - thread;
    flush();
    let process = cpu(libc::CLOCK_PROCESS_CPUTIME_ID) - process;
    let n = SPANS as f64;
    Round {
        wall_ns: wall.as_nanos() as f64 / n,
        thread_cpu_ns: thread.as_nanos() as f64 / n,
        process_cpu_ns: process.as_nanos() as f64 / n,
        exported: (exported.load(Ordering::Relaxed) - before) as f64 / n,
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    run("glibc");
}

/// Measures every contender and prints the table; `allocator` names the
/// global allocator of the binary (`cargo bench` passes `--bench`, which
/// is ignored).
pub fn run(allocator: &str) {
    let ours_count = Counting::default();
    let ours = traced::PipelineProvider::builder()
        .with_exporter(ours_count.clone())
        .build()
        .expect("the export thread starts");

    let traced_sdk_count = Counting::default();
    let traced_sdk = SdkTracerProvider::builder()
        .with_span_processor(BatchSpanProcessor::builder(traced_sdk_count.clone()).build())
        .build();

    let sdk_count = Counting::default();
    let sdk = SdkTracerProvider::builder()
        .with_span_processor(BatchSpanProcessor::builder(sdk_count.clone()).build())
        .build();
    let sdk_tracer = sdk.tracer("bench");

    let fastrace_count = Arc::new(AtomicU64::new(0));
    fastrace::set_reporter(
        CountingReporter(fastrace_count.clone()),
        fastrace::collector::Config::default(),
    );

    let names = ["traced_pipeline", "traced_sdk", "sdk_batch", "fastrace"];
    let mut rounds: Vec<Vec<Round>> = vec![Vec::new(); names.len()];
    // One warm-up round, not counted.
    for round in 0..=ROUNDS {
        for (i, name) in names.iter().enumerate() {
            let r = match *name {
                "traced_pipeline" => {
                    traced::set_pipeline_provider(ours.clone());
                    measure(
                        || {
                            for i in 0..SPANS {
                                black_box(work(black_box(i), black_box("hello")));
                            }
                        },
                        || ours.force_flush().expect("flush"),
                        &ours_count.0,
                    )
                }
                "traced_sdk" => {
                    traced::set_tracer_provider(traced_sdk.clone());
                    measure(
                        || {
                            for i in 0..SPANS {
                                black_box(work(black_box(i), black_box("hello")));
                            }
                        },
                        || traced_sdk.force_flush().expect("flush"),
                        &traced_sdk_count.0,
                    )
                }
                "sdk_batch" => measure(
                    || {
                        for i in 0..SPANS {
                            black_box(hand_written(&sdk_tracer, black_box(i), black_box("hello")));
                        }
                    },
                    || sdk.force_flush().expect("flush"),
                    &sdk_count.0,
                ),
                _ => measure(
                    || {
                        let mut i = 0;
                        while i < SPANS {
                            let root = fastrace::Span::root(
                                "root",
                                fastrace::collector::SpanContext::random(),
                            );
                            let _guard = root.set_local_parent();
                            // The root is one more span; it is not counted.
                            for _ in 0..CALLS_PER_ROOT.min(SPANS - i) {
                                black_box(fastrace_work(black_box(i), black_box("hello")));
                                i += 1;
                            }
                        }
                    },
                    fastrace::flush,
                    &fastrace_count,
                ),
            };
            if round > 0 {
                rounds[i].push(r);
            }
        }
    }
    // fastrace's count includes the roots; take them out.
    println!("yardstick ({allocator}, {SPANS} spans x {ROUNDS} rounds, median round; per span)");
    println!(
        "| contender | calling thread, wall | calling thread, CPU | CPU, all threads | exported |"
    );
    println!("| --- | ---: | ---: | ---: | ---: |");
    for (i, name) in names.iter().enumerate() {
        let r = &rounds[i];
        let mut exported = median(r.iter().map(|r| r.exported).collect());
        if *name == "fastrace" {
            exported = exported * CALLS_PER_ROOT as f64 / (CALLS_PER_ROOT + 1) as f64;
        }
        println!(
            "| {name} | {:.0} ns | {:.0} ns | {:.0} ns | {:.1}% |",
            median(r.iter().map(|r| r.wall_ns).collect()),
            median(r.iter().map(|r| r.thread_cpu_ns).collect()),
            median(r.iter().map(|r| r.process_cpu_ns).collect()),
            exported * 100.0,
        );
    }
    let _ = ours.shutdown();
    let _ = traced_sdk.shutdown();
    let _ = sdk.shutdown();
}
