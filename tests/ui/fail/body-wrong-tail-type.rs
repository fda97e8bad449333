use traced::traced;

#[traced]
fn f(id: u64) -> String {
    id
}

fn main() {}
