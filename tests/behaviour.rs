//! The behaviour of `#[traced]`, read back from captured spans.

mod common;

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{Array, Value};
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
        Some(&Value::String("behaviour::plain".into()))
    );
    assert_eq!(
        attr(span, "code.file.path"),
        Some(&Value::String("tests/behaviour.rs".into()))
    );
    // `fn plain` is on line 16 of this file.
    assert_eq!(attr(span, "code.line.number"), Some(&Value::I64(16)));
}

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
        Some(&Value::String("behaviour::NotFound".into()))
    );
    let events = exceptions(span);
    assert_eq!(events.len(), 1);
    assert_eq!(
        get(&events[0], "exception.type"),
        Some(&Value::String("behaviour::NotFound".into()))
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
    assert_eq!(spans.tree(), "a\n    b\n        manual\n            c\n");
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
    assert_eq!(spans.tree().matches("factorial").count(), 3);
    assert!(
        spans
            .tree()
            .contains("factorial n=3\n    factorial n=2\n        factorial n=1\n")
    );
}

struct Account {
    balance: i64,
}

impl Account {
    #[traced]
    fn new(balance: i64) -> Self {
        Account { balance }
    }
    #[traced]
    fn get(&self) -> i64 {
        self.balance
    }
    #[traced]
    fn add(&mut self, amount: i64) {
        self.balance += amount;
    }
    #[traced]
    fn into_balance(self) -> i64 {
        self.balance
    }
    #[traced]
    fn boxed(self: Box<Self>) -> i64 {
        self.balance
    }
}

#[traced(skip(extra))]
fn generic_where<'a, T>(items: &'a [T], extra: impl AsRef<str>) -> usize
where
    T: std::fmt::Debug + 'a,
{
    items.len() + extra.as_ref().len()
}

#[traced]
pub(crate) unsafe fn dangerous(x: u8) -> u8 {
    x
}

#[test]
fn methods_generics_and_unsafe() {
    let spans = capture(|| {
        let mut account = Account::new(10);
        account.add(5);
        assert_eq!(account.get(), 15);
        assert_eq!(Box::new(Account::new(1)).boxed(), 1);
        assert_eq!(account.into_balance(), 15);
        assert_eq!(generic_where(&[1, 2], "abc"), 5);
        // SAFETY: `dangerous` has no precondition; it is `unsafe` only to
        // show that unsafe functions can be instrumented.
        assert_eq!(unsafe { dangerous(3) }, 3);
    });
    assert_eq!(attr(spans.one("add"), "amount"), Some(&Value::I64(5)));
    assert!(
        spans
            .one("get")
            .attributes
            .iter()
            .all(|kv| !kv.key.as_str().contains("self"))
    );
    assert_eq!(spans.named("new").len(), 2);
    assert_eq!(spans.one("into_balance").status, Status::Unset);
    assert_eq!(spans.one("boxed").status, Status::Unset);
    // A generic `T: Debug` is recorded through `Debug`.
    assert_eq!(
        attr(spans.one("generic_where"), "items"),
        Some(&Value::String("[1, 2]".into()))
    );
    assert_eq!(attr(spans.one("dangerous"), "x"), Some(&Value::I64(3)));
}

#[test]
fn spans_appear_when_the_provider_is_installed_after_the_first_call() {
    // First call with no `traced` provider: the global no-op one.
    c();
    let spans = capture(|| {
        c();
    });
    assert_eq!(spans.named("c").len(), 1);
    // And a provider replaced in between is seen too.
    let spans = capture(|| {
        c();
    });
    assert_eq!(spans.named("c").len(), 1);
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
