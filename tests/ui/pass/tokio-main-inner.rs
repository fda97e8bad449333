use traced::traced;

#[tokio::main(flavor = "current_thread")]
#[traced]
async fn main() {
    let x: u8 = async { 1 }.await;
    assert_eq!(x, 1);
}
