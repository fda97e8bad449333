//! Parent and child spans: nested calls (through a manual span too),
//! recursion and early returns, an explicit `parent = ..` and `links(..)`.

mod support;

use opentelemetry::trace::{Status, TraceContextExt as _, Tracer as _};
use support::spans::*;
use traced::testing::capture;
use traced::traced;

#[traced]
fn a() -> u32 {
    b() + 1
}
#[traced]
fn b() -> u32 {
    let tracer = opentelemetry::global::tracer("manual");
    tracer.in_span("manual", |_| c())
}
#[traced]
fn c() -> u32 {
    1
}

#[test]
fn nested_calls_become_children() {
    let spans = capture(|| {
        assert_eq!(a(), 2);
    });
    let (a, b, c, manual) = (
        spans.one("a"),
        spans.one("b"),
        spans.one("c"),
        spans.one("manual"),
    );
    assert_eq!(b.parent_span_id, a.span_context.span_id());
    assert_eq!(manual.parent_span_id, b.span_context.span_id());
    assert_eq!(c.parent_span_id, manual.span_context.span_id());
    assert_eq!(a.span_context.trace_id(), c.span_context.trace_id());
    insta::assert_snapshot!(spans.tree(), @r"
    a
        b
            manual
                c
    ");
}

#[traced]
fn early(x: i32) -> Result<i32, std::num::ParseIntError> {
    if x < 0 {
        return Ok(0);
    }
    let parsed: i32 = "12".parse()?;
    let _fails: i32 = "x".parse()?;
    Ok(parsed + x)
}

#[traced]
fn factorial(n: u64) -> u64 {
    if n <= 1 { 1 } else { n * factorial(n - 1) }
}

#[test]
fn early_return_question_mark_and_recursion() {
    let spans = capture(|| {
        assert_eq!(early(-1), Ok(0));
        assert!(early(1).is_err());
        assert_eq!(factorial(3), 6);
    });
    let earlies = spans.named("early");
    assert_eq!(earlies.len(), 2);
    assert_eq!(earlies[0].status, Status::Unset);
    assert!(is_error(earlies[1]));
    assert_eq!(spans.named("factorial").len(), 3);
    insta::assert_snapshot!(spans.tree(), @r#"
    early x=-1
    early status=Error("invalid digit found in string") error.type="core::num::error::ParseIntError" x=1
      ! exception exception.message="invalid digit found in string" exception.type="core::num::error::ParseIntError"
    factorial n=3
        factorial n=2
            factorial n=1
    "#);
}

#[test]
fn explicit_parent_and_links() {
    #[traced(parent = parent, links(link))]
    fn child(parent: &opentelemetry::Context, link: opentelemetry::trace::SpanContext) {
        let _ = (parent, link);
    }
    let spans = capture(|| {
        let tracer = opentelemetry::global::tracer("manual");
        let root = tracer.start("root");
        let root_cx = opentelemetry::Context::new().with_span(root);
        let other = tracer.start("other");
        let other_sc = opentelemetry::trace::Span::span_context(&other).clone();
        child(&root_cx, other_sc.clone());
        drop(other);
        root_cx.span().end();
    });
    let child = spans.one("child");
    assert_eq!(
        child.parent_span_id,
        spans.one("root").span_context.span_id()
    );
    assert_eq!(child.links.links.len(), 1);
    assert_eq!(
        child.links.links[0].span_context.span_id(),
        spans.one("other").span_context.span_id()
    );
}
