//! Spans without a function: `span!` (a guard for the rest of a block),
//! `in_span` (a closure) and `in_span_async` (a future).
//!
//! `span!` expands to a call site of its own, like `#[traced]`: a `static`
//! [`CallSite`] per invocation, decided once by the filter, its fields
//! recorded only when the span records. `in_span` is a function, so it
//! cannot have a call site per caller: its spans start through one shared
//! call site as integrations' spans do (scope `traced`, filter target
//! `traced`), named at run time, with the caller's file and line.

use std::borrow::Cow;
use std::fmt::Display;
use std::future::Future;
use std::panic::Location;

use opentelemetry::trace::{SpanBuilder, SpanKind};
use opentelemetry::{Context, KeyValue};

use super::guard::{ActiveSpan, Started};
use super::site::{CallSite, Meta};
use crate::semconv;

/// Starts an inline span and keeps it current until the end of the
/// enclosing block: the function-less form of `#[traced]`, and what
/// `tracing`'s `info_span!("name", ..).entered()` is.
///
/// ```
/// # use traced_runtime as traced;
/// # let user_id = 7_u64; let query = "SELECT 1"; let retries = 2_u32;
/// let _span = traced::span!("load user", kind = client, user.id = user_id, %query, db.retries = ?retries);
/// // ... the rest of the block runs in the span; it ends when `_span` drops
/// ```
///
/// The first argument is the span name: a string literal or a `const`
/// (the call site is a `static`; for a name chosen at run time use
/// [`in_span`]). Then, in any order, separated by commas:
///
/// | written | means |
/// | --- | --- |
/// | `key = value` | an attribute converted by its type, as `#[traced]` parameters and `attributes!` are (numbers and booleans stay typed, other types their `Debug` text) |
/// | `key = %value` / `key = ?value` | the value's `Display` / `Debug` text (`tracing`'s `%` and `?`) |
/// | `name`, `%name`, `?name`, `a.b` | shorthand for `name = name`, `name = %name`, ..; a dotted path is both the key and the field it reads |
/// | `"key" = value` | a key that is not made of identifiers, or is one of the words below |
/// | `kind = server` | the span kind: `internal` (default), `server`, `client`, `producer`, `consumer` |
/// | `level = debug` | the level the filter (`TRACED_FILTER`) compares, `info` unless given; also `"debug"`, `DEBUG`, `Level::DEBUG` |
/// | `target = "my_crate::db"` | the filter's target, the module path unless given |
/// | `parent = cx` | the parent (a `Context`, a `SpanContext`, `Headers`, ..., as `#[traced(parent = ..)]`); `parent = None` starts a root span |
///
/// Keys are dotted names (`user.id`); a key whose name marks a secret
/// (`password`, `api_key`, ...) is recorded as `[REDACTED]` without its
/// value being read. Values are evaluated only when the span records.
///
/// A panic unwinding through the guard is recorded on the span (status
/// Error, an `exception` event) and keeps unwinding. There is no return
/// value to inspect: for a span whose `Err` is recorded use [`in_span`], or
/// `#[traced]` on a function.
///
/// Returns a [`SyncGuard`](crate::SyncGuard): bind it to a named
/// variable (`_span`, not `_`, which would drop it at once).
///
/// The guard keeps the span current on this thread: in `async` code, do
/// not hold it across an `.await` (the task may move, and other tasks
/// polled on this thread would see the span; the future is not `Send`
/// either). Wrap the future with [`in_span_async`] instead.
#[macro_export]
macro_rules! span {
    ($name:expr $(, $($options:tt)*)?) => {
        $crate::__traced_span!(
            @parse [$name] [internal] [info] [::core::module_path!()] [] []
            $($($options)*)?
        )
    };
}

/// The options of `span!`, one at a time. Not public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __traced_span {
    // ---- options: [name] [kind] [level] [target] [parent] [fields] ----
    (@parse [$n:expr] [$k:tt] [$l:tt] [$t:expr] [$($p:tt)*] [$($f:tt)*]
        kind = $kind:ident $(, $($rest:tt)*)?) => {
        $crate::__traced_span!(@parse [$n] [$kind] [$l] [$t] [$($p)*] [$($f)*] $($($rest)*)?)
    };
    (@parse [$n:expr] [$k:tt] [$l:tt] [$t:expr] [$($p:tt)*] [$($f:tt)*]
        level = $first:ident $(:: $segment:ident)+ $(, $($rest:tt)*)?) => {
        $crate::__traced_span!(@parse [$n] [$k] [($first $(:: $segment)+)] [$t] [$($p)*] [$($f)*] $($($rest)*)?)
    };
    (@parse [$n:expr] [$k:tt] [$l:tt] [$t:expr] [$($p:tt)*] [$($f:tt)*]
        level = $level:tt $(, $($rest:tt)*)?) => {
        $crate::__traced_span!(@parse [$n] [$k] [$level] [$t] [$($p)*] [$($f)*] $($($rest)*)?)
    };
    (@parse [$n:expr] [$k:tt] [$l:tt] [$t:expr] [$($p:tt)*] [$($f:tt)*]
        target = $target:expr $(, $($rest:tt)*)?) => {
        $crate::__traced_span!(@parse [$n] [$k] [$l] [$target] [$($p)*] [$($f)*] $($($rest)*)?)
    };
    (@parse [$n:expr] [$k:tt] [$l:tt] [$t:expr] [$($p:tt)*] [$($f:tt)*]
        parent = None $(, $($rest:tt)*)?) => {
        $crate::__traced_span!(@parse [$n] [$k] [$l] [$t] [None] [$($f)*] $($($rest)*)?)
    };
    (@parse [$n:expr] [$k:tt] [$l:tt] [$t:expr] [$($p:tt)*] [$($f:tt)*]
        parent = $parent:expr $(, $($rest:tt)*)?) => {
        $crate::__traced_span!(@parse [$n] [$k] [$l] [$t] [($parent)] [$($f)*] $($($rest)*)?)
    };

    // ---- fields: { key ; how ; value } ----
    (@parse [$n:expr] [$k:tt] [$l:tt] [$t:expr] [$($p:tt)*] [$($f:tt)*]
        $($key:ident).+ = % $value:expr $(, $($rest:tt)*)?) => {
        $crate::__traced_span!(@parse [$n] [$k] [$l] [$t] [$($p)*]
            [$($f)* { ::core::stringify!($($key).+) ; display ; $value }] $($($rest)*)?)
    };
    (@parse [$n:expr] [$k:tt] [$l:tt] [$t:expr] [$($p:tt)*] [$($f:tt)*]
        $($key:ident).+ = ? $value:expr $(, $($rest:tt)*)?) => {
        $crate::__traced_span!(@parse [$n] [$k] [$l] [$t] [$($p)*]
            [$($f)* { ::core::stringify!($($key).+) ; debug ; $value }] $($($rest)*)?)
    };
    (@parse [$n:expr] [$k:tt] [$l:tt] [$t:expr] [$($p:tt)*] [$($f:tt)*]
        $($key:ident).+ = $value:expr $(, $($rest:tt)*)?) => {
        $crate::__traced_span!(@parse [$n] [$k] [$l] [$t] [$($p)*]
            [$($f)* { ::core::stringify!($($key).+) ; by_type ; $value }] $($($rest)*)?)
    };
    (@parse [$n:expr] [$k:tt] [$l:tt] [$t:expr] [$($p:tt)*] [$($f:tt)*]
        $key:literal = % $value:expr $(, $($rest:tt)*)?) => {
        $crate::__traced_span!(@parse [$n] [$k] [$l] [$t] [$($p)*]
            [$($f)* { $key ; display ; $value }] $($($rest)*)?)
    };
    (@parse [$n:expr] [$k:tt] [$l:tt] [$t:expr] [$($p:tt)*] [$($f:tt)*]
        $key:literal = ? $value:expr $(, $($rest:tt)*)?) => {
        $crate::__traced_span!(@parse [$n] [$k] [$l] [$t] [$($p)*]
            [$($f)* { $key ; debug ; $value }] $($($rest)*)?)
    };
    (@parse [$n:expr] [$k:tt] [$l:tt] [$t:expr] [$($p:tt)*] [$($f:tt)*]
        $key:literal = $value:expr $(, $($rest:tt)*)?) => {
        $crate::__traced_span!(@parse [$n] [$k] [$l] [$t] [$($p)*]
            [$($f)* { $key ; by_type ; $value }] $($($rest)*)?)
    };
    (@parse [$n:expr] [$k:tt] [$l:tt] [$t:expr] [$($p:tt)*] [$($f:tt)*]
        % $($key:ident).+ $(, $($rest:tt)*)?) => {
        $crate::__traced_span!(@parse [$n] [$k] [$l] [$t] [$($p)*]
            [$($f)* { ::core::stringify!($($key).+) ; display ; $($key).+ }] $($($rest)*)?)
    };
    (@parse [$n:expr] [$k:tt] [$l:tt] [$t:expr] [$($p:tt)*] [$($f:tt)*]
        ? $($key:ident).+ $(, $($rest:tt)*)?) => {
        $crate::__traced_span!(@parse [$n] [$k] [$l] [$t] [$($p)*]
            [$($f)* { ::core::stringify!($($key).+) ; debug ; $($key).+ }] $($($rest)*)?)
    };
    (@parse [$n:expr] [$k:tt] [$l:tt] [$t:expr] [$($p:tt)*] [$($f:tt)*]
        $($key:ident).+ $(, $($rest:tt)*)?) => {
        $crate::__traced_span!(@parse [$n] [$k] [$l] [$t] [$($p)*]
            [$($f)* { ::core::stringify!($($key).+) ; by_type ; $($key).+ }] $($($rest)*)?)
    };
    (@parse [$n:expr] [$k:tt] [$l:tt] [$t:expr] [$($p:tt)*] [$($f:tt)*] $($other:tt)+) => {
        ::core::compile_error!(::core::concat!(
            "cannot read `", ::core::stringify!($($other)+), "` in `traced::span!`; ",
            "write `key = value`, `key = %value`, `key = ?value`, `name`, ",
            "`kind = server`, `level = debug`, `target = \"..\"` or `parent = cx`, separated by commas",
        ))
    };

    // ---- everything read: the call site and its guard ----
    (@parse [$n:expr] [$k:tt] [$l:tt] [$t:expr] [$($p:tt)*] [$($f:tt)*]) => {{
        static __TRACED_SITE: $crate::__private::CallSite =
            $crate::__private::CallSite::new($crate::__private::Meta {
                name: $n,
                kind: $crate::__traced_span!(@kind $k),
                function: ::core::module_path!(),
                file: ::core::file!(),
                line: ::core::line!(),
                scope_name: $crate::__private::or_unknown(::core::option_env!("CARGO_PKG_NAME")),
                scope_version: $crate::__private::or_unknown(::core::option_env!("CARGO_PKG_VERSION")),
                attributes: 3 $(+ $crate::__traced_span!(@one $f))*,
                target: $t,
                level: $crate::__traced_span!(@level $l),
                metrics: false,
            });
        $crate::__traced_span!(@start __TRACED_SITE [$($p)*]
            |__traced_rec: &mut $crate::__private::Recorder<'_>| {
                $( $crate::__traced_span!(@field __traced_rec $f); )*
                let _ = __traced_rec;
            }
        )
        .enter()
    }};

    (@start $site:ident [] $record:expr) => {
        $site.start($record)
    };
    (@start $site:ident [None] $record:expr) => {
        $site.start_with(
            ::core::option::Option::Some($crate::__private::Context::new()),
            $crate::__private::links([]),
            $record,
        )
    };
    (@start $site:ident [($parent:expr)] $record:expr) => {
        $site.start_with($crate::__private::parent(&($parent)), $crate::__private::links([]), $record)
    };

    (@field $rec:ident { $key:expr ; $how:ident ; $value:expr }) => {
        // A secret's value is never read, whatever its type.
        if $crate::__private::is_secret_key($key) {
            $rec.redacted($key);
        } else {
            $rec.attr($key, $crate::__traced_span!(@value $how $value));
        }
    };
    (@value by_type $value:expr) => {{
        let __traced_value = &($value);
        $crate::__private::to_value!($crate::__private::value, __traced_value)
    }};
    (@value display $value:expr) => {
        $crate::__private::format::display(&($value))
    };
    (@value debug $value:expr) => {
        $crate::__private::format::debug(&($value))
    };

    (@one $f:tt) => { 1 };

    (@kind internal) => { $crate::__private::SpanKind::Internal };
    (@kind server) => { $crate::__private::SpanKind::Server };
    (@kind client) => { $crate::__private::SpanKind::Client };
    (@kind producer) => { $crate::__private::SpanKind::Producer };
    (@kind consumer) => { $crate::__private::SpanKind::Consumer };
    (@kind $other:tt) => {
        ::core::compile_error!(::core::concat!(
            "unknown span kind `", ::core::stringify!($other),
            "`; write one of `internal`, `server`, `client`, `producer`, `consumer`",
        ))
    };

    // `Level::DEBUG`, `tracing::Level::DEBUG`: the last segment.
    (@level ($segment:ident :: $($more:tt)+)) => {
        $crate::__traced_span!(@level ($($more)+))
    };
    (@level ($last:ident)) => {
        $crate::__traced_span!(@level $last)
    };
    (@level trace) => { $crate::__private::Level::Trace };
    (@level TRACE) => { $crate::__private::Level::Trace };
    (@level "trace") => { $crate::__private::Level::Trace };
    (@level "TRACE") => { $crate::__private::Level::Trace };
    (@level debug) => { $crate::__private::Level::Debug };
    (@level DEBUG) => { $crate::__private::Level::Debug };
    (@level "debug") => { $crate::__private::Level::Debug };
    (@level "DEBUG") => { $crate::__private::Level::Debug };
    (@level info) => { $crate::__private::Level::Info };
    (@level INFO) => { $crate::__private::Level::Info };
    (@level "info") => { $crate::__private::Level::Info };
    (@level "INFO") => { $crate::__private::Level::Info };
    (@level warn) => { $crate::__private::Level::Warn };
    (@level WARN) => { $crate::__private::Level::Warn };
    (@level "warn") => { $crate::__private::Level::Warn };
    (@level "WARN") => { $crate::__private::Level::Warn };
    (@level error) => { $crate::__private::Level::Error };
    (@level ERROR) => { $crate::__private::Level::Error };
    (@level "error") => { $crate::__private::Level::Error };
    (@level "ERROR") => { $crate::__private::Level::Error };
    (@level $other:tt) => {
        ::core::compile_error!(::core::concat!(
            "unknown level `", ::core::stringify!($other),
            "`; write one of `trace`, `debug`, `info`, `warn`, `error`",
        ))
    };
}

/// Whether `span!` must record `key` as `[REDACTED]`: decided at run time,
/// with `TRACED_SCRUB_EXTRA` and `TRACED_SCRUB_ALLOW`, as `attributes!`
/// decides. Not public API.
#[doc(hidden)]
pub fn is_secret_key(key: &str) -> bool {
    crate::redact::is_secret(key)
}

/// What a closure given to [`in_span`], or a future given to
/// [`in_span_async`], returned: whether it is an error to record.
///
/// A function cannot look at its generic return type the way `#[traced]`
/// looks at a function's (autoref dispatch needs the concrete type where
/// the code is written), so `in_span` asks its result to implement this
/// trait:
///
/// - `Result<T, E>` with `E: Display` (every `std::error::Error`,
///   `anyhow::Error`, `Box<dyn Error>`, `String`): an `Err` sets status
///   Error, `error.type` (the type name of `E`) and an `exception` event
///   with its `Display` text as the message. Unlike `#[traced]`, the
///   `source()` chain is not recorded: that needs `E: Error`, which
///   `anyhow::Error` and `Box<dyn Error>` are not.
/// - `()`, numbers, `bool`, `char`, strings, `Option`, `Vec`, `Box`,
///   `Arc`, references, tuples, maps and sets: never an error.
/// - A type of yours: `impl traced::Outcome for MyType {}` records it as
///   never an error; implement [`Outcome::error`] to say when it is one.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a result `traced::in_span` knows how to record",
    label = "the closure or future returns this",
    note = "for a future, use `traced::in_span_async(name, future)` so that the span lasts until it completes",
    note = "for a type of yours, `impl traced::Outcome for {Self} {{}}` records it as never an error"
)]
pub trait Outcome {
    /// The error this value stands for, if it is one. `None` by default.
    fn error(&self) -> Option<&dyn Display> {
        None
    }

    /// `error.type` and `exception.type` when [`Outcome::error`] is
    /// `Some`: the error's type name.
    fn error_type(&self) -> &'static str {
        std::any::type_name::<Self>()
    }
}

impl<T, E: Display> Outcome for Result<T, E> {
    fn error(&self) -> Option<&dyn Display> {
        self.as_ref().err().map(|err| err as &dyn Display)
    }

    fn error_type(&self) -> &'static str {
        std::any::type_name::<E>()
    }
}

macro_rules! never_an_error {
    ($($ty:ty),* $(,)?) => {
        $(impl Outcome for $ty {})*
    };
}

never_an_error!(
    (),
    bool,
    char,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    String,
    std::convert::Infallible,
    std::time::Duration,
    std::path::PathBuf,
    std::ffi::OsString,
);

impl<T: ?Sized> Outcome for &T {}
impl<T: ?Sized> Outcome for &mut T {}
impl<T: ?Sized> Outcome for Box<T> {}
impl<T: ?Sized> Outcome for std::sync::Arc<T> {}
impl<T: ?Sized> Outcome for std::rc::Rc<T> {}
impl<T> Outcome for Option<T> {}
impl<T> Outcome for Vec<T> {}
impl<T> Outcome for std::collections::VecDeque<T> {}
impl<K, V, S> Outcome for std::collections::HashMap<K, V, S> {}
impl<T, S> Outcome for std::collections::HashSet<T, S> {}
impl<K, V> Outcome for std::collections::BTreeMap<K, V> {}
impl<T> Outcome for std::collections::BTreeSet<T> {}
impl<A, B> Outcome for (A, B) {}
impl<A, B, C> Outcome for (A, B, C) {}
impl<A, B, C, D> Outcome for (A, B, C, D) {}

/// Records `out` on `span` if it is an error.
fn record_outcome<R: Outcome + ?Sized>(span: &ActiveSpan, out: &R) {
    if span.is_recording() {
        if let Some(err) = out.error() {
            record_failure(span, out.error_type(), err);
        }
    }
}

#[cold]
fn record_failure(span: &ActiveSpan, type_name: &'static str, err: &dyn Display) {
    span.record_error(type_name, err.to_string(), Vec::new());
}

/// The call site every `in_span` and `in_span_async` span starts through:
/// a function has no call site per caller.
static INLINE: CallSite = CallSite::new(Meta {
    name: "",
    kind: SpanKind::Internal,
    function: "",
    file: "",
    line: 0,
    scope_name: "traced",
    scope_version: env!("CARGO_PKG_VERSION"),
    attributes: 0,
    target: "traced",
    level: crate::level::Level::Info,
    metrics: false,
});

/// Starts an inline span named `name` as a child of the current context,
/// with the caller's file and line.
#[track_caller]
fn start(name: Cow<'static, str>) -> Started {
    let at = Location::caller();
    INLINE.start_dynamic_current(|| {
        SpanBuilder::from_name(name).with_attributes([
            KeyValue::new(semconv::CODE_FILE_PATH, at.file()),
            KeyValue::new(semconv::CODE_LINE_NUMBER, i64::from(at.line())),
        ])
    })
}

/// Ends the span when dropped: after the closure returns, or while a panic
/// unwinds out of it (then the panic is recorded first).
struct EndOnDrop<'a>(&'a ActiveSpan);

impl Drop for EndOnDrop<'_> {
    fn drop(&mut self) {
        self.0.end();
    }
}

/// Runs `f` in a new span named `name`, a child of the current context:
/// the closure form of `#[traced]`, and what `tracing`'s
/// `span.in_scope(|| ..)` is.
///
/// ```
/// # use traced_runtime as traced;
/// # fn parse(_: &str) -> Result<u32, std::num::ParseIntError> { Ok(1) }
/// let n = traced::in_span("parse config", |span| {
///     // `span` is current here: `attributes!`, `event!` and `#[traced]`
///     // functions called from here record on it or below it.
///     assert!(!span.span_context().is_valid()); // nothing installed in this example
///     parse("1")
/// });
/// # assert_eq!(n, Ok(1));
/// ```
///
/// What the closure returns decides what is recorded ([`Outcome`]): an
/// `Err` sets status Error, `error.type` and an `exception` event, as
/// `#[traced]` does for a function; anything else, nothing. A panic in
/// the closure is recorded (status Error, an `exception` event with the
/// panic message and location) and keeps unwinding.
///
/// The name may be chosen at run time. Such spans have `code.file.path`
/// and `code.line.number` of the caller, the instrumentation scope
/// `traced`, and the filter target `traced` (a function cannot see its
/// caller's module): for a span with a kind, attributes and the module's
/// target, use [`span!`](crate::span!) in a block.
///
/// A closure returning a future would end the span before the future
/// runs, and does not compile; use [`in_span_async`].
#[track_caller]
pub fn in_span<R: Outcome>(
    name: impl Into<Cow<'static, str>>,
    f: impl FnOnce(&ActiveSpan) -> R,
) -> R {
    let started = start(name.into());
    let recording = started.recording;
    let (active, _attached) = match started.cx {
        Some(cx) => (ActiveSpan::new(cx.clone(), recording), Some(cx.attach())),
        // Nothing installed: the closure still gets a span, the current
        // (empty or foreign) one, and nothing is attached.
        None => (ActiveSpan::new(Context::current(), false), None),
    };
    // Declared after the context guard: the span ends while still current.
    let ending = EndOnDrop(&active);
    let out = f(&active);
    record_outcome(&active, &out);
    drop(ending);
    out
}

/// Runs `future` in a new span named `name`: the span starts now, as a
/// child of the current context, is current during every poll (on
/// whichever thread polls it) and ends when the future completes, as the
/// span of an `async fn` under `#[traced]` does; what `tracing`'s
/// `future.instrument(info_span!("name"))` is.
///
/// ```
/// # use traced_runtime as traced;
/// # async fn fetch() -> Result<u32, std::io::Error> { Ok(1) }
/// # async fn run() -> Result<u32, std::io::Error> {
/// let n = traced::in_span_async("fetch all", async {
///     let first = fetch().await?;
///     Ok::<_, std::io::Error>(first + 1)
/// })
/// .await?;
/// # Ok(n) }
/// ```
///
/// The output is recorded as [`in_span`]'s closure result is ([`Outcome`]);
/// a panic while polling is recorded and keeps unwinding; a future
/// dropped before it completes ends its span with a `traced.cancelled`
/// event. The returned future is `Send` when `future` is.
#[track_caller]
pub fn in_span_async<F>(
    name: impl Into<Cow<'static, str>>,
    future: F,
) -> impl Future<Output = F::Output>
where
    F: Future,
    F::Output: Outcome,
{
    start(name.into()).instrument(future, record_outcome::<F::Output>)
}
