use traced::traced;

#[traced]
async fn f(input: &str) -> u32 {
    let n: u32 = input.parse()?;
    n
}

fn main() {}
