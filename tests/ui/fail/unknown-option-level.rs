use traced::traced;

#[traced(level = "info")]
fn f() {}

fn main() {}
