use std::fmt::Debug;
use traced::traced;

#[traced]
fn with_where<'a, T>(items: &'a [T], n: usize) -> Option<&'a T>
where
    T: Debug + Clone,
{
    items.get(n)
}

#[traced]
fn const_generic<const N: usize>(values: [u8; N]) -> usize {
    values.len() + N
}

#[traced(skip(f))]
fn impl_arg(f: impl Fn(u8) -> u8, x: u8) -> u8 {
    f(x)
}

#[traced]
fn impl_return(n: u32) -> impl Iterator<Item = u32> {
    0..n
}

#[traced]
fn borrowing_iterator<'a>(words: &'a [String], prefix: &'a str) -> impl Iterator<Item = &'a String> + 'a {
    words.iter().filter(move |w| w.starts_with(prefix))
}

#[traced]
fn elided(s: &str) -> &str {
    &s[1..]
}

fn main() {
    let _ = with_where(&[1, 2], 1);
    let _ = const_generic([1, 2, 3]);
    let _ = impl_arg(|x| x + 1, 1);
    let _ = impl_return(3).count();
    let words = vec!["ab".to_owned()];
    let _ = borrowing_iterator(&words, "a").count();
    let _ = elided("abc");
}
