//! The tracer provider `#[traced]` spans go to.
//!
//! OpenTelemetry's global provider hands out type-erased tracers, and a tracer
//! taken from it before a provider is installed stays a no-op forever. So the
//! runtime keeps its own slot for the SDK provider, with a generation number
//! that call sites compare against their cached tracer: installing or
//! replacing the provider is seen by every call site on its next call.

use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use opentelemetry::global;
use opentelemetry::trace::noop::NoopTracerProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;

/// `0` means no provider was installed through `traced`: call sites then use
/// OpenTelemetry's global provider. Each installation bumps it.
static GENERATION: AtomicU64 = AtomicU64::new(0);
static INSTALLED: RwLock<Option<Installed>> = RwLock::new(None);

#[derive(Clone)]
pub(crate) enum Installed {
    /// Spans go to this provider.
    Sdk(SdkTracerProvider),
    /// Tracing is off (`OTEL_SDK_DISABLED`): spans are not even created.
    #[cfg_attr(not(feature = "init"), allow(dead_code))]
    Disabled,
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
/// within [`GLOBAL_PROBE_EVERY`](crate::GLOBAL_PROBE_EVERY) calls of each
/// function; this function makes it immediate.
pub fn set_tracer_provider(provider: SdkTracerProvider) -> Option<SdkTracerProvider> {
    global::set_tracer_provider(provider.clone());
    match replace(Some(Installed::Sdk(provider))) {
        Some(Installed::Sdk(previous)) => Some(previous),
        _ => None,
    }
}

/// Puts `next` into the slot and returns what was there.
pub(crate) fn replace(next: Option<Installed>) -> Option<Installed> {
    let mut slot = INSTALLED
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let previous = std::mem::replace(&mut *slot, next);
    if slot.is_none() {
        global::set_tracer_provider(NoopTracerProvider::new());
    }
    GENERATION.fetch_add(1, Ordering::Release);
    previous
}

/// Restores a slot value taken with [`replace`], global provider included.
#[cfg_attr(not(feature = "testing"), allow(dead_code))]
pub(crate) fn restore(previous: Option<Installed>) {
    if let Some(Installed::Sdk(provider)) = &previous {
        global::set_tracer_provider(provider.clone());
    }
    replace(previous);
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
    // Read under the lock so the pair is consistent with `replace`.
    (generation(), slot.clone())
}
