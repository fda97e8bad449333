use traced::traced;

#[traced]
async fn f(id: u64) -> u32 {
    if id == 0 {
        return "zero";
    }
    1
}

fn main() {}
