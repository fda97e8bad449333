//! RabbitMQ through `lapin`: publishing in a `producer` span with the
//! context in the AMQP headers, processing a delivery in a `consumer` span
//! that continues it, and settling it visibly.
//!
//! ```no_run
//! # use traced_runtime as traced;
//! # async fn f(channel: lapin::Channel, delivery: lapin::message::Delivery) -> lapin::Result<()> {
//! use lapin::BasicProperties;
//! use traced::messaging::lapin as amqp;
//!
//! // Producer: span "send tasks" (publish), traceparent in the headers.
//! let properties = BasicProperties::default().with_message_id("42".into());
//! amqp::publish(&channel, "", "tasks", b"{\"id\":42}", properties).await?;
//!
//! // Consumer: span "process tasks", a child of the producer's span.
//! amqp::process(&delivery, "tasks", async {
//!     /* the work */
//!     amqp::ack(&delivery).await // event "message settled" (ack)
//! })
//! .await?;
//! # Ok(()) }
//! ```
//!
//! The `process` span records `messaging.rabbitmq.message.delivery_tag`,
//! and `traced.messaging.redelivered` = `true` when the broker delivers the
//! message again (after a consumer went away without acknowledging it).
//!
//! With a meter provider installed, a publish's duration goes to the
//! histogram `messaging.client.operation.duration`
//! (`messaging.operation.type` = `send`, `messaging.operation.name` =
//! `publish`) and a delivery's processing to `messaging.process.duration`
//! (`messaging.operation.name` = `deliver`), both with `messaging.system`
//! = `rabbitmq`, `messaging.destination.name` and, for an `Err`,
//! `error.type`; their exemplar is the span when the trace is kept. The
//! destination is the exchange, or the queue on the default exchange,
//! except a queue the broker named (`amq.gen-...`, an exclusive reply
//! queue say): such names are anonymous, one per connection, and the
//! conventions keep high-cardinality destinations out of metrics.

use std::future::Future;

use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicNackOptions, BasicPublishOptions};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Channel, PublisherConfirm};
use opentelemetry::KeyValue;
use opentelemetry::trace::TraceContextExt as _;

use super::{Message, PROCESS, SEND, complete, record_outcome, start_process, start_send};
use crate::integrations::measure::instrument_measured;
use crate::metrics::{DurationMetric, Measured};
use crate::propagation::Headers;
use crate::semconv::{
    MESSAGING_DESTINATION_NAME, MESSAGING_OPERATION_NAME, MESSAGING_RABBITMQ_DELIVERY_TAG,
    MESSAGING_RABBITMQ_ROUTING_KEY, TRACED_MESSAGE_SETTLED_EVENT, TRACED_MESSAGING_REDELIVERED,
    TRACED_MESSAGING_REQUEUE, attribute, metric,
};

/// `messaging.system` for RabbitMQ.
const RABBITMQ: &str = "rabbitmq";

/// `messaging.client.operation.duration`, for publishing.
static SEND_DURATION: DurationMetric = DurationMetric::new(
    metric::MESSAGING_CLIENT_OPERATION_DURATION,
    "Duration of messaging operation initiated by a producer or consumer client.",
    &[
        attribute::MESSAGING_SYSTEM,
        attribute::MESSAGING_OPERATION_TYPE,
        attribute::MESSAGING_OPERATION_NAME,
        attribute::MESSAGING_DESTINATION_NAME,
        attribute::ERROR_TYPE,
    ],
);

/// `messaging.process.duration`, for processing a delivery.
static PROCESS_DURATION: DurationMetric = DurationMetric::new(
    metric::MESSAGING_PROCESS_DURATION,
    "Duration of processing operation.",
    &[
        attribute::MESSAGING_SYSTEM,
        attribute::MESSAGING_OPERATION_NAME,
        attribute::MESSAGING_DESTINATION_NAME,
        attribute::ERROR_TYPE,
    ],
);

/// Starts timing `message`'s `operation` for `metric`, when it is on;
/// an anonymous destination (see the module) is left out.
fn measure(
    metric: &'static DurationMetric,
    message: &Message<'_>,
    operation: &'static str,
) -> Option<Measured> {
    if !metric.is_on() {
        return None;
    }
    let mut attributes = metric.pick(&message.operation_attributes(operation, 4));
    if is_anonymous(message.destination) {
        attributes.retain(|kv| kv.key != MESSAGING_DESTINATION_NAME);
    }
    metric.start(attributes)
}

/// Whether a destination has no name worth a series: empty (the default
/// exchange without a routing key), or named by the broker (`amq.gen-`).
fn is_anonymous(destination: &str) -> bool {
    destination.is_empty() || destination.starts_with("amq.gen-")
}

/// AMQP headers: string values (`longstr`, `shortstr`) are trace context;
/// values of other types under a trace header are ignored, so malformed
/// headers start a new trace.
impl Headers for FieldTable {
    fn header_values(&self, name: &str) -> Vec<&str> {
        self.inner()
            .iter()
            .filter(|(k, _)| k.as_str().eq_ignore_ascii_case(name))
            .filter_map(|(_, v)| match v {
                AMQPValue::LongString(s) => std::str::from_utf8(s.as_bytes()).ok(),
                AMQPValue::ShortString(s) => Some(s.as_str()),
                _ => None,
            })
            .collect()
    }

    fn header_names(&self) -> Vec<&str> {
        self.inner().keys().map(ShortString::as_str).collect()
    }

    fn set_header(&mut self, name: &str, value: String) {
        let mut table = self.inner().clone();
        table.retain(|k, _| !k.as_str().eq_ignore_ascii_case(name));
        table.insert(
            ShortString::from(name),
            AMQPValue::LongString(LongString::from(value)),
        );
        *self = FieldTable::from(table);
    }
}

/// The destination the conventions name for a publish: the exchange, or
/// the routing key on the default exchange (where it is the queue).
fn destination<'a>(exchange: &'a str, routing_key: &'a str) -> &'a str {
    if exchange.is_empty() {
        routing_key
    } else {
        exchange
    }
}

/// Publishes `payload` in a `producer` span named `send {destination}`
/// (`messaging.operation.name` = `publish`), with the span's context added
/// to the headers of `properties`. Records the message id of `properties`,
/// the body size and `messaging.rabbitmq.destination.routing_key`.
///
/// The span ends when the broker has the message (the publish returns), not
/// when a publisher confirm arrives.
pub fn publish<'a>(
    channel: &'a Channel,
    exchange: &'a str,
    routing_key: &'a str,
    payload: &'a [u8],
    properties: BasicProperties,
) -> impl Future<Output = lapin::Result<PublisherConfirm>> + 'a {
    let message_id = properties.message_id().as_ref().map(|id| id.to_string());
    let message = Message {
        system: RABBITMQ,
        destination: destination(exchange, routing_key),
        operation_name: "publish",
        id: message_id.as_deref(),
        body_size: Some(payload.len()),
    };
    let mut headers = properties.headers().clone().unwrap_or_default();
    let extra = if routing_key.is_empty() {
        Vec::new()
    } else {
        vec![KeyValue::new(
            MESSAGING_RABBITMQ_ROUTING_KEY,
            routing_key.to_owned(),
        )]
    };
    let measured = measure(&SEND_DURATION, &message, SEND);
    let started = start_send(&message, extra, &mut headers);
    let properties = properties.with_headers(headers);
    let future = channel.basic_publish(
        ShortString::from(exchange),
        ShortString::from(routing_key),
        BasicPublishOptions::default(),
        payload,
        properties,
    );
    instrument_measured(started, future, measured, complete, record_outcome)
}

/// Processes `delivery` from `queue` in a `consumer` span named
/// `process {queue}` (`messaging.operation.name` = `deliver`), a child of
/// the producer's context in the message's headers (a new trace when
/// there is none or it is malformed). Records the message id, the body
/// size, the delivery tag, and `traced.messaging.redelivered` = `true` on
/// a redelivery. `work` runs with the span current: acknowledge inside it
/// with [`ack`] or [`nack`] so the settlement shows on the span.
pub fn process<'a, F, T, E>(
    delivery: &'a Delivery,
    queue: &'a str,
    work: F,
) -> impl Future<Output = Result<T, E>> + 'a
where
    F: Future<Output = Result<T, E>> + 'a,
    T: 'a,
    E: std::fmt::Display + 'a,
{
    let message_id = delivery
        .properties
        .message_id()
        .as_ref()
        .map(|id| id.to_string());
    let message = Message {
        system: RABBITMQ,
        destination: queue,
        operation_name: "deliver",
        id: message_id.as_deref(),
        body_size: Some(delivery.data.len()),
    };
    let mut extra = vec![KeyValue::new(
        MESSAGING_RABBITMQ_DELIVERY_TAG,
        i64::try_from(delivery.delivery_tag).unwrap_or(i64::MAX),
    )];
    if !delivery.routing_key.as_str().is_empty() {
        extra.push(KeyValue::new(
            MESSAGING_RABBITMQ_ROUTING_KEY,
            delivery.routing_key.to_string(),
        ));
    }
    if delivery.redelivered {
        extra.push(KeyValue::new(TRACED_MESSAGING_REDELIVERED, true));
    }
    let empty = FieldTable::default();
    let headers = delivery.properties.headers().as_ref().unwrap_or(&empty);
    let measured = measure(&PROCESS_DURATION, &message, PROCESS);
    let started = start_process(&message, extra, headers);
    instrument_measured(started, work, measured, complete, record_outcome)
}

/// Adds the event "message settled" to the current span.
fn settled(operation: &'static str, delivery: &Delivery, requeue: Option<bool>) {
    let cx = opentelemetry::Context::current();
    let mut attributes = vec![
        KeyValue::new(MESSAGING_OPERATION_NAME, operation),
        KeyValue::new(
            MESSAGING_RABBITMQ_DELIVERY_TAG,
            i64::try_from(delivery.delivery_tag).unwrap_or(i64::MAX),
        ),
    ];
    if let Some(requeue) = requeue {
        attributes.push(KeyValue::new(TRACED_MESSAGING_REQUEUE, requeue));
    }
    cx.span()
        .add_event(TRACED_MESSAGE_SETTLED_EVENT, attributes);
}

/// Acknowledges `delivery`, adding the event "message settled"
/// (`messaging.operation.name` = `ack`) to the current span.
pub async fn ack(delivery: &Delivery) -> lapin::Result<()> {
    delivery.ack(BasicAckOptions::default()).await?;
    settled("ack", delivery, None);
    Ok(())
}

/// Rejects `delivery` (requeued when `requeue`), adding the event
/// "message settled" (`messaging.operation.name` = `nack`) to the current
/// span.
pub async fn nack(delivery: &Delivery, requeue: bool) -> lapin::Result<()> {
    delivery
        .nack(BasicNackOptions {
            requeue,
            ..BasicNackOptions::default()
        })
        .await?;
    settled("nack", delivery, Some(requeue));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_table_carries_trace_context() {
        let mut table = FieldTable::default();
        table.insert("x-other".into(), AMQPValue::LongInt(7));
        table.set_header("traceparent", "00-aa-bb-01".to_owned());
        table.set_header("TraceParent", "00-cc-dd-01".to_owned());
        // Replaced whatever the case, other headers kept.
        assert_eq!(table.header_values("traceparent"), ["00-cc-dd-01"]);
        assert_eq!(table.inner().len(), 2);
        let mut names = table.header_names();
        names.sort_unstable();
        assert_eq!(names, ["TraceParent", "x-other"]);
        // Values that are not strings are not trace context.
        assert!(table.header_values("x-other").is_empty());
        table.insert("tracestate".into(), AMQPValue::ShortString("a=1".into()));
        assert_eq!(table.header_values("TRACESTATE"), ["a=1"]);
        // Bytes that are not UTF-8 are ignored, not a panic.
        table.insert(
            "baggage".into(),
            AMQPValue::LongString(LongString::from(vec![0xff, 0xfe])),
        );
        assert!(table.header_values("baggage").is_empty());
    }

    #[test]
    fn destination_is_the_exchange_or_the_queue() {
        assert_eq!(destination("", "tasks"), "tasks");
        assert_eq!(destination("jobs", "tasks"), "jobs");
    }

    #[test]
    fn durations_are_conventional_and_bounded() {
        SEND_DURATION.assert_conventional();
        PROCESS_DURATION.assert_conventional();
        let message = Message {
            system: RABBITMQ,
            destination: "tasks",
            operation_name: "publish",
            id: Some("42"),
            body_size: Some(9),
        };
        // The message's id and size are the span's, not the metric's.
        assert_eq!(
            SEND_DURATION.pick(&message.operation_attributes(SEND, 4)),
            [
                KeyValue::new(crate::semconv::MESSAGING_SYSTEM, "rabbitmq"),
                KeyValue::new(crate::semconv::MESSAGING_OPERATION_TYPE, "send"),
                KeyValue::new(MESSAGING_OPERATION_NAME, "publish"),
                KeyValue::new(MESSAGING_DESTINATION_NAME, "tasks"),
            ]
        );
        let delivered = Message {
            operation_name: "deliver",
            ..message
        };
        // `process.duration` has no `messaging.operation.type`.
        assert_eq!(
            PROCESS_DURATION.pick(&delivered.operation_attributes(PROCESS, 4)),
            [
                KeyValue::new(crate::semconv::MESSAGING_SYSTEM, "rabbitmq"),
                KeyValue::new(MESSAGING_OPERATION_NAME, "deliver"),
                KeyValue::new(MESSAGING_DESTINATION_NAME, "tasks"),
            ]
        );
        assert!(is_anonymous("amq.gen-JzTY20BRgKO-HjmUJj0wLg"));
        assert!(is_anonymous(""));
        assert!(!is_anonymous("tasks"));
        assert!(!is_anonymous("amq.direct"));
    }
}
