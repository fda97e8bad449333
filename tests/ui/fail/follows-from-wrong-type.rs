use traced::traced;

#[traced(follows_from = [id])]
fn f(id: u64) {}

fn main() {}
