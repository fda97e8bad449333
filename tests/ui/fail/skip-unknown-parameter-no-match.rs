#![allow(unused_variables)]
use traced::traced;

#[traced(skip(body))]
fn load(user: &str, id: u64) {}

fn main() {}
