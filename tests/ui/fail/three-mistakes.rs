#![allow(unused_variables)]
use traced::traced;

#[traced(nmae = "x", kind = sever, skip(nope))]
fn f(id: u64) {}

fn main() {}
