use traced::traced;

#[traced(attributes(geo.location.lat = 48))]
fn locate() {}

fn main() {}
