use traced::traced;

#[traced(attributes(user.id = 1, user.id = 2))]
fn f() {}

fn main() {}
