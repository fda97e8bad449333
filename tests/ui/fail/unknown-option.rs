use traced::traced;

#[traced(atributes(user.id = 1))]
fn f() {}

fn main() {}
