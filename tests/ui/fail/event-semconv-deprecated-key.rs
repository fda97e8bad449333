fn handle() {
    traced::event!("request", http.status_code = 200);
}

fn main() {
    handle();
}
