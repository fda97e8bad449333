use traced::traced;

#[traced(attributes(.user.id = 1))]
fn f() {}

fn main() {}
