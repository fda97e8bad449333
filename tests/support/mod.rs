//! Everything the integration tests share. A test file uses it with
//! `mod support;`; cargo does not build `tests/support/` as a test of its own.
//!
//! - [`spans`]: reading spans captured with `traced::testing` (attributes,
//!   exception events, status).
//! - [`wait`]: bounded waits on a real condition (a child's first line of
//!   output, a child's exit), each panicking with what it waited for when
//!   the time is up. No test sleeps to synchronise.
//! - [`collector`]: a real OpenTelemetry collector on loopback
//!   (`scripts/install-collector.sh` installs it on first use).
//! - [`metrics`]: the histogram data points and exemplars the collector
//!   received (`Collector::start_with_metrics`).
//! - [`examples`]: the example programs, as the end-to-end tests run them.
//! - [`postgres`]: a private PostgreSQL server on loopback
//!   (`scripts/install-postgresql.sh` installs it on first use).
//! - [`rabbitmq`]: a private RabbitMQ node on loopback
//!   (`scripts/install-rabbitmq.sh` installs it on first use).
//! - [`tls`]: a test CA (rcgen) and a TLS terminator in front of the
//!   collector.
//! - [`python`]: the OpenTelemetry Python SDK peer
//!   (`scripts/install-python-peer.sh` installs it on first use).
//! - [`view`]: `traced-view` in the test process, its output in memory.
//! - [`chromium`]: headless Chromium for the viewer's page
//!   (`scripts/install-chromium.sh` installs it on first use).
//!
//! Not every test file uses every helper.
#![allow(dead_code)]

pub mod chromium;
pub mod collector;
pub mod examples;
pub mod metrics;
pub mod postgres;
pub mod python;
pub mod rabbitmq;
pub mod spans;
pub mod tls;
pub mod view;
pub mod wait;

/// The 1-based number of the one line of `file` (a path as `file!()` gives
/// it) that starts with `code` once its indentation is removed, so a test
/// can compare a recorded `code.line.number` with the line it means
/// without hard-coding a number that any edit above it would break.
///
/// # Panics
///
/// When no line or more than one starts with `code`.
pub fn line_of(file: &str, code: &str) -> i64 {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let source = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let found: Vec<usize> = source
        .lines()
        .enumerate()
        .filter(|(_, line)| line.trim_start().starts_with(code))
        .map(|(index, _)| index + 1)
        .collect();
    match found.as_slice() {
        [line] => i64::try_from(*line).expect("a line number fits in i64"),
        _ => panic!("expected one line of {file} starting with {code:?}, found lines {found:?}"),
    }
}
