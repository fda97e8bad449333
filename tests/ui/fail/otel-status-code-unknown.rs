use traced::traced;

#[traced(fields(otel.status_code = "failed"))]
fn f() {}

fn main() {}
