//! Every attribute key and event name the runtime writes, in one place.
//!
//! Keys of the OpenTelemetry semantic conventions keep their registry names;
//! the few of our own live under `traced.*`, outside the reserved
//! namespaces.

// Some keys are written only by integrations behind cargo features.
#![cfg_attr(not(all(feature = "axum", feature = "reqwest")), allow(dead_code))]

use opentelemetry::Key;

// ---- code.* (the function a span or a panic belongs to) ----

/// `code.function.name`: `module::path::function`.
pub(crate) const CODE_FUNCTION_NAME: Key = Key::from_static_str("code.function.name");
/// `code.file.path`.
pub(crate) const CODE_FILE_PATH: Key = Key::from_static_str("code.file.path");
/// `code.line.number`.
pub(crate) const CODE_LINE_NUMBER: Key = Key::from_static_str("code.line.number");
/// `code.column.number`.
pub(crate) const CODE_COLUMN_NUMBER: Key = Key::from_static_str("code.column.number");

// ---- errors and exceptions ----

/// The event an error or a panic becomes.
pub(crate) const EXCEPTION_EVENT: &str = "exception";
/// `exception.type`.
pub(crate) const EXCEPTION_TYPE: Key = Key::from_static_str("exception.type");
/// `exception.message`.
pub(crate) const EXCEPTION_MESSAGE: Key = Key::from_static_str("exception.message");
/// `exception.stacktrace`: a panic's backtrace, when backtraces are on.
pub(crate) const EXCEPTION_STACKTRACE: Key = Key::from_static_str("exception.stacktrace");
/// `error.type`.
pub(crate) const ERROR_TYPE: Key = Key::from_static_str("error.type");

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
pub(crate) const HTTP_REQUEST_METHOD: Key = Key::from_static_str("http.request.method");
/// `http.request.method_original`.
pub(crate) const HTTP_REQUEST_METHOD_ORIGINAL: Key =
    Key::from_static_str("http.request.method_original");
/// `http.response.status_code`.
pub(crate) const HTTP_RESPONSE_STATUS_CODE: Key = Key::from_static_str("http.response.status_code");
/// `http.route`.
pub(crate) const HTTP_ROUTE: Key = Key::from_static_str("http.route");
/// `url.query`.
pub(crate) const URL_QUERY: Key = Key::from_static_str("url.query");
/// `client.address`.
pub(crate) const CLIENT_ADDRESS: Key = Key::from_static_str("client.address");
/// `network.peer.address`.
pub(crate) const NETWORK_PEER_ADDRESS: Key = Key::from_static_str("network.peer.address");
/// `network.peer.port`.
pub(crate) const NETWORK_PEER_PORT: Key = Key::from_static_str("network.peer.port");
/// `network.protocol.version`.
pub(crate) const NETWORK_PROTOCOL_VERSION: Key = Key::from_static_str("network.protocol.version");
/// `url.full`.
pub(crate) const URL_FULL: Key = Key::from_static_str("url.full");
/// `url.path`.
pub(crate) const URL_PATH: Key = Key::from_static_str("url.path");
/// `url.scheme`.
pub(crate) const URL_SCHEME: Key = Key::from_static_str("url.scheme");
/// `server.address`.
pub(crate) const SERVER_ADDRESS: Key = Key::from_static_str("server.address");
/// `server.port`.
pub(crate) const SERVER_PORT: Key = Key::from_static_str("server.port");
/// `user_agent.original`.
pub(crate) const USER_AGENT_ORIGINAL: Key = Key::from_static_str("user_agent.original");

// ---- resource ----

/// `service.name`.
pub(crate) const SERVICE_NAME: &str = "service.name";
