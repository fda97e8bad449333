//! Trace context across processes: the header carriers, `inject`/`extract`
//! with the installed propagators, the strict W3C propagator, and what
//! `parent = ..`/`links(..)` accept.

mod headers;
mod parent;
// The id generator that marks traces started here is installed by `init`
// and by `testing`; a library build does not install a provider.
#[cfg_attr(
    not(any(feature = "init", feature = "testing")),
    allow(dead_code, unused_imports)
)]
mod trace_context;
// Read and written by the HTTP and gRPC integrations when tail sampling is
// on (#28).
#[cfg_attr(
    not(any(feature = "axum", feature = "reqwest", feature = "tonic")),
    allow(dead_code, unused_imports)
)]
mod trace_response;

pub use headers::{Headers, extract, inject, inject_context};
pub use parent::{IntoLink, IntoParent, link, links, parent};
pub use trace_context::{TRACE_FLAG_RANDOM, TraceContext};
#[cfg_attr(
    not(any(feature = "axum", feature = "reqwest", feature = "tonic")),
    allow(unused_imports)
)]
pub(crate) use trace_response::{TRACERESPONSE, format_traceresponse, read_traceresponse};

// `init` and the test capture give the SDK's provider these ids (our own
// pipeline flags its roots `random` itself and needs no tag).
#[cfg(any(feature = "init", feature = "testing", test))]
pub(crate) use trace_context::RandomRoots;
