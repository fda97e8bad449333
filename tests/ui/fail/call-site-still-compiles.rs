use traced::traced;

// The options are wrong, but the function is kept as written: only our
// error is reported, not a missing `f` at the call below.
#[traced(bogus)]
fn f(id: u64) -> u64 {
    id
}

fn main() {
    let _ = f(1);
}
