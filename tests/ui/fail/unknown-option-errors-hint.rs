use traced::traced;

#[traced(record_errors)]
fn f() -> Result<(), String> {
    Ok(())
}

fn main() {}
