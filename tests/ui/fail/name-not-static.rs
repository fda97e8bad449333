use traced::traced;

fn name() -> &'static str {
    "n"
}

#[traced(name = name())]
fn f() {}

fn main() {}
