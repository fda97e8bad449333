use traced::traced;

#[traced(parent = id)]
fn f(id: u64) {}

fn main() {}
