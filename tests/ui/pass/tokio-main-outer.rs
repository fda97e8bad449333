use traced::traced;

#[traced]
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let x: u8 = async { 1 }.await;
    assert_eq!(x, 1);
}
