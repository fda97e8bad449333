use traced::traced;

#[traced]
struct User {
    id: u64,
}

fn main() {}
