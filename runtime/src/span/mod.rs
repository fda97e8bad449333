//! The hot path: a call site starts its span, a guard or an instrumented
//! future keeps it current, and the exception writer and the panic hook
//! record how it ended.
//!
//! Nothing here knows about types: what to record is decided in `kind`,
//! which calls into this module, never the other way round.

pub(crate) mod backend;
#[cfg(any(feature = "init", feature = "testing"))]
pub(crate) mod build;
mod exception;
mod future;
mod guard;
mod inline;
// Spans that end with a response body: only the gRPC integration needs them.
#[cfg(feature = "tracing")]
pub(crate) mod logger;
#[cfg(feature = "tonic")]
mod open;
mod panic;
pub(crate) mod provider;
mod recorder;
mod site;

pub use backend::Pipeline;
pub use future::Instrumented;
pub use guard::{ActiveSpan, Started, SyncGuard};
pub use inline::{Outcome, in_span, in_span_async, is_secret_key};
#[cfg(feature = "tonic")]
pub(crate) use open::{KeepOpen, OpenSpan};
pub use provider::{set_pipeline_provider, set_tracer_provider};
// Always there: the transport-neutral db and messaging cores use it too.
pub use recorder::{REDACTED, Recorder};
pub use site::{CallSite, GLOBAL_PROBE_EVERY, Meta, or_unknown};

pub use exception::CANCELLED_EVENT;
#[cfg_attr(not(feature = "init"), allow(unused_imports))]
pub(crate) use exception::{ExceptionSignal, set_exception_signal};
#[cfg(feature = "init")]
pub(crate) use panic::ensure_panic_hook;
