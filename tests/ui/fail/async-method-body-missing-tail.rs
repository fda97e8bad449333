use traced::traced;

struct Store;

#[traced]
impl Store {
    async fn get(&self, id: u64) -> u64 {
        id + 1;
    }
}

fn main() {}
