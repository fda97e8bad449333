use traced::traced;

#[traced(fields(user.id. = 1))]
fn f() {}

fn main() {}
