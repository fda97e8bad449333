#![allow(unused_variables)]
use traced::traced;

#[traced(skip())]
fn f(id: u64) {}

fn main() {}
