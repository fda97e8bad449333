//! The example programs, as the end-to-end tests run them.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// An example program built by `cargo test` (it builds the examples too).
pub fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    let path = dir.join("examples").join(name);
    assert!(
        path.exists(),
        "{} is missing: run the suite with `cargo test --workspace`, which builds the examples",
        path.display()
    );
    path
}

/// A command for an example, with no `OTEL_*` variable inherited.
pub fn command(name: &str) -> Command {
    let mut command = Command::new(example(name));
    for key in std::env::vars()
        .map(|(k, _)| k)
        .filter(|k| k.starts_with("OTEL_"))
    {
        command.env_remove(key);
    }
    command
}
