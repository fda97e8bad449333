//! Guards against a dependency change that would break the OTLP/HTTP
//! exporter: opentelemetry-otlp's `reqwest-client` feature switches it to
//! the async client, which the SDK's batch processor (a plain thread)
//! cannot drive. `init` hands the exporter a blocking client explicitly;
//! this test also keeps the feature out of the graph, so the exporter's own
//! default stays right for anyone building it by hand next to `traced`.

use std::process::Command;

#[test]
fn opentelemetry_otlp_keeps_the_blocking_http_client() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["tree", "--workspace", "--all-features"])
        .args([
            "-e",
            "features,normal,build,dev",
            "-i",
            "opentelemetry-otlp",
        ])
        .output()
        .expect("run cargo tree");
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        tree.contains("opentelemetry-otlp feature \"reqwest-blocking-client\""),
        "{tree}"
    );
    assert!(
        !tree.contains("opentelemetry-otlp feature \"reqwest-client\""),
        "a dependency turned on opentelemetry-otlp's `reqwest-client`:\n{tree}"
    );
}

/// Crates a library that only puts `#[traced]` on its functions must not
/// pull: an async runtime, gRPC, HTTP clients and servers, protobuf.
const NOT_IN_A_LIBRARY: [&str; 13] = [
    "tokio",
    "tonic",
    "reqwest",
    "hyper",
    "h2",
    "prost",
    "axum",
    "tower",
    "rustls",
    "anstyle",
    "tracing-subscriber",
    "tracing-opentelemetry",
    "opentelemetry-appender-tracing",
];

/// The normal (non-dev) dependencies of `traced` with `features`, one crate
/// name a line.
fn normal_dependencies(features: &[&str]) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["tree", "-p", "traced", "--no-default-features"])
        .args(["--features", &features.join(",")])
        .args(["-e", "normal", "--prefix", "none", "--format", "{p}"])
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_library_build_pulls_no_runtime_and_no_http_stack() {
    let crates = normal_dependencies(&[]);
    assert!(
        crates.iter().any(|c| c == "opentelemetry_sdk"),
        "the lean build still has the SDK: {crates:?}"
    );
    let heavy: Vec<&String> = crates
        .iter()
        .filter(|c| NOT_IN_A_LIBRARY.contains(&c.as_str()))
        .collect();
    assert!(
        heavy.is_empty(),
        "`traced` without default features pulls {heavy:?}"
    );
}

#[test]
fn the_application_build_has_both_otlp_transports() {
    // The guard above must be able to fail: the default features do pull
    // the crates it keeps out of the lean build.
    let crates = normal_dependencies(&["otlp-grpc", "otlp-http", "console"]);
    for needed in ["tokio", "tonic", "reqwest", "prost", "anstyle"] {
        assert!(
            crates.iter().any(|c| c == needed),
            "the default features lack {needed}: {crates:?}"
        );
    }
}

#[test]
fn the_tonic_integration_pulls_no_transport_or_protobuf() {
    // The layers need tonic's core (status, metadata, bodies) and tower,
    // not its HTTP/2 transport or prost: the application brings those.
    let crates = normal_dependencies(&["tonic"]);
    assert!(crates.iter().any(|c| c == "tonic"), "{crates:?}");
    let transport: Vec<&String> = crates
        .iter()
        .filter(|c| ["hyper", "h2", "prost", "axum", "rustls"].contains(&c.as_str()))
        .collect();
    assert!(
        transport.is_empty(),
        "the `tonic` feature pulls {transport:?}"
    );
}

#[test]
fn the_tracing_feature_brings_the_bridge_and_nothing_else_heavy() {
    // The guard above must be able to fail for the bridge too.
    let crates = normal_dependencies(&["tracing"]);
    for needed in [
        "tracing-subscriber",
        "tracing-opentelemetry",
        "opentelemetry-appender-tracing",
        "tracing-log",
    ] {
        assert!(
            crates.iter().any(|c| c == needed),
            "the `tracing` feature lacks {needed}: {crates:?}"
        );
    }
    // On its own (console only, like `init`) it pulls no async runtime,
    // gRPC or HTTP stack.
    for heavy in ["tokio", "tonic", "reqwest", "hyper", "h2", "prost"] {
        assert!(
            !crates.iter().any(|c| c == heavy),
            "the `tracing` feature alone pulls {heavy}: {crates:?}"
        );
    }
}
