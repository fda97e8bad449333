//! Emits many spans quickly, for the end-to-end tests: `burst COUNT [PAUSE_MS]`.
//!
//! Each span is a `#[traced]` call; with `PAUSE_MS` the program sleeps that
//! long every 100 spans, so that a run can outlive a collector restart.

use std::time::{Duration, Instant};

use traced::traced;

#[traced]
fn unit_of_work(index: u64) -> u64 {
    index.wrapping_mul(31)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: u64 = args.next().as_deref().unwrap_or("10000").parse()?;
    let pause = Duration::from_millis(args.next().as_deref().unwrap_or("0").parse()?);
    let telemetry = traced::init()?;
    let started = Instant::now();
    let mut sum = 0_u64;
    for index in 0..count {
        sum = sum.wrapping_add(unit_of_work(index));
        if !pause.is_zero() && index % 100 == 99 {
            std::thread::sleep(pause);
        }
    }
    println!(
        "emitted {count} spans in {:?} (checksum {sum})",
        started.elapsed()
    );
    let flushing = Instant::now();
    drop(telemetry);
    println!("shut down in {:?}", flushing.elapsed());
    Ok(())
}
