use traced::traced;

struct Store;

#[traced]
impl Store {
    fn get(&self, input: &str) -> u32 {
        let n: u32 = input.parse()?;
        n
    }
}

fn main() {}
