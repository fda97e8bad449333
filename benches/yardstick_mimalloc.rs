//! `benches/yardstick.rs` with mimalloc as the global allocator (#24
//! compares under both glibc's malloc and mimalloc).
//!
//! ```text
//! cargo bench --bench yardstick_mimalloc
//! ```

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

// Its own `main` is replaced by the one below.
#[allow(dead_code)]
#[path = "yardstick.rs"]
mod yardstick;

fn main() {
    yardstick::run("mimalloc");
}
