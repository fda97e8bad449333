//! The talk's flow across three hops and a real broker: `POST /tasks` on
//! the web service (`examples/tasks.rs`) stores the task and publishes a
//! job on RabbitMQ; the worker (`examples/tasks_worker.rs`) processes it.
//! The first worker exits before acknowledging; the broker delivers the job
//! again to a second worker, and both deliveries are in the one trace.
//!
//! Also the transport-neutral messaging core, in memory: parent for one
//! message, links for a batch, a new trace for malformed headers.

mod support;

use std::collections::HashMap;
use std::process::{Child, Stdio};
use std::time::Duration;

use opentelemetry::trace::{SpanKind, TraceContextExt as _};
use support::collector::{Collector, ReceivedSpan, Typed};
use support::rabbitmq::RabbitMq;
use support::{examples, wait};
use traced::messaging::{Message, process, process_batch, send};
use traced::testing::capture_future;

const START_TIMEOUT: Duration = Duration::from_secs(60);
const SPANS_TIMEOUT: Duration = Duration::from_secs(60);

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

const JOBS: Message<'static> = Message {
    system: "memory",
    destination: "jobs",
    operation_name: "",
    id: Some("7"),
    body_size: Some(3),
};

type Carrier = HashMap<String, String>;

#[test]
fn process_continues_the_producers_trace() {
    traced::testing::install_propagators();
    let (_, spans) = capture_future(|f| rt().block_on(f), async {
        let mut headers = Carrier::new();
        send(&JOBS, &mut headers, |_| async {
            Ok::<_, std::io::Error>(())
        })
        .await
        .unwrap();
        process(&JOBS, &headers, async { Ok::<_, std::io::Error>(()) })
            .await
            .unwrap();
    });
    let producer = spans.one("send jobs");
    let consumer = spans.one("process jobs");
    assert_eq!(producer.span_kind, SpanKind::Producer);
    assert_eq!(consumer.span_kind, SpanKind::Consumer);
    assert_eq!(consumer.parent_span_id, producer.span_context.span_id());
    assert_eq!(
        consumer.span_context.trace_id(),
        producer.span_context.trace_id()
    );
    let get = |s: &traced::testing::SpanData, k: &str| {
        support::spans::attr(s, k).map(ToString::to_string)
    };
    assert_eq!(
        get(producer, "messaging.operation.type").as_deref(),
        Some("send")
    );
    assert_eq!(
        get(consumer, "messaging.operation.type").as_deref(),
        Some("process")
    );
    assert_eq!(get(consumer, "messaging.system").as_deref(), Some("memory"));
    assert_eq!(
        get(consumer, "messaging.destination.name").as_deref(),
        Some("jobs")
    );
    assert_eq!(get(consumer, "messaging.message.id").as_deref(), Some("7"));
    assert_eq!(
        get(consumer, "messaging.message.body.size").as_deref(),
        Some("3")
    );
}

#[test]
fn a_batch_links_to_each_producer() {
    traced::testing::install_propagators();
    let (_, spans) = capture_future(|f| rt().block_on(f), async {
        let (mut a, mut b) = (Carrier::new(), Carrier::new());
        for headers in [&mut a, &mut b] {
            send(&JOBS, headers, |_| async { Ok::<_, std::io::Error>(()) })
                .await
                .unwrap();
        }
        let mut malformed = Carrier::new();
        malformed.insert("traceparent".into(), "00-zz-not-a-context".into());
        process_batch(&JOBS, &[&a, &b, &malformed], async {
            Ok::<_, std::io::Error>(())
        })
        .await
        .unwrap();
    });
    let producers = spans.named("send jobs");
    let batch = spans.one("process jobs");
    assert!(!batch.parent_span_id.to_string().is_empty());
    assert_eq!(batch.parent_span_id, opentelemetry::trace::SpanId::INVALID);
    let linked: Vec<_> = batch
        .links
        .iter()
        .map(|l| l.span_context.span_id())
        .collect();
    assert_eq!(linked.len(), 2, "the malformed headers give no link");
    for p in producers {
        assert!(linked.contains(&p.span_context.span_id()));
    }
    assert_eq!(
        support::spans::attr(batch, "messaging.batch.message_count").map(ToString::to_string),
        Some("3".into())
    );
}

#[test]
fn malformed_headers_start_a_new_trace() {
    traced::testing::install_propagators();
    let (_, spans) = capture_future(|f| rt().block_on(f), async {
        let mut headers = Carrier::new();
        headers.insert("traceparent".into(), "garbage".into());
        #[traced::traced]
        async fn outer(headers: &Carrier) {
            process(&JOBS, headers, async {
                assert!(
                    opentelemetry::Context::current()
                        .span()
                        .span_context()
                        .is_valid()
                );
                Ok::<_, std::io::Error>(())
            })
            .await
            .unwrap();
        }
        outer(&headers).await;
    });
    let consumer = spans.one("process jobs");
    assert_eq!(
        consumer.parent_span_id,
        opentelemetry::trace::SpanId::INVALID
    );
    assert_ne!(
        consumer.span_context.trace_id(),
        spans.one("outer").span_context.trace_id()
    );
}

/// An example process killed when dropped.
struct Running(Option<Child>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn start(
    name: &str,
    args: &[&str],
    env: &[(&str, &str)],
    collector: &Collector,
) -> (Running, String) {
    let mut command = examples::command(name);
    let mut child = command
        .args(args)
        .envs(env.iter().copied())
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", collector.grpc_endpoint())
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
    let line = wait::first_line(child.stdout.take().expect("stdout"), START_TIMEOUT, name);
    (Running(Some(child)), line)
}

fn attr<'a>(span: &'a ReceivedSpan, key: &str) -> Option<&'a Typed> {
    span.attributes
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

#[test]
fn one_trace_from_the_web_to_the_worker_through_rabbitmq() {
    let broker = RabbitMq::start();
    let collector = Collector::start();
    let url = broker.url();
    let amqp = [("TASKS_AMQP_URL", url.as_str())];

    // The first worker goes away after the work, before acknowledging.
    let crashing = [
        ("TASKS_AMQP_URL", url.as_str()),
        ("TASKS_WORKER_EXIT_BEFORE_ACK", "1"),
    ];
    let (mut worker, line) = start("tasks_worker", &[], &crashing, &collector);
    assert_eq!(line, "consuming tasks");
    let (_web, line) = start("tasks", &["--serve", "0"], &amqp, &collector);
    let addr = line
        .strip_prefix("listening on ")
        .expect("the web address")
        .to_owned();

    let (status, body) = rt().block_on(async {
        let response = reqwest::Client::new()
            .post(format!("http://{addr}/tasks"))
            .json(&serde_json::json!({ "title": "write the talk" }))
            .send()
            .await
            .expect("POST /tasks");
        (response.status().as_u16(), response.text().await.unwrap())
    });
    assert_eq!(status, 201, "{body}");
    let id = serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"]
        .as_i64()
        .unwrap();

    let mut child = worker.0.take().unwrap();
    let exited = wait::exit(&mut child, START_TIMEOUT, "the first worker");
    assert_eq!(
        exited.code(),
        Some(3),
        "the first worker exits before its ack"
    );
    let (_worker2, line) = start("tasks_worker", &[], &amqp, &collector);
    assert_eq!(line, "consuming tasks");

    // web: POST /tasks, create_task, INSERT tasks, send tasks; each worker:
    // process tasks, work.
    let spans = collector.wait_for_spans(8, SPANS_TIMEOUT);
    let named =
        |name: &str| -> Vec<&ReceivedSpan> { spans.iter().filter(|s| s.name == name).collect() };
    let one = |name: &str| -> &ReceivedSpan {
        match named(name).as_slice() {
            [span] => span,
            other => panic!("{} spans named {name:?}: {spans:#?}", other.len()),
        }
    };
    let create = one("create_task");
    let insert = one("INSERT tasks");
    let producer = one("send tasks");
    assert_eq!(insert.parent_id, create.span_id);
    let inserted = create
        .event("record inserted")
        .expect("the event record inserted");
    assert_eq!(inserted.attr("task.id"), Some(&Typed::Int(id)));
    assert_eq!(producer.parent_id, create.span_id);
    assert_eq!(producer.kind, "Producer");
    assert_eq!(
        attr(producer, "messaging.system"),
        Some(&Typed::Str("rabbitmq".into()))
    );
    assert_eq!(
        attr(producer, "messaging.operation.type"),
        Some(&Typed::Str("send".into()))
    );
    assert_eq!(
        attr(producer, "messaging.operation.name"),
        Some(&Typed::Str("publish".into()))
    );
    assert_eq!(
        attr(producer, "messaging.message.id"),
        Some(&Typed::Str(id.to_string()))
    );

    let processed = named("process tasks");
    assert_eq!(processed.len(), 2, "a span for each delivery: {spans:#?}");
    for span in &processed {
        assert_eq!(span.trace_id, create.trace_id, "one trace across the hops");
        assert_eq!(span.parent_id, producer.span_id, "a child of the producer");
        assert_eq!(span.kind, "Consumer");
        assert_eq!(
            attr(span, "messaging.operation.type"),
            Some(&Typed::Str("process".into()))
        );
        assert_eq!(
            attr(span, "messaging.message.id"),
            Some(&Typed::Str(id.to_string()))
        );
        assert_eq!(
            attr(span, "messaging.destination.name"),
            Some(&Typed::Str("tasks".into()))
        );
        assert_eq!(
            span.resource_attr("service.name"),
            Some(&Typed::Str("worker".into()))
        );
    }
    let redelivered =
        |s: &&&ReceivedSpan| attr(s, "traced.messaging.redelivered") == Some(&Typed::Bool(true));
    let first = processed
        .iter()
        .find(|s| !redelivered(s))
        .expect("the first delivery");
    let again = processed.iter().find(redelivered).expect("the redelivery");
    assert!(
        first.event("message settled").is_none(),
        "the first worker never acknowledged"
    );
    let ack = again
        .event("message settled")
        .expect("the redelivery is acknowledged");
    assert_eq!(
        ack.attr("messaging.operation.name"),
        Some(&Typed::Str("ack".into()))
    );
    let works = named("work");
    assert_eq!(works.len(), 2);
    for w in works {
        assert!(processed.iter().any(|p| p.span_id == w.parent_id));
    }
}
