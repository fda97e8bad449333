//! `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`: the SDK reads no value-length limit,
//! so a processor in front of the exporter's truncates string values.

use std::time::Duration;

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};

use crate::pipeline::truncate_all;

/// Truncates string attribute values (and the strings in string arrays) of
/// spans, events and links to `limit` characters, then hands the span on.
#[derive(Debug)]
pub(crate) struct TruncateValues<P> {
    inner: P,
    limit: usize,
}

impl<P> TruncateValues<P> {
    pub(crate) fn new(inner: P, limit: usize) -> Self {
        TruncateValues { inner, limit }
    }
}

impl<P: SpanProcessor> SpanProcessor for TruncateValues<P> {
    fn on_start(&self, span: &mut Span, cx: &opentelemetry::Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, mut span: SpanData) {
        truncate_all(&mut span.attributes, self.limit);
        for event in &mut span.events.events {
            truncate_all(&mut event.attributes, self.limit);
        }
        for link in &mut span.links.links {
            truncate_all(&mut link.attributes, self.limit);
        }
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
