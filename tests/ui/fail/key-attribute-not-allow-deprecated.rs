use traced::traced;

#[traced(attributes(#[allow(semconv)] http.request.method = "GET"))]
fn handle() {}

fn main() {}
