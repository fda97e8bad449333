use traced::traced;

#[traced(kind = "server")]
fn f() {}

fn main() {}
