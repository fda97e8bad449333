//! An application with a `tracing` subscriber of its own (a process of its
//! own: the subscriber is global): `init` does not replace it and says so,
//! as the error when strict; with `Builder::tracing_subscriber(false)` it
//! does not try, and `traced::tracing_layer()` in that subscriber puts the
//! `tracing` spans into our traces.

use traced::testing::Capture;
use traced::traced;
use tracing_subscriber::layer::SubscriberExt as _;

#[traced]
fn handler() {
    let _library = tracing::info_span!("library.call").entered();
}

#[test]
fn a_subscriber_of_the_application_is_left_alone_and_composed_with() {
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry().with(traced::tracing_layer()),
    )
    .expect("the first subscriber");

    let err = traced::builder()
        .no_exporter()
        .no_logs()
        .strict(true)
        .init()
        .expect_err("strict: a subscriber set by someone else is the error");
    assert_eq!(err.variable(), "the global `tracing` subscriber");
    assert!(
        err.to_string().contains("traced::tracing_layer()")
            && err.to_string().contains("tracing_subscriber(false)"),
        "says how to compose: {err}"
    );

    // Lenient: a warning, and `init` goes on.
    drop(
        traced::builder()
            .no_exporter()
            .no_logs()
            .strict(false)
            .init()
            .expect("lenient init"),
    );

    let _telemetry = traced::builder()
        .no_exporter()
        .no_logs()
        .tracing_subscriber(false)
        .strict(true)
        .init()
        .expect("told not to install one");

    let capture = Capture::start();
    tracing::info_span!("request").in_scope(handler);
    let spans = capture.spans();
    let (request, handler, library) = (
        spans.one("request"),
        spans.one("handler"),
        spans.one("library.call"),
    );
    assert_eq!(handler.parent_span_id, request.span_context.span_id());
    assert_eq!(library.parent_span_id, handler.span_context.span_id());
}
