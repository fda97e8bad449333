//! `async fn`: the span is created at the call, current during every poll,
//! ended at completion, and marked when the future is dropped early.

mod support;

use std::future::Future;
use std::time::{Duration, SystemTime};

use opentelemetry::Value;
use opentelemetry::trace::{Status, TraceContextExt as _};
use support::spans::*;
use traced::testing::capture_future;
use traced::traced;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

#[traced]
async fn leaf(n: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(1)).await;
    n * 2
}

#[traced]
async fn parent(n: u64) -> u64 {
    // Hop threads: each `.await` may resume on another worker.
    let a = leaf(n).await;
    tokio::task::yield_now().await;
    let b = leaf(a).await;
    let current = opentelemetry::Context::current();
    assert!(
        current.span().span_context().is_valid(),
        "our span is current in the body"
    );
    a + b
}

#[traced]
async fn failing(fail: bool) -> Result<u8, std::io::Error> {
    tokio::task::yield_now().await;
    if fail {
        return Err(std::io::Error::other("async failure"));
    }
    Ok(1)
}

#[traced]
async fn panicking() -> u8 {
    tokio::task::yield_now().await;
    panic!("async panic");
}

#[traced]
async fn forever() {
    std::future::pending::<()>().await;
}

struct Repo;

impl Repo {
    #[traced]
    async fn load(&self, id: u32) -> Option<u32> {
        tokio::task::yield_now().await;
        Some(id)
    }
}

trait Store {
    async fn put(&self, key: &str) -> usize;
}

impl Store for Repo {
    #[traced]
    async fn put(&self, key: &str) -> usize {
        key.len()
    }
}

fn assert_send<F: Future + Send>(f: F) -> F {
    f
}

#[test]
fn span_is_current_across_awaits_on_any_thread() {
    let rt = runtime();
    let (out, spans) = capture_future(|f| rt.block_on(f), async {
        // Spawned: runs on a worker thread, so the future must be `Send`.
        tokio::spawn(assert_send(parent(1))).await.expect("task")
    });
    assert_eq!(out, 6);
    insta::assert_snapshot!(spans.tree(), @r"
    parent n=1
        leaf n=1
        leaf n=2
    ");
    let parent = spans.one("parent");
    for leaf in spans.named("leaf") {
        assert_eq!(leaf.parent_span_id, parent.span_context.span_id());
        assert!(leaf.end_time <= parent.end_time);
    }
}

#[test]
fn span_starts_at_the_call_not_at_the_first_poll() {
    let rt = runtime();
    let (called, spans) = capture_future(|f| rt.block_on(f), async {
        let future = leaf(3);
        let called = SystemTime::now();
        tokio::time::sleep(Duration::from_millis(20)).await;
        future.await;
        called
    });
    let leaf = spans.one("leaf");
    // Read off the clock the span uses, not inferred from its duration.
    assert!(
        leaf.start_time <= called,
        "the span began at the call, before the future was first polled"
    );
    let took = leaf
        .end_time
        .duration_since(leaf.start_time)
        .expect("ordered");
    assert!(
        took >= Duration::from_millis(20),
        "span began at the call: {took:?}"
    );
}

#[test]
fn async_errors_panics_and_cancellation() {
    let rt = runtime();
    let (_, spans) = capture_future(|f| rt.block_on(f), async {
        assert!(failing(true).await.is_err());
        assert!(failing(false).await.is_ok());
        let joined = tokio::spawn(panicking()).await;
        assert!(joined.expect_err("panicked").is_panic());
        let timed_out = tokio::time::timeout(Duration::from_millis(5), forever()).await;
        assert!(timed_out.is_err());
        assert_eq!(Repo.load(4).await, Some(4));
        assert_eq!(Repo.put("abc").await, 3);
    });
    let failing = spans.named("failing");
    assert_eq!(failing.len(), 2);
    assert_eq!(description(failing[0]), "async failure");
    assert_eq!(failing[1].status, Status::Unset);

    let panicked = spans.one("panicking");
    assert_eq!(description(panicked), "async panic");
    assert_eq!(
        get(&exceptions(panicked)[0], "exception.type"),
        Some(&Value::String("panic".into()))
    );

    let cancelled = spans.one("forever");
    assert_eq!(cancelled.events.len(), 1);
    assert_eq!(cancelled.events[0].name, traced::CANCELLED_EVENT);
    assert_eq!(cancelled.status, Status::Unset);

    assert_eq!(attr(spans.one("load"), "id"), Some(&Value::I64(4)));
    assert_eq!(
        attr(spans.one("put"), "key"),
        Some(&Value::String("abc".into()))
    );
}

#[test]
fn current_thread_runtime() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // `parent(2)` inside the block: the span starts at the call, and the
    // call must happen while the capture runs.
    let (out, spans) = capture_future(|f| rt.block_on(f), async { parent(2).await });
    assert_eq!(out, 12);
    assert_eq!(spans.len(), 3);
}

#[traced]
fn returns_impl_future(n: u64) -> impl Future<Output = u64> {
    async move {
        tokio::task::yield_now().await;
        leaf(n).await
    }
}

#[traced]
fn returns_boxed_future(
    n: u64,
) -> std::pin::Pin<Box<dyn Future<Output = Result<u64, std::io::Error>> + Send>> {
    Box::pin(async move {
        tokio::task::yield_now().await;
        if n == 0 {
            return Err(std::io::Error::other("zero"));
        }
        Ok(leaf(n).await)
    })
}

#[async_trait::async_trait]
trait Repository {
    async fn fetch(&self, id: u64) -> Result<u64, std::io::Error>;
}

struct Db;

#[async_trait::async_trait]
impl Repository for Db {
    #[traced]
    async fn fetch(&self, id: u64) -> Result<u64, std::io::Error> {
        tokio::task::yield_now().await;
        if id == 0 {
            return Err(std::io::Error::other("no row"));
        }
        Ok(leaf(id).await)
    }
}

trait Defaulted {
    #[traced]
    async fn with_default(&self, x: u8) -> u8 {
        x + 1
    }
}
impl Defaulted for Db {}

#[traced]
async fn recursive(n: u64) -> u64 {
    if n == 0 {
        0
    } else {
        Box::pin(recursive(n - 1)).await + 1
    }
}

#[test]
fn returned_futures_carry_the_span() {
    let rt = runtime();
    let (_, spans) = capture_future(|f| rt.block_on(f), async {
        let future = returns_impl_future(1);
        let boxed = returns_boxed_future(0);
        // Not awaited yet: nothing has finished.
        assert_eq!(tokio::spawn(assert_send(future)).await.expect("task"), 2);
        assert!(boxed.await.is_err());
        assert_eq!(Db.fetch(2).await.expect("ok"), 4);
        assert!(Db.fetch(0).await.is_err());
        assert_eq!(Db.with_default(1).await, 2);
        assert_eq!(recursive(2).await, 2);
    });
    let imp = spans.one("returns_impl_future");
    let leaves = spans.named("leaf");
    assert_eq!(leaves[0].parent_span_id, imp.span_context.span_id());
    assert_eq!(
        leaves[1].parent_span_id,
        spans.named("fetch")[0].span_context.span_id()
    );
    assert_eq!(attr(imp, "n"), Some(&Value::I64(1)));
    let boxed = spans.one("returns_boxed_future");
    assert_eq!(description(boxed), "zero");
    let fetches = spans.named("fetch");
    assert_eq!(fetches.len(), 2);
    assert_eq!(fetches[0].status, Status::Unset);
    assert_eq!(description(fetches[1]), "no row");
    assert_eq!(attr(fetches[0], "id"), Some(&Value::I64(2)));
    assert_eq!(attr(spans.one("with_default"), "x"), Some(&Value::I64(1)));
    insta::assert_snapshot!(spans.tree(), @r#"
    returns_impl_future n=1
        leaf n=1
    returns_boxed_future status=Error("zero") error.type="std::io::error::Error" n=0
      ! exception exception.message="zero" exception.type="std::io::error::Error"
    fetch id=2
        leaf n=2
    fetch status=Error("no row") error.type="std::io::error::Error" id=0
      ! exception exception.message="no row" exception.type="std::io::error::Error"
    with_default x=1
    recursive n=2
        recursive n=1
            recursive n=0
    "#);
}
