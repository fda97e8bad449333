use traced::traced;

#[traced(ret)]
fn f() -> ! {
    panic!()
}

fn main() {}
