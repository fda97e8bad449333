//! The OpenTelemetry semantic conventions: every registry key as a constant
//! in [`attribute`], for code that uses the OpenTelemetry API directly.
//!
//! ```
//! # use traced_runtime as traced;
//! use traced::semconv::attribute;
//!
//! assert_eq!(attribute::HTTP_REQUEST_METHOD, "http.request.method");
//! assert_eq!(attribute::RELEASE, "1.44.0");
//! ```
//!
//! `#[traced(attributes(..))]`, `event!` and `attributes!` check keys against
//! the same table at compile time. The keys the runtime writes itself are
//! built from these constants, so a key the registry renames stops compiling
//! (or warns as deprecated) here rather than going quiet on a dashboard; the
//! few of our own live under `traced.*`, outside the reserved namespaces.

// Some keys are written only by integrations behind cargo features.
#![cfg_attr(not(all(feature = "axum", feature = "reqwest")), allow(dead_code))]

use opentelemetry::Key;

// One constant per line, as generated; a registry update reads as a diff.
#[rustfmt::skip]
pub mod attribute;

// ---- code.* (the function a span or a panic belongs to) ----

/// `code.function.name`: `module::path::function`.
pub(crate) const CODE_FUNCTION_NAME: Key = Key::from_static_str(attribute::CODE_FUNCTION_NAME);
/// `code.file.path`.
pub(crate) const CODE_FILE_PATH: Key = Key::from_static_str(attribute::CODE_FILE_PATH);
/// `code.line.number`.
pub(crate) const CODE_LINE_NUMBER: Key = Key::from_static_str(attribute::CODE_LINE_NUMBER);
/// `code.column.number`.
pub(crate) const CODE_COLUMN_NUMBER: Key = Key::from_static_str(attribute::CODE_COLUMN_NUMBER);

// ---- errors and exceptions ----

/// The event an error or a panic becomes.
pub(crate) const EXCEPTION_EVENT: &str = "exception";
/// `exception.type`.
pub(crate) const EXCEPTION_TYPE: Key = Key::from_static_str(attribute::EXCEPTION_TYPE);
/// `exception.message`.
pub(crate) const EXCEPTION_MESSAGE: Key = Key::from_static_str(attribute::EXCEPTION_MESSAGE);
/// `exception.stacktrace`: a panic's backtrace, when backtraces are on.
pub(crate) const EXCEPTION_STACKTRACE: Key = Key::from_static_str(attribute::EXCEPTION_STACKTRACE);
/// `error.type`.
pub(crate) const ERROR_TYPE: Key = Key::from_static_str(attribute::ERROR_TYPE);

// ---- ours, outside the conventions' namespaces ----

/// `traced.error.source_chain`: the messages of an error's `source()`
/// chain, outermost first, on its `exception` event. Not in the conventions
/// (and so not in their reserved `exception.*` namespace).
pub(crate) const TRACED_ERROR_SOURCE_CHAIN: Key = Key::from_static_str("traced.error.source_chain");
/// `traced.scrubbed`: the paths of the values replaced by `[REDACTED]`
/// because their names mark secrets (`form.password`, `exception.message.token`).
pub(crate) const TRACED_SCRUBBED: Key = Key::from_static_str("traced.scrubbed");
/// The event on a span whose future was dropped before it completed.
pub(crate) const TRACED_CANCELLED_EVENT: &str = "traced.cancelled";

// ---- http.*, url.*, server.*, user_agent.* ----

/// `http.request.method`.
pub(crate) const HTTP_REQUEST_METHOD: Key = Key::from_static_str(attribute::HTTP_REQUEST_METHOD);
/// `http.request.method_original`.
pub(crate) const HTTP_REQUEST_METHOD_ORIGINAL: Key =
    Key::from_static_str(attribute::HTTP_REQUEST_METHOD_ORIGINAL);
/// `http.response.status_code`.
pub(crate) const HTTP_RESPONSE_STATUS_CODE: Key =
    Key::from_static_str(attribute::HTTP_RESPONSE_STATUS_CODE);
/// `http.route`.
pub(crate) const HTTP_ROUTE: Key = Key::from_static_str(attribute::HTTP_ROUTE);
/// `url.query`.
pub(crate) const URL_QUERY: Key = Key::from_static_str(attribute::URL_QUERY);
/// `client.address`.
pub(crate) const CLIENT_ADDRESS: Key = Key::from_static_str(attribute::CLIENT_ADDRESS);
/// `network.peer.address`.
pub(crate) const NETWORK_PEER_ADDRESS: Key = Key::from_static_str(attribute::NETWORK_PEER_ADDRESS);
/// `network.peer.port`.
pub(crate) const NETWORK_PEER_PORT: Key = Key::from_static_str(attribute::NETWORK_PEER_PORT);
/// `network.protocol.version`.
pub(crate) const NETWORK_PROTOCOL_VERSION: Key =
    Key::from_static_str(attribute::NETWORK_PROTOCOL_VERSION);
/// `url.full`.
pub(crate) const URL_FULL: Key = Key::from_static_str(attribute::URL_FULL);
/// `url.path`.
pub(crate) const URL_PATH: Key = Key::from_static_str(attribute::URL_PATH);
/// `url.scheme`.
pub(crate) const URL_SCHEME: Key = Key::from_static_str(attribute::URL_SCHEME);
/// `server.address`.
pub(crate) const SERVER_ADDRESS: Key = Key::from_static_str(attribute::SERVER_ADDRESS);
/// `server.port`.
pub(crate) const SERVER_PORT: Key = Key::from_static_str(attribute::SERVER_PORT);
/// `user_agent.original`.
pub(crate) const USER_AGENT_ORIGINAL: Key = Key::from_static_str(attribute::USER_AGENT_ORIGINAL);

// ---- resource ----

/// `service.name`.
pub(crate) const SERVICE_NAME: &str = attribute::SERVICE_NAME;
