//! `benches/overhead.rs` with mimalloc as the global allocator: every
//! variant, pipeline and group the same, so that the ratios (our pipeline
//! against the SDK's and against fastrace) can be compared under both
//! glibc's malloc and mimalloc. Results go to `target/criterion-mimalloc`,
//! beside (not over) the glibc run's in `target/criterion`.
//!
//! ```text
//! cargo bench --bench overhead_mimalloc -- --warm-up-time 1 --measurement-time 3
//! ```

use criterion::Criterion;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

// Its own `main` (from `criterion_main!`) is replaced by the one below.
#[allow(dead_code)]
#[path = "overhead.rs"]
mod overhead;

fn main() {
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/criterion-mimalloc");
    let mut criterion = Criterion::default()
        .output_directory(&out)
        .configure_from_args();
    overhead::benches(&mut criterion);
    criterion.final_summary();
}
