use traced::traced;

#[traced(ret, attributes(return = 1))]
fn f() -> u8 {
    1
}

fn main() {}
