use traced::traced;

#[traced(name = 42)]
fn f() {}

fn main() {}
