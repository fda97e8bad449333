use traced::traced;

#[async_trait::async_trait]
trait Store {
    async fn get(&self, key: &str) -> Option<String>;
}

struct Memory;

#[async_trait::async_trait]
impl Store for Memory {
    #[traced]
    async fn get(&self, key: &str) -> Option<String> {
        Some(key.to_owned())
    }
}

trait Native {
    async fn load(&self, id: u64) -> u64;

    #[traced]
    fn default_method(&self, id: u64) -> u64 {
        id
    }

    #[traced]
    async fn default_async(&self, id: u64) -> u64 {
        id
    }
}

impl Native for Memory {
    #[traced]
    async fn load(&self, id: u64) -> u64 {
        id
    }
}

fn main() {
    let _ = Memory.get("k");
    let _ = Memory.load(1);
    let _ = Memory.default_method(1);
    let _ = Memory.default_async(1);
}
