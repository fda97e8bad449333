#![deny(dead_code)]
use traced::traced;

#[traced]
fn never_called(id: u64) -> u64 {
    id
}

fn main() {}
