// `metrics = false` (and `true`) with the other options, on every shape.
use traced::traced;

#[traced(metrics = false)]
fn quiet() -> Result<(), String> {
    Ok(())
}

#[traced(metrics = true, err, level = "debug")]
async fn measured(n: u32) -> Result<u32, std::io::Error> {
    Ok(n)
}

fn main() {
    let _ = quiet();
    let _ = measured(1);
}
