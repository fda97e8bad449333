use traced::traced;

#[traced(attributes(faas.coldstart = "true"))]
fn invoke() {}

fn main() {}
