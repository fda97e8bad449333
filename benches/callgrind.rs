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
//! wall-clock floor of a span).
//! PIPELINE: `sampled_simple`, `sampled_simple_global` (the same provider
//! installed with `opentelemetry::global::set_tracer_provider` only), `unsampled`,
//! `traced_pipeline` and `traced_pipeline_unsampled` (our own pipeline,
//! sampled and `AlwaysOff`; callgrind counts every thread, so its figure
//! includes the export thread's work), `disabled` (nothing installed)
//! or `sdk_disabled` (`OTEL_SDK_DISABLED=true`). N: calls (default 10 000),
//! after 1 000 warm-up calls. Per-call cost: the difference between two
//! runs with different N divided by the difference in N, which cancels
//! start-up; `python3 scripts/bench-table.py --callgrind` does that.

mod common;

use std::hint::black_box;

use common::{
    Pipeline, floor, hand_written, hand_written_code_attrs, install_sdk_disabled, sdk_tracer,
    tracing_subscriber_for, tracing_work, work,
};
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
    let provider = if pipeline_name == "sdk_disabled" {
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
                "none" => {
                    black_box(i);
                }
                other => panic!("unknown variant {other}"),
            }
        }
    };
    tracing::dispatcher::with_default(&dispatch, || {
        run(1_000);
        run(calls);
    });
    // Our pipeline: every span exported before the count ends, so that the
    // export thread's share is in it.
    if let Some(ours) = ours {
        ours.shutdown().expect("shutdown");
        assert_eq!(traced::dropped_spans(), 0, "the queue held every span");
    }
}
