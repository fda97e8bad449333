use traced::traced;

#[traced(attributes(http.response.status_code = code))]
fn handle(code: String) {}

fn main() {}
