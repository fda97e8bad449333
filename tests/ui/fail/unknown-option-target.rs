use traced::traced;

#[traced(target = "db")]
fn f() {}

fn main() {}
