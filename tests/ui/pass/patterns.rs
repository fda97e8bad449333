use traced::traced;

#[derive(Debug, Clone, Copy)]
struct Pair(i32, i32);
#[derive(Debug)]
struct Point {
    x: i32,
    y: i32,
    z: i32,
}

#[traced]
fn tuple((a, b): (i32, i32)) -> i32 {
    a + b
}
#[traced]
fn nested((a, (b, c)): (i32, (i32, i32))) -> i32 {
    a + b + c
}
#[traced]
fn tuple_struct(Pair(a, b): Pair) -> i32 {
    a - b
}
#[traced]
fn struct_rest(Point { x, .. }: Point) -> i32 {
    x
}
#[traced]
fn reference(&n: &i32) -> i32 {
    n
}
#[traced]
fn slice([first, .., last]: [u8; 4]) -> u8 {
    first + last
}
#[traced]
fn wildcard(_: u8, mut kept: u8) -> u8 {
    kept += 1;
    kept
}

fn main() {
    let _ = tuple((1, 2));
    let _ = nested((1, (2, 3)));
    let _ = tuple_struct(Pair(1, 2));
    let _ = struct_rest(Point { x: 1, y: 2, z: 3 });
    let _ = reference(&1);
    let _ = slice([1, 2, 3, 4]);
    let _ = wildcard(1, 2);
}
