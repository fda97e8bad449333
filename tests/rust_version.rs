//! `rust-version` tells the truth (issue #26): for every feature set of the
//! facade — the lean build, each feature alone, the defaults — no
//! dependency that set builds declares a newer `rust-version` than we do.
//! The workspace declares what the default features need; a feature that
//! needs more says so in the README's feature table (the `Rust` column),
//! and that cell must name exactly what the feature needs.
//!
//! Which packages a feature set builds comes from `cargo tree -e
//! normal,build`: `cargo metadata` resolves with the dev-dependencies, and
//! ours turn on every feature of the facade, so its graph cannot tell one
//! feature set from another. Each package's declared `rust-version` comes
//! from `cargo metadata`. Both only read manifests (no build); `--offline`
//! is tried first, so the test runs without a network once the
//! dependencies are fetched. Only the host's dependencies are seen (Linux
//! in CI); a dependency for another platform is not checked.
//!
//! This covers what our dependencies declare. What our own code needs of
//! the standard library is clippy's `incompatible_msrv` lint, which CI runs
//! with warnings denied.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::process::Command;
use std::thread;

use serde_json::Value;

/// A `rust-version`: `1.88` and `1.88.0` are equal.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
struct RustVersion([u64; 3]);

impl RustVersion {
    fn parse(text: &str) -> RustVersion {
        let mut parts = [0; 3];
        for (i, part) in text.trim().split('.').enumerate() {
            assert!(i < 3, "rust-version {text:?} has more than three parts");
            parts[i] = part
                .parse()
                .unwrap_or_else(|_| panic!("rust-version {text:?} is not a version"));
        }
        RustVersion(parts)
    }
}

impl fmt::Display for RustVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [major, minor, patch] = self.0;
        if patch == 0 {
            write!(f, "{major}.{minor}")
        } else {
            write!(f, "{major}.{minor}.{patch}")
        }
    }
}

/// Runs cargo in the workspace, `--offline` first, then with the network
/// for a checkout whose dependencies were never fetched.
fn cargo(args: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let run = |offline: bool| {
        let mut cmd = Command::new(&cargo);
        cmd.current_dir(env!("CARGO_MANIFEST_DIR")).args(args);
        if offline {
            cmd.arg("--offline");
        }
        cmd.output().expect("run cargo")
    };
    let mut out = run(true);
    if !out.status.success() {
        out = run(false);
    }
    assert!(
        out.status.success(),
        "cargo {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("cargo prints UTF-8")
}

fn host() -> String {
    let out = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned()))
        .arg("-vV")
        .output()
        .expect("run rustc -vV");
    let text = String::from_utf8(out.stdout).expect("rustc prints UTF-8");
    text.lines()
        .find_map(|line| line.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .to_owned()
}

/// What `cargo metadata` tells about the packages.
struct Metadata {
    /// (name, version) → declared `rust-version`, for the dependencies
    /// that declare one.
    rust_versions: HashMap<(String, String), RustVersion>,
    /// What `traced` declares.
    declared: RustVersion,
    /// The facade's features, `default` left out.
    features: Vec<String>,
    /// The facade's default features.
    defaults: Vec<String>,
}

fn metadata(host: &str) -> Metadata {
    let text = cargo(&[
        "metadata",
        "--format-version",
        "1",
        "--all-features",
        "--filter-platform",
        host,
    ]);
    let json: Value = serde_json::from_str(&text).expect("cargo metadata prints JSON");
    let packages = json["packages"].as_array().expect("packages");
    let mut rust_versions = HashMap::new();
    // Our own crates share the declared version; only the dependencies say
    // what the declared one must cover.
    for package in packages.iter().filter(|p| !p["source"].is_null()) {
        if let Some(rv) = package["rust_version"].as_str() {
            let key = (
                package["name"].as_str().unwrap().to_owned(),
                package["version"].as_str().unwrap().to_owned(),
            );
            rust_versions.insert(key, RustVersion::parse(rv));
        }
    }
    let facade = packages
        .iter()
        .find(|p| p["name"] == "traced" && p["source"].is_null())
        .expect("the traced package");
    let declared = RustVersion::parse(
        facade["rust_version"]
            .as_str()
            .expect("traced declares a rust-version"),
    );
    let table = facade["features"].as_object().expect("features");
    let features = table.keys().filter(|f| *f != "default").cloned().collect();
    let defaults = table["default"]
        .as_array()
        .expect("default features")
        .iter()
        .map(|f| f.as_str().unwrap().to_owned())
        .collect();
    Metadata {
        rust_versions,
        declared,
        features,
        defaults,
    }
}

/// The packages that `traced` with these features builds (no
/// dev-dependencies), as (name, version).
fn packages(features: Option<&str>) -> Vec<(String, String)> {
    let mut args = vec![
        "tree",
        "-p",
        "traced",
        "-e",
        "normal,build",
        "--prefix",
        "none",
        "--format",
        "{p}",
    ];
    if let Some(features) = features {
        args.extend(["--no-default-features", "--features", features]);
    }
    let text = cargo(&args);
    let mut packages: Vec<_> = text
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let name = words.next()?;
            let version = words.next()?.strip_prefix('v')?;
            Some((name.to_owned(), version.to_owned()))
        })
        .collect();
    packages.sort();
    packages.dedup();
    assert!(
        packages.iter().any(|(name, _)| name == "traced"),
        "cargo tree printed no `traced`:\n{text}"
    );
    packages
}

/// The highest `rust-version` among these packages and who declares it.
fn needed(meta: &Metadata, packages: &[(String, String)]) -> Option<(RustVersion, Vec<String>)> {
    let max = packages
        .iter()
        .filter_map(|p| meta.rust_versions.get(p))
        .max()
        .copied()?;
    let who = packages
        .iter()
        .filter(|p| meta.rust_versions.get(*p) == Some(&max))
        .map(|(name, version)| format!("{name} {version}"))
        .collect::<Vec<_>>();
    let who = match who.len() {
        0..=3 => who,
        n => [&who[..3], &[format!("{} more", n - 3)]].concat(),
    };
    Some((max, who))
}

/// The README's feature table: feature → its `Rust` cell (empty when the
/// feature needs no more than the crate declares).
fn readme_table() -> BTreeMap<String, String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("read README.md");
    let cells = |line: &str| -> Vec<String> {
        line.trim()
            .trim_matches('|')
            .split('|')
            .map(|cell| cell.trim().to_owned())
            .collect()
    };
    let mut lines = readme.lines();
    let header = lines
        .by_ref()
        .map(cells)
        .find(|cells| cells.first().is_some_and(|c| c == "feature"))
        .expect("README.md has a table whose first column is `feature`");
    let rust = header
        .iter()
        .position(|c| c == "Rust")
        .expect("the README's feature table has a `Rust` column");
    lines
        .skip(1) // | --- | :-: | ...
        .take_while(|line| line.trim_start().starts_with('|'))
        .map(cells)
        .map(|row| {
            let feature = row[0].trim_matches('`').to_owned();
            (feature, row.get(rust).cloned().unwrap_or_default())
        })
        .collect()
}

#[test]
fn rust_version_covers_every_feature_set() {
    let host = host();
    let meta = metadata(&host);
    let table = readme_table();
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("read README.md");

    // Every feature set on a thread of its own: each is one `cargo tree`.
    let mut sets: Vec<(String, Option<String>)> = vec![
        ("no features".to_owned(), Some(String::new())),
        ("default features".to_owned(), None),
    ];
    sets.extend(
        meta.features
            .iter()
            .map(|f| (format!("`{f}`"), Some(f.clone()))),
    );
    let found: Vec<_> = thread::scope(|scope| {
        let handles: Vec<_> = sets
            .iter()
            .map(|(label, features)| {
                let meta = &meta;
                scope.spawn(move || (label, needed(meta, &packages(features.as_deref()))))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    let mut failures = Vec::new();
    let mut report = Vec::new();
    for (label, need) in &found {
        let Some((version, who)) = need else { continue };
        report.push(format!("{label}: {version} ({})", who.join(", ")));
        let feature = label.trim_matches('`');
        let cell = table.get(feature).map(String::as_str).unwrap_or("");
        let lean_or_default = label.as_str() == "no features"
            || label.as_str() == "default features"
            || meta.defaults.iter().any(|d| d == feature);
        if lean_or_default {
            // The workspace's rust-version is what the defaults need.
            if *version > meta.declared {
                failures.push(format!(
                    "{label} needs Rust {version} ({}), but `rust-version` is {}; raise it in Cargo.toml",
                    who.join(", "),
                    meta.declared
                ));
            }
            if !cell.is_empty() {
                failures.push(format!(
                    "the README gives {label} a Rust of its own ({cell}); a default feature needs only the crate's `rust-version`, leave the cell empty"
                ));
            }
        } else if *version > meta.declared {
            if cell.is_empty() || RustVersion::parse(cell) != *version {
                failures.push(format!(
                    "{label} needs Rust {version} ({}), more than the crate's {}; the README's feature table must say {version} in its `Rust` column (it says {:?})",
                    who.join(", "),
                    meta.declared,
                    cell
                ));
            }
        } else if !cell.is_empty() {
            failures.push(format!(
                "the README says {label} needs Rust {cell}, but {version} is enough (the crate's {}); leave the cell empty",
                meta.declared
            ));
        }
    }
    // The default set's need is what the workspace declares, not less.
    if let Some((_, Some((version, _)))) =
        found.iter().find(|(label, _)| *label == "default features")
    {
        let edition_2024 = RustVersion::parse("1.85");
        let expected = (*version).max(edition_2024);
        if expected < meta.declared {
            failures.push(format!(
                "`rust-version` is {}, but the default features need only {expected}; lower it",
                meta.declared
            ));
        }
    }
    let sentence = format!("builds on Rust {}", meta.declared);
    if !readme
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .contains(&sentence)
    {
        failures.push(format!(
            "the README's sentence under the feature table must say \"{sentence}\""
        ));
    }
    // Every feature is in the README's table, and the table names no other.
    for feature in &meta.features {
        if !table.contains_key(feature) {
            failures.push(format!(
                "feature `{feature}` is missing from the README's feature table"
            ));
        }
    }
    for feature in table.keys() {
        if !meta.features.contains(feature) {
            failures.push(format!(
                "the README's feature table lists `{feature}`, which is no feature of `traced`"
            ));
        }
    }

    println!("rust-version {} declared; needed on {host}:", meta.declared);
    for line in &report {
        println!("  {line}");
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
