//! What a span is called and where it says it comes from: the function's
//! name or `name = ..`, `kind = ..`, the instrumentation scope, and the
//! `code.*` attributes.

mod support;

use opentelemetry::Value;
use opentelemetry::trace::{SpanKind, Status};
use support::spans::*;
use traced::testing::capture;
use traced::traced;

#[traced]
fn plain(a: u32, b: &str) -> u32 {
    a + b.len() as u32
}

#[test]
fn one_span_named_after_the_function() {
    let spans = capture(|| assert_eq!(plain(1, "ab"), 3));
    assert_eq!(spans.len(), 1);
    let span = spans.one("plain");
    assert_eq!(span.span_kind, SpanKind::Internal);
    assert_eq!(span.status, Status::Unset);
    assert_eq!(attr(span, "a"), Some(&Value::I64(1)));
    assert_eq!(attr(span, "b"), Some(&Value::String("ab".into())));
    assert_eq!(span.instrumentation_scope.name(), "traced");
    assert_eq!(
        span.instrumentation_scope.version(),
        Some(env!("CARGO_PKG_VERSION"))
    );
}

#[traced(name = "POST /login", kind = server)]
fn login() {}

#[traced(kind = client)]
fn call_out() {}
#[traced(kind = producer)]
fn produce() {}
#[traced(kind = consumer)]
fn consume() {}
#[traced(kind = internal)]
fn inside() {}

#[test]
fn name_and_kind_options() {
    let spans = capture(|| {
        login();
        call_out();
        produce();
        consume();
        inside();
    });
    assert_eq!(spans.one("POST /login").span_kind, SpanKind::Server);
    assert_eq!(spans.one("call_out").span_kind, SpanKind::Client);
    assert_eq!(spans.one("produce").span_kind, SpanKind::Producer);
    assert_eq!(spans.one("consume").span_kind, SpanKind::Consumer);
    assert_eq!(spans.one("inside").span_kind, SpanKind::Internal);
}

#[test]
fn code_attributes_are_compile_time_constants() {
    let spans = capture(|| {
        plain(0, "");
    });
    let span = spans.one("plain");
    assert_eq!(
        attr(span, "code.function.name"),
        Some(&Value::String("names_and_kinds::plain".into()))
    );
    assert_eq!(
        attr(span, "code.file.path"),
        Some(&Value::String("tests/names_and_kinds.rs".into()))
    );
    // The line of `fn plain`, looked up in this file rather than written
    // down, so that an edit above it cannot break the test.
    assert_eq!(
        attr(span, "code.line.number"),
        Some(&Value::I64(support::line_of(file!(), "fn plain(")))
    );
}
