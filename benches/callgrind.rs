//! Instruction counts per call, for `valgrind --tool=callgrind`, which
//! counts the same on a busy machine as on an idle one:
//!
//! ```text
//! cargo bench --bench callgrind --no-run
//! valgrind --tool=callgrind target/release/deps/callgrind-* VARIANT PIPELINE
//! ```
//!
//! VARIANT is `none`, `hand_written`, `traced` or `bare_span`; PIPELINE is
//! `sampled_simple`, `unsampled` or `disabled`. Each run makes 10 000 calls
//! after 1 000 warm-up calls; subtract the `none` run and divide by 10 000.

mod common;

use std::hint::black_box;

use common::{Pipeline, hand_written, work};
use opentelemetry::global;
use opentelemetry::trace::{Span as _, Tracer as _};

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let variant = args.first().map_or("traced", String::as_str);
    let pipeline = match args.get(1).map_or("sampled_simple", String::as_str) {
        "unsampled" => Pipeline::Unsampled,
        "disabled" => Pipeline::Disabled,
        "sampled_batch" => Pipeline::SampledBatch,
        _ => Pipeline::SampledSimple,
    };
    let _provider = pipeline.install();
    let tracer = global::tracer("bench");
    let run = |n: u64| {
        for i in 0..n {
            match variant {
                "hand_written" => {
                    black_box(hand_written(&tracer, black_box(i), "hello"));
                }
                "traced" => {
                    black_box(work(black_box(i), "hello"));
                }
                "bare_span" => {
                    let mut span = tracer.start("work");
                    span.end();
                }
                _ => {
                    black_box(i);
                }
            }
        }
    };
    run(1_000);
    run(10_000);
}
