use traced::traced;

struct Secretless;

#[traced]
fn f(settings: Secretless) {}

fn main() {}
