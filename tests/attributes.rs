//! Arguments become attributes: typed values, pattern bindings, `skip`,
//! `skip_all`, `attributes(..)`, redacted secrets, and nothing formatted
//! for a span that is not sampled.

mod support;

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use opentelemetry::{Array, Value};
use support::spans::*;
use traced::testing::capture;
use traced::traced;

#[derive(Debug)]
#[allow(dead_code)]
struct Point {
    x: i32,
    y: i32,
}

#[allow(clippy::too_many_arguments)]
#[traced]
fn types(
    small: i8,
    unsigned: u64,
    huge: u64,
    float: f32,
    flag: bool,
    owned: String,
    cow: Cow<'_, str>,
    ints: &[i32],
    words: Vec<String>,
    fixed: [f64; 2],
    some: Option<u16>,
    none: Option<u16>,
    boxed: Box<i64>,
    shared: Arc<str>,
    point: Point,
    points: Vec<Point>,
    wide: Vec<u64>,
) {
}

#[test]
fn arguments_become_typed_attributes() {
    let spans = capture(|| {
        types(
            -3,
            7,
            u64::MAX,
            1.5,
            true,
            "owned".into(),
            Cow::Borrowed("cow"),
            &[1, 2],
            vec!["a".into(), "b".into()],
            [0.5, 1.0],
            Some(9),
            None,
            Box::new(42),
            Arc::from("shared"),
            Point { x: 1, y: 2 },
            vec![Point { x: 0, y: 0 }],
            vec![1, u64::MAX],
        )
    });
    let span = spans.one("types");
    assert_eq!(attr(span, "small"), Some(&Value::I64(-3)));
    assert_eq!(attr(span, "unsigned"), Some(&Value::I64(7)));
    assert_eq!(
        attr(span, "huge"),
        Some(&Value::String(u64::MAX.to_string().into()))
    );
    assert_eq!(attr(span, "float"), Some(&Value::F64(1.5)));
    assert_eq!(attr(span, "flag"), Some(&Value::Bool(true)));
    assert_eq!(attr(span, "owned"), Some(&Value::String("owned".into())));
    assert_eq!(attr(span, "cow"), Some(&Value::String("cow".into())));
    assert_eq!(
        attr(span, "ints"),
        Some(&Value::Array(Array::I64(vec![1, 2])))
    );
    assert_eq!(
        attr(span, "words"),
        Some(&Value::Array(Array::String(vec!["a".into(), "b".into()])))
    );
    assert_eq!(
        attr(span, "fixed"),
        Some(&Value::Array(Array::F64(vec![0.5, 1.0])))
    );
    assert_eq!(attr(span, "some"), Some(&Value::I64(9)));
    assert_eq!(attr(span, "none"), None);
    assert_eq!(attr(span, "boxed"), Some(&Value::I64(42)));
    assert_eq!(attr(span, "shared"), Some(&Value::String("shared".into())));
    assert_eq!(
        attr(span, "point"),
        Some(&Value::String("Point { x: 1, y: 2 }".into()))
    );
    assert_eq!(
        attr(span, "points"),
        Some(&Value::String("[Point { x: 0, y: 0 }]".into()))
    );
    assert_eq!(
        attr(span, "wide"),
        Some(&Value::Array(Array::String(vec![
            "1".into(),
            u64::MAX.to_string().into()
        ])))
    );
}

#[traced]
fn patterns((a, b): (i32, i32), Point { x, .. }: Point, _: u8, [first, ..]: [u8; 3]) -> i32 {
    a + b + x + i32::from(first)
}

#[test]
fn pattern_parameters_record_their_bindings() {
    let spans = capture(|| {
        patterns((1, 2), Point { x: 3, y: 4 }, 5, [6, 7, 8]);
    });
    let span = spans.one("patterns");
    assert_eq!(attr(span, "a"), Some(&Value::I64(1)));
    assert_eq!(attr(span, "b"), Some(&Value::I64(2)));
    assert_eq!(attr(span, "x"), Some(&Value::I64(3)));
    assert_eq!(attr(span, "first"), Some(&Value::I64(6)));
    assert_eq!(attr(span, "y"), None);
}

#[traced(skip(b))]
fn skip_one(a: u8, b: u8) -> u8 {
    a + b
}

#[traced(skip_all)]
fn skip_every(a: u8, b: u8) -> u8 {
    a + b
}

#[test]
fn skip_and_skip_all() {
    let spans = capture(|| {
        skip_one(1, 2);
        skip_every(3, 4);
    });
    let one = spans.one("skip_one");
    assert_eq!(attr(one, "a"), Some(&Value::I64(1)));
    assert_eq!(attr(one, "b"), None);
    let every = spans.one("skip_every");
    assert_eq!(attr(every, "a"), None);
    assert_eq!(attr(every, "b"), None);
}

struct User {
    id: u64,
    name: String,
}

#[traced(attributes(user.id = user.id, user.name = user.name.as_str(), http.request.method = "POST", user = 1))]
fn with_attributes(user: &User) -> usize {
    user.name.len()
}

#[test]
fn attributes_option() {
    let spans = capture(|| {
        with_attributes(&User {
            id: 7,
            name: "ana".into(),
        });
    });
    let span = spans.one("with_attributes");
    assert_eq!(attr(span, "user.id"), Some(&Value::I64(7)));
    assert_eq!(attr(span, "user.name"), Some(&Value::String("ana".into())));
    assert_eq!(
        attr(span, "http.request.method"),
        Some(&Value::String("POST".into()))
    );
    // The explicit `user` replaces the parameter's automatic recording.
    assert_eq!(attr(span, "user"), Some(&Value::I64(1)));
    assert_eq!(count(span, "user"), 1);
}

#[traced]
fn sign_in(
    user: &str,
    password: &str,
    api_key: String,
    session_token: &str,
    authorization: Option<&str>,
) -> bool {
    !user.is_empty()
        && !password.is_empty()
        && !api_key.is_empty()
        && !session_token.is_empty()
        && authorization.is_some()
}

#[traced(attributes(password = password.len()))]
fn explicit_secret(password: &str) -> usize {
    password.len()
}

#[test]
fn secrets_are_redacted() {
    let spans = capture(|| {
        sign_in("ana", "hunter2", "k-123".into(), "t-456", Some("Bearer x"));
        explicit_secret("hunter2");
    });
    let span = spans.one("sign_in");
    assert_eq!(attr(span, "user"), Some(&Value::String("ana".into())));
    for key in ["password", "api_key", "session_token", "authorization"] {
        assert_eq!(
            attr(span, key),
            Some(&Value::String("[REDACTED]".into())),
            "{key}"
        );
    }
    let rendered = format!("{:?}", spans.all());
    for secret in ["hunter2", "k-123", "t-456", "Bearer x"] {
        assert!(!rendered.contains(secret), "{secret} leaked");
    }
    assert_eq!(
        attr(spans.one("explicit_secret"), "password"),
        Some(&Value::I64(7))
    );
}

struct Counted(Arc<AtomicUsize>);
impl std::fmt::Debug for Counted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fetch_add(1, Ordering::SeqCst);
        f.write_str("Counted")
    }
}

fn evaluated(counter: &AtomicUsize) -> u8 {
    counter.fetch_add(1, Ordering::SeqCst);
    1
}

#[traced(attributes(extra = evaluated(&counter.0)))]
fn lazy(counter: Counted) {
    let _ = counter;
}

#[test]
fn nothing_is_formatted_when_not_sampled() {
    use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
    let counter = Arc::new(AtomicUsize::new(0));
    // Sampled: Debug runs once, the attribute expression once.
    let spans = capture(|| lazy(Counted(counter.clone())));
    assert_eq!(counter.load(Ordering::SeqCst), 2);
    assert_eq!(
        attr(spans.one("lazy"), "counter"),
        Some(&Value::String("Counted".into()))
    );

    // Not sampled: neither runs.
    let capture = traced::testing::Capture::start();
    let off = SdkTracerProvider::builder()
        .with_sampler(Sampler::AlwaysOff)
        .build();
    let previous = traced::set_tracer_provider(off);
    counter.store(0, Ordering::SeqCst);
    lazy(Counted(counter.clone()));
    assert_eq!(counter.load(Ordering::SeqCst), 0);
    if let Some(previous) = previous {
        traced::set_tracer_provider(previous);
    }
    drop(capture);
}

// Regression for #11: an `Option` of a `Debug` type was recorded as the
// strings `Some(..)` and `None`; it follows the rule for `Option` now.
mod issue11_option_of_debug {
    use super::*;

    #[traced]
    fn options(
        some: Option<Point>,
        none: Option<Point>,
        by_ref: &Option<Point>,
        inner_ref: Option<&Point>,
    ) {
    }

    #[traced(attributes(picked = chosen.as_ref()))]
    fn through_attributes(chosen: Option<Point>) {}

    #[test]
    fn the_inner_value_or_no_attribute() {
        let spans = capture(|| {
            let p = Point { x: 3, y: 4 };
            options(
                Some(Point { x: 1, y: 2 }),
                None,
                &Some(Point { x: 5, y: 6 }),
                Some(&p),
            );
            through_attributes(None);
            through_attributes(Some(Point { x: 7, y: 8 }));
        });
        let span = spans.one("options");
        assert_eq!(
            attr(span, "some"),
            Some(&Value::String("Point { x: 1, y: 2 }".into()))
        );
        assert_eq!(attr(span, "none"), None);
        assert_eq!(
            attr(span, "by_ref"),
            Some(&Value::String("Point { x: 5, y: 6 }".into()))
        );
        assert_eq!(
            attr(span, "inner_ref"),
            Some(&Value::String("Point { x: 3, y: 4 }".into()))
        );
        let calls = spans.named("through_attributes");
        assert_eq!(calls.len(), 2);
        assert_eq!(attr(calls[0], "picked"), None);
        assert_eq!(
            attr(calls[1], "picked"),
            Some(&Value::String("Point { x: 7, y: 8 }".into()))
        );
    }
}
