//! The example programs, as the end-to-end tests run them.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

/// How long [`run`] lets an example run before it is a hang.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

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
    // Our own tests run strict: a value `init` would only warn about is a
    // failure here. A test of the lenient behaviour sets it to `false`.
    command.env("TRACED_CONFIG_STRICT", "true");
    command
}

/// Runs the example `name` with `args` and the `env` variables to its end
/// and returns what it printed; a run longer than [`RUN_TIMEOUT`] is killed
/// and fails the test.
pub fn run(name: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = command(name);
    command.args(args).envs(env.iter().copied());
    super::wait::output(
        &mut command,
        RUN_TIMEOUT,
        &format!("the example {name} {args:?} with {env:?}"),
    )
}
