//! `benches/callgrind.rs` with mimalloc as the global allocator: the same
//! arguments and variants, for instruction counts under both glibc's
//! malloc and mimalloc.
//!
//! ```text
//! cargo bench --bench callgrind_mimalloc --no-run
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/deps/callgrind_mimalloc-<hash> VARIANT PIPELINE N
//! ```

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "callgrind.rs"]
mod callgrind;

fn main() {
    callgrind::main();
}
