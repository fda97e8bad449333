//! The default filter and `RUST_LOG` on top of it, on a subscriber of
//! this thread only.

use std::sync::{Arc, Mutex};

use ::tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt as _};

use super::filter;

/// Counts what reaches it: spans opened and events, by target.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl<S: Subscriber> Layer<S> for Seen {
    fn on_new_span(
        &self,
        attrs: &::tracing::span::Attributes<'_>,
        _: &::tracing::span::Id,
        _: Context<'_, S>,
    ) {
        let meta = attrs.metadata();
        self.0
            .lock()
            .unwrap()
            .push(format!("span {} {}", meta.target(), meta.name()));
    }

    fn on_event(&self, event: &::tracing::Event<'_>, _: Context<'_, S>) {
        let meta = event.metadata();
        self.0
            .lock()
            .unwrap()
            .push(format!("event {} {}", meta.target(), meta.level()));
    }
}

fn seen_with(user: &str) -> Vec<String> {
    let seen = Seen::default();
    let subscriber = tracing_subscriber::registry()
        .with(filter::build(user))
        .with(seen.clone());
    ::tracing::subscriber::with_default(subscriber, || {
        let _h2 = ::tracing::info_span!(target: "h2::proto::connection", "Connection").entered();
        ::tracing::info!(target: "h2::codec", "frame");
        ::tracing::info!(target: "hyper::proto::h1::conn", "read");
        ::tracing::warn!(target: "rustls::client", "handshake");
        ::tracing::info!(target: "tonic::transport::channel", "connected");
        ::tracing::info!(target: "app::login", "logged in");
        ::tracing::debug!(target: "app::login", "details");
    });
    let mut seen = seen.0.lock().unwrap().clone();
    seen.sort();
    seen
}

#[test]
fn library_internals_are_off_by_default() {
    assert_eq!(seen_with(""), ["event app::login INFO"]);
}

#[test]
fn rust_log_turns_them_on_by_target() {
    assert_eq!(
        seen_with("h2=trace,hyper::proto=info"),
        [
            "event app::login INFO",
            "event h2::codec INFO",
            "event hyper::proto::h1::conn INFO",
            "span h2::proto::connection Connection",
        ]
    );
}

#[test]
fn a_global_level_keeps_the_internals_off() {
    assert_eq!(
        seen_with("trace"),
        ["event app::login DEBUG", "event app::login INFO"]
    );
}

#[test]
fn checked_directives_are_trimmed_and_parse_as_env_filter() {
    let directives = crate::filter::check(" info, app=debug ,, h2[conn]=trace").unwrap();
    assert_eq!(directives, "info,app=debug,h2[conn]=trace");
    // What the core accepts, `EnvFilter` accepts too.
    assert!(
        tracing_subscriber::EnvFilter::builder()
            .parse(&directives)
            .is_ok()
    );
    assert!(crate::filter::check("app=loud").is_err());
}

/// Collects what a fmt layer writes.
#[derive(Clone, Default)]
struct Written(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Written {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn compact_lines_end_with_the_ids_of_the_current_span() {
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
    };

    let written = Written::default();
    let sink = written.clone();
    let subscriber =
        tracing_subscriber::registry().with(super::fmt::layer_to(move || sink.clone()));
    let sc = SpanContext::new(
        TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
        SpanId::from_hex("00f067aa0ba902b7").unwrap(),
        TraceFlags::SAMPLED,
        false,
        TraceState::NONE,
    );
    ::tracing::subscriber::with_default(subscriber, || {
        ::tracing::info!(target: "app::login", user = "ana", "outside");
        let _cx = opentelemetry::Context::new()
            .with_remote_span_context(sc)
            .attach();
        ::tracing::warn!(target: "app::login", attempts = 3, "inside");
    });
    let text = String::from_utf8(written.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].ends_with(" INFO app::login: outside user=\"ana\""),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].ends_with(
            " WARN app::login: inside attempts=3 trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7"
        ),
        "{}",
        lines[1]
    );
    // An RFC 3339 timestamp first.
    assert_eq!(&lines[1][4..5], "-");
}
