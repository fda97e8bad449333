use traced::traced;

#[traced(attributes(user.id = "a", user.id = "b"))]
fn f() {}

fn main() {}
