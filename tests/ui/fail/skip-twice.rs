#![allow(unused_variables)]
use traced::traced;

#[traced(skip(id, id))]
fn load(id: u64) {}

fn main() {}
