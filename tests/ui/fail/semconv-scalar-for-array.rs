use traced::traced;

#[traced(attributes("http.request.header.accept" = "application/json"))]
fn handle() {}

fn main() {}
