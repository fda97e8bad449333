// `async fn` returning `impl Trait`: the opaque type cannot be written in a
// `let` or a closure parameter, so the expansion must not need to name it.
use std::fmt::Display;
use std::future::Future;
use traced::traced;

#[traced]
async fn numbers(n: u32) -> impl Iterator<Item = u32> {
    0..n
}

#[traced]
async fn shown(n: u32) -> impl Display {
    n
}

#[traced]
async fn later(n: u32) -> impl Future<Output = u32> {
    async move { n + 1 }
}

#[traced]
async fn borrowed<'a>(words: &'a [String]) -> impl Iterator<Item = &'a String> + 'a {
    words.iter().filter(|w| !w.is_empty())
}

#[traced(ret)]
async fn fallible(n: u32) -> Result<impl Display, std::io::Error> {
    if n == 0 {
        return Err(std::io::Error::other("zero"));
    }
    Ok(n)
}

// A stream-like trait of the user's own.
trait Source {
    fn next_item(&mut self) -> Option<u32>;
}

struct Counter(u32);

impl Source for Counter {
    fn next_item(&mut self) -> Option<u32> {
        self.0 += 1;
        Some(self.0)
    }
}

#[traced]
async fn source(start: u32) -> impl Source + Send {
    Counter(start)
}

struct Service;

impl Service {
    #[traced]
    async fn items(&self, n: u32) -> impl Iterator<Item = u32> + '_ {
        (0..n).map(|i| i * 2)
    }
}

fn assert_send<F: Future + Send>(f: F) -> F {
    f
}

fn main() {
    let _ = assert_send(numbers(3));
    let _ = assert_send(shown(3));
    let _ = assert_send(later(3));
    let words = vec!["a".to_owned()];
    let _ = assert_send(borrowed(&words));
    let _ = assert_send(fallible(1));
    let _ = assert_send(source(1));
    let _ = assert_send(Service.items(2));
}
