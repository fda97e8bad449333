//! #27, "Carry the context": each helper keeps the parent across the
//! boundary it crosses (a future polled elsewhere, a tokio task, a blocking
//! task, a thread, a pool's closure), each next to the plain call as a
//! control that loses it; inline spans (`span!`, `in_span`,
//! `in_span_async`) record attributes, errors and panics as `#[traced]`
//! does.

use std::panic::{AssertUnwindSafe, catch_unwind};

use futures_lite::future::block_on;
use opentelemetry::trace::{SpanId, Status};
use traced::FutureExt as _;
use traced::testing::{Capture, Spans, capture};

/// The span id of the one span named `name`.
fn id(spans: &Spans, name: &str) -> SpanId {
    spans.one(name).span_context.span_id()
}

/// The parent span id of the one span named `name`; `SpanId::INVALID` for
/// a root.
fn parent(spans: &Spans, name: &str) -> SpanId {
    spans.one(name).parent_span_id
}

/// A runtime whose tasks run on worker threads, never on the thread that
/// spawned them: where a plain `tokio::spawn` finds no context.
fn workers() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

/// A task body that starts a span named at run time.
async fn child(name: &'static str) {
    traced::in_span_async(name, async {}).await;
}

fn assert_send<T: Send>(_: &T) {}

// ---- Carrying the context ----

#[test]
fn in_current_context_keeps_the_parent_of_a_future_polled_later() {
    let capture = Capture::start();
    let (carried, plain) = {
        let _parent = traced::span!("parent");
        (child("carried").in_current_context(), child("plain"))
    };
    assert_send(&carried);
    // Polled once the parent is no longer current.
    block_on(carried);
    block_on(plain);
    let spans = capture.spans();
    assert_eq!(parent(&spans, "carried"), id(&spans, "parent"));
    assert_eq!(parent(&spans, "plain"), SpanId::INVALID, "the control");
}

#[test]
fn spawn_keeps_the_parent_and_tokio_spawn_loses_it() {
    let runtime = workers();
    let _entered = runtime.enter();
    let capture = Capture::start();
    let (carried, plain) = {
        let _parent = traced::span!("parent");
        (
            traced::spawn(child("carried")),
            tokio::spawn(child("plain")),
        )
    };
    runtime.block_on(async {
        carried.await.unwrap();
        plain.await.unwrap();
    });
    let spans = capture.spans();
    assert_eq!(parent(&spans, "carried"), id(&spans, "parent"));
    assert_eq!(parent(&spans, "plain"), SpanId::INVALID, "the control");
}

#[test]
fn spawn_from_an_instrumented_task_keeps_its_span() {
    #[traced::traced]
    async fn handler() {
        traced::spawn(child("background")).await.unwrap();
    }

    let runtime = workers();
    let capture = Capture::start();
    runtime.block_on(async { tokio::spawn(handler()).await.unwrap() });
    let spans = capture.spans();
    assert_eq!(parent(&spans, "background"), id(&spans, "handler"));
}

#[test]
fn spawn_blocking_keeps_the_parent_and_tokio_spawn_blocking_loses_it() {
    let runtime = workers();
    let _entered = runtime.enter();
    let capture = Capture::start();
    let (carried, plain) = {
        let _parent = traced::span!("parent");
        (
            traced::spawn_blocking(|| {
                let _span = traced::span!("carried");
                1
            }),
            tokio::task::spawn_blocking(|| {
                let _span = traced::span!("plain");
                2
            }),
        )
    };
    let (a, b) = runtime.block_on(async { (carried.await.unwrap(), plain.await.unwrap()) });
    assert_eq!((a, b), (1, 2));
    let spans = capture.spans();
    assert_eq!(parent(&spans, "carried"), id(&spans, "parent"));
    assert_eq!(parent(&spans, "plain"), SpanId::INVALID, "the control");
}

#[test]
fn thread_spawn_keeps_the_parent_and_std_thread_spawn_loses_it() {
    let capture = Capture::start();
    let (carried, plain) = {
        let _parent = traced::span!("parent");
        (
            traced::thread::spawn(|| {
                let _span = traced::span!("carried");
            }),
            std::thread::spawn(|| {
                let _span = traced::span!("plain");
            }),
        )
    };
    carried.join().unwrap();
    plain.join().unwrap();
    let spans = capture.spans();
    assert_eq!(parent(&spans, "carried"), id(&spans, "parent"));
    assert_eq!(parent(&spans, "plain"), SpanId::INVALID, "the control");
}

#[test]
fn current_context_entered_in_a_pool_keeps_the_parent() {
    let capture = Capture::start();
    {
        let _parent = traced::span!("parent");
        let cx = traced::current_context();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let _guard = cx.clone().attach();
                let _span = traced::span!("carried");
            });
            scope.spawn(|| {
                let _span = traced::span!("plain");
            });
        });
    }
    let spans = capture.spans();
    assert_eq!(parent(&spans, "carried"), id(&spans, "parent"));
    assert_eq!(parent(&spans, "plain"), SpanId::INVALID, "the control");
}

// ---- Inline spans ----

#[derive(Debug)]
#[allow(dead_code)] // read through `Debug`
struct User {
    id: u64,
}

#[test]
fn span_records_its_options_and_fields() {
    let spans = capture(|| {
        let user = User { id: 7 };
        let query = "SELECT 1";
        let retries = 3_u32;
        let path = std::path::Path::new("/tmp/a b");
        let _span = traced::span!(
            "load user",
            kind = client,
            user.id = user.id,
            %query,
            db.retries = retries,
            ?user,
            file.path = %path.display(),
            "db.system.name" = "sqlite",
            error.type = ?"none",
            password = "hunter2",
        );
        let _inner = traced::span!("inner", level = warn);
    });
    insta::assert_snapshot!(spans.tree(), @r#"
    load user kind=Client db.retries=3 db.system.name="sqlite" error.type="\"none\"" file.path="/tmp/a b" password="[REDACTED]" query="SELECT 1" user="User { id: 7 }" user.id=7
        inner
    "#);
}

#[test]
fn span_records_its_call_site() {
    let spans = capture(|| {
        let _span = traced::span!("located");
    });
    let span = spans.one("located");
    let attr = |key: &str| {
        span.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.to_string())
    };
    assert_eq!(attr("code.file.path").as_deref(), Some(file!()));
    assert_eq!(attr("code.function.name").as_deref(), Some(module_path!()));
    assert_eq!(span.instrumentation_scope.name(), "traced");
}

#[test]
fn span_below_the_filter_is_not_started_and_its_children_attach_above() {
    let spans = capture(|| {
        let _outer = traced::span!("outer");
        let _quiet = traced::span!("quiet", level = debug, target = "my_app::db");
        let _quieter = traced::span!("quieter", level = "trace");
        let _path = traced::span!("path", level = tracing::Level::DEBUG);
        let _upper = traced::span!("upper", level = DEBUG);
        let _child = traced::span!("child");
    });
    insta::assert_snapshot!(spans.tree(), @r"
    outer
        child
    ");
}

#[test]
fn span_with_parent_none_is_a_root() {
    let spans = capture(|| {
        let _outer = traced::span!("outer");
        let _root = traced::span!("detached", parent = None);
    });
    assert_eq!(parent(&spans, "detached"), SpanId::INVALID);
    assert_ne!(
        spans.one("detached").span_context.trace_id(),
        spans.one("outer").span_context.trace_id()
    );
}

#[test]
fn span_with_an_explicit_parent() {
    let spans = capture(|| {
        let cx = {
            let _first = traced::span!("first");
            traced::current_context()
        };
        let _other = traced::span!("other");
        let _child = traced::span!("child", parent = cx);
    });
    assert_eq!(parent(&spans, "child"), id(&spans, "first"));
}

#[test]
fn span_records_a_panic_and_it_keeps_unwinding() {
    let spans = capture(|| {
        let unwound = catch_unwind(|| {
            let _span = traced::span!("guarded");
            panic!("disk on fire");
        });
        assert!(unwound.is_err());
    });
    let span = spans.one("guarded");
    assert!(
        matches!(span.status, Status::Error { .. }),
        "{:?}",
        span.status
    );
    let event = exception(span);
    assert_eq!(event.as_deref(), Some("disk on fire"));
}

#[test]
fn in_span_records_an_err_and_keeps_the_parent_below() {
    #[traced::traced]
    fn lookup(key: &str) -> Result<u32, std::io::Error> {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("no {key}"),
        ))
    }

    let spans = capture(|| {
        let out = traced::in_span("resolve", |span| {
            assert!(span.is_recording());
            traced::attributes!(lookup.key = "a");
            lookup("a")
        });
        assert!(out.is_err());
    });
    insta::assert_snapshot!(spans.tree(), @r#"
    resolve status=Error("no a") error.type="std::io::error::Error" lookup.key="a"
        lookup status=Error("no a") error.type="std::io::error::Error" key="a"
          ! exception exception.message="no a" exception.type="std::io::error::Error"
    "#);
}

#[test]
fn in_span_records_its_own_err() {
    let spans = capture(|| {
        let out: anyhow::Result<()> = traced::in_span("check", |_| anyhow::bail!("too large"));
        assert!(out.is_err());
        let fine: Result<u32, String> = traced::in_span("fine", |_| Ok(1));
        assert_eq!(fine, Ok(1));
        let value = traced::in_span(String::from("named at run time"), |_| 5_u8);
        assert_eq!(value, 5);
    });
    let check = spans.one("check");
    assert!(matches!(check.status, Status::Error { .. }));
    assert_eq!(exception(check).as_deref(), Some("too large"));
    assert_eq!(spans.one("fine").status, Status::Unset);
    assert_eq!(spans.one("named at run time").status, Status::Unset);
}

#[test]
fn in_span_records_a_panic_and_it_keeps_unwinding() {
    let spans = capture(|| {
        let unwound = catch_unwind(|| traced::in_span("boom", |_| -> u32 { panic!("kaboom") }));
        assert!(unwound.is_err());
    });
    let span = spans.one("boom");
    assert!(
        matches!(span.status, Status::Error { .. }),
        "{:?}",
        span.status
    );
    assert_eq!(exception(span).as_deref(), Some("kaboom"));
}

#[test]
fn in_span_async_records_an_err_and_is_current_in_every_poll() {
    let spans = capture(|| {
        let future = traced::in_span_async("fetch", async {
            futures_lite::future::yield_now().await;
            child("inside").await;
            Err::<(), _>(std::fmt::Error)
        });
        assert_send(&future);
        assert!(block_on(future).is_err());
    });
    assert_eq!(parent(&spans, "inside"), id(&spans, "fetch"));
    let fetch = spans.one("fetch");
    assert!(matches!(fetch.status, Status::Error { .. }));
    assert_eq!(
        exception(fetch).as_deref(),
        Some("an error occurred when formatting an argument")
    );
}

#[test]
fn in_span_async_records_a_panic_and_a_cancellation() {
    let spans = capture(|| {
        let panicked = catch_unwind(AssertUnwindSafe(|| {
            block_on(traced::in_span_async("poll panics", async {
                if true {
                    panic!("mid-poll");
                }
            }))
        }));
        assert!(panicked.is_err());
        let never = traced::in_span_async("dropped", std::future::pending::<()>());
        drop(never);
    });
    assert_eq!(
        exception(spans.one("poll panics")).as_deref(),
        Some("mid-poll")
    );
    let dropped = spans.one("dropped");
    assert!(
        dropped
            .events
            .iter()
            .any(|e| e.name == traced::CANCELLED_EVENT),
        "{dropped:?}"
    );
}

/// The message of the span's `exception` event, if it has one.
fn exception(span: &traced::testing::SpanData) -> Option<String> {
    span.events
        .iter()
        .find(|e| e.name == "exception")?
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == "exception.message")
        .map(|kv| kv.value.to_string())
}

// ---- Strict lints and the `tokio` feature's weight ----

#[test]
fn inline_spans_are_quiet_under_strict_lints() {
    #![deny(unused_qualifications, unused_results, unsafe_code, missing_docs)]
    #![deny(clippy::all, clippy::pedantic)]

    let id = 7_u64;
    let name = "ann";
    let _plain = traced::span!("plain");
    let _full = traced::span!(
        "full",
        kind = server,
        level = info,
        target = "app",
        id,
        %name,
        ?id,
        user.name = name,
        "http.route" = "/users",
    );
    let n = traced::in_span("closure", |_| 1_u8);
    assert_eq!(n, 1);
}

#[test]
fn the_tokio_feature_pulls_tokio_rt_only() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = std::process::Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["tree", "-p", "traced", "--no-default-features"])
        .args(["--features", "tokio", "-e", "normal"])
        .args(["--prefix", "none", "--format", "{p} {f}"])
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    let crates: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert!(crates.contains(&"tokio"), "{tree}");
    let heavy: Vec<&&str> = crates
        .iter()
        .filter(|c| {
            [
                "tonic", "reqwest", "hyper", "h2", "prost", "rustls", "mio", "axum",
            ]
            .contains(c)
        })
        .collect();
    assert!(heavy.is_empty(), "the `tokio` feature pulls {heavy:?}");
    let tokio_features = tree
        .lines()
        .find(|line| line.starts_with("tokio "))
        .expect("tokio in the tree");
    assert!(
        tokio_features.ends_with(" rt"),
        "tokio is built with more than `rt`: {tokio_features}"
    );
}
