//! Panics inside instrumented functions: recorded, never swallowed.

mod support;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use opentelemetry::Value;
use support::spans::*;
use traced::testing::capture;
use traced::traced;

#[traced]
fn outer(n: u32) -> u32 {
    inner(n) + 1
}

#[traced]
fn inner(n: u32) -> u32 {
    if n == 0 {
        panic!("division by zero in inner");
    }
    10 / n
}

#[traced]
fn string_payload() {
    let what = "formatted";
    panic!("a {what} payload");
}

#[traced]
fn other_payload() {
    std::panic::panic_any(42_u8);
}

#[test]
fn panic_is_recorded_and_keeps_unwinding() {
    // One test body so that the panic-hook chain is checked in isolation.
    let hook_calls = Arc::new(AtomicUsize::new(0));
    let seen = hook_calls.clone();
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        seen.fetch_add(1, Ordering::SeqCst);
        default_hook(info);
    }));

    // The line of the `panic!` in `inner`, looked up in this file rather
    // than written down, so that an edit above it cannot break the test.
    let panic_line = support::line_of(file!(), "panic!(\"division by zero in inner\")");
    let spans = capture(|| {
        let caught = catch_unwind(|| outer(0));
        let payload = caught.expect_err("the panic must reach the caller");
        assert_eq!(
            payload.downcast_ref::<&str>(),
            Some(&"division by zero in inner")
        );
    });
    assert!(
        hook_calls.load(Ordering::SeqCst) >= 1,
        "the previous hook must still run"
    );

    let inner_span = spans.one("inner");
    let outer_span = spans.one("outer");
    assert_eq!(inner_span.parent_span_id, outer_span.span_context.span_id());
    for span in [inner_span, outer_span] {
        assert!(is_error(span), "{} must be Error", span.name);
        assert_eq!(description(span), "division by zero in inner");
        assert_eq!(
            attr(span, "error.type"),
            Some(&Value::String("panic".into()))
        );
    }
    // Recorded once (#11): the event is on the span the panic started in;
    // the span it unwinds through has the status and `error.type` only.
    assert!(exceptions(outer_span).is_empty(), "{outer_span:?}");
    let events = exceptions(inner_span);
    assert_eq!(events.len(), 1);
    assert_eq!(
        get(&events[0], "exception.type"),
        Some(&Value::String("panic".into()))
    );
    assert_eq!(
        get(&events[0], "exception.message"),
        Some(&Value::String("division by zero in inner".into()))
    );
    assert_eq!(
        get(&events[0], "code.file.path"),
        Some(&Value::String("tests/panics.rs".into()))
    );
    assert_eq!(
        get(&events[0], "code.line.number"),
        Some(&Value::I64(panic_line))
    );

    let spans = capture(|| {
        let caught = catch_unwind(string_payload);
        let payload = caught.expect_err("panics");
        assert_eq!(
            payload.downcast_ref::<String>().map(String::as_str),
            Some("a formatted payload")
        );
        let caught = catch_unwind(other_payload);
        assert_eq!(caught.expect_err("panics").downcast_ref::<u8>(), Some(&42));
    });
    assert_eq!(
        description(spans.one("string_payload")),
        "a formatted payload"
    );
    let other = spans.one("other_payload");
    assert!(is_error(other));
    assert_eq!(
        get(&exceptions(other)[0], "exception.message"),
        Some(&Value::String("panic with a non-string payload".into()))
    );

    // A span that completes normally during an unrelated unwind is not
    // marked as panicked.
    struct CallsOnDrop;
    impl Drop for CallsOnDrop {
        fn drop(&mut self) {
            inner(1);
        }
    }
    let spans = capture(|| {
        let _ = catch_unwind(AssertUnwindSafe(|| {
            let _guard = CallsOnDrop;
            panic!("unrelated");
        }));
    });
    let during = spans.one("inner");
    assert!(!is_error(during));
    assert!(exceptions(during).is_empty());
}

/// Set in the child processes of `stacktrace_follows_rust_backtrace`.
const CHILD: &str = "TRACED_PANICS_CHILD";

// Regression for #11: `exception.stacktrace` comes from
// `std::backtrace::Backtrace`, so it is there exactly when the user turned
// backtraces on. The standard library reads the variables once per process,
// so each setting runs in a child process of this test binary.
#[test]
fn stacktrace_follows_rust_backtrace() {
    if std::env::var_os(CHILD).is_some() {
        let spans = capture(|| {
            let _ = catch_unwind(|| outer(0));
        });
        let events = exceptions(spans.one("inner"));
        match get(&events[0], "exception.stacktrace") {
            Some(Value::String(trace)) => {
                assert!(trace.as_str().contains("panics::inner"), "{trace}");
                println!("stacktrace: yes");
            }
            None => println!("stacktrace: no"),
            Some(other) => panic!("not a string: {other:?}"),
        }
        return;
    }
    for (setting, expected) in [("1", "stacktrace: yes"), ("0", "stacktrace: no")] {
        let out = std::process::Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "--exact",
                "stacktrace_follows_rust_backtrace",
                "--nocapture",
            ])
            .env(CHILD, "1")
            .env("RUST_BACKTRACE", setting)
            .env_remove("RUST_LIB_BACKTRACE")
            .output()
            .expect("run the child test");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains(expected),
            "RUST_BACKTRACE={setting}: expected {expected:?}\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
