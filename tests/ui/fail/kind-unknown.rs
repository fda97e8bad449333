use traced::traced;

#[traced(kind = serve)]
fn f() {}

fn main() {}
