//! Headless Chromium for the viewer's page test:
//! `scripts/install-chromium.sh` installs Debian's `chromium` on first use
//! (`TRACED_CHROMIUM_BIN` names another binary). The page keeps its state
//! in the address and in `data-*` attributes, so the DOM Chromium dumps
//! after the page has loaded is what a user would see after the clicks the
//! address stands for.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use super::wait;

/// How long one Chromium run may take.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(60);

/// The Chromium binary, installed on demand.
///
/// # Panics
///
/// When the install script fails (it says why on stderr): the test never
/// skips.
pub fn chromium() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let root = env!("CARGO_MANIFEST_DIR");
        let out = Command::new("bash")
            .arg(format!("{root}/scripts/install-chromium.sh"))
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .expect("run scripts/install-chromium.sh");
        assert!(
            out.status.success(),
            "installing Chromium failed; see above"
        );
        PathBuf::from(String::from_utf8(out.stdout).expect("utf-8").trim())
    })
    .clone()
}

/// Headless Chromium with a fresh profile in `profile`, kept off the
/// network but for `url` (the flags from `notes/services.md`), given
/// `budget` of virtual time for the page's own requests to finish.
fn command(profile: &Path, budget: Duration) -> Command {
    let mut command = Command::new(chromium());
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,900",
    ]);
    command.arg(format!("--user-data-dir={}", profile.display()));
    command.arg(format!("--virtual-time-budget={}", budget.as_millis()));
    command
}

/// The DOM of `url` once its scripts have run.
///
/// # Panics
///
/// When Chromium fails or runs over [`RUN_TIMEOUT`].
pub fn dump_dom(url: &str, profile: &Path) -> String {
    let mut command = command(profile, Duration::from_secs(5));
    command.arg("--dump-dom").arg(url);
    let out = wait::output(
        &mut command,
        RUN_TIMEOUT,
        &format!("chromium --dump-dom {url}"),
    );
    assert!(
        out.status.success(),
        "chromium --dump-dom {url} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A PNG of `url` at 1400×900 into `file`.
///
/// # Panics
///
/// When Chromium fails, runs over [`RUN_TIMEOUT`] or writes no file.
pub fn screenshot(url: &str, profile: &Path, file: &Path) {
    let mut command = command(profile, Duration::from_secs(5));
    command
        .arg(format!("--screenshot={}", file.display()))
        .arg(url);
    let out = wait::output(
        &mut command,
        RUN_TIMEOUT,
        &format!("chromium --screenshot {url}"),
    );
    assert!(
        out.status.success() && file.exists(),
        "chromium --screenshot {url} wrote no {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}
