use traced::traced;

#[traced]
async fn f(id: u64) -> String {
    id
}

fn main() {}
