//! Instrumentation of the libraries a service talks through, each behind
//! its cargo feature and each built on `span` and `kind`.

pub mod db;
#[cfg(feature = "tonic")]
pub mod grpc;
pub mod http;
#[cfg(any(
    feature = "axum",
    feature = "reqwest",
    feature = "tonic",
    feature = "rusqlite",
    feature = "sqlx",
    feature = "lapin"
))]
mod measure;
pub mod messaging;
#[cfg(any(feature = "axum", feature = "reqwest", feature = "tonic"))]
mod trace_response;
#[cfg(feature = "tracing")]
pub mod tracing;
