#![allow(unused_variables)]
use traced::traced;

#[traced(fields(http.response.status_code = %code))]
fn f(code: u16) {}

fn main() {}
