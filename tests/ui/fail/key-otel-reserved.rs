use traced::traced;

#[traced(attributes(otel.status_code = "OK"))]
fn f() {}

fn main() {}
