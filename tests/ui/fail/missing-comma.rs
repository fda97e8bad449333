use traced::traced;

#[traced(ret skip_all)]
fn f(id: u64) -> u64 {
    id
}

fn main() {}
