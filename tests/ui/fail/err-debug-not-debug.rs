use traced::traced;

struct Opaque;

#[traced(err(Debug))]
fn f() -> Result<(), Opaque> {
    Ok(())
}

fn main() {}
