use traced::traced;

#[traced(attributes(otel.scope.name = "mine"))]
fn f() {}

fn main() {}
