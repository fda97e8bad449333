use traced::traced;

#[traced(attributes(http.target = "/search?q=otel"))]
fn handle() {}

fn main() {}
