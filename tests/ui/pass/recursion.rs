use std::future::Future;
use std::pin::Pin;
use traced::traced;

#[traced]
fn fib(n: u64) -> u64 {
    if n < 2 { n } else { fib(n - 1) + fib(n - 2) }
}

#[traced]
fn count_down(n: u64) -> Pin<Box<dyn Future<Output = u64> + Send>> {
    Box::pin(async move { if n == 0 { 0 } else { count_down(n - 1).await + 1 } })
}

fn main() {
    let _ = fib(5);
    let _ = count_down(3);
}
