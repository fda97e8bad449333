use traced::traced;

#[traced(attributes(http.response.status_code = "200"))]
fn handle() {}

fn main() {}
