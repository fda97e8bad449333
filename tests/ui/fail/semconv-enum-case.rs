use traced::traced;

#[traced(attributes(http.request.method = "get"))]
fn handle() {}

fn main() {}
