use traced::traced;

#[traced(name = format!("user {}", 1))]
fn f() {}

fn main() {}
