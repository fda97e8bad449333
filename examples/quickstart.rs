//! The talk's first example: a call chain `a() -> b() -> c() -> d()` and its
//! failing twin, where `d` divides by zero.
//!
//! ```text
//! cargo run --example quickstart                      # prints the traces
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317 \
//!     cargo run --example quickstart                  # sends them over OTLP
//! ```

use std::fmt;

use traced::traced;

#[derive(Debug)]
enum MathError {
    DivisionByZero { dividend: i64 },
}

impl fmt::Display for MathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MathError::DivisionByZero { dividend } => write!(f, "cannot divide {dividend} by zero"),
        }
    }
}

impl std::error::Error for MathError {}

#[traced]
fn a(divisor: i64) -> Result<i64, MathError> {
    b(divisor).map(|x| x + 1)
}

#[traced]
fn b(divisor: i64) -> Result<i64, MathError> {
    c(divisor).map(|x| x * 2)
}

#[traced(attributes(calc.operation = "divide"))]
fn c(divisor: i64) -> Result<i64, MathError> {
    d(10, divisor)
}

#[traced(ret)]
fn d(dividend: i64, divisor: i64) -> Result<i64, MathError> {
    dividend
        .checked_div(divisor)
        .ok_or(MathError::DivisionByZero { dividend })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Console output unless OTEL_TRACES_EXPORTER or an OTLP endpoint is set.
    let _telemetry = traced::builder()
        .service_name("quickstart")
        .fallback_exporter(traced::Exporter::Console)
        .init()?;

    println!("a(2) = {:?}", a(2));
    println!("a(0) = {:?}", a(0));
    Ok(())
}
