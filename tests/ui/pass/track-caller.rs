#![deny(warnings)]
use std::panic::Location;
use traced::traced;

#[traced]
#[track_caller]
fn where_called() -> &'static Location<'static> {
    Location::caller()
}

#[traced]
#[track_caller]
fn early(x: u32) -> Result<u32, String> {
    if x == 0 {
        return Err("zero".into());
    }
    Ok(x)
}

fn main() {
    let here = Location::caller().line();
    let location = where_called();
    assert_eq!(location.line(), here + 1);
    assert_eq!(location.file(), file!());
    let _ = early(0);
}
