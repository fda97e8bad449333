use traced::traced;

#[traced(attributes("" = 1))]
fn f() {}

fn main() {}
