//! The tracer provider `#[traced]` spans go to.
//!
//! OpenTelemetry's global provider hands out type-erased tracers, and a tracer
//! taken from it before a provider is installed stays a no-op forever. So the
//! runtime keeps its own slot for the SDK provider, with a generation number
//! that call sites compare against their cached tracer: installing or
//! replacing the provider is seen by every call site on its next call.
//!
//! A provider installed only through `opentelemetry::global` must be seen
//! as soon, but OpenTelemetry says nothing when its global slot changes.
//! So whatever we put in that slot is *watched*: a no-op provider of ours
//! before anything is installed (put there before `main`), or the SDK
//! provider wrapped. When someone else replaces it, the global drops ours,
//! and the drop is the signal: the generation moves on, and from then on
//! call sites follow the global provider, reading it on every call, until
//! a provider is installed through `traced` again.

use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use opentelemetry::InstrumentationScope;
use opentelemetry::global;
use opentelemetry::trace::TracerProvider;
use opentelemetry::trace::noop::NoopTracer;
use opentelemetry_sdk::trace::SdkTracerProvider;

use super::backend::{Backend, Wrap};
use crate::pipeline::PipelineProvider;

/// `0` means nothing happened yet: no provider installed through `traced`,
/// and the global one not replaced. Every change bumps it.
static GENERATION: AtomicU64 = AtomicU64::new(0);
/// What is installed, with the ticket of the install that put it there.
static INSTALLED: RwLock<Option<(Ticket, Installed)>> = RwLock::new(None);
/// The last ticket handed out.
static TICKETS: AtomicU64 = AtomicU64::new(0);

/// Which of our watched providers is the one in the global slot.
static GLOBAL_EPOCH: AtomicU64 = AtomicU64::new(0);
/// The global slot holds a provider someone else put there, after ours.
static GLOBAL_FOREIGN: AtomicBool = AtomicBool::new(false);

/// What `#[traced]` spans go to.
#[derive(Clone, Debug)]
pub(crate) enum Installed {
    /// Spans go to this backend.
    Backend(Backend),
    /// Tracing is off (`OTEL_SDK_DISABLED`): spans are not even created.
    #[cfg_attr(not(feature = "init"), allow(dead_code))]
    Disabled,
}

/// Names one install, so that whoever installed something can take out
/// exactly that, and never what someone installed after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ticket(u64);

/// Rides along with what we put in the global slot; its drop says the
/// slot was replaced.
///
/// A replacement by us bumps [`GLOBAL_EPOCH`] first, so the watch that
/// goes is no longer the current one; a watch that goes while still
/// current was replaced by someone else. (A caller holding a clone of the
/// global provider delays the drop, and so the signal, until it lets go.)
#[derive(Debug)]
struct Watch(u64);

impl Drop for Watch {
    fn drop(&mut self) {
        // Runs inside `global::set_tracer_provider`, under its lock: only
        // atomics here, nothing that reads the global slot.
        if GLOBAL_EPOCH.load(Ordering::Acquire) == self.0 {
            GLOBAL_FOREIGN.store(true, Ordering::Release);
            GENERATION.fetch_add(1, Ordering::AcqRel);
        }
    }
}

/// The global slot's provider before anything is installed: a no-op one
/// (its tracer is OpenTelemetry's `NoopTracer`), watched.
#[derive(Debug)]
struct Unset(#[allow(dead_code)] Watch);

impl TracerProvider for Unset {
    type Tracer = NoopTracer;

    fn tracer_with_scope(&self, _scope: InstrumentationScope) -> NoopTracer {
        NoopTracer::new()
    }
}

/// A provider installed through `traced`, as the global slot holds it: the
/// same tracers, watched.
#[derive(Debug)]
struct Watched<P> {
    provider: P,
    _watch: Watch,
}

impl<P: TracerProvider> TracerProvider for Watched<P> {
    type Tracer = P::Tracer;

    fn tracer_with_scope(&self, scope: InstrumentationScope) -> P::Tracer {
        self.provider.tracer_with_scope(scope)
    }
}

/// Wraps a backend's provider in a [`Watched`] of this epoch.
struct WatchEpoch(u64);

impl Wrap for WatchEpoch {
    fn set<P>(self, provider: P)
    where
        P: TracerProvider + std::fmt::Debug + Send + Sync + 'static,
        P::Tracer: Send + Sync + 'static,
        <P::Tracer as opentelemetry::trace::Tracer>::Span: Send + Sync + 'static,
    {
        global::set_tracer_provider(Watched {
            provider,
            _watch: Watch(self.0),
        });
    }
}

/// Puts `backend` (or, for `None`, the watched no-op) in the global slot as ours.
fn set_global(backend: Option<&Backend>) {
    let epoch = GLOBAL_EPOCH.fetch_add(1, Ordering::AcqRel) + 1;
    GLOBAL_FOREIGN.store(false, Ordering::Release);
    match backend {
        Some(backend) => backend.set_global(WatchEpoch(epoch)),
        None => global::set_tracer_provider(Unset(Watch(epoch))),
    }
}

/// Watches the global slot from the start, when nothing has been put
/// there: a provider installed later only through `opentelemetry::global`
/// is then seen on the first call after. (If something is there already,
/// another constructor put it; call sites find it by probing.)
fn watch_the_global_slot() {
    if super::site::global_is_noop() {
        set_global(None);
    }
}

// SAFETY (the `unsafe` in `ctor(unsafe)` acknowledges code before `main`):
// this runs once, on the main thread, before `main` and before any thread
// of the program exists, so nothing races with it. It uses no part of std
// that needs `main`'s set-up (no stdio, arguments, environment or thread
// spawning): only atomics, a heap allocation, and OpenTelemetry's global
// `OnceLock<RwLock<..>>`, all of which work before `main` on every
// platform `ctor` supports. A panic cannot cross it: it is caught.
#[ctor::ctor(unsafe)]
fn watch_the_global_slot_before_main() {
    let _ = std::panic::catch_unwind(watch_the_global_slot);
}

/// Installs `provider` as the provider `#[traced]` spans go to, and as
/// OpenTelemetry's global tracer provider.
///
/// [`init`](crate::init) calls this for you. Call it yourself when you build
/// the SDK provider by hand. It may be called again to replace the provider:
/// every instrumented function sees the new one on its next call. Returns the
/// provider it replaced, if one was installed through `traced`: call its
/// `shutdown()` to flush what it still holds. (Dropping it is not enough:
/// each instrumented function keeps a tracer of the old provider until its
/// next call.)
///
/// A provider installed only through `opentelemetry::global` is found too,
/// from the next call on, and so is a provider that replaces this one
/// through `opentelemetry::global`: instrumented functions then follow the
/// global provider (reading it on every call, which costs more than this
/// function's path; see docs/performance.md) until this function is called
/// again.
pub fn set_tracer_provider(provider: SdkTracerProvider) -> Option<SdkTracerProvider> {
    match install(Installed::Backend(Backend::Sdk(provider))).1 {
        Some(Installed::Backend(Backend::Sdk(previous))) => Some(previous),
        _ => None,
    }
}

/// Installs our own span pipeline's `provider` as the provider
/// `#[traced]` spans go to, and as OpenTelemetry's global tracer provider
/// (see [`set_tracer_provider`]); [`init`](crate::init) does this with
/// `TRACED_PIPELINE=traced`. Returns the pipeline
/// it replaced, if one was installed through `traced`: call its
/// `shutdown()` to flush it.
pub fn set_pipeline_provider(provider: PipelineProvider) -> Option<PipelineProvider> {
    match install(Installed::Backend(Backend::Traced(provider))).1 {
        Some(Installed::Backend(Backend::Traced(previous))) => Some(previous),
        _ => None,
    }
}

/// Puts `next` into the slot; returns the ticket of this install and what
/// was there.
pub(crate) fn install(next: Installed) -> (Ticket, Option<Installed>) {
    let ticket = Ticket(TICKETS.fetch_add(1, Ordering::Relaxed) + 1);
    let previous = put(Some((ticket, next)));
    (ticket, previous.map(|(_, previous)| previous))
}

/// Empties the slot if it still holds what the install of `ticket` put
/// there, and returns whether it did. Whatever was installed after it
/// (a second `init`, a capture) is left alone.
#[cfg_attr(not(feature = "init"), allow(dead_code))]
pub(crate) fn uninstall(ticket: Ticket) -> bool {
    let mut slot = INSTALLED
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if !matches!(&*slot, Some((current, _)) if *current == ticket) {
        return false;
    }
    put_locked(&mut slot, None);
    true
}

/// Puts back what a capture replaced, with the ticket it had, global
/// provider included.
#[cfg_attr(not(feature = "testing"), allow(dead_code))]
pub(crate) fn restore(previous: Option<(Ticket, Installed)>) {
    put(previous);
}

/// What is in the slot now, with its ticket, for a capture to restore.
#[cfg_attr(not(feature = "testing"), allow(dead_code))]
pub(crate) fn install_for_capture(next: Installed) -> (Ticket, Option<(Ticket, Installed)>) {
    let ticket = Ticket(TICKETS.fetch_add(1, Ordering::Relaxed) + 1);
    (ticket, put(Some((ticket, next))))
}

fn put(next: Option<(Ticket, Installed)>) -> Option<(Ticket, Installed)> {
    let mut slot = INSTALLED
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    put_locked(&mut slot, next)
}

/// Puts `next` into the slot and returns what was there; a backend also
/// goes into the global slot. Emptying the slot leaves the global
/// provider alone when it is someone else's, and otherwise puts the
/// watched no-op back.
fn put_locked(
    slot: &mut Option<(Ticket, Installed)>,
    next: Option<(Ticket, Installed)>,
) -> Option<(Ticket, Installed)> {
    let previous = std::mem::replace(slot, next);
    match slot.as_ref().map(|(_, installed)| installed) {
        Some(Installed::Backend(backend)) => set_global(Some(backend)),
        Some(Installed::Disabled) => {}
        None if GLOBAL_FOREIGN.load(Ordering::Acquire) => {}
        None => set_global(None),
    }
    GENERATION.fetch_add(1, Ordering::AcqRel);
    previous
}

/// Moves the generation on without changing what is installed: every
/// call site decides again on its next call (the span filter changed).
pub(crate) fn bump() {
    // Under the lock, so that `installed` reads a consistent pair.
    let _slot = INSTALLED
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    GENERATION.fetch_add(1, Ordering::AcqRel);
}

/// The current generation; `0` when nothing was installed through `traced`.
#[inline]
pub(crate) fn generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}

/// What is installed now, with the generation it belongs to.
pub(crate) fn installed() -> (u64, Option<Installed>) {
    let slot = INSTALLED
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // Read under the lock so the pair is consistent with `put`.
    let generation = generation();
    if GLOBAL_FOREIGN.load(Ordering::Acquire) {
        // Someone replaced the global provider after ours: follow it.
        return (generation, None);
    }
    (
        generation,
        slot.as_ref().map(|(_, installed)| installed.clone()),
    )
}
