use traced::traced;

#[traced(ret)]
fn f() -> () {}

fn main() {}
