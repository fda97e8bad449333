//! Which span pipeline `traced::init` installs: the SDK's unless ours is
//! asked for (#24: ours is not the default while it misses its targets). Told apart by what a person can
//! see: a root span of our pipeline carries the W3C `random` flag in its
//! own span context from the start (the SDK builds a root's flags from an
//! empty parent, so its roots carry only `sampled`). Its own test binary,
//! since `init` owns the global provider; one test, since the steps share it.

use opentelemetry::Context;
use opentelemetry::trace::TraceContextExt as _;
use traced::{Exporter, Pipeline, traced};

#[traced]
fn root_flags() -> u8 {
    Context::current()
        .span()
        .span_context()
        .trace_flags()
        .to_u8()
}

/// The flags a root span of `pipeline` has: sampled, and random on ours.
fn flags_of(pipeline: Pipeline) -> u8 {
    match pipeline {
        Pipeline::Traced => 0x01 | traced::TRACE_FLAG_RANDOM.to_u8(),
        Pipeline::Sdk => 0x01,
    }
}

/// What `TRACED_PIPELINE` asks for, if anything (CI runs the suite with
/// it set); otherwise `documented`, the default the README promises,
/// written out here rather than asked of the code under test.
fn expected(documented: Pipeline) -> Pipeline {
    match std::env::var("TRACED_PIPELINE").as_deref() {
        Ok("sdk") => Pipeline::Sdk,
        Ok("traced") => Pipeline::Traced,
        _ => documented,
    }
}

#[test]
fn init_installs_the_sdks_unless_ours_is_asked_for() {
    // No exporter at all: nothing leaves the process, spans still start.
    let telemetry = traced::builder().no_exporter().init().expect("init");
    assert_eq!(
        root_flags(),
        flags_of(expected(Pipeline::Sdk)),
        "no exporter"
    );
    drop(telemetry);

    // The console: each trace printed as its root ends, by the SDK's
    // simple processor.
    let telemetry = traced::builder()
        .exporter(Exporter::Console)
        .init()
        .expect("init");
    assert_eq!(root_flags(), flags_of(expected(Pipeline::Sdk)), "console");
    drop(telemetry);

    // Asked for on the builder, which wins over everything.
    for pipeline in [Pipeline::Sdk, Pipeline::Traced] {
        let telemetry = traced::builder()
            .no_exporter()
            .pipeline(pipeline)
            .init()
            .expect("init");
        assert_eq!(root_flags(), flags_of(pipeline), "{pipeline:?}");
        drop(telemetry);
    }

    // Reconfiguring (#25): a second `init` while the first guard lives,
    // then the first guard dropped. It takes out only what it installed,
    // so spans keep going to the second.
    let first = traced::builder()
        .no_exporter()
        .pipeline(Pipeline::Sdk)
        .init()
        .expect("init");
    let second = traced::builder()
        .no_exporter()
        .pipeline(Pipeline::Traced)
        .init()
        .expect("init");
    drop(first);
    assert_eq!(
        root_flags(),
        flags_of(Pipeline::Traced),
        "the second init's pipeline is still installed"
    );
    drop(second);
    assert_eq!(root_flags(), 0, "nothing installed once both are dropped");
}
