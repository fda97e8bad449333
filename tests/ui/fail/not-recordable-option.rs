use traced::traced;

struct Secretless;

#[traced]
fn f(settings: Option<Secretless>) {}

fn main() {}
