//! The checked-in semantic-conventions tables are what the generator makes
//! from the registry YAML (`../shared/semconv/model`). After a registry
//! update, `python3 scripts/semconv.py` regenerates them.

use std::path::Path;
use std::process::Command;

#[test]
fn generated_tables_are_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let out = Command::new("python3")
        .arg("scripts/semconv.py")
        .arg("--check")
        .current_dir(root)
        .output()
        .expect("the generator needs `python3` (with PyYAML) on the PATH");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
