//! `TRACED_TAIL_SAMPLING` and `Builder::tail_sampling` (#28).

use super::*;
use crate::TailRule;

fn with(builder: Builder, vars: &[(&str, &str)]) -> Result<Config, InitError> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Config::from_lookup(&|n| vars.get(n).cloned(), &builder.code)
}

#[test]
fn unset_is_no_tail_sampling() {
    let c = config(&[]).unwrap();
    assert!(c.tail.is_none());
    let c = config(&[("TRACED_TAIL_SAMPLING", " , ")]).unwrap();
    assert!(c.tail.is_none(), "no rule is no tail sampling");
}

#[test]
fn rules_from_env() {
    let c = config(&[(
        "TRACED_TAIL_SAMPLING",
        "errors,slower_than=200ms,ratio=0.05,attribute=tier=gold",
    )])
    .unwrap();
    assert_eq!(
        c.tail.unwrap(),
        [
            TailRule::Errors,
            TailRule::SlowerThan(Duration::from_millis(200)),
            TailRule::Ratio(0.05),
            TailRule::Attribute("tier".into(), "gold".into()),
        ]
    );
}

#[test]
fn strict_a_bad_rule_is_the_error_naming_it() {
    let e = err(&[("TRACED_TAIL_SAMPLING", "errors,slower_than=fast,ratio=2")]);
    assert_eq!(e.variable(), "TRACED_TAIL_SAMPLING");
    let text = e.to_string();
    assert!(
        text.contains("`slower_than=fast`") && text.contains("`ratio=2`"),
        "{text}"
    );
}

#[test]
fn lenient_a_bad_value_is_ignored_whole() {
    let c = lenient(&[("TRACED_TAIL_SAMPLING", "errors,ratio=5%")]);
    assert!(c.tail.is_none(), "not fewer traces than asked for");
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    assert!(
        c.warnings[0].contains("TRACED_TAIL_SAMPLING")
            && c.warnings[0].contains("`ratio=5%`")
            && c.warnings[0].contains("using no tail sampling"),
        "{}",
        c.warnings[0]
    );
}

#[test]
fn the_builder_wins_and_adds_up() {
    let b = builder()
        .strict(true)
        .tail_sampling([TailRule::Errors])
        .tail_sampling_fn(|spans| spans.is_empty());
    let c = with(b, &[("TRACED_TAIL_SAMPLING", "ratio=0.5")]).unwrap();
    let rules = c.tail.unwrap();
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[0], TailRule::Errors);
    assert!(matches!(rules[1], TailRule::Custom(_)));
}

#[test]
fn a_head_sampler_that_could_drop_is_replaced() {
    let vars = [
        ("TRACED_TAIL_SAMPLING", "errors"),
        ("OTEL_TRACES_SAMPLER", "traceidratio"),
        ("OTEL_TRACES_SAMPLER_ARG", "0.1"),
    ];
    let c = lenient(&vars);
    assert!(c.sampler_is_default);
    assert!(format!("{:?}", c.sampler).contains("ParentBased(AlwaysOn)"));
    assert!(
        c.warnings[0].contains("OTEL_TRACES_SAMPLER") && c.warnings[0].contains("ratio=.."),
        "{:?}",
        c.warnings
    );
    assert_eq!(err(&vars).variable(), "OTEL_TRACES_SAMPLER");
    // always_on records every span: kept.
    let c = config(&[
        ("TRACED_TAIL_SAMPLING", "errors"),
        ("OTEL_TRACES_SAMPLER", "always_on"),
    ])
    .unwrap();
    assert_eq!(format!("{:?}", c.sampler), "AlwaysOn");
    let e = with(
        builder()
            .strict(true)
            .sampler(Sampler::AlwaysOff)
            .tail_sampling([TailRule::Errors]),
        &[],
    )
    .unwrap_err();
    assert_eq!(e.variable(), "Builder::sampler");
}

#[test]
fn our_pipeline_is_refused_with_tail_sampling() {
    let e = with(
        builder().tail_sampling([TailRule::Errors]),
        &[("TRACED_PIPELINE", "traced")],
    )
    .unwrap_err();
    assert_eq!(e.variable(), "TRACED_PIPELINE");
    assert!(e.to_string().contains("TRACED_PIPELINE=sdk"), "{e}");
    let e = with(
        builder()
            .pipeline(Pipeline::Traced)
            .tail_sampling([TailRule::Errors]),
        &[],
    )
    .unwrap_err();
    assert_eq!(e.variable(), "Builder::pipeline");
    // Unset, the SDK's pipeline, which holds.
    let c = config(&[("TRACED_TAIL_SAMPLING", "errors")]).unwrap();
    assert_eq!(c.pipeline, Pipeline::Sdk);
}
