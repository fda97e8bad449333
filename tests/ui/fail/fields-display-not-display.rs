use traced::traced;

struct Opaque;

#[traced(skip(value), fields(value = %value))]
fn f(value: Opaque) {}

fn main() {}
