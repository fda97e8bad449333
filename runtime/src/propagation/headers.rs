//! Injecting and extracting trace context in headers, with the propagators
//! `init` installed (`OTEL_PROPAGATORS`).
//!
//! Header names are matched case-insensitively, and every value of a
//! repeated header is seen: a second `traceparent` makes the request start a
//! new trace, and repeated `tracestate` headers are joined, as W3C Trace
//! Context asks.

use std::collections::HashMap;

use opentelemetry::Context;
use opentelemetry::global;
use opentelemetry::propagation::{Extractor, Injector};

/// Headers trace context can travel in: [`http::HeaderMap`] and
/// `HashMap<String, String>`.
pub trait Headers {
    /// Every value of header `name` (matched case-insensitively).
    fn header_values(&self, name: &str) -> Vec<&str>;
    /// The header names present.
    fn header_names(&self) -> Vec<&str>;
    /// Sets header `name` to `value`, replacing what was there.
    fn set_header(&mut self, name: &str, value: String);
}

impl Headers for http::HeaderMap {
    fn header_values(&self, name: &str) -> Vec<&str> {
        // Values that are not visible ASCII cannot be trace context.
        self.get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }

    fn header_names(&self) -> Vec<&str> {
        self.keys().map(http::HeaderName::as_str).collect()
    }

    fn set_header(&mut self, name: &str, value: String) {
        let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) else {
            // Our propagators only write valid names and visible ASCII.
            return;
        };
        self.insert(name, value);
    }
}

impl<S: std::hash::BuildHasher> Headers for HashMap<String, String, S> {
    fn header_values(&self, name: &str) -> Vec<&str> {
        self.iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn header_names(&self) -> Vec<&str> {
        self.keys().map(String::as_str).collect()
    }

    fn set_header(&mut self, name: &str, value: String) {
        self.retain(|k, _| !k.eq_ignore_ascii_case(name));
        self.insert(name.to_owned(), value);
    }
}

impl<H: Headers + ?Sized> Headers for &mut H {
    fn header_values(&self, name: &str) -> Vec<&str> {
        (**self).header_values(name)
    }
    fn header_names(&self) -> Vec<&str> {
        (**self).header_names()
    }
    fn set_header(&mut self, name: &str, value: String) {
        (**self).set_header(name, value);
    }
}

struct Reader<'a, H: ?Sized>(&'a H);

impl<H: Headers + ?Sized> Extractor for Reader<'_, H> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.header_values(key).into_iter().next()
    }

    fn keys(&self) -> Vec<&str> {
        self.0.header_names()
    }

    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let values = self.0.header_values(key);
        (!values.is_empty()).then_some(values)
    }
}

struct Writer<'a, H: ?Sized>(&'a mut H);

impl<H: Headers + ?Sized> Injector for Writer<'_, H> {
    fn set(&mut self, key: &str, value: String) {
        self.0.set_header(key, value);
    }
}

/// The context carried by incoming `headers`: the remote parent and baggage.
///
/// Extraction starts from an empty context, so invalid or missing trace
/// headers give a context without a parent: a span started in it begins a
/// new trace.
pub fn extract<H: Headers + ?Sized>(headers: &H) -> Context {
    global::get_text_map_propagator(|propagator| {
        propagator.extract_with_context(&Context::new(), &Reader(headers))
    })
}

/// Writes the current context (`traceparent`, `tracestate`, `baggage`)
/// into outgoing `headers`.
pub fn inject<H: Headers + ?Sized>(headers: &mut H) {
    Context::map_current(|cx| inject_context(cx, headers));
}

/// Writes `cx` into outgoing `headers`.
pub fn inject_context<H: Headers + ?Sized>(cx: &Context, headers: &mut H) {
    global::get_text_map_propagator(|propagator| {
        propagator.inject_context(cx, &mut Writer(headers))
    });
}
