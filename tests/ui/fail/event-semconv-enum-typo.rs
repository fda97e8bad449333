fn query() {
    traced::event!("query", db.system.name = "mysq");
}

fn main() {
    query();
}
