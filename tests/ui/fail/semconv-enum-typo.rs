use traced::traced;

#[traced(attributes(db.system.name = "postgres"))]
fn query() {}

fn main() {}
