use traced::traced;

#[traced]
async fn f(id: u64) {
    id
}

fn main() {}
