//! The viewer under load (#17): 20 000 spans a second for 10 seconds from
//! four exporters over gRPC, to the `traced-view` binary on loopback. No
//! export may be rejected, each must be answered quickly, and the
//! viewer's memory must stay bounded while it lets old traces go.

use std::io::{BufRead as _, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

const EXPORTERS: u64 = 4;
/// Batches each exporter sends, one every [`EVERY`].
const BATCHES: u64 = 500;
const EVERY: Duration = Duration::from_millis(20);
const TRACES_PER_BATCH: u64 = 10;
const SPANS_PER_TRACE: u64 = 10;
/// The whole run, sending included, must end within this.
const RUN_MAX: Duration = Duration::from_secs(60);
/// The viewer's resident memory may not pass this (a debug build).
const RSS_MAX_KB: u64 = 512 * 1024;
/// The viewer's default span limit.
const SPANS_HELD_MAX: u64 = 50_000;

struct Viewer(Child);

impl Drop for Viewer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The banner line; the rest of the output is read and dropped.
fn banner(stdout: impl Read + Send + 'static) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let _ = tx.send(reader.read_line(&mut line).map(|_| line));
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the viewer printed its addresses")
        .expect("read the banner")
}

fn field<'a>(banner: &'a str, key: &str) -> &'a str {
    banner
        .split_whitespace()
        .find_map(|w| w.strip_prefix(key))
        .unwrap_or_else(|| panic!("no {key} in {banner:?}"))
}

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn batch(exporter: u64, n: u64) -> ExportTraceServiceRequest {
    let mut spans = Vec::new();
    let t0 = 1_700_000_000_000_000_000u64 + n * 1_000_000;
    for t in 0..TRACES_PER_BATCH {
        let trace = ((exporter as u128) << 96 | (n as u128) << 32 | t as u128 | 1 << 127)
            .to_be_bytes()
            .to_vec();
        for s in 0..SPANS_PER_TRACE {
            spans.push(Span {
                trace_id: trace.clone(),
                span_id: (s + 1).to_be_bytes().to_vec(),
                parent_span_id: if s == 0 {
                    Vec::new()
                } else {
                    1u64.to_be_bytes().to_vec()
                },
                name: format!("span {s}"),
                kind: 1,
                start_time_unix_nano: t0 + s * 1_000,
                end_time_unix_nano: t0 + s * 1_000 + 500,
                attributes: vec![KeyValue {
                    key: "load.n".into(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::IntValue(n as i64)),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            });
        }
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![KeyValue {
                    key: "service.name".into(),
                    value: Some(AnyValue {
                        value: Some(any_value::Value::StringValue(format!("load-{exporter}"))),
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[test]
fn twenty_thousand_spans_a_second_for_ten_seconds() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_traced-view"))
        .args([
            "--grpc",
            "127.0.0.1:0",
            "--http",
            "off",
            "--ui",
            "127.0.0.1:0",
        ])
        .args(["--quiet", "200ms", "--no-color"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start traced-view");
    let stdout = child.stdout.take().expect("stdout");
    let viewer = Viewer(child);
    let banner = banner(stdout);
    let grpc = format!("http://{}", field(&banner, "grpc="));
    let ui = field(&banner, "ui=").to_owned();
    let pid = viewer.0.id();

    // Memory, sampled while the load runs.
    let done = Arc::new(AtomicBool::new(false));
    let samples = Arc::new(Mutex::new(Vec::new()));
    let sampler = {
        let (done, samples) = (done.clone(), samples.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                samples.lock().unwrap().push(rss_kb(pid));
                std::thread::park_timeout(Duration::from_millis(250));
            }
        })
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let began = Instant::now();
    let latencies: Vec<Duration> = runtime.block_on(async {
        let mut tasks = Vec::new();
        for exporter in 0..EXPORTERS {
            let grpc = grpc.clone();
            tasks.push(tokio::spawn(async move {
                let mut client = TraceServiceClient::connect(grpc).await.expect("connect");
                let mut every = tokio::time::interval(EVERY);
                let mut took = Vec::with_capacity(BATCHES as usize);
                for n in 0..BATCHES {
                    every.tick().await;
                    let request = batch(exporter, n);
                    let sent = Instant::now();
                    let response = client
                        .export(request)
                        .await
                        .unwrap_or_else(|e| panic!("export {n} of exporter {exporter}: {e}"))
                        .into_inner();
                    took.push(sent.elapsed());
                    let rejected = response.partial_success.map_or(0, |p| p.rejected_spans);
                    assert_eq!(rejected, 0, "export {n} of exporter {exporter}");
                }
                took
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            all.extend(
                tokio::time::timeout(RUN_MAX, task)
                    .await
                    .expect("the load finished in time")
                    .expect("an exporter"),
            );
        }
        all
    });
    let sending = began.elapsed();
    done.store(true, Ordering::Relaxed);
    sampler.thread().unpark();
    sampler.join().expect("the sampler");

    let stats: serde_json::Value = runtime.block_on(async {
        let body = reqwest::Client::new()
            .get(format!("{ui}api/traces?limit=1"))
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .expect("the stats")
            .bytes()
            .await
            .expect("the stats body");
        serde_json::from_slice(&body).expect("stats JSON")
    });
    let sent = EXPORTERS * BATCHES * TRACES_PER_BATCH * SPANS_PER_TRACE;
    let samples = samples.lock().unwrap().clone();
    let rss_max = samples.iter().copied().max().unwrap_or(0);
    let mut sorted = latencies.clone();
    sorted.sort();
    eprintln!(
        "load: {sent} spans in {sending:.2?} ({:.0} spans/s); export round trip p50 {:?} p99 {:?} max {:?}; \
         viewer handling mean {} ns max {} ns; RSS max {} MiB (samples {:?} kB); stats {}",
        sent as f64 / sending.as_secs_f64(),
        percentile(&sorted, 0.5),
        percentile(&sorted, 0.99),
        sorted.last().copied().unwrap_or_default(),
        stats["exports"]["handling_mean_ns"],
        stats["exports"]["handling_max_ns"],
        rss_max / 1024,
        samples,
        stats["stats"],
    );
    assert_eq!(stats["stats"]["spans_received"], sent, "every span arrived");
    assert_eq!(stats["exports"]["rejected_spans"], 0);
    assert!(
        stats["stats"]["spans_held"].as_u64().unwrap() <= SPANS_HELD_MAX,
        "{stats}"
    );
    assert!(rss_max > 0 && rss_max <= RSS_MAX_KB, "RSS {rss_max} kB");
    assert!(sending < RUN_MAX);
}
