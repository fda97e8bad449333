//! Carrying the current context where work goes: into another future, a
//! tokio task, a blocking task, a thread, a pool's closure.
//!
//! The context (and the span in it) is thread-local: a span is current for
//! the code that runs on the thread that made it current, and nowhere
//! else. Work handed to another task or thread starts with an empty
//! context, and its spans start new traces, unless the context is carried
//! along. Everything here captures the context where it is called and
//! makes it current where the work runs.

use std::future::Future;

use opentelemetry::Context;
use opentelemetry::context::WithContext;

/// Runs futures in the context current where they were made.
///
/// ```
/// # use traced_runtime as traced;
/// use traced::FutureExt as _;
///
/// # async fn work() {}
/// let future = work().in_current_context(); // the context is taken here
/// // ... and current during every poll of `future`, on any thread.
/// # drop(future);
/// ```
///
/// This is `tracing`'s `Instrument::in_current_span` for OpenTelemetry
/// contexts: what `#[traced]` spans and `traced::span!` make current is
/// carried, and so is baggage.
pub trait FutureExt: Future + Sized {
    /// This future, with the context current now made current during
    /// every poll.
    fn in_current_context(self) -> WithContext<Self> {
        // OpenTelemetry's own wrapper (`opentelemetry::context::FutureExt`)
        // does exactly this, and streams and sinks too: one wrapper type in
        // the ecosystem rather than a second one of ours.
        opentelemetry::context::FutureExt::with_current_context(self)
    }

    /// This future, with `cx` made current during every poll: for a
    /// context taken earlier, with [`current_context`], or extracted from
    /// headers.
    fn in_context(self, cx: Context) -> WithContext<Self> {
        opentelemetry::context::FutureExt::with_context(self, cx)
    }
}

impl<F: Future> FutureExt for F {}

/// The OpenTelemetry context current on this thread: the current span,
/// and baggage. Take it before handing work to another thread and make it
/// current there (`let _guard = cx.clone().attach();`), for a pool that
/// [`thread::spawn`] does not cover.
///
/// ```
/// # use traced_runtime as traced;
/// # fn handle(_: &u32) {}
/// let items = vec![1, 2, 3];
/// let cx = traced::current_context();
/// std::thread::scope(|scope| {
///     for item in &items {
///         let cx = cx.clone();
///         scope.spawn(move || {
///             let _guard = cx.attach(); // `handle`'s spans are children of the caller's
///             handle(item);
///         });
///     }
/// });
/// ```
///
/// With rayon, the same in each closure of the pool:
///
/// ```text
/// let cx = traced::current_context();
/// items.par_iter().for_each(|item| {
///     let _guard = cx.clone().attach();
///     handle(item);
/// });
/// ```
pub fn current_context() -> Context {
    Context::current()
}

/// Spawns a tokio task that runs in the context current where it was
/// spawned: `tokio::spawn(future.in_current_context())`.
///
/// A plain `tokio::spawn` polls its task on a worker thread where nothing
/// is current, so the spans it starts begin new traces.
///
/// ```
/// # use traced_runtime as traced;
/// # async fn refresh_cache() {}
/// # async fn run() {
/// let handle = traced::spawn(async { refresh_cache().await });
/// handle.await.unwrap();
/// # }
/// ```
///
/// # Panics
///
/// Outside a tokio runtime, as `tokio::spawn` does.
#[cfg(feature = "tokio")]
#[track_caller]
pub fn spawn<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(future.in_current_context())
}

/// Runs `f` on tokio's blocking pool in the context current where it was
/// called: `tokio::task::spawn_blocking` with the context carried.
///
/// ```
/// # use traced_runtime as traced;
/// # fn hash_password(_: &str) -> String { String::new() }
/// # async fn run() {
/// let hashed = traced::spawn_blocking(|| hash_password("hunter2")).await.unwrap();
/// # }
/// ```
///
/// # Panics
///
/// Outside a tokio runtime, as `tokio::task::spawn_blocking` does.
#[cfg(feature = "tokio")]
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> tokio::task::JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let cx = Context::current();
    tokio::task::spawn_blocking(move || {
        let _attached = cx.attach();
        f()
    })
}

/// Threads that start in the context of the code that spawned them.
pub mod thread {
    use opentelemetry::Context;

    /// Spawns a thread that runs `f` in the context current here:
    /// `std::thread::spawn` with the context carried.
    ///
    /// ```
    /// # use traced_runtime as traced;
    /// # fn rebuild_index() {}
    /// let handle = traced::thread::spawn(|| rebuild_index());
    /// handle.join().unwrap();
    /// ```
    ///
    /// # Panics
    ///
    /// When the thread cannot be created, as `std::thread::spawn` does.
    pub fn spawn<F, T>(f: F) -> std::thread::JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let cx = Context::current();
        std::thread::spawn(move || {
            let _attached = cx.attach();
            f()
        })
    }
}
