use traced::traced;

struct Secretless;

#[traced]
fn f(items: Vec<Secretless>) {}

fn main() {}
