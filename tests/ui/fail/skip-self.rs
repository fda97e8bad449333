use traced::traced;

struct S;

impl S {
    #[traced(skip(self))]
    fn f(&self) {}
}

fn main() {}
