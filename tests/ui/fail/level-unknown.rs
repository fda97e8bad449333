use traced::traced;

#[traced(level = "verbose")]
fn f() {}

fn main() {}
