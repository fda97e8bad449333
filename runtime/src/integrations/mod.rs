//! Instrumentation of the libraries a service talks through, each behind
//! its cargo feature and each built on `span` and `kind`.

pub mod db;
#[cfg(feature = "tonic")]
pub mod grpc;
pub mod http;
pub mod messaging;
#[cfg(feature = "tracing")]
pub mod tracing;
