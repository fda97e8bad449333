//! Choosing spans at run time (#27): `TRACED_FILTER` and
//! `traced::set_filter`, in `RUST_LOG`'s directive syntax, decided per call
//! site and decided again when the filter changes.

mod support;

use std::process::Command;

use support::spans::*;
use traced::testing::capture;
use traced::{Filter, set_filter, traced};

#[derive(Debug)]
struct Broken;

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the disk is gone")
    }
}

impl std::error::Error for Broken {}

mod app {
    use super::*;

    #[traced]
    pub fn handle(fail: bool) -> Result<u32, Broken> {
        db::query(fail)
    }

    pub mod db {
        use super::*;

        #[traced(level = "debug")]
        pub fn query(fail: bool) -> Result<u32, Broken> {
            leaf();
            if fail { Err(Broken) } else { Ok(1) }
        }

        #[traced]
        pub fn leaf() {}
    }

    #[traced(target = "audit", level = "warn")]
    pub fn audited() {}
}

/// Each step changes the filter and calls the same call sites again: the
/// decision each call site keeps must follow.
#[test]
fn the_filter_chooses_spans_and_call_sites_follow_it() {
    // The default keeps `info` and above: the `debug` span is not created,
    // its child attaches to the nearest span that records.
    set_filter(None);
    let spans = capture(|| {
        let _ = app::handle(false);
    });
    assert!(spans.named("query").is_empty(), "{}", spans.tree());
    let handle = spans.one("handle");
    assert_eq!(
        spans.one("leaf").parent_span_id,
        handle.span_context.span_id()
    );

    // Its error still marks the ancestor, which records it as its own.
    let spans = capture(|| {
        let _ = app::handle(true);
    });
    let handle = spans.one("handle");
    assert!(is_error(handle));
    assert_eq!(exceptions(handle).len(), 1, "{}", spans.tree());

    // Turned on by target: the same call site now starts its span.
    set_filter(Some(Filter::parse("info,filter::app::db=debug").unwrap()));
    let spans = capture(|| {
        let _ = app::handle(true);
    });
    let query = spans.one("query");
    assert_eq!(
        query.parent_span_id,
        spans.one("handle").span_context.span_id()
    );
    assert_eq!(exceptions(query).len(), 1);
    assert!(exceptions(spans.one("handle")).is_empty());

    // Off for a whole module; a `target` given in the attribute is what
    // directives match.
    set_filter(Some(Filter::parse("filter::app=off,audit=error").unwrap()));
    let spans = capture(|| {
        let _ = app::handle(false);
        app::audited();
    });
    assert!(spans.is_empty(), "{}", spans.tree());
    set_filter(Some(Filter::parse("filter::app=off,audit=warn").unwrap()));
    let spans = capture(app::audited);
    assert_eq!(spans.len(), 1);

    set_filter(None);
    let spans = capture(|| {
        let _ = app::handle(false);
    });
    assert_eq!(spans.len(), 2, "{}", spans.tree());
}

/// Set in the child process of `traced_filter_is_read_when_the_first_span_starts`.
const CHILD: &str = "TRACED_FILTER_TEST_CHILD";

/// `TRACED_FILTER` is read when the first span starts, without `init`.
#[test]
fn traced_filter_is_read_when_the_first_span_starts() {
    if std::env::var_os(CHILD).is_some() {
        let spans = capture(|| {
            let _ = app::handle(false);
        });
        let names: Vec<_> = spans.all().iter().map(|s| s.name.to_string()).collect();
        println!("names={names:?}");
        return;
    }
    let run = |filter: &str| {
        let out = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "traced_filter_is_read_when_the_first_span_starts",
                "--nocapture",
            ])
            .env(CHILD, "1")
            .env("TRACED_FILTER", filter)
            .output()
            .expect("the test binary runs again");
        assert!(out.status.success(), "{out:?}");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let line = stdout
            .lines()
            .find(|l| l.starts_with("names="))
            .unwrap_or_else(|| panic!("no names in {stdout}"))
            .to_owned();
        (line, String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (names, _) = run("debug");
    assert_eq!(names, r#"names=["leaf", "query", "handle"]"#);
    let (names, _) = run("warn");
    assert_eq!(names, "names=[]");
    // A filter that does not parse is said once and the default kept.
    let (names, stderr) = run("app=loud");
    assert_eq!(names, r#"names=["leaf", "handle"]"#);
    assert!(stderr.contains("ignoring TRACED_FILTER"), "{stderr}");
}
