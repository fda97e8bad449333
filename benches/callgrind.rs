//! Calls one variant N times under one pipeline, for
//! `valgrind --tool=callgrind`, whose instruction counts are the same on a
//! busy machine as on an idle one:
//!
//! ```text
//! cargo bench --bench callgrind --no-run
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/deps/callgrind-<hash> VARIANT PIPELINE N
//! ```
//!
//! VARIANT: `none`, `hand_written` (global `BoxedTracer`),
//! `hand_written_sdk` (`SdkTracer`), `hand_written_code_attrs` (with the
//! three `code.*` attributes `#[traced]` records), `traced`,
//! `traced_tracing_layer` (`traced` under a subscriber with
//! `traced::tracing_layer()`, feature `tracing`), `tracing`, `bare_span`
//! (`tracer.start` and drop), `bare_span_current` (the same, made current).
//! `floor` (two `SystemTime::now()` and a thread-local write: the
//! wall-clock floor of a span), `context_floor` (the same, plus the span
//! made current through OpenTelemetry's `Context` and ended there: the
//! floor of any span the OpenTelemetry API must see),
//! `unsampled_context_floor` (an unsampled span context made current and
//! detached, no clock reads: the floor of an unsampled span whose
//! children must see the decision).
//! PIPELINE: `sampled_simple`, `sampled_simple_global` (the same provider
//! installed with `opentelemetry::global::set_tracer_provider` only), `unsampled`,
//! `traced_pipeline` and `traced_pipeline_unsampled` (our own pipeline,
//! sampled and `AlwaysOff`; callgrind counts every thread, so its figure
//! includes the export thread's work), `disabled` (nothing installed)
//! or `sdk_disabled` (`OTEL_SDK_DISABLED=true`); `traced_pipeline_otlp`
//! (our pipeline as `traced::init` sets it up, exporting over OTLP/gRPC
//! through its own exporter) and `traced_pipeline_otlp_sdk` (our pipeline
//! built by hand with `opentelemetry-otlp`'s gRPC exporter), both to a
//! counting receiver in this process (see [`Otlp`]). N: calls (default 10 000),
//! after 1 000 warm-up calls. Per-call cost: the difference between two
//! runs with different N divided by the difference in N, which cancels
//! start-up; `python3 scripts/bench-table.py --callgrind` does that.
//!
//! `TRACED_BENCH_METRICS=on` installs a meter provider (the SDK's, exporting
//! to memory once, at the end) through `traced::set_meter_provider`, so that
//! every `#[traced]` call also records its duration (#29): the difference
//! with the same run without it is what the per-function histogram costs.
//! Run natively (not under valgrind), the binary prints the calling
//! thread's wall time per call on stderr.

mod common;
mod counting;

use std::hint::black_box;

use common::{
    Pipeline, context_floor, floor, hand_written, hand_written_code_attrs, install_sdk_disabled,
    sdk_tracer, tracing_subscriber_for, tracing_work, unsampled_context_floor, work,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use opentelemetry::global;
use opentelemetry::trace::{Tracer as _, mark_span_as_active};

/// Runs VARIANT under PIPELINE N times (see the module docs); also run by
/// `callgrind_mimalloc.rs`.
pub fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let variant = args.first().map_or("traced", String::as_str);
    let pipeline_name = args.get(1).map_or("sampled_simple", String::as_str);
    let calls: u64 = args.get(2).map_or(10_000, |n| n.parse().expect("N"));
    let mut ours = None;
    let mut otlp = None;
    let provider = if let Some(exporter) = pipeline_name.strip_prefix("traced_pipeline_otlp") {
        otlp = Some(Otlp::start(exporter == "_sdk"));
        None
    } else if pipeline_name == "sdk_disabled" {
        install_sdk_disabled();
        None
    } else if let Some(pipeline) = Pipeline::from_name(pipeline_name).filter(|p| p.is_ours()) {
        ours = Some(pipeline.install_ours());
        None
    } else {
        Pipeline::from_name(pipeline_name)
            .expect("PIPELINE")
            .install()
    };
    let tracer = global::tracer("bench");
    let sdk = provider.as_ref().map(sdk_tracer);
    let dispatch = match (&provider, variant) {
        (Some(provider), "tracing") => tracing::Dispatch::new(tracing_subscriber_for(provider)),
        // `#[traced]` under a subscriber with `traced::tracing_layer()`.
        (_, "traced_tracing_layer") => {
            use tracing_subscriber::layer::SubscriberExt as _;
            tracing::Dispatch::new(tracing_subscriber::registry().with(traced::tracing_layer()))
        }
        _ => tracing::Dispatch::none(),
    };
    let _meters = (std::env::var("TRACED_BENCH_METRICS").as_deref() == Ok("on")).then(|| {
        // Exported only at the end: an hour apart.
        let reader = opentelemetry_sdk::metrics::PeriodicReader::builder(
            opentelemetry_sdk::metrics::InMemoryMetricExporter::default(),
        )
        .with_interval(std::time::Duration::from_secs(3600))
        .build();
        let provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder()
            .with_reader(reader)
            .build();
        traced::set_meter_provider(provider.clone());
        provider
    });
    let run = |n: u64| {
        for i in 0..n {
            match variant {
                "hand_written" => {
                    black_box(hand_written(&tracer, black_box(i), "hello"));
                }
                "hand_written_code_attrs" => {
                    black_box(hand_written_code_attrs(&tracer, black_box(i), "hello"));
                }
                "hand_written_sdk" => {
                    black_box(hand_written(
                        sdk.as_ref().expect("SDK"),
                        black_box(i),
                        "hello",
                    ));
                }
                "traced" | "traced_tracing_layer" => {
                    black_box(work(black_box(i), "hello"));
                }
                "tracing" => {
                    black_box(tracing_work(black_box(i), "hello"));
                }
                "bare_span" => {
                    drop(black_box(sdk.as_ref().expect("SDK").start("work")));
                }
                "bare_span_current" => {
                    let _guard = mark_span_as_active(sdk.as_ref().expect("SDK").start("work"));
                    black_box(i);
                }
                "floor" => {
                    black_box(floor(black_box(i), "hello"));
                }
                "context_floor" => {
                    black_box(context_floor(black_box(i), "hello"));
                }
                "unsampled_context_floor" => {
                    black_box(unsampled_context_floor(black_box(i), "hello"));
                }
                "none" => {
                    black_box(i);
                }
                other => panic!("unknown variant {other}"),
            }
        }
    };
    tracing::dispatcher::with_default(&dispatch, || {
        run(1_000);
        let start = std::time::Instant::now();
        run(calls);
        #[allow(clippy::cast_precision_loss)] // a figure for people to read
        let per_call = start.elapsed().as_nanos() as f64 / calls as f64;
        eprintln!("{variant} {pipeline_name}: {per_call:.1} ns per call (wall, calling thread)");
    });
    // Our pipeline: every span exported before the count ends, so that the
    // export thread's share is in it.
    if let Some(ours) = ours {
        ours.shutdown().expect("shutdown");
        assert_eq!(traced::dropped_spans(), 0, "the queue held every span");
    }
    if let Some(otlp) = otlp {
        otlp.finish(1_000 + calls);
    }
}

/// Our pipeline exporting over OTLP/gRPC to a counting receiver on
/// loopback in this process, for the export side's instructions with a
/// real exporter. The threads, in callgrind's numbering: 1 the calling
/// thread, 2 the receiver, then the export thread and the exporter's tokio
/// worker (the receiver's count is not the application's).
struct Otlp {
    count: Arc<AtomicU64>,
    telemetry: Option<traced::Telemetry>,
    by_hand: Option<(traced::PipelineProvider, tokio::runtime::Runtime)>,
    _receiver: std::thread::JoinHandle<()>,
}

impl Otlp {
    /// `sdk`: `opentelemetry-otlp`'s exporter on our pipeline, built by
    /// hand; otherwise `traced::init`'s own.
    fn start(sdk: bool) -> Otlp {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the receiver");
        let endpoint = format!(
            "http://{}",
            listener.local_addr().expect("receiver address")
        );
        // SAFETY: `set_var` is sound while no other thread reads or writes
        // the environment. This runs at the start of `main`, before the
        // receiver's thread below or any other thread exists (the
        // benchmark spawns none before this, and `traced`'s constructor
        // spawns none).
        unsafe {
            std::env::set_var("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint);
            std::env::set_var("OTEL_TRACES_EXPORTER", "otlp");
            std::env::set_var("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc");
            // The whole run fits: nothing is dropped for the count.
            std::env::set_var("OTEL_BSP_MAX_QUEUE_SIZE", "65536");
        }
        let count = Arc::new(AtomicU64::new(0));
        let receiver = {
            let count = count.clone();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("the receiver's runtime");
                runtime.block_on(async move {
                    listener.set_nonblocking(true).expect("a non-blocking listener");
                    let listener =
                        tokio::net::TcpListener::from_std(listener).expect("the listener");
                    let service = opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::TraceServiceServer::new(counting::Counting(count))
                        .max_decoding_message_size(64 * 1024 * 1024);
                    let _ = tonic::transport::Server::builder()
                        .add_service(service)
                        .serve_with_incoming(tonic::transport::server::TcpIncoming::from(
                            listener,
                        ))
                        .await;
                });
            })
        };
        let (telemetry, by_hand) = if sdk {
            use opentelemetry_otlp::WithExportConfig as _;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("the exporter's runtime");
            let exporter = {
                let _entered = runtime.enter();
                opentelemetry_otlp::SpanExporter::builder()
                    .with_tonic()
                    .with_endpoint(endpoint)
                    .build()
                    .expect("the SDK's exporter")
            };
            let provider = traced::PipelineProvider::builder()
                .with_exporter(exporter)
                .with_max_queue_size(1 << 16)
                .build()
                .expect("the export thread starts");
            traced::set_pipeline_provider(provider.clone());
            (None, Some((provider, runtime)))
        } else {
            let telemetry = traced::builder()
                .pipeline(traced::Pipeline::Traced)
                .init()
                .expect("init");
            (Some(telemetry), None)
        };
        Otlp {
            count,
            telemetry,
            by_hand,
            _receiver: receiver,
        }
    }

    /// Shuts the pipeline down (so every export is in the count) and
    /// checks that the receiver got all `spans`.
    fn finish(mut self, spans: u64) {
        drop(self.telemetry.take());
        if let Some((provider, runtime)) = self.by_hand.take() {
            provider.shutdown().expect("shutdown");
            drop(runtime);
        }
        assert_eq!(traced::dropped_spans(), 0, "every span was delivered");
        assert_eq!(
            self.count.load(Ordering::Relaxed),
            spans,
            "the receiver got every span"
        );
    }
}
