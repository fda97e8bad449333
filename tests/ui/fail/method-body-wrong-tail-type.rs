use traced::traced;

struct Store;

impl Store {
    #[traced]
    fn get(&self, id: u64) -> String {
        id
    }
}

fn main() {}
