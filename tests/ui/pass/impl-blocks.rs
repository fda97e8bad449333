use traced::{traced, untraced};

trait Greeter {
    fn greet(&self, name: &str) -> String;
}

struct English;

#[traced]
impl English {
    fn new() -> Self {
        English
    }

    #[traced(name = "English::shout", ret)]
    fn shout(&self, word: &str) -> String {
        word.to_uppercase()
    }

    #[untraced]
    fn helper(&self) -> u8 {
        1
    }

    const fn constant() -> u8 {
        2
    }
}

#[traced(skip_all)]
impl Greeter for English {
    fn greet(&self, name: &str) -> String {
        format!("hello {name}")
    }
}

fn main() {
    let e = English::new();
    let _ = e.shout("a");
    let _ = e.helper() + English::constant();
    let _ = e.greet("x");
}
