//! Every block of variables in `docs/recipes.md` is read by our own
//! configuration reader, strict, so a recipe cannot rot. (Its Rust blocks
//! are doc tests of `traced`.)

use super::*;

const RECIPES: &str = include_str!("../../../../docs/recipes.md");

/// A recipe: its heading, its variables (from `sh` blocks), and how many
/// Rust blocks it has.
struct Recipe {
    title: String,
    vars: Vec<(String, String)>,
    rust_blocks: usize,
}

/// The `## ` sections of the page, each with the assignments of its `sh`
/// blocks. A line of an `sh` block that is not `NAME=value` (or a
/// comment) is a failure: those blocks hold variables only, and commands
/// go in `bash` blocks.
fn recipes() -> Vec<Recipe> {
    let mut out: Vec<Recipe> = Vec::new();
    let mut fence: Option<&str> = None;
    for line in RECIPES.lines() {
        if let Some(lang) = fence {
            if line.trim_start() == "```" {
                fence = None;
            } else if lang == "sh" {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let assignment = line.strip_prefix("export ").unwrap_or(line);
                let (name, value) = assignment
                    .split_once('=')
                    .filter(|(name, _)| {
                        !name.is_empty()
                            && name
                                .chars()
                                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                    })
                    .unwrap_or_else(|| panic!("not NAME=value in an `sh` block: {line}"));
                let value = value.trim_matches('"');
                let recipe = out.last_mut().expect("a block under a heading");
                recipe.vars.push((name.to_owned(), value.to_owned()));
            }
            continue;
        }
        if let Some(lang) = line.trim_start().strip_prefix("```") {
            fence = Some(lang.split(',').next().unwrap_or(""));
            if lang.starts_with("rust") {
                if let Some(recipe) = out.last_mut() {
                    recipe.rust_blocks += 1;
                }
            }
        } else if let Some(title) = line.strip_prefix("## ") {
            out.push(Recipe {
                title: title.to_owned(),
                vars: Vec::new(),
                rust_blocks: 0,
            });
        }
    }
    assert!(fence.is_none(), "a code block is not closed");
    out
}

#[test]
fn every_recipe_is_there_with_variables_and_code() {
    let recipes = recipes();
    let titles: Vec<&str> = recipes.iter().map(|r| r.title.as_str()).collect();
    for wanted in [
        "OpenTelemetry Collector",
        "Jaeger",
        "Tempo",
        "Honeycomb",
        "Grafana Cloud",
        "Datadog",
        "New Relic",
        "load-balancing",
    ] {
        assert!(
            titles.iter().any(|t| t.contains(wanted)),
            "no recipe for {wanted}: {titles:?}"
        );
    }
    for recipe in &recipes {
        assert!(!recipe.vars.is_empty(), "{}: no variables", recipe.title);
        assert!(recipe.rust_blocks > 0, "{}: no builder code", recipe.title);
    }
}

#[test]
fn every_recipes_variables_are_valid() {
    for recipe in recipes() {
        let vars: HashMap<String, String> = recipe.vars.iter().cloned().collect();
        let known = |name: &str| {
            // A variable we do not read would be silently ignored.
            assert!(
                name.starts_with("OTEL_") && RECIPES_READ.contains(&name),
                "{}: `{name}` is not a variable `traced` reads",
                recipe.title
            );
        };
        for (name, _) in &recipe.vars {
            known(name);
        }
        let strict = Overrides {
            strict: Some(true),
            ..Overrides::default()
        };
        let c = Config::from_lookup(&|n| vars.get(n).cloned(), &strict)
            .unwrap_or_else(|e| panic!("{}: {e}", recipe.title));
        assert_eq!(c.exporters, vec![Exporter::Otlp], "{}", recipe.title);
        assert_eq!(c.service_name, "checkout", "{}", recipe.title);
        assert!(
            c.otlp.endpoint.starts_with("http://") || c.otlp.endpoint.starts_with("https://"),
            "{}: {}",
            recipe.title,
            c.otlp.endpoint
        );
        if c.otlp.protocol == OtlpProtocol::Grpc {
            assert!(
                !c.otlp.endpoint.ends_with("/v1/traces"),
                "{}: {}",
                recipe.title,
                c.otlp.endpoint
            );
        } else {
            assert!(
                c.otlp.endpoint.ends_with("/v1/traces"),
                "{}: {}",
                recipe.title,
                c.otlp.endpoint
            );
        }
        // The headers are valid on the wire, on either transport.
        #[cfg(feature = "otlp-http")]
        super::super::otlp::http_headers(&c.otlp)
            .unwrap_or_else(|e| panic!("{}: {e}", recipe.title));
        #[cfg(feature = "otlp-grpc")]
        super::super::otlp::tonic_metadata(&c.otlp)
            .unwrap_or_else(|e| panic!("{}: {e}", recipe.title));
    }
}

/// The hosted backends get what their documentation asks for.
#[test]
fn hosted_backends_get_their_endpoint_and_key() {
    let config = |title: &str| {
        let recipe = recipes()
            .into_iter()
            .find(|r| r.title.contains(title))
            .unwrap();
        let vars: HashMap<String, String> = recipe.vars.into_iter().collect();
        Config::from_lookup(&|n| vars.get(n).cloned(), &Overrides::default()).unwrap()
    };
    let honeycomb = config("Honeycomb");
    assert_eq!(
        honeycomb.otlp.endpoint,
        "https://api.honeycomb.io/v1/traces"
    );
    assert!(honeycomb.otlp.headers.contains_key("x-honeycomb-team"));
    assert!(honeycomb.otlp.gzip);
    let grafana = config("Grafana Cloud");
    assert_eq!(
        grafana.otlp.endpoint,
        "https://otlp-gateway-prod-eu-west-2.grafana.net/otlp/v1/traces"
    );
    assert_eq!(
        grafana
            .otlp
            .headers
            .get("Authorization")
            .map(String::as_str),
        Some("Basic MTIzNDU2OmdsY19leGFtcGxl"),
        "the %20 is decoded"
    );
    let new_relic = config("New Relic");
    assert_eq!(
        new_relic.otlp.endpoint,
        "https://otlp.nr-data.net/v1/traces"
    );
    assert!(new_relic.otlp.headers.contains_key("api-key"));
    assert_eq!(new_relic.value_length_limit, Some(4095));
    let fleet = config("fleet");
    assert_eq!(fleet.batch.max_queue_size, Some(8192));
    assert_eq!(fleet.otlp.timeout, Duration::from_secs(5));
}

/// The variables the recipes may use: each one `init` reads.
const RECIPES_READ: &[&str] = &[
    OTEL_SERVICE_NAME,
    OTEL_RESOURCE_ATTRIBUTES,
    OTEL_TRACES_EXPORTER,
    OTEL_EXPORTER_OTLP_ENDPOINT,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    OTEL_EXPORTER_OTLP_PROTOCOL,
    OTEL_EXPORTER_OTLP_HEADERS,
    OTEL_EXPORTER_OTLP_COMPRESSION,
    OTEL_EXPORTER_OTLP_TIMEOUT,
    OTEL_EXPORTER_OTLP_INSECURE,
    OTEL_EXPORTER_OTLP_CERTIFICATE,
    OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT,
    OTEL_BSP_MAX_QUEUE_SIZE,
    OTEL_TRACES_SAMPLER,
    OTEL_TRACES_SAMPLER_ARG,
];
