//! Security properties that are about the code itself (#16): TLS
//! verification is never switched off, by any path in the runtime. (The
//! integrations' "no credential header in a span" is checked by the
//! tests of each: `http.rs`, `grpc.rs`, `scrubbing.rs`.)

use std::path::{Path, PathBuf};

fn sources(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read the sources") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

#[test]
fn no_code_path_turns_tls_verification_off() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["runtime/src", "src", "view/src"] {
        sources(&root.join(dir), &mut files);
    }
    assert!(files.len() > 20, "the sources were found: {files:?}");
    // rustls' escape hatch, reqwest's and tonic's switches, and a verifier
    // of our own that would accept anything.
    let forbidden = [
        ".dangerous()",
        "danger_accept_invalid_certs",
        "danger_accept_invalid_hostnames",
        "impl ServerCertVerifier",
        "impl rustls::client::danger::ServerCertVerifier",
    ];
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read");
        for pattern in forbidden {
            if text.contains(pattern) {
                found.push(format!("{}: {pattern}", file.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "TLS verification can be disabled: {found:?}"
    );
}
