#![deny(warnings, unused_qualifications, unused_braces, unused_results, clippy::pedantic)]
#![allow(clippy::unnecessary_wraps)]
use traced::traced;

#[traced]
fn f(id: u64) -> u64 {
    id
}

#[traced(ret, attributes(user.id = id))]
fn g(id: u64) -> Result<u64, std::io::Error> {
    Ok(id)
}

#[traced]
async fn h(id: u64) -> u64 {
    id
}

#[traced]
fn unit(id: u64) {
    let _ = id;
}

fn main() {
    let _ = f(1);
    let _ = g(1);
    let _ = h(1);
    unit(1);
}
