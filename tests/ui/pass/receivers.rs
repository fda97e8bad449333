use std::pin::Pin;
use traced::traced;

struct S(u32);

impl S {
    #[traced]
    fn by_value(self) -> u32 {
        self.0
    }
    #[traced]
    fn by_mut_value(mut self) -> u32 {
        self.0 += 1;
        self.0
    }
    #[traced]
    fn by_ref(&self) -> u32 {
        self.0
    }
    #[traced]
    fn by_mut(&mut self) {
        self.0 += 1;
    }
    #[traced]
    fn boxed(self: Box<Self>) -> u32 {
        self.0
    }
    #[traced]
    fn pinned(self: Pin<&mut Self>) -> u32 {
        self.0
    }
    #[traced]
    fn associated(x: u32) -> Self {
        S(x)
    }
}

fn main() {
    let mut s = S::associated(1);
    s.by_mut();
    let _ = s.by_ref();
    let mut s2 = S(2);
    let _ = Pin::new(&mut s2).pinned();
    let _ = Box::new(S(3)).boxed();
    let _ = S(4).by_mut_value();
    let _ = s.by_value();
}
