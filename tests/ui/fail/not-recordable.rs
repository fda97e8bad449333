use traced::traced;

struct Secretless;

#[traced]
fn f(value: Secretless) {}

fn main() {}
