//! Tests of the collector harness (`tests/support/collector.rs`) itself:
//! spans sent by hand with the OTLP exporter, over gRPC and over
//! HTTP/protobuf, come back from the real collector with their ids,
//! parentage, typed attributes, events, status and resource; the parser
//! reads the layout rotel prints; a collector that cannot start fails
//! loudly; a stopped collector no longer listens.

mod support;

use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use opentelemetry::trace::{
    Span as _, SpanKind, Status, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Array, Context, KeyValue, Value};
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use support::collector::{self, Collector, ReceivedSpan, Typed, parse};

/// The ids the SDK gave the spans [`emit`] sent.
struct Sent {
    /// The trace id, 32 hex digits.
    trace: String,
    /// The parent's span id, 16 hex digits.
    parent: String,
    /// The child's span id, 16 hex digits.
    child: String,
}

/// The resource every test provider carries.
fn resource(service: &str) -> Resource {
    Resource::builder_empty()
        .with_service_name(service.to_owned())
        .with_attribute(KeyValue::new("deployment.environment.name", "test"))
        .build()
}

/// Sends a `Server` parent and an erroring `Client` child with typed
/// attributes and an event, through `provider`.
fn emit(provider: &SdkTracerProvider) -> Sent {
    let tracer = provider.tracer("collector-harness");
    let parent = tracer
        .span_builder("harness parent")
        .with_kind(SpanKind::Server)
        .with_attributes([KeyValue::new("http.request.method", "POST")])
        .start(&tracer);
    let trace_id = parent.span_context().trace_id().to_string();
    let parent_id = parent.span_context().span_id().to_string();
    let cx = Context::current_with_span(parent);
    let mut child = tracer
        .span_builder("harness child")
        .with_kind(SpanKind::Client)
        .start_with_context(&tracer, &cx);
    let child_id = child.span_context().span_id().to_string();
    child.set_attributes([
        KeyValue::new("text", "hello (world)"),
        KeyValue::new("lines", "first: Str(x)\nsecond)"),
        KeyValue::new("count", 42_i64),
        KeyValue::new("negative", -7_i64),
        KeyValue::new("ratio", 0.25_f64),
        KeyValue::new("flag", true),
        KeyValue::new("off", false),
        KeyValue::new(
            "tags",
            Value::Array(Array::String(vec!["a".into(), "b".into()])),
        ),
    ]);
    child.add_event(
        "record inserted",
        vec![
            KeyValue::new("task.id", 7_i64),
            KeyValue::new("task.title", "write tests"),
        ],
    );
    child.set_status(Status::error("went wrong"));
    child.end();
    cx.span().end();
    Sent {
        trace: trace_id,
        parent: parent_id,
        child: child_id,
    }
}

fn by_name<'a>(spans: &'a [ReceivedSpan], name: &str) -> &'a ReceivedSpan {
    spans
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no span {name:?} among {spans:#?}"))
}

/// Asserts the collector received exactly what [`emit`] sent.
fn assert_received(collector: &Collector, sent: &Sent, service: &str) {
    let spans = collector.wait_for_spans(2, Duration::from_secs(20));
    assert_eq!(
        spans.len(),
        2,
        "the collector got {} spans; its output ends with:\n{}",
        spans.len(),
        collector.log_tail(60)
    );
    let parent = by_name(&spans, "harness parent");
    let child = by_name(&spans, "harness child");

    assert_eq!(parent.trace_id, sent.trace);
    assert_eq!(child.trace_id, sent.trace);
    assert_eq!(parent.span_id, sent.parent);
    assert_eq!(child.span_id, sent.child);
    assert!(parent.is_root(), "{parent:#?}");
    assert_eq!(child.parent_id, parent.span_id);

    assert_eq!(parent.kind, "Server");
    assert_eq!(child.kind, "Client");
    assert_eq!(parent.status_code, "Unset");
    assert_eq!(parent.status_message, "");
    assert_eq!(child.status_code, "Error");
    assert_eq!(child.status_message, "went wrong");

    assert_eq!(
        parent.attr("http.request.method"),
        Some(&Typed::Str("POST".into()))
    );
    let expected = [
        ("text", Typed::Str("hello (world)".into())),
        ("lines", Typed::Str("first: Str(x)\nsecond)".into())),
        ("count", Typed::Int(42)),
        ("negative", Typed::Int(-7)),
        ("ratio", Typed::Double(0.25)),
        ("flag", Typed::Bool(true)),
        ("off", Typed::Bool(false)),
        ("tags", Typed::Array("Str(a), Str(b)".into())),
    ];
    for (key, value) in &expected {
        assert_eq!(
            child.attr(key),
            Some(value),
            "attribute {key} of {child:#?}"
        );
    }
    assert_eq!(child.attributes.len(), expected.len(), "{child:#?}");

    assert!(parent.events.is_empty(), "{parent:#?}");
    assert_eq!(child.events.len(), 1, "{child:#?}");
    let event = child.event("record inserted").expect("the event");
    assert_eq!(event.attr("task.id"), Some(&Typed::Int(7)));
    assert_eq!(
        event.attr("task.title"),
        Some(&Typed::Str("write tests".into()))
    );

    for span in [parent, child] {
        assert_eq!(
            span.resource_attr("service.name"),
            Some(&Typed::Str(service.into()))
        );
        assert_eq!(
            span.resource_attr("deployment.environment.name"),
            Some(&Typed::Str("test".into()))
        );
        assert_eq!(span.scope_name, "collector-harness");
    }
}

#[test]
fn spans_sent_over_grpc_come_back_typed() {
    let collector = Collector::start();
    // The tonic exporter needs a tokio reactor when it is built and while
    // it exports: build and shut down the provider inside a runtime whose
    // workers stay up meanwhile.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let endpoint = collector.grpc_endpoint();
    let sent = runtime.block_on(async move {
        let exporter = SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint)
            .with_timeout(Duration::from_secs(10))
            .build()
            .expect("a gRPC exporter");
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource("harness-grpc"))
            .build();
        let sent = emit(&provider);
        // Shutting down blocks until the batch is exported: off the
        // runtime's threads.
        tokio::task::spawn_blocking(move || provider.shutdown())
            .await
            .expect("the shutdown task")
            .expect("the provider flushed and shut down");
        sent
    });
    assert_received(&collector, &sent, "harness-grpc");
}

#[test]
fn spans_sent_over_http_protobuf_come_back_typed() {
    let collector = Collector::start();
    let endpoint = format!("{}/v1/traces", collector.http_endpoint());
    // The blocking HTTP client must not run on a tokio thread: a plain one.
    let sent = std::thread::spawn(move || {
        let exporter = SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(endpoint)
            .with_timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP exporter");
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource("harness-http"))
            .build();
        let sent = emit(&provider);
        provider
            .shutdown()
            .expect("the provider flushed and shut down");
        sent
    })
    .join()
    .expect("the sending thread");
    assert_received(&collector, &sent, "harness-http");
}

#[test]
fn nothing_sent_means_no_spans() {
    let collector = Collector::start();
    assert!(
        collector
            .wait_for_spans(1, Duration::from_millis(500))
            .is_empty()
    );
}

#[test]
fn stop_closes_both_ports_and_keeps_the_output() {
    let mut collector = Collector::start();
    let grpc = collector.grpc_endpoint();
    let http = collector.http_endpoint();
    let pid = collector.pid().expect("a running collector");
    collector.stop();
    assert_eq!(collector.pid(), None);
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "the collector process {pid} is still there"
    );
    for endpoint in [grpc, http] {
        let addr = endpoint.trim_start_matches("http://");
        assert!(
            TcpStream::connect_timeout(&addr.parse().expect("an address"), Duration::from_secs(1))
                .is_err(),
            "{addr} still accepts connections after stop()"
        );
    }
    assert!(
        collector.raw_log().contains("Starting Rotel"),
        "{}",
        collector.raw_log()
    );
    collector.stop(); // Idempotent.
}

#[test]
fn a_collector_that_cannot_run_is_an_error_not_a_skip() {
    let missing = Collector::try_start_with(Path::new("/nonexistent/rotel-agent"))
        .err()
        .expect("a missing binary cannot start");
    assert!(missing.contains("cannot start the collector"), "{missing}");

    let exits = Collector::try_start_with(Path::new("/bin/false"))
        .err()
        .expect("a binary that exits at once is not a collector");
    assert!(exits.contains("exited with"), "{exits}");
}

/// Output rotel 0.0.1a15 printed for two OTLP/HTTP requests (colours
/// kept), with a link, a map, bytes, an empty scope name, a root span and
/// strings holding newlines.
const SAMPLE: &str = "\u{1b}[2m2026-11-24T17:50:10.407172Z\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m Starting Rotel. \u{1b}[3mgrpc_endpoint\u{1b}[0m\u{1b}[2m=\u{1b}[0m\"127.0.0.1:45117\"
ResourceSpans #0
Resource SchemaURL: 
Resource attributes:
     -> service.name: Str(svc)
ScopeSpans #0
ScopeSpans SchemaURL: 
InstrumentationScope my.scope 1.2
Span #0
    Trace ID       : 5b8efff798038103d269b633813fc60c
    Parent ID      : eee19b7ec3c1b173
    ID             : eee19b7ec3c1b174
    Name           : child span
    Kind           : SPAN_KIND_SERVER
Start time: 1544712660000000000
End time: 1544712661000000000
    Status code    : STATUS_CODE_ERROR
    Status message : went wrong
Attributes:
     -> s: Str(a b: c(d))
     -> i: Int(42)
     -> d: Double(1.5)
     -> b: Bool(true)
     -> arr: Slice(Str(x), Int(1))
     -> multi: Str(line1
line2)
Events:
SpanEvent #0
     -> Name: exception
     -> Timestamp: 1544712660500000000
     -> DroppedAttributesCount: 0
     -> Attributes::
          -> exception.message: Str(boom
Caused by: x)
          -> exception.type: Str(E)
Links:
SpanLink #0
     -> Trace ID: 5b8efff798038103d269b633813fc60c
     -> ID: eee19b7ec3c1b170
     -> TraceState: 
     -> DroppedAttributesCount: 0
     -> Attributes::
          -> l: Str(link)
\u{1b}[2m2026-11-24T17:50:34.011111Z\u{1b}[0m \u{1b}[31mERROR\u{1b}[0m Failed to decode OTLP HTTP/JSON request.
ResourceSpans #0
Resource SchemaURL: 
Resource attributes:
     -> service.name: Str(svc2)
     -> n: Int(-7)
ScopeSpans #0
ScopeSpans SchemaURL: 
InstrumentationScope  
Span #0
    Trace ID       : 5b8efff798038103d269b633813fc60d
    Parent ID      : 
    ID             : eee19b7ec3c1b175
    Name           : root
    Kind           : SPAN_KIND_INTERNAL
Start time: 1544712660000000000
End time: 1544712661000000000
    Status code    : STATUS_CODE_UNSET
    Status message : 
Attributes:
     -> m: Map(a:Str(x), b:Int(2))
     -> by: Bytes([104, 101, 108, 108, 111])
     -> es: Str()
     -> d2: Double(2)
     -> u: Str(ção ✓)
     -> f: Str(f(x)
more)
     -> earr: Slice()
Events:
SpanEvent #0
     -> Name: plain
     -> Timestamp: 1544712660500000000
     -> DroppedAttributesCount: 0
";

#[test]
fn parses_the_layout_rotel_prints() {
    let log = collector::strip_ansi(SAMPLE);
    let spans = parse(&log);
    assert_eq!(spans.len(), 2, "{spans:#?}");

    let first = &spans[0];
    assert_eq!(first.trace_id, "5b8efff798038103d269b633813fc60c");
    assert_eq!(first.parent_id, "eee19b7ec3c1b173");
    assert_eq!(first.span_id, "eee19b7ec3c1b174");
    assert_eq!(first.name, "child span");
    assert_eq!(first.kind, "Server");
    assert_eq!(first.status_code, "Error");
    assert_eq!(first.status_message, "went wrong");
    assert_eq!(first.scope_name, "my.scope");
    assert_eq!(
        first.resource,
        vec![("service.name".to_owned(), Typed::Str("svc".into()))]
    );
    assert_eq!(
        first.attributes,
        vec![
            ("s".to_owned(), Typed::Str("a b: c(d)".into())),
            ("i".to_owned(), Typed::Int(42)),
            ("d".to_owned(), Typed::Double(1.5)),
            ("b".to_owned(), Typed::Bool(true)),
            ("arr".to_owned(), Typed::Array("Str(x), Int(1)".into())),
            ("multi".to_owned(), Typed::Str("line1\nline2".into())),
        ]
    );
    assert_eq!(first.events.len(), 1);
    assert_eq!(first.events[0].name, "exception");
    assert_eq!(
        first.events[0].attributes,
        vec![
            (
                "exception.message".to_owned(),
                Typed::Str("boom\nCaused by: x".into())
            ),
            ("exception.type".to_owned(), Typed::Str("E".into())),
        ]
    );

    let root = &spans[1];
    assert!(root.is_root());
    assert_eq!(root.name, "root");
    assert_eq!(root.kind, "Internal");
    assert_eq!(root.status_code, "Unset");
    assert_eq!(root.status_message, "");
    assert_eq!(root.scope_name, "");
    assert_eq!(root.resource_attr("n"), Some(&Typed::Int(-7)));
    assert_eq!(
        root.attr("m"),
        Some(&Typed::Other("Map(a:Str(x), b:Int(2))".into()))
    );
    assert_eq!(
        root.attr("by"),
        Some(&Typed::Other("Bytes([104, 101, 108, 108, 111])".into()))
    );
    assert_eq!(root.attr("es"), Some(&Typed::Str(String::new())));
    assert_eq!(root.attr("d2"), Some(&Typed::Double(2.0)));
    assert_eq!(root.attr("u"), Some(&Typed::Str("ção ✓".into())));
    assert_eq!(root.attr("f"), Some(&Typed::Str("f(x)\nmore".into())));
    assert_eq!(root.attr("earr"), Some(&Typed::Array(String::new())));
    assert_eq!(root.events.len(), 1);
    assert_eq!(root.events[0].name, "plain");
    assert!(root.events[0].attributes.is_empty());
}

#[test]
fn odd_and_truncated_output_never_panics() {
    // Every prefix of the sample, cut anywhere, parses without panicking
    // and never yields more spans than it started.
    let log = collector::strip_ansi(SAMPLE);
    for (cut, _) in log.char_indices() {
        let spans = parse(&log[..cut]);
        let started = log[..cut]
            .lines()
            .filter(|l| l.starts_with("Span #"))
            .count();
        assert_eq!(spans.len(), started, "cut at {cut}");
    }
    let odd = "\
Span #0
    Kind           :
    Status code    : STATUS_CODE_
Attributes:
     -> no value
     -> k: Int(not a number)
     -> k2: Double()
     -> k3: Bool(maybe)
     -> k4: Str(unterminated
     -> : Str(empty key)
SpanEvent #0
          -> before: Str(a name)
Events:
     -> Name
     ->
random garbage ( ) : ->
\u{1b}[31m
InstrumentationScope
ResourceSpans #
";
    let spans = parse(odd);
    assert_eq!(spans.len(), 1);
    let span = &spans[0];
    assert_eq!(span.kind, "");
    assert_eq!(
        span.attr("k"),
        Some(&Typed::Other("Int(not a number)".into()))
    );
    assert_eq!(span.attr("k2"), Some(&Typed::Other("Double()".into())));
    assert_eq!(span.attr("k3"), Some(&Typed::Other("Bool(maybe)".into())));
    assert_eq!(
        span.attr("k4"),
        Some(&Typed::Other("Str(unterminated".into()))
    );
    assert_eq!(span.attr(""), Some(&Typed::Str("empty key".into())));
    assert!(parse("").is_empty());
    assert!(parse("\n\n\r\n").is_empty());
}

/// What rotel prints with `--debug-log logs` (from a run of
/// `examples/mixed.rs`), between two blocks of spans.
const LOGS_SAMPLE: &str = "\
ResourceLog #0
Resource SchemaURL: 
Resource attributes:
     -> service.name: Str(mixed)
ScopeLogs #0
ScopeLogs SchemaURL: 
InstrumentationScope mixed 
LogRecord #0
ObservedTimestamp: 1796164459591177999
Timestamp: 0
SeverityText: INFO
SeverityNumber: SEVERITY_NUMBER_INFO(9)
EventName: event examples/mixed.rs:32
Body: Str(order placed
and more)
Attributes:
     -> order_id: Int(7)
     -> note: Str(a
b)
    Trace ID       : 3de8889e96b1e5e81637c8f5294e16ac
    Span ID        : 17f56129e9737fb1
Flags: 1
LogRecord #1
ObservedTimestamp: 1796164459591177999
Timestamp: 0
SeverityText: WARN
SeverityNumber: SEVERITY_NUMBER_WARN(13)
EventName: 
Body: Empty()
Attributes:
    Trace ID       : 
    Span ID        : 
Flags: 0
";

#[test]
fn parses_the_log_records_rotel_prints_and_spans_around_them() {
    let mixed = format!(
        "{}{LOGS_SAMPLE}{}",
        collector::strip_ansi(SAMPLE),
        collector::strip_ansi(SAMPLE)
    );
    let logs = collector::parse_logs(&mixed);
    assert_eq!(logs.len(), 2, "{logs:#?}");
    let first = &logs[0];
    assert_eq!(first.trace_id, "3de8889e96b1e5e81637c8f5294e16ac");
    assert_eq!(first.span_id, "17f56129e9737fb1");
    assert_eq!(first.severity_text, "INFO");
    assert_eq!(first.severity_number, "SEVERITY_NUMBER_INFO(9)");
    assert_eq!(first.event_name, "event examples/mixed.rs:32");
    assert_eq!(first.body_str(), Some("order placed\nand more"));
    assert_eq!(first.scope_name, "mixed");
    assert_eq!(first.attr("order_id"), Some(&Typed::Int(7)));
    assert_eq!(first.attr("note"), Some(&Typed::Str("a\nb".into())));
    assert_eq!(
        first.resource,
        vec![("service.name".to_owned(), Typed::Str("mixed".into()))]
    );
    let second = &logs[1];
    assert_eq!(second.severity_text, "WARN");
    assert_eq!(
        (second.trace_id.as_str(), second.span_id.as_str()),
        ("", "")
    );
    assert_eq!(second.body, None);
    assert!(second.attributes.is_empty());

    // The spans' parser reads the same output as without the logs.
    let alone = parse(&collector::strip_ansi(SAMPLE));
    let spans = parse(&mixed);
    assert_eq!(spans.len(), 2 * alone.len());
    assert_eq!(spans[..alone.len()], alone[..]);
    assert_eq!(spans[alone.len()..], alone[..]);
    assert!(collector::parse_logs(&collector::strip_ansi(SAMPLE)).is_empty());
}
