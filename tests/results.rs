//! What a function returns: an `Err` (of any `Result` type) sets the error
//! status and adds an `exception` event, `Ok` leaves the status unset, and
//! `ret` records the returned value.

mod support;

use opentelemetry::trace::Status;
use opentelemetry::{Array, Value};
use support::spans::*;
use traced::testing::capture;
use traced::traced;

#[derive(Debug, thiserror::Error)]
#[error("user {0} not found")]
struct NotFound(u64, #[source] std::io::Error);

#[traced]
fn find(id: u64) -> Result<String, NotFound> {
    if id == 0 {
        Err(NotFound(id, std::io::Error::other("disk on fire")))
    } else {
        Ok(format!("user{id}"))
    }
}

type Alias<T> = std::io::Result<T>;

#[traced]
fn aliased(fail: bool) -> Alias<u8> {
    if fail {
        Err(std::io::Error::other("boom"))
    } else {
        Ok(1)
    }
}

#[traced]
fn with_anyhow(fail: bool) -> anyhow::Result<u8> {
    if fail {
        Err(anyhow::anyhow!("inner cause").context("outer context"))
    } else {
        Ok(1)
    }
}

#[traced(skip(value))]
fn generic<T, E>(value: Result<T, E>) -> Result<T, E> {
    value
}

#[traced(skip(value))]
fn generic_display<T, E: std::fmt::Display>(value: Result<T, E>) -> Result<T, E> {
    value
}

#[derive(Debug)]
struct OnlyDebug;

#[traced(errors = false)]
fn quiet() -> Result<(), OnlyDebug> {
    Err(OnlyDebug)
}

#[traced]
fn debug_error() -> Result<(), OnlyDebug> {
    Err(OnlyDebug)
}

#[test]
fn errors_become_exception_events() {
    let spans = capture(|| {
        let _ = find(0);
    });
    let span = spans.one("find");
    assert!(is_error(span));
    assert_eq!(description(span), "user 0 not found");
    assert_eq!(
        attr(span, "error.type"),
        Some(&Value::String("results::NotFound".into()))
    );
    let events = exceptions(span);
    assert_eq!(events.len(), 1);
    assert_eq!(
        get(&events[0], "exception.type"),
        Some(&Value::String("results::NotFound".into()))
    );
    assert_eq!(
        get(&events[0], "exception.message"),
        Some(&Value::String("user 0 not found".into()))
    );
    assert_eq!(
        get(&events[0], "exception.source_chain"),
        Some(&Value::Array(Array::String(vec!["disk on fire".into()])))
    );
}

#[test]
fn ok_leaves_status_unset() {
    let spans = capture(|| {
        let _ = find(1);
        let _ = aliased(false);
    });
    assert_eq!(spans.one("find").status, Status::Unset);
    assert!(exceptions(spans.one("find")).is_empty());
    assert_eq!(spans.one("aliased").status, Status::Unset);
}

#[test]
fn any_result_type_counts() {
    let spans = capture(|| {
        let _ = aliased(true);
        let _ = with_anyhow(true);
        let _ = generic::<u8, std::fmt::Error>(Err(std::fmt::Error));
        let _ = generic::<u8, &str>(Err("plain str"));
        let _ = generic_display::<u8, &str>(Err("plain str"));
        let _ = debug_error();
        let _ = quiet();
    });
    let io = spans.one("aliased");
    assert!(is_error(io));
    assert_eq!(
        attr(io, "error.type"),
        Some(&Value::String("std::io::error::Error".into()))
    );

    let any = spans.one("with_anyhow");
    assert_eq!(description(any), "outer context");
    let events = exceptions(any);
    assert_eq!(
        get(&events[0], "exception.source_chain"),
        Some(&Value::Array(Array::String(vec!["inner cause".into()])))
    );

    let spans_generic = spans.named("generic");
    assert_eq!(spans_generic.len(), 2);
    assert!(spans_generic.iter().all(|s| is_error(s)));
    // Inside a generic function all that is known of an unbounded `E` is
    // its type; a `Display` bound brings the message.
    assert_eq!(description(spans_generic[1]), "&str");
    assert_eq!(description(spans.one("generic_display")), "plain str");

    let dbg = spans.one("debug_error");
    assert_eq!(description(dbg), "OnlyDebug");

    let quiet = spans.one("quiet");
    assert_eq!(quiet.status, Status::Unset);
    assert!(exceptions(quiet).is_empty());
}

#[traced(ret)]
fn returns_value(x: u32) -> u32 {
    x * 2
}

#[traced(ret)]
fn returns_result(x: u32) -> Result<String, std::fmt::Error> {
    Ok(x.to_string())
}

#[traced(ret)]
fn returns_none() -> Option<u8> {
    None
}

#[test]
fn ret_records_the_returned_value() {
    let spans = capture(|| {
        returns_value(21);
        let _ = returns_result(5);
        returns_none();
    });
    assert_eq!(
        attr(spans.one("returns_value"), "return"),
        Some(&Value::I64(42))
    );
    assert_eq!(
        attr(spans.one("returns_result"), "return"),
        Some(&Value::String("5".into()))
    );
    assert_eq!(attr(spans.one("returns_none"), "return"), None);
}
