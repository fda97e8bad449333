use traced::traced;

#[traced(kind = server, kind = client)]
fn f() {}

fn main() {}
