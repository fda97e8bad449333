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

// ---- db.* (database client spans: `integrations::db`) ----

/// `db.system.name`: `sqlite`, `postgresql`, ...
pub(crate) const DB_SYSTEM_NAME: Key = Key::from_static_str("db.system.name");
/// `db.namespace`: the database (for SQLite, the file's path).
pub(crate) const DB_NAMESPACE: Key = Key::from_static_str("db.namespace");
/// `db.operation.name`: `SELECT`, `INSERT`, ...
pub(crate) const DB_OPERATION_NAME: Key = Key::from_static_str("db.operation.name");
/// `db.collection.name`: the table.
pub(crate) const DB_COLLECTION_NAME: Key = Key::from_static_str("db.collection.name");
/// `db.query.summary`: `{operation} {table}`, also the span name.
pub(crate) const DB_QUERY_SUMMARY: Key = Key::from_static_str("db.query.summary");
/// `db.query.text`: parameterised as is, otherwise with literals as `?`.
pub(crate) const DB_QUERY_TEXT: Key = Key::from_static_str("db.query.text");
/// `db.response.returned_rows`.
pub(crate) const DB_RESPONSE_RETURNED_ROWS: Key = Key::from_static_str("db.response.returned_rows");
/// `db.response.status_code`: the database's own error code (SQLSTATE,
/// SQLite's extended result code).
pub(crate) const DB_RESPONSE_STATUS_CODE: Key = Key::from_static_str("db.response.status_code");

// ---- messaging.* (`integrations::messaging`) ----

/// `messaging.system`: `rabbitmq`, ...
pub(crate) const MESSAGING_SYSTEM: Key = Key::from_static_str("messaging.system");
/// `messaging.operation.type`: `send`, `receive`, `process`, `settle`, ...
pub(crate) const MESSAGING_OPERATION_TYPE: Key = Key::from_static_str("messaging.operation.type");
/// `messaging.operation.name`: the system's own name (`publish`, `ack`).
pub(crate) const MESSAGING_OPERATION_NAME: Key = Key::from_static_str("messaging.operation.name");
/// `messaging.destination.name`: the exchange or queue.
pub(crate) const MESSAGING_DESTINATION_NAME: Key =
    Key::from_static_str("messaging.destination.name");
/// `messaging.message.id`.
pub(crate) const MESSAGING_MESSAGE_ID: Key = Key::from_static_str("messaging.message.id");
/// `messaging.message.body.size`: bytes.
pub(crate) const MESSAGING_MESSAGE_BODY_SIZE: Key =
    Key::from_static_str("messaging.message.body.size");
/// `messaging.batch.message_count`.
pub(crate) const MESSAGING_BATCH_MESSAGE_COUNT: Key =
    Key::from_static_str("messaging.batch.message_count");
/// `messaging.rabbitmq.destination.routing_key`.
pub(crate) const MESSAGING_RABBITMQ_ROUTING_KEY: Key =
    Key::from_static_str("messaging.rabbitmq.destination.routing_key");
/// `messaging.rabbitmq.message.delivery_tag`.
pub(crate) const MESSAGING_RABBITMQ_DELIVERY_TAG: Key =
    Key::from_static_str("messaging.rabbitmq.message.delivery_tag");
/// `traced.messaging.redelivered`: the broker delivered this message
/// before (AMQP's `redelivered` flag). Ours: the conventions have no key.
pub(crate) const TRACED_MESSAGING_REDELIVERED: Key =
    Key::from_static_str("traced.messaging.redelivered");
/// The event a settled (acknowledged or rejected) message adds to its
/// `process` span.
pub(crate) const TRACED_MESSAGE_SETTLED_EVENT: &str = "message settled";
/// `traced.messaging.requeue`: on a "message settled" event of a rejected
/// message, whether the broker was asked to deliver it again. Ours.
pub(crate) const TRACED_MESSAGING_REQUEUE: Key = Key::from_static_str("traced.messaging.requeue");
