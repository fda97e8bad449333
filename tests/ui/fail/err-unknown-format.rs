use traced::traced;

#[traced(err(Json))]
fn f() -> Result<(), String> {
    Ok(())
}

fn main() {}
