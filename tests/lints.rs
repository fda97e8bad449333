//! Generated code stays quiet under the lints users commonly deny; `cargo
//! clippy --all-targets -- -D warnings` checks the clippy ones here.
#![deny(
    warnings,
    unused_qualifications,
    unused_braces,
    unused_results,
    clippy::pedantic,
    clippy::nursery
)]
#![allow(clippy::unnecessary_wraps, clippy::unused_async)]

use traced::traced;

#[traced]
fn plain(id: u64) -> u64 {
    id
}

#[traced(ret, attributes(user.id = id))]
fn with_options(id: u64) -> Result<u64, std::io::Error> {
    Ok(id)
}

#[traced]
async fn asynchronous(id: u64) -> u64 {
    id
}

#[traced]
fn unit(id: u64) {
    let _ = id;
}

struct S;

#[traced]
impl S {
    fn method(&self, x: u8) -> u8 {
        let _ = self;
        x
    }
}

#[test]
fn strict_lints_compile() {
    let _ = plain(1);
    let _ = with_options(1);
    drop(asynchronous(1));
    unit(1);
    let _ = S.method(1);
}
