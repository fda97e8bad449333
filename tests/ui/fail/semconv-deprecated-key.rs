use traced::traced;

#[traced(attributes(http.method = "GET"))]
fn handle() {}

fn main() {}
