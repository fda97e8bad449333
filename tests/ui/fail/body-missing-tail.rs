use traced::traced;

#[traced]
fn f(id: u64) -> u64 {
    id + 1;
}

fn main() {}
