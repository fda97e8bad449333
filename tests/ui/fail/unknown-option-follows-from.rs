#![allow(unused_variables)]
use traced::traced;

#[traced(follows_from(cx))]
fn f(cx: &str) {}

fn main() {}
