//! Runtime of the `traced` crate. Depend on `traced`, which re-exports
//! everything public here; this crate's own API is not meant to be used
//! directly.

#![warn(missing_docs)]

mod carrier;
mod console;
mod event;
pub mod http;
mod init;
mod limit;
mod parent;
mod provider;
mod record;
mod site;
mod value;
mod w3c;

#[cfg(feature = "testing")]
pub mod testing;

pub use carrier::{Headers, extract, inject, inject_context};
pub use console::ConsoleExporter;
pub use init::{Builder, Exporter, InitError, OtlpProtocol, Telemetry, builder, init};
pub use limit::dropped_spans;
pub use parent::{IntoLink, IntoParent};
pub use provider::set_tracer_provider;
pub use record::CANCELLED_EVENT;
pub use site::{GLOBAL_PROBE_EVERY, REDACTED};
pub use value::{ArrayElem, IntoAttr, Recordable};
pub use w3c::{TRACE_FLAG_RANDOM, TraceContext};

/// Used only by code that `#[traced]` generates. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::event::{Attributes, add_event, recording_context, set_attributes};
    pub use crate::parent::{link, links, parent};
    pub use crate::site::{
        ActiveSpan, CallSite, Instrumented, Meta, Recorder, Started, SyncGuard, or_unknown,
    };
    pub use opentelemetry::trace::SpanKind;

    /// The traits that autoref dispatch picks between; generated code
    /// imports them all in a block of its own.
    pub mod kind {
        pub use crate::record::{
            DebugErrKind, DisplayErrKind, DynErrKind, OpaqueErrKind, PlainKind, ResultKind,
            StdErrKind,
        };
        pub use crate::value::{DebugKind, NativeKind};
    }

    pub use crate::record::Tag;
    pub use crate::value::value;
}
