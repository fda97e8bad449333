use traced::traced;

#[traced(attributes(pprof.scope.sample_type_order = [1, "2"]))]
fn profile() {}

fn main() {}
