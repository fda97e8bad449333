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
