fn main() {
    let ratio = "0.5";
    traced::event!("sampled", geo.location.lat = ratio);
}
