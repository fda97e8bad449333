#![allow(unused_variables)]
use traced::traced;

#[traced(skip(a), skip_all)]
fn f(a: u8) {}

fn main() {}
