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
#![cfg_attr(
    not(all(feature = "axum", feature = "reqwest", feature = "tonic")),
    allow(dead_code)
)]

use opentelemetry::Key;

// One constant per line, as generated; a registry update reads as a diff.
#[rustfmt::skip]
pub mod attribute;
#[rustfmt::skip]
pub mod metric;

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

// ---- db.* (database client spans: `integrations::db`) ----

/// `db.system.name`: `sqlite`, `postgresql`, ...
pub(crate) const DB_SYSTEM_NAME: Key = Key::from_static_str(attribute::DB_SYSTEM_NAME);
/// `db.namespace`: the database (for SQLite, the file's path).
pub(crate) const DB_NAMESPACE: Key = Key::from_static_str(attribute::DB_NAMESPACE);
/// `db.operation.name`: `SELECT`, `INSERT`, ...
pub(crate) const DB_OPERATION_NAME: Key = Key::from_static_str(attribute::DB_OPERATION_NAME);
/// `db.collection.name`: the table.
pub(crate) const DB_COLLECTION_NAME: Key = Key::from_static_str(attribute::DB_COLLECTION_NAME);
/// `db.query.summary`: `{operation} {table}`, also the span name.
pub(crate) const DB_QUERY_SUMMARY: Key = Key::from_static_str(attribute::DB_QUERY_SUMMARY);
/// `db.query.text`: parameterised as is, otherwise with literals as `?`.
pub(crate) const DB_QUERY_TEXT: Key = Key::from_static_str(attribute::DB_QUERY_TEXT);
/// `db.response.returned_rows`.
pub(crate) const DB_RESPONSE_RETURNED_ROWS: Key =
    Key::from_static_str(attribute::DB_RESPONSE_RETURNED_ROWS);
/// `db.response.status_code`: the database's own error code (SQLSTATE,
/// SQLite's extended result code).
pub(crate) const DB_RESPONSE_STATUS_CODE: Key =
    Key::from_static_str(attribute::DB_RESPONSE_STATUS_CODE);

// ---- messaging.* (`integrations::messaging`) ----

/// `messaging.system`: `rabbitmq`, ...
pub(crate) const MESSAGING_SYSTEM: Key = Key::from_static_str(attribute::MESSAGING_SYSTEM);
/// `messaging.operation.type`: `send`, `receive`, `process`, `settle`, ...
pub(crate) const MESSAGING_OPERATION_TYPE: Key =
    Key::from_static_str(attribute::MESSAGING_OPERATION_TYPE);
/// `messaging.operation.name`: the system's own name (`publish`, `ack`).
pub(crate) const MESSAGING_OPERATION_NAME: Key =
    Key::from_static_str(attribute::MESSAGING_OPERATION_NAME);
/// `messaging.destination.name`: the exchange or queue.
pub(crate) const MESSAGING_DESTINATION_NAME: Key =
    Key::from_static_str(attribute::MESSAGING_DESTINATION_NAME);
/// `messaging.message.id`.
pub(crate) const MESSAGING_MESSAGE_ID: Key = Key::from_static_str(attribute::MESSAGING_MESSAGE_ID);
/// `messaging.message.body.size`: bytes.
pub(crate) const MESSAGING_MESSAGE_BODY_SIZE: Key =
    Key::from_static_str(attribute::MESSAGING_MESSAGE_BODY_SIZE);
/// `messaging.batch.message_count`.
pub(crate) const MESSAGING_BATCH_MESSAGE_COUNT: Key =
    Key::from_static_str(attribute::MESSAGING_BATCH_MESSAGE_COUNT);
/// `messaging.rabbitmq.destination.routing_key`.
pub(crate) const MESSAGING_RABBITMQ_ROUTING_KEY: Key =
    Key::from_static_str(attribute::MESSAGING_RABBITMQ_DESTINATION_ROUTING_KEY);
/// `messaging.rabbitmq.message.delivery_tag`.
pub(crate) const MESSAGING_RABBITMQ_DELIVERY_TAG: Key =
    Key::from_static_str(attribute::MESSAGING_RABBITMQ_MESSAGE_DELIVERY_TAG);
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

// ---- rpc.* (`integrations::grpc`) ----

/// `rpc.system.name`: `grpc`.
pub(crate) const RPC_SYSTEM_NAME: Key = Key::from_static_str(attribute::RPC_SYSTEM_NAME);
/// `rpc.method`: `package.Service/Method`, or `_OTHER`.
pub(crate) const RPC_METHOD: Key = Key::from_static_str(attribute::RPC_METHOD);
/// `rpc.method_original`: the method as the request named it, when
/// `rpc.method` is `_OTHER`.
pub(crate) const RPC_METHOD_ORIGINAL: Key = Key::from_static_str(attribute::RPC_METHOD_ORIGINAL);
/// `rpc.response.status_code`: the gRPC status code's name (`OK`,
/// `NOT_FOUND`, ...).
pub(crate) const RPC_RESPONSE_STATUS_CODE: Key =
    Key::from_static_str(attribute::RPC_RESPONSE_STATUS_CODE);
