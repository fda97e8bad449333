fn main() {
    traced::event!("saved", user::id = 1);
}
