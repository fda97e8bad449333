use traced::traced;

#[traced(metrics = "off")]
fn f() -> Result<(), String> {
    Ok(())
}

fn main() {}
