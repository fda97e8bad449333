use traced::traced;

#[traced(name = "")]
fn f() {}

fn main() {}
