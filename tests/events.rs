//! `event!` and `attributes!` on the current span, and nothing evaluated
//! when no span records (with the same code evaluated when one does).

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};

use opentelemetry::{Array, Value};
use support::spans::*;
use traced::testing::capture;
use traced::traced;

static EVALUATED: AtomicUsize = AtomicUsize::new(0);

fn counted(v: u64) -> u64 {
    EVALUATED.fetch_add(1, Ordering::SeqCst);
    v
}

#[traced]
fn create_task(title: &str) -> u64 {
    let id = 42_u64;
    traced::event!(
        "record inserted",
        task.id = id,
        task.title = title,
        "db.table" = "tasks",
        tags = vec!["a", "b"]
    );
    traced::attributes!(
        db.response.returned_rows = 1_usize,
        db.system.name = "sqlite"
    );
    id
}

#[test]
fn events_and_attributes_on_the_current_span() {
    let spans = capture(|| {
        create_task("write docs");
    });
    let span = spans.one("create_task");
    assert_eq!(span.events.len(), 1);
    let event = &span.events[0];
    assert_eq!(event.name, "record inserted");
    let get = |k: &str| {
        event
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == k)
            .map(|kv| kv.value.clone())
    };
    assert_eq!(get("task.id"), Some(Value::I64(42)));
    assert_eq!(get("task.title"), Some(Value::String("write docs".into())));
    assert_eq!(get("db.table"), Some(Value::String("tasks".into())));
    assert_eq!(
        get("tags"),
        Some(Value::Array(Array::String(vec!["a".into(), "b".into()])))
    );
    assert_eq!(
        attr(span, "db.response.returned_rows"),
        Some(&Value::I64(1))
    );
    assert_eq!(
        attr(span, "db.system.name"),
        Some(&Value::String("sqlite".into()))
    );
}

/// The code under test in `nothing_is_evaluated_without_a_recording_span`:
/// one event and one attribute, each value counted when evaluated.
fn emit_counted() {
    traced::event!("maybe heard", value = counted(1));
    traced::attributes!(value = counted(2));
}

#[traced]
fn recording() {
    emit_counted();
}

#[test]
fn nothing_is_evaluated_without_a_recording_span() {
    EVALUATED.store(0, Ordering::SeqCst);
    // No span is current here.
    emit_counted();
    assert_eq!(EVALUATED.load(Ordering::SeqCst), 0);

    // Positive control: the same code under a recording span evaluates
    // both values and records them, so the zero above is not a sign that
    // the macros never evaluate anything.
    let spans = capture(recording);
    assert_eq!(EVALUATED.load(Ordering::SeqCst), 2);
    let span = spans.one("recording");
    assert_eq!(attr(span, "value"), Some(&Value::I64(2)));
    assert_eq!(span.events.len(), 1);
    assert_eq!(span.events[0].name, "maybe heard");
    let event = &span.events[0].attributes;
    assert!(
        event
            .iter()
            .any(|kv| kv.key.as_str() == "value" && kv.value == Value::I64(1)),
        "{event:?}"
    );

    // And once the span has ended, nothing is evaluated again.
    emit_counted();
    assert_eq!(EVALUATED.load(Ordering::SeqCst), 2);
}
