use traced::traced;

#[traced(err, errors = false)]
fn f() -> Result<(), String> {
    Ok(())
}

fn main() {}
