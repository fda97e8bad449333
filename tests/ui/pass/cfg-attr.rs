#[cfg_attr(not(feature = "never-enabled"), traced::traced)]
fn f(id: u64) -> u64 {
    id
}

#[cfg_attr(feature = "never-enabled", traced::traced(bogus))]
fn g(id: u64) -> u64 {
    id
}

fn main() {
    let _ = f(1) + g(2);
}
