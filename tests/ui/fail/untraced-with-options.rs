use traced::untraced;

#[untraced(x)]
fn f() {}

fn main() {}
