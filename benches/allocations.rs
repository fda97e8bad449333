//! Heap allocations per call, counted by a global allocator: hand-written
//! OpenTelemetry against `#[traced]` and `tracing` + `tracing-opentelemetry`,
//! sampled (simple processor, no-op exporter), then unsampled and disabled
//! for reference. Prints a table and writes
//! `target/criterion/allocations.json` for `scripts/bench-table.py`.
//!
//! ```text
//! cargo bench --bench allocations
//! ```

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{
    Pipeline, hand_written, hand_written_code_attrs, sdk_tracer, tracing_subscriber_for,
    tracing_work, work,
};
use opentelemetry::global;

/// Counts allocations (and reallocations), then asks the system allocator.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: `GlobalAlloc`'s contract is about the memory handed out. Every
// method forwards to `System` with the caller's arguments unchanged and
// returns `System`'s result unchanged, so every block comes from `System`
// and goes back to it with the layout it was allocated with: `System`'s
// guarantees are ours. The counters are atomics (no allocation, no lock, no
// reentrancy into the allocator) and have no effect on the memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded as is; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` (every allocation above
        // is) with `layout`, as the caller guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded as is; the caller upholds the contract.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size, Ordering::Relaxed);
        // SAFETY: `ptr` came from `System` with `layout`; the caller upholds
        // `realloc`'s contract for `new_size`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const CALLS: usize = 10_000;

/// (allocations, bytes) per call, after warm-up calls (which fill call
/// site caches and thread locals).
fn per_call(mut f: impl FnMut()) -> (f64, f64) {
    for _ in 0..1_000 {
        f();
    }
    let calls = ALLOCATIONS.load(Ordering::Relaxed);
    let bytes = BYTES.load(Ordering::Relaxed);
    for _ in 0..CALLS {
        f();
    }
    (
        (ALLOCATIONS.load(Ordering::Relaxed) - calls) as f64 / CALLS as f64,
        (BYTES.load(Ordering::Relaxed) - bytes) as f64 / CALLS as f64,
    )
}

fn main() {
    let mut rows: Vec<(&str, &str, (f64, f64))> = Vec::new();

    // Nothing installed (must come first: a provider cannot be uninstalled).
    let tracer = global::tracer("bench");
    rows.push((
        "disabled",
        "hand_written",
        per_call(|| {
            black_box(hand_written(&tracer, black_box(7), "hello"));
        }),
    ));
    rows.push((
        "disabled",
        "traced",
        per_call(|| {
            black_box(work(black_box(7), "hello"));
        }),
    ));

    for pipeline in [Pipeline::Unsampled, Pipeline::SampledSimple] {
        let provider = pipeline.install().expect("provider");
        let name = pipeline.name();
        let tracer = global::tracer("bench");
        let sdk = sdk_tracer(&provider);
        rows.push((
            name,
            "hand_written",
            per_call(|| {
                black_box(hand_written(&tracer, black_box(7), "hello"));
            }),
        ));
        rows.push((
            name,
            "hand_written_sdk",
            per_call(|| {
                black_box(hand_written(&sdk, black_box(7), "hello"));
            }),
        ));
        rows.push((
            name,
            "hand_written_code_attrs",
            per_call(|| {
                black_box(hand_written_code_attrs(&tracer, black_box(7), "hello"));
            }),
        ));
        rows.push((
            name,
            "traced",
            per_call(|| {
                black_box(work(black_box(7), "hello"));
            }),
        ));
        let tracing = tracing::subscriber::with_default(tracing_subscriber_for(&provider), || {
            per_call(|| {
                black_box(tracing_work(black_box(7), "hello"));
            })
        });
        rows.push((name, "tracing", tracing));
        let _ = provider.shutdown();
    }

    println!("allocations per call (no-op exporter; simple processor when sampled)");
    println!(
        "{:<16} {:<24} {:>12} {:>12}",
        "pipeline", "variant", "allocations", "bytes"
    );
    for (pipeline, variant, (count, bytes)) in &rows {
        println!("{pipeline:<16} {variant:<24} {count:>12.2} {bytes:>12.1}");
    }

    let entries: Vec<String> = rows
        .iter()
        .map(|(pipeline, variant, (count, bytes))| {
            format!(
                "  {{\"pipeline\": \"{pipeline}\", \"variant\": \"{variant}\", \
                 \"allocations\": {count}, \"bytes\": {bytes}}}"
            )
        })
        .collect();
    let json = format!("[\n{}\n]\n", entries.join(",\n"));
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/criterion");
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(dir.join("allocations.json"), json));
    if let Err(err) = written {
        eprintln!("could not write target/criterion/allocations.json: {err}");
    }
}
