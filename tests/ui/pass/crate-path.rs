// A crate that re-exports `traced` under another name.
mod telemetry {
    pub use ::traced as inner;
}

#[::traced::traced(crate = telemetry::inner)]
fn f(id: u64) -> u64 {
    id
}

fn main() {
    let _ = f(1);
}
