//! The exception writer: what an error, a panic or a cancellation leaves on
//! a span. One writer for `#[traced]` and the integrations alike.

use opentelemetry::trace::{SpanRef, Status};
use opentelemetry::{Array, KeyValue, StringValue, Value};

use crate::semconv::{
    ERROR_TYPE, EXCEPTION_EVENT, EXCEPTION_MESSAGE, EXCEPTION_SOURCE_CHAIN, EXCEPTION_TYPE,
};

/// Records an error on `span`: `error.type`, an `exception` event with the
/// type, the message and the `source()` chain, and status Error.
#[cold]
pub(crate) fn record_error(
    span: &SpanRef<'_>,
    type_name: &str,
    message: String,
    sources: Vec<StringValue>,
) {
    let mut attributes = vec![
        KeyValue::new(EXCEPTION_TYPE, type_name.to_owned()),
        KeyValue::new(EXCEPTION_MESSAGE, message.clone()),
    ];
    if !sources.is_empty() {
        attributes.push(KeyValue::new(
            EXCEPTION_SOURCE_CHAIN,
            Value::Array(Array::String(sources)),
        ));
    }
    span.set_attribute(KeyValue::new(ERROR_TYPE, type_name.to_owned()));
    span.add_event(EXCEPTION_EVENT, attributes);
    span.set_status(Status::error(message));
}

/// Name of the event that marks a future dropped before it completed.
pub const CANCELLED_EVENT: &str = "cancelled";

#[cold]
pub(crate) fn record_cancelled(span: &SpanRef<'_>) {
    span.add_event(CANCELLED_EVENT, Vec::new());
}
