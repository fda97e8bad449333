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
        get(&events[0], "traced.error.source_chain"),
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
        get(&events[0], "traced.error.source_chain"),
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

// Regression for #11: the same error passing up through `a → b → c → d`
// was recorded as four identical `exception` events; the conventions say
// once, on the span it first leaves.
mod issue11_recorded_once {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("division by zero")]
    struct DivByZero;

    #[derive(Debug, thiserror::Error)]
    #[error("could not compute: {0}")]
    struct Wrapped(#[source] DivByZero);

    #[traced]
    fn a() -> Result<u32, DivByZero> {
        b()
    }
    #[traced]
    fn b() -> Result<u32, DivByZero> {
        Ok(c()? + 1)
    }
    #[traced]
    fn c() -> Result<u32, DivByZero> {
        d(0)
    }
    #[traced]
    fn d(divisor: u32) -> Result<u32, DivByZero> {
        1_u32.checked_div(divisor).ok_or(DivByZero)
    }

    /// Turns the error into a new one: its own event, and the child's stays.
    #[traced]
    fn wraps() -> Result<u32, Wrapped> {
        d(0).map_err(Wrapped)
    }

    /// Handles the child's error and fails later with a new one of the
    /// same type and message: taken for the same error (documented).
    #[traced]
    fn retries() -> Result<u32, DivByZero> {
        let _ = d(0);
        d(0)
    }

    #[traced]
    async fn async_outer() -> Result<u32, DivByZero> {
        tokio::task::yield_now().await;
        async_inner().await
    }
    #[traced]
    async fn async_inner() -> Result<u32, DivByZero> {
        tokio::task::yield_now().await;
        Err(DivByZero)
    }

    fn error_type(span: &opentelemetry_sdk::trace::SpanData) -> Option<&Value> {
        attr(span, "error.type")
    }

    #[test]
    fn once_on_the_span_the_error_first_leaves() {
        let spans = capture(|| {
            assert!(a().is_err());
        });
        assert_eq!(exceptions(spans.one("d")).len(), 1);
        for name in ["a", "b", "c", "d"] {
            let span = spans.one(name);
            assert!(is_error(span), "{name} must be Error");
            assert_eq!(description(span), "division by zero", "{name}");
            assert!(
                matches!(error_type(span), Some(Value::String(t)) if t.as_str().ends_with("DivByZero")),
                "{name}: {:?}",
                error_type(span)
            );
            if name != "d" {
                assert!(exceptions(span).is_empty(), "{name} repeats the event");
            }
        }
    }

    #[test]
    fn a_new_error_is_recorded_where_it_is_made() {
        let spans = capture(|| {
            assert!(wraps().is_err());
        });
        assert_eq!(exceptions(spans.one("d")).len(), 1);
        let outer = exceptions(spans.one("wraps"));
        assert_eq!(outer.len(), 1);
        assert_eq!(
            get(&outer[0], "exception.message"),
            Some(&Value::String("could not compute: division by zero".into()))
        );
        assert_eq!(
            get(&outer[0], "traced.error.source_chain"),
            Some(&Value::Array(Array::String(vec![
                "division by zero".into()
            ])))
        );
    }

    #[test]
    fn the_same_type_and_message_from_inside_counts_as_passing_through() {
        let spans = capture(|| {
            assert!(retries().is_err());
        });
        let ds = spans.named("d");
        assert_eq!(ds.len(), 2);
        assert!(ds.iter().all(|d| exceptions(d).len() == 1));
        let outer = spans.one("retries");
        assert!(is_error(outer));
        assert!(exceptions(outer).is_empty());
    }

    #[test]
    fn once_across_awaits_and_threads() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let (_, spans) = traced::testing::capture_future(|f| rt.block_on(f), async {
            tokio::spawn(async_outer())
                .await
                .expect("task")
                .expect_err("fails")
        });
        assert_eq!(exceptions(spans.one("async_inner")).len(), 1);
        let outer = spans.one("async_outer");
        assert!(is_error(outer));
        assert!(exceptions(outer).is_empty(), "{outer:?}");
    }
}
