use traced::traced;

#[traced(attributes(user.Id = 1))]
fn f() {}

fn main() {}
