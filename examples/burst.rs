//! Emits many spans quickly, for the end-to-end tests:
//! `burst COUNT [PAUSE_MS] [plain|current-thread|multi-thread]`.
//!
//! Each span is a `#[traced]` call; with `PAUSE_MS` the program sleeps that
//! long every 100 spans, so that a run can outlive a collector restart. The
//! last argument says where `traced::init()` runs and its guard is dropped:
//! in plain `main` (the default), or inside a tokio runtime of that flavour.

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
    let runtime = match args.next().as_deref() {
        None | Some("plain") => None,
        Some("current-thread") => Some(
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?,
        ),
        Some("multi-thread") => Some(
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?,
        ),
        Some(other) => return Err(format!("unknown runtime {other:?}").into()),
    };
    match runtime {
        // Everything, the guard's drop included, inside the runtime.
        Some(runtime) => runtime.block_on(async { emit(count, pause) }),
        None => emit(count, pause),
    }
}

fn emit(count: u64, pause: Duration) -> Result<(), Box<dyn std::error::Error>> {
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
