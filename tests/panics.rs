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

/// Set in the child processes of this file's tests.
const CHILD: &str = "TRACED_PANICS_CHILD";

/// Runs `test` alone in a child process of this test binary, with `CHILD`
/// and `envs` set, and returns its stdout; fails unless it passed and
/// printed `marker` (a filter that matches no test passes too, so the
/// marker shows the body ran).
fn run_child(test: &str, envs: &[(&str, &str)], marker: &str) -> String {
    let mut command = std::process::Command::new(std::env::current_exe().expect("test binary"));
    command
        .args(["--exact", test, "--nocapture", "--test-threads", "1"])
        .env(CHILD, "1")
        .env_remove("RUST_LIB_BACKTRACE");
    for (k, v) in envs {
        command.env(k, v);
    }
    let out = command.output().expect("run the child test");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && stdout.contains(marker),
        "{test} {envs:?}: expected {marker:?}\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

// The hook `#[traced]` installs must run the hook installed before it. In a
// process where our hook was installed first (another test's `#[traced]`
// call), a hook installed by the test would wrap ours and run whatever
// ours does, so the check would pass without checking anything: the
// scenario runs alone in a child process, where the test's hook is
// installed before the first `#[traced]` call, and that hook does not
// chain, so the order cannot make the check pass by itself.
#[test]
fn panic_is_recorded_and_keeps_unwinding() {
    if std::env::var_os(CHILD).is_none() {
        run_child(
            "panic_is_recorded_and_keeps_unwinding",
            &[],
            "checked: panics recorded, previous hook ran 4 times",
        );
        return;
    }
    // This hook only counts: it does not run the one before it. So the
    // panic messages on the spans below show that our hook runs, and the
    // count shows that it runs this one, whichever was installed first.
    let hook_calls = Arc::new(AtomicUsize::new(0));
    let seen = hook_calls.clone();
    std::panic::set_hook(Box::new(move |_| {
        seen.fetch_add(1, Ordering::SeqCst);
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
    assert_eq!(
        hook_calls.load(Ordering::SeqCst),
        1,
        "the previous hook must run once per panic"
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
    // One call per panic: `inner`, the two payloads, the unrelated one.
    let calls = hook_calls.load(Ordering::SeqCst);
    assert_eq!(calls, 4, "the previous hook must run once per panic");
    println!("checked: panics recorded, previous hook ran {calls} times");
}

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
        run_child(
            "stacktrace_follows_rust_backtrace",
            &[("RUST_BACKTRACE", setting)],
            expected,
        );
    }
}

/// Calls an instrumented function from `drop`, while the thread unwinds.
struct TracedInDrop;

impl Drop for TracedInDrop {
    fn drop(&mut self) {
        inner(1);
    }
}

// Regression for #25: the first `#[traced]` call of the process, made
// while a thread unwinds, installed the panic hook from a panicking thread,
// which aborts the process. In a child process, where nothing has called a
// `#[traced]` function before.
#[test]
fn first_call_during_an_unwind_does_not_abort() {
    if std::env::var_os(CHILD).is_none() {
        run_child(
            "first_call_during_an_unwind_does_not_abort",
            &[],
            "checked: the unwind went on, then a panic was recorded",
        );
        return;
    }
    let spans = capture(|| {
        let caught = catch_unwind(|| {
            let _in_drop = TracedInDrop;
            panic!("first");
        });
        assert!(caught.is_err());
        // The hook is installed on a later call: the next panic is read.
        let caught = catch_unwind(|| outer(0));
        assert!(caught.is_err());
    });
    assert_eq!(spans.named("inner").len(), 2, "{}", spans.tree());
    assert_eq!(description(spans.one("outer")), "division by zero in inner");
    println!("checked: the unwind went on, then a panic was recorded");
}
