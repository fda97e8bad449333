use traced::traced;

#[traced(attributes(http.request.methd = "GET"))]
fn handle() {}

fn main() {}
