//! Messaging spans with the messaging semantic conventions, for any
//! transport whose messages carry headers ([`Headers`]), and RabbitMQ
//! through `lapin` (feature `lapin`, [`lapin`]).
//!
//! - [`send`]: a `producer` span named `send {destination}`
//!   (`messaging.operation.type` = `send`), its context injected into the
//!   message's headers before the message goes.
//! - [`process`]: a `consumer` span named `process {destination}`
//!   (`messaging.operation.type` = `process`) for one message: a child of
//!   the producer's context read from the message's headers. Headers with no
//!   or malformed trace context are ignored: the span starts a new trace.
//! - [`process_batch`]: one `process` span for several messages: it starts
//!   a new trace and links to each producer's context, as the conventions
//!   ask, with `messaging.batch.message_count`.
//!
//! Each span carries `messaging.system`, `messaging.operation.type`,
//! `messaging.operation.name`, `messaging.destination.name` and, when the
//! [`Message`] has them, `messaging.message.id` and
//! `messaging.message.body.size`. An `Err` from the wrapped work sets
//! status Error, `error.type` and an `exception` event.
// Without a transport feature the core is compiled but used by no one.
#![cfg_attr(not(feature = "lapin"), allow(dead_code, unused_imports))]

#[cfg(feature = "lapin")]
pub mod lapin;

use std::future::Future;

use opentelemetry::trace::{Link, SpanBuilder, SpanKind, TraceContextExt as _};
use opentelemetry::{Context, KeyValue};

use crate::metrics::Measured;
use crate::propagation::{Headers, extract, inject_context};
use crate::semconv::{
    ERROR_TYPE, MESSAGING_BATCH_MESSAGE_COUNT, MESSAGING_DESTINATION_NAME,
    MESSAGING_MESSAGE_BODY_SIZE, MESSAGING_MESSAGE_ID, MESSAGING_OPERATION_NAME,
    MESSAGING_OPERATION_TYPE, MESSAGING_SYSTEM,
};
use crate::span::{ActiveSpan, Started};

/// Where messaging spans start: the scope `traced`, the tracer cached per
/// provider.
static SITE: crate::span::CallSite = crate::span::CallSite::integration();

/// What a messaging span says about the message and where it goes.
#[derive(Debug, Clone, Default)]
pub struct Message<'a> {
    /// `messaging.system`: `rabbitmq`, `kafka`, ...
    pub system: &'a str,
    /// `messaging.destination.name`: the exchange, topic or queue.
    pub destination: &'a str,
    /// `messaging.operation.name`: the system's name for the operation
    /// (`publish`, `deliver`); empty for the generic one (`send`, `process`).
    pub operation_name: &'a str,
    /// `messaging.message.id`.
    pub id: Option<&'a str>,
    /// `messaging.message.body.size`, in bytes.
    pub body_size: Option<usize>,
}

/// `messaging.operation.type` values.
const SEND: &str = "send";
const PROCESS: &str = "process";

impl Message<'_> {
    fn builder(&self, operation: &'static str, kind: SpanKind) -> SpanBuilder {
        let mut attributes = self.operation_attributes(operation, 7);
        if let Some(id) = self.id {
            attributes.push(KeyValue::new(MESSAGING_MESSAGE_ID, id.to_owned()));
        }
        if let Some(size) = self.body_size {
            attributes.push(KeyValue::new(
                MESSAGING_MESSAGE_BODY_SIZE,
                i64::try_from(size).unwrap_or(i64::MAX),
            ));
        }
        SpanBuilder::from_name(format!("{operation} {}", self.destination))
            .with_kind(kind)
            .with_attributes(attributes)
    }

    /// The attributes of the operation rather than of the message (no id,
    /// no size), which its span and its duration share: the system, the
    /// operation's type and name, the destination.
    fn operation_attributes(&self, operation: &'static str, capacity: usize) -> Vec<KeyValue> {
        let mut attributes = Vec::with_capacity(capacity);
        attributes.push(KeyValue::new(MESSAGING_SYSTEM, self.system.to_owned()));
        attributes.push(KeyValue::new(MESSAGING_OPERATION_TYPE, operation));
        let name = if self.operation_name.is_empty() {
            operation
        } else {
            self.operation_name
        };
        attributes.push(KeyValue::new(MESSAGING_OPERATION_NAME, name.to_owned()));
        attributes.push(KeyValue::new(
            MESSAGING_DESTINATION_NAME,
            self.destination.to_owned(),
        ));
        attributes
    }
}

/// Records an `Err` of the wrapped work on its span.
fn record_outcome<T, E: std::fmt::Display>(span: &ActiveSpan, out: &Result<T, E>) {
    if let Err(err) = out {
        if span.is_recording() {
            span.record_error_as(
                std::any::type_name::<E>(),
                None,
                err.to_string(),
                Vec::new(),
            );
        }
    }
}

/// Completes the timing of the wrapped work: `error.type` (the error's
/// type, as on the span) for an `Err`.
fn complete<T, E>(measured: &mut Measured, out: &Result<T, E>) {
    if out.is_err() {
        measured.set(KeyValue::new(ERROR_TYPE, std::any::type_name::<E>()));
    }
}

/// Starts the `producer` span of `message` as a child of the current
/// context and writes its context into `headers`.
pub(crate) fn start_send<H: Headers + ?Sized>(
    message: &Message<'_>,
    extra: Vec<KeyValue>,
    headers: &mut H,
) -> Started {
    let started = SITE.start_dynamic(&Context::current(), || {
        let mut builder = message.builder(SEND, SpanKind::Producer);
        if let Some(attributes) = &mut builder.attributes {
            attributes.extend(extra);
        }
        builder
    });
    if let Some(cx) = started.context() {
        inject_context(cx, headers);
    }
    started
}

/// Starts the `consumer` span of one received message: a child of the
/// producer's context in `headers`, or a new trace when they carry none.
pub(crate) fn start_process<H: Headers + ?Sized>(
    message: &Message<'_>,
    extra: Vec<KeyValue>,
    headers: &H,
) -> Started {
    SITE.start_dynamic(&extract(headers), || {
        let mut builder = message.builder(PROCESS, SpanKind::Consumer);
        if let Some(attributes) = &mut builder.attributes {
            attributes.extend(extra);
        }
        builder
    })
}

/// Sends a message in a `producer` span named `send {destination}`.
///
/// The span's context is written into `headers` (`traceparent`,
/// `tracestate`, `baggage`), then `send` is called with them and the future
/// it returns runs with the span current.
///
/// ```
/// # use traced_runtime as traced;
/// # async fn f() -> Result<(), std::io::Error> {
/// use std::collections::HashMap;
/// use traced::messaging::{Message, send};
///
/// let message = Message { system: "memory", destination: "jobs", ..Message::default() };
/// let mut headers = HashMap::<String, String>::new();
/// send(&message, &mut headers, |headers| {
///     let headers = headers.clone();
///     async move { /* put (headers, body) on the queue */ Ok::<_, std::io::Error>(()) }
/// })
/// .await?;
/// # Ok(()) }
/// ```
pub fn send<H, F, T, E>(
    message: &Message<'_>,
    headers: &mut H,
    send: impl FnOnce(&mut H) -> F,
) -> impl Future<Output = Result<T, E>>
where
    H: Headers + ?Sized,
    F: Future<Output = Result<T, E>>,
    E: std::fmt::Display,
{
    let started = start_send(message, Vec::new(), headers);
    let future = send(headers);
    started.instrument(future, record_outcome)
}

/// Processes one received message in a `consumer` span named
/// `process {destination}`, a child of the producer's context carried in
/// `headers`; with no or malformed trace headers, a new trace. `work` runs
/// with the span current.
pub fn process<H, F, T, E>(
    message: &Message<'_>,
    headers: &H,
    work: F,
) -> impl Future<Output = Result<T, E>>
where
    H: Headers + ?Sized,
    F: Future<Output = Result<T, E>>,
    E: std::fmt::Display,
{
    start_process(message, Vec::new(), headers).instrument(work, record_outcome)
}

/// Processes several received messages together in one `consumer` span
/// named `process {destination}`: a new trace, with a link to the
/// producer's context of each message that carries one, and
/// `messaging.batch.message_count`. `message.id` and `message.body_size`
/// are not recorded for a batch.
pub fn process_batch<H, F, T, E>(
    message: &Message<'_>,
    headers: &[&H],
    work: F,
) -> impl Future<Output = Result<T, E>>
where
    H: Headers + ?Sized,
    F: Future<Output = Result<T, E>>,
    E: std::fmt::Display,
{
    let single = Message {
        id: None,
        body_size: None,
        ..message.clone()
    };
    let mut builder = single.builder(PROCESS, SpanKind::Consumer);
    if let Some(attributes) = &mut builder.attributes {
        attributes.push(KeyValue::new(
            MESSAGING_BATCH_MESSAGE_COUNT,
            i64::try_from(headers.len()).unwrap_or(i64::MAX),
        ));
    }
    let links: Vec<Link> = headers
        .iter()
        .map(|h| extract(*h).span().span_context().clone())
        .filter(|sc| sc.is_valid())
        .map(Link::with_context)
        .collect();
    let builder = builder.with_links(links);
    SITE.start_dynamic(&Context::new(), || builder)
        .instrument(work, record_outcome)
}
