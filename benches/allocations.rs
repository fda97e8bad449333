//! Heap allocations per sampled call (simple processor, no-op exporter):
//! hand-written OpenTelemetry against `#[traced]` and `tracing`. Prints a
//! table and writes `target/criterion/allocations.json` for the report.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Pipeline, hand_written, tracing_work, work};
use opentelemetry::global;
use tracing_subscriber::layer::SubscriberExt as _;

/// Counts allocations, then asks the system allocator.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees hold; the counter has no effect on the
// memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded as is; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through `alloc` above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded as is.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: `ptr` came from `System`; the caller upholds `realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const CALLS: usize = 10_000;

fn per_call(mut f: impl FnMut()) -> f64 {
    for _ in 0..100 {
        f();
    }
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..CALLS {
        f();
    }
    (ALLOCATIONS.load(Ordering::Relaxed) - before) as f64 / CALLS as f64
}

fn main() {
    let provider = Pipeline::SampledSimple.install().expect("provider");
    let tracer = global::tracer("bench");
    let hand = per_call(|| {
        hand_written(&tracer, black_box(7), "hello");
    });
    let traced = per_call(|| {
        work(black_box(7), "hello");
    });
    let subscriber =
        tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(
            opentelemetry::trace::TracerProvider::tracer(&provider, "tracing"),
        ));
    let tracing = tracing::subscriber::with_default(subscriber, || {
        per_call(|| {
            tracing_work(black_box(7), "hello");
        })
    });
    println!("allocations per sampled call (simple processor, no-op exporter)");
    println!("  hand_written  {hand:.2}");
    println!("  traced        {traced:.2}");
    println!("  tracing       {tracing:.2}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/criterion");
    let _ = std::fs::create_dir_all(&dir);
    let json =
        format!("{{\"hand_written\": {hand}, \"traced\": {traced}, \"tracing\": {tracing}}}\n");
    if let Err(err) = std::fs::write(dir.join("allocations.json"), json) {
        eprintln!("could not write allocations.json: {err}");
    }
}
