//! The official OpenTelemetry Python SDK as a peer for the interoperability
//! tests: `scripts/install-python-peer.sh` installs it into
//! `target/python-venv` on first use, with grpcio, its OpenTelemetry
//! instrumentation and grpcio-tools; `tests/python/peer.py` (HTTP) and
//! `tests/python/grpc_peer.py` (gRPC) are the programs it runs, each a
//! client and a server.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The virtualenv's Python with the OpenTelemetry SDK, installed on demand.
///
/// # Panics
///
/// When the install script fails (it says why on stderr): a test that
/// needs the peer never skips.
pub fn python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(install).clone()
}

fn install() -> PathBuf {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("bash")
        .arg(format!("{root}/scripts/install-python-peer.sh"))
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("run scripts/install-python-peer.sh");
    assert!(
        out.status.success(),
        "installing the Python OpenTelemetry SDK failed; see above"
    );
    PathBuf::from(String::from_utf8(out.stdout).expect("utf-8").trim())
}

/// `tests/python/peer.py`.
pub fn peer() -> String {
    format!("{}/tests/python/peer.py", env!("CARGO_MANIFEST_DIR"))
}
