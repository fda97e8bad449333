use traced::traced;

const NAME: &str = "n";

#[traced(name = NAME)]
fn f() {}

fn main() {}
