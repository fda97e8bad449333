use traced::traced;

struct Store;

impl Store {
    #[traced]
    async fn get(&self, id: u64) -> u32 {
        if id == 0 {
            return "zero";
        }
        1
    }
}

fn main() {}
