use traced::traced;

#[traced(attributes(user.id = 42))]
fn login() {}

fn main() {}
