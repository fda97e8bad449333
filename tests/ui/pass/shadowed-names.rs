#![deny(unused_qualifications, unused_braces)]
#![allow(dead_code, non_camel_case_types)]

struct Result;
struct Ok;
struct Err;
struct Option;
struct Some;
struct None;
struct Box;
struct Vec;
struct String;
mod core {}
mod std {}
mod opentelemetry {}
mod traced {}

#[::traced::traced]
fn f(x: u32, span: u8, cx: u8, guard: u8) -> ::core::result::Result<u32, ::std::io::Error> {
    let _ = (span, cx, guard);
    ::core::result::Result::Ok(x)
}

#[::traced::traced]
async fn g(x: u32) -> ::core::option::Option<u32> {
    ::core::option::Option::Some(x)
}

fn main() {
    let _ = f(1, 2, 3, 4);
    let _ = g(1);
}
