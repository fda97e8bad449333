fn handle() {
    traced::attributes!(http.response.status_code = "200");
}

fn main() {
    handle();
}
