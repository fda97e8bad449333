use traced::traced;

#[traced]
async fn f(id: u64) -> u64 {
    id + 1;
}

fn main() {}
