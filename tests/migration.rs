//! `#[tracing::instrument(..)]` options on `#[traced(..)]`, with `tracing`'s
//! meaning (#27): replacing `#[instrument` with `#[traced` compiles and
//! records what users expect.

mod support;

use opentelemetry::Value;
use opentelemetry::trace::{SpanId, SpanKind, Status, TraceContextExt as _};
use serial_test::serial;
use support::spans::*;
use traced::testing::capture;
use traced::traced;

#[derive(Debug)]
#[allow(dead_code)]
struct User {
    id: u64,
    name: String,
}

struct Service;

impl Service {
    #[traced(skip(self), fields(service = "users"))]
    fn lookup(&self, id: u64) -> u64 {
        id
    }

    #[traced(skip_all, fields(user.id = %id))]
    fn hidden(&self, id: u64, _secret_sauce: &str) -> u64 {
        id
    }
}

#[test]
fn skip_self_and_skip_all() {
    let spans = capture(|| {
        Service.lookup(7);
        Service.hidden(8, "x");
    });
    let lookup = spans.one("lookup");
    assert_eq!(attr(lookup, "id"), Some(&Value::I64(7)));
    assert_eq!(
        attr(lookup, "service"),
        Some(&Value::String("users".into()))
    );
    assert_eq!(attr(lookup, "self"), None);
    let hidden = spans.one("hidden");
    assert_eq!(attr(hidden, "id"), None);
    assert_eq!(attr(hidden, "_secret_sauce"), None);
    assert_eq!(attr(hidden, "user.id"), Some(&Value::String("8".into())));
}

#[traced(fields(shown = %user.name, dbg = ?user.id, typed = user.id, later, a.b = 1))]
fn fields_like_tracing(user: &User) {
    traced::attributes!(later = "filled");
}

#[test]
fn fields_record_display_debug_and_by_type() {
    let user = User {
        id: 3,
        name: "ann".into(),
    };
    let spans = capture(|| fields_like_tracing(&user));
    let span = spans.one("fields_like_tracing");
    assert_eq!(attr(span, "shown"), Some(&Value::String("ann".into())));
    assert_eq!(attr(span, "dbg"), Some(&Value::String("3".into())));
    assert_eq!(attr(span, "typed"), Some(&Value::I64(3)));
    assert_eq!(attr(span, "a.b"), Some(&Value::I64(1)));
    // Declared bare, filled by `attributes!` in the body.
    assert_eq!(attr(span, "later"), Some(&Value::String("filled".into())));
    assert_eq!(count(span, "later"), 1);
}

#[derive(Debug)]
struct Boom;

impl std::fmt::Display for Boom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("boom!")
    }
}

impl std::error::Error for Boom {}

#[traced(err)]
fn err_plain() -> Result<(), Boom> {
    Err(Boom)
}

#[traced(err(Display))]
fn err_display() -> Result<(), Boom> {
    Err(Boom)
}

#[traced(err(Debug))]
fn err_debug() -> Result<(), Boom> {
    Err(Boom)
}

#[traced(err(level = "warn", Debug))]
fn err_debug_with_level() -> Result<(), Boom> {
    Err(Boom)
}

#[test]
fn err_chooses_the_message_format() {
    let spans = capture(|| {
        let _ = err_plain();
        let _ = err_display();
        let _ = err_debug();
        let _ = err_debug_with_level();
    });
    let message = |name: &str| {
        let span = spans.one(name);
        assert!(is_error(span), "{name}");
        get(&exceptions(span)[0], "exception.message").cloned()
    };
    assert_eq!(message("err_plain"), Some(Value::String("boom!".into())));
    assert_eq!(message("err_display"), Some(Value::String("boom!".into())));
    assert_eq!(message("err_debug"), Some(Value::String("Boom".into())));
    assert_eq!(
        message("err_debug_with_level"),
        Some(Value::String("Boom".into()))
    );
}

#[traced(ret)]
fn ret_unit() {}

#[traced(ret(Display))]
fn ret_display() -> Result<String, Boom> {
    Ok("shown".into())
}

#[traced(ret(Debug))]
fn ret_debug() -> String {
    "quoted".into()
}

#[traced(ret, err)]
async fn ret_async_unit() {}

#[test]
fn ret_formats_and_unit() {
    let spans = capture(|| {
        ret_unit();
        let _ = ret_display();
        ret_debug();
        futures_lite::future::block_on(ret_async_unit());
    });
    assert_eq!(attr(spans.one("ret_unit"), "return"), None);
    assert_eq!(attr(spans.one("ret_async_unit"), "return"), None);
    assert_eq!(
        attr(spans.one("ret_display"), "return"),
        Some(&Value::String("shown".into()))
    );
    assert_eq!(
        attr(spans.one("ret_debug"), "return"),
        Some(&Value::String("\"quoted\"".into()))
    );
}

const SPAN_NAME: &str = "from a constant";

#[traced(name = SPAN_NAME, target = "my_app::db", level = "info")]
fn named_by_const() {}

#[traced(level = "debug")]
fn level_debug() {}

#[traced(level = tracing::Level::TRACE)]
fn level_path() {}

#[traced(level = "WARN")]
fn level_upper() {}

#[traced(fields(otel.kind = "client", otel.name = "GET /users", otel.status_code = "ok"))]
fn otel_fields() {}

#[traced(fields(otel.status_code = "ERROR"))]
fn otel_error() -> u8 {
    1
}

#[traced(fields(otel.kind = ?opentelemetry::trace::SpanKind::Producer))]
fn otel_kind_path() {}

#[test]
#[serial]
fn names_kinds_and_statuses() {
    let spans = capture(|| {
        named_by_const();
        level_debug();
        level_path();
        level_upper();
        otel_fields();
        otel_error();
        otel_kind_path();
    });
    spans.one("from a constant");
    // The default filter keeps `info` and above.
    assert!(spans.named("level_debug").is_empty());
    assert!(spans.named("level_path").is_empty());
    spans.one("level_upper");
    let otel = spans.one("GET /users");
    assert_eq!(otel.span_kind, SpanKind::Client);
    assert_eq!(otel.status, Status::Ok);
    assert_eq!(attr(otel, "otel.kind"), None);
    assert!(is_error(spans.one("otel_error")));
    assert_eq!(spans.one("otel_kind_path").span_kind, SpanKind::Producer);
}

// `target` and `level` are what the run-time filter matches.
#[test]
#[serial]
fn target_and_level_reach_the_filter() {
    traced::set_filter(Some(
        traced::Filter::parse("debug,my_app::db=off").expect("a valid filter"),
    ));
    let spans = capture(|| {
        named_by_const();
        level_debug();
        level_path();
    });
    traced::set_filter(None);
    assert!(spans.named("from a constant").is_empty());
    spans.one("level_debug");
    assert!(spans.named("level_path").is_empty());
}

#[traced]
fn outer_with_root_child() {
    root();
}

#[traced(parent = None)]
fn root() {}

#[traced(follows_from = [cause, other])]
fn follows(cause: &opentelemetry::Context, other: opentelemetry::trace::SpanContext) {}

#[traced]
fn make_cause() -> opentelemetry::Context {
    opentelemetry::Context::current()
}

#[test]
fn parent_none_is_a_root_and_follows_from_links() {
    let spans = capture(|| {
        outer_with_root_child();
        let cause = make_cause();
        let other = cause.span().span_context().clone();
        follows(&cause, other);
    });
    let outer = spans.one("outer_with_root_child");
    let root = spans.one("root");
    assert_eq!(root.parent_span_id, SpanId::INVALID);
    assert_ne!(root.span_context.trace_id(), outer.span_context.trace_id());
    let cause = spans.one("make_cause");
    let follows = spans.one("follows");
    assert_eq!(follows.links.len(), 2);
    assert!(
        follows
            .links
            .iter()
            .all(|link| link.span_context.span_id() == cause.span_context.span_id())
    );
}
