#![allow(unused_variables)]
use traced::traced;

#[traced(fields(user.id = id))]
fn f(id: u64) {}

fn main() {}
