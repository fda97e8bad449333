#![deny(warnings)]
use traced::traced;

#[traced]
pub(crate) unsafe fn dangerous(x: u8) -> u8 {
    x
}

#[traced]
pub extern "C" fn exported(x: u32) -> u32 {
    x + 1
}

#[traced]
fn inner_attributes() -> u32 {
    #![allow(unused_variables)]
    let unused = 1;
    2
}

#[traced]
fn diverges() -> ! {
    panic!("never returns")
}

#[traced]
fn panics_in_value_position(x: u32) -> u32 {
    if x > 0 {
        return x;
    }
    unimplemented!()
}

#[traced]
fn only_panics(_x: u32) -> u32 {
    panic!("always")
}

fn main() {
    // SAFETY: `dangerous` has no precondition.
    let _ = unsafe { dangerous(1) };
    let _ = exported(1);
    let _ = inner_attributes();
    let _ = panics_in_value_position(1);
    if std::env::args().count() > 100 {
        let _ = only_panics(1);
        diverges();
    }
}
