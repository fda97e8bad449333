//! The meter provider our instruments record into, with a generation that
//! tells call sites when to bind their histogram again.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use opentelemetry::InstrumentationScope;
use opentelemetry::metrics::{Meter, MeterProvider};

/// The provider installed through `traced`, with the ticket of that
/// install; `None` records nothing.
type Slot = Option<(u64, Arc<dyn MeterProvider + Send + Sync>)>;

static SLOT: RwLock<Slot> = RwLock::new(None);

/// Moves on at every install, uninstall and switch: a call site whose
/// binding is older binds again.
static GENERATION: AtomicU64 = AtomicU64::new(1);

/// Whether a provider is installed: read on every call, before any clock.
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// [`set_function_metrics`].
static FUNCTIONS_ON: AtomicBool = AtomicBool::new(true);

/// What [`install`] returns: [`uninstall`] removes only the provider it
/// installed.
#[derive(Debug)]
#[cfg_attr(not(feature = "init"), allow(dead_code))]
pub(crate) struct MeterTicket(u64);

/// Records `#[traced]` functions' and the integrations' metrics into
/// `provider`, and makes it OpenTelemetry's global meter provider, for
/// the instruments of your own. [`init`](crate::init) does this with the
/// provider it builds from `OTEL_METRICS_EXPORTER`; call it when you build
/// your own `SdkMeterProvider`.
///
/// A provider set with `opentelemetry::global::set_meter_provider` alone
/// is not seen by `#[traced]` functions: they bind their histogram once
/// per provider, and only this function tells them there is a new one.
pub fn set_meter_provider<P>(provider: P)
where
    P: MeterProvider + Clone + Send + Sync + 'static,
{
    // Not given back: this install lasts until the next.
    let _ = install(Arc::new(provider.clone()));
    opentelemetry::global::set_meter_provider(provider);
}

/// Turns the per-function duration histogram on or off for the whole
/// process, at run time (on by default; `#[traced(metrics = false)]` turns
/// it off for one function). Off, a `#[traced]` call reads no clock for
/// it. The integrations' metrics are not affected.
pub fn set_function_metrics(on: bool) {
    FUNCTIONS_ON.store(on, Ordering::Relaxed);
    GENERATION.fetch_add(1, Ordering::Release);
}

/// Installs `provider` for our instruments.
pub(crate) fn install(provider: Arc<dyn MeterProvider + Send + Sync>) -> MeterTicket {
    let mut slot = SLOT.write().unwrap_or_else(PoisonError::into_inner);
    let ticket = GENERATION.fetch_add(1, Ordering::AcqRel) + 1;
    *slot = Some((ticket, provider));
    INSTALLED.store(true, Ordering::Release);
    MeterTicket(ticket)
}

/// Removes the provider `ticket` installed, unless another was installed
/// since.
#[cfg_attr(not(feature = "init"), allow(dead_code))]
pub(crate) fn uninstall(ticket: MeterTicket) {
    let mut slot = SLOT.write().unwrap_or_else(PoisonError::into_inner);
    if matches!(&*slot, Some((installed, _)) if *installed == ticket.0) {
        *slot = None;
        INSTALLED.store(false, Ordering::Release);
        GENERATION.fetch_add(1, Ordering::Release);
    }
}

/// Whether `#[traced]` calls time themselves: a provider is installed and
/// the switch is on.
#[inline]
pub(crate) fn functions_on() -> bool {
    INSTALLED.load(Ordering::Relaxed) && FUNCTIONS_ON.load(Ordering::Relaxed)
}

/// Whether a provider is installed (the integrations' metrics).
#[inline]
pub(crate) fn installed() -> bool {
    INSTALLED.load(Ordering::Relaxed)
}

#[inline]
pub(crate) fn generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}

/// The installed provider's meter for `scope`, with the generation it
/// belongs to; `None` when nothing is installed.
pub(crate) fn meter(scope: InstrumentationScope) -> (u64, Option<Meter>) {
    let slot = SLOT.read().unwrap_or_else(PoisonError::into_inner);
    // Read under the lock: an install after it moves the generation on.
    let generation = generation();
    (
        generation,
        slot.as_ref()
            .map(|(_, provider)| provider.meter_with_scope(scope)),
    )
}
