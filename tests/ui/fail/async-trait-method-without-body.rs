use traced::traced;

#[async_trait::async_trait]
trait Store {
    #[traced]
    async fn get(&self, key: &str) -> Option<String>;
}

fn main() {}
