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
fn checking_a_filter_names_the_variable() {
    assert_eq!(
        filter::check_filter("RUST_LOG", " info,app=debug ").unwrap(),
        "info,app=debug"
    );
    let e = filter::check_filter("RUST_LOG", "app=loud").unwrap_err();
    assert_eq!(e.variable(), "RUST_LOG");
    assert!(e.to_string().contains("filter directives"), "{e}");
}
