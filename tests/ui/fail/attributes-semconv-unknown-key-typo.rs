fn send() {
    traced::attributes!(messaging.destinaton.name = "orders");
}

fn main() {
    send();
}
