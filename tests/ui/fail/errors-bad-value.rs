use traced::traced;

#[traced(errors = "no")]
fn f() -> Result<(), String> {
    Ok(())
}

fn main() {}
