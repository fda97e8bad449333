use traced::traced;

#[traced]
enum Kind {
    A,
}

fn main() {}
