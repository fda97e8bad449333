//! `event!` and `attributes!` on the current span, and nothing evaluated
//! when no span records.

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

#[test]
fn nothing_is_evaluated_without_a_recording_span() {
    EVALUATED.store(0, Ordering::SeqCst);
    // No span is current here.
    traced::event!("nobody listens", value = counted(1));
    traced::attributes!(value = counted(2));
    assert_eq!(EVALUATED.load(Ordering::SeqCst), 0);
}
