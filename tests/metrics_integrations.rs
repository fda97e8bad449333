//! The integrations' duration histograms (#29), by the semantic
//! conventions: real requests through axum and reqwest, tonic, rusqlite
//! and lapin (a private RabbitMQ node), read back from the SDK's
//! in-memory metric exporter.
//!
//! The exemplars these histograms carry are added by our OTLP exporter,
//! which the in-memory one is not; the runtime's unit tests
//! (`metrics/request.rs`) check that a measurement gives its span's.

mod support;

#[path = "../examples/grpc/greeter.rs"]
mod greeter;

use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use greeter::{
    CountdownRequest, FailRequest, Greeter, GreeterClient, GreeterServer, HelloReply, HelloRequest,
    TickStream,
};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use traced::db::rusqlite::TracedConnection as _;
use traced::http::client::SendTraced as _;
use traced::testing::Capture;

const TIMEOUT: Duration = Duration::from_secs(10);

/// The meter provider of this test binary, installed once; each test
/// reads the metrics it alone records.
struct Meters {
    provider: SdkMeterProvider,
    exporter: InMemoryMetricExporter,
}

fn meters() -> &'static Meters {
    static METERS: OnceLock<Meters> = OnceLock::new();
    METERS.get_or_init(|| {
        let exporter = InMemoryMetricExporter::default();
        // Exported on `force_flush` only.
        let reader = PeriodicReader::builder(exporter.clone())
            .with_interval(Duration::from_secs(3600))
            .build();
        let provider = SdkMeterProvider::builder().with_reader(reader).build();
        traced::set_meter_provider(provider.clone());
        Meters { provider, exporter }
    })
}

/// One test at a time: the span capture is one per process, and a flush
/// exports every test's metrics.
fn turn() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A histogram data point as read back: its attributes (sorted, values as
/// text) and its count.
#[derive(Debug, Clone, PartialEq)]
struct Point {
    attributes: Vec<(String, String)>,
    count: u64,
}

impl Point {
    fn attr(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.as_str().to_owned(),
        other => other.to_string(),
    }
}

/// Flushes the provider and returns the unit and the data points of the
/// histogram `name` (cumulative: everything recorded so far).
fn histogram(name: &str) -> (String, Vec<Point>) {
    let meters = meters();
    meters.provider.force_flush().expect("flush");
    let exported = meters.exporter.get_finished_metrics().expect("metrics");
    let mut found = None;
    for resource in &exported {
        for scope in resource.scope_metrics() {
            for metric in scope.metrics().filter(|m| m.name() == name) {
                assert_eq!(scope.scope().name(), "traced");
                let AggregatedMetrics::F64(MetricData::Histogram(histogram)) = metric.data() else {
                    panic!("{name} is not an f64 histogram: {:?}", metric.data());
                };
                let points = histogram
                    .data_points()
                    .map(|point| {
                        let mut attributes: Vec<(String, String)> = point
                            .attributes()
                            .map(|kv: &KeyValue| (kv.key.as_str().to_owned(), text(&kv.value)))
                            .collect();
                        attributes.sort();
                        assert_eq!(
                            point.bounds().collect::<Vec<_>>(),
                            traced::metrics::DURATION_BOUNDARIES
                        );
                        Point {
                            attributes,
                            count: point.count(),
                        }
                    })
                    .collect();
                // The last export holds the latest cumulative figures.
                found = Some((metric.unit().to_owned(), points));
            }
        }
    }
    found.unwrap_or_else(|| panic!("no histogram {name} in {exported:#?}"))
}

/// `(key, value)` pairs, sorted, as [`Point::attributes`] holds them.
fn attrs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    out.sort();
    out
}

/// The count of the point with exactly `attributes`, failing with every
/// point when there is none.
fn count(points: &[Point], attributes: &[(&str, &str)]) -> u64 {
    let wanted = attrs(attributes);
    points
        .iter()
        .find(|p| p.attributes == wanted)
        .unwrap_or_else(|| panic!("no point with {wanted:?} in {points:#?}"))
        .count
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn http_server_and_client_durations_by_route_method_and_status() {
    let _turn = turn();
    meters();
    let capture = Capture::start();
    let rt = runtime();
    let (base, dead) = rt.block_on(async {
        let app = Router::new()
            .route("/users/{id}", get(|| async { "user" }))
            .route(
                "/fail",
                post(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
            )
            .layer(traced::http::server::TracedLayer::new());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
                .expect("serve");
        });
        // A port nothing listens on: bound, then closed.
        let dead = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind")
            .local_addr()
            .expect("addr");
        let base = format!("http://{addr}");
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .expect("client");
        for path in ["/users/1", "/users/2"] {
            let ok = client
                .get(format!("{base}{path}?token=secret"))
                .send_traced()
                .await
                .expect("request");
            assert_eq!(ok.status(), 200);
        }
        let fail = client
            .post(format!("{base}/fail"))
            .send_traced()
            .await
            .expect("request");
        assert_eq!(fail.status(), 500);
        let missing = client
            .get(format!("{base}/nowhere/7"))
            .send_traced()
            .await
            .expect("request");
        assert_eq!(missing.status(), 404);
        let refused = client
            .get(format!("http://{dead}/users/3"))
            .send_traced()
            .await;
        assert!(refused.is_err());
        let _ = stop.send(());
        tokio::time::timeout(TIMEOUT, server)
            .await
            .expect("the server stops")
            .expect("the server task");
        (base, dead)
    });
    let port = base.rsplit(':').next().expect("port").to_owned();
    let dead_port = dead.port().to_string();

    let (unit, server) = histogram("http.server.request.duration");
    assert_eq!(unit, "s");
    let get_ok = [
        ("http.request.method", "GET"),
        ("url.scheme", "http"),
        ("http.route", "/users/{id}"),
        ("network.protocol.version", "1.1"),
        ("http.response.status_code", "200"),
    ];
    // Both ids in one series: the route, never the path.
    assert_eq!(count(&server, &get_ok), 2);
    assert_eq!(
        count(
            &server,
            &[
                ("http.request.method", "POST"),
                ("url.scheme", "http"),
                ("http.route", "/fail"),
                ("network.protocol.version", "1.1"),
                ("http.response.status_code", "500"),
                ("error.type", "500"),
            ]
        ),
        1
    );
    // No route matched: no `http.route`, and a 404 is no server error.
    assert_eq!(
        count(
            &server,
            &[
                ("http.request.method", "GET"),
                ("url.scheme", "http"),
                ("network.protocol.version", "1.1"),
                ("http.response.status_code", "404"),
            ]
        ),
        1
    );
    assert_eq!(server.len(), 3, "{server:#?}");
    for point in &server {
        assert!(
            point.attributes.iter().all(|(_, v)| !v.contains("/users/1")
                && !v.contains("/nowhere")
                && !v.contains("secret")),
            "{point:?}"
        );
    }

    let (unit, client) = histogram("http.client.request.duration");
    assert_eq!(unit, "s");
    let to_server = |method: &'static str, status: &'static str| {
        vec![
            ("http.request.method", method),
            ("server.address", "127.0.0.1"),
            ("server.port", port.as_str()),
            ("http.response.status_code", status),
            ("network.protocol.version", "1.1"),
        ]
    };
    assert_eq!(count(&client, &to_server("GET", "200")), 2);
    let mut failed = to_server("POST", "500");
    failed.push(("error.type", "500"));
    assert_eq!(count(&client, &failed), 1);
    // A client's 4xx is an error.
    let mut missing = to_server("GET", "404");
    missing.push(("error.type", "404"));
    assert_eq!(count(&client, &missing), 1);
    // No response: the failure's kind.
    assert_eq!(
        count(
            &client,
            &[
                ("http.request.method", "GET"),
                ("server.address", "127.0.0.1"),
                ("server.port", dead_port.as_str()),
                ("error.type", "connect"),
            ]
        ),
        1
    );
    assert_eq!(client.len(), 4, "{client:#?}");

    // The spans are there as before: measuring changes nothing in them.
    let spans = capture.spans();
    assert_eq!(spans.named("GET /users/{id}").len(), 2);
    assert_eq!(spans.named("POST /fail").len(), 1);
}

/// The Greeter of `examples/grpc`: `fail` answers the code it is asked
/// for.
struct TestGreeter;

impl Greeter for TestGreeter {
    async fn say_hello(
        &self,
        request: tonic::Request<HelloRequest>,
    ) -> Result<tonic::Response<HelloReply>, tonic::Status> {
        Ok(tonic::Response::new(HelloReply {
            message: format!("hello, {}", request.into_inner().name),
        }))
    }

    async fn countdown(
        &self,
        _: tonic::Request<CountdownRequest>,
    ) -> Result<tonic::Response<TickStream>, tonic::Status> {
        Err(tonic::Status::unimplemented("not in this test"))
    }

    async fn fail(
        &self,
        request: tonic::Request<FailRequest>,
    ) -> Result<tonic::Response<HelloReply>, tonic::Status> {
        Err(tonic::Status::new(
            tonic::Code::from(request.into_inner().code),
            "failed as asked",
        ))
    }
}

#[test]
fn grpc_server_and_client_call_durations() {
    let _turn = turn();
    meters();
    let _capture = Capture::start();
    let rt = runtime();
    let port = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            tonic::transport::Server::builder()
                .layer(traced::grpc::server::TracedLayer::new())
                .add_service(GreeterServer::new(TestGreeter))
                .serve_with_incoming_shutdown(
                    tonic::transport::server::TcpIncoming::from(listener),
                    async move {
                        let _ = stopped.await;
                    },
                )
                .await
                .expect("serve");
        });
        let target = format!("http://{addr}");
        let channel = tonic::transport::Endpoint::from_shared(target.clone())
            .expect("endpoint")
            .timeout(TIMEOUT)
            .connect()
            .await
            .expect("connect");
        let channel = tower::ServiceBuilder::new()
            .layer(traced::grpc::client::TracedLayer::new().target(&target))
            .service(channel);
        let mut client = GreeterClient::new(channel.clone());
        for name in ["ana", "bo"] {
            client
                .say_hello(HelloRequest { name: name.into() })
                .await
                .expect("hello");
        }
        let not_found = client
            .fail(FailRequest {
                code: tonic::Code::NotFound as i32,
            })
            .await
            .expect_err("fails");
        assert_eq!(not_found.code(), tonic::Code::NotFound);
        let internal = client
            .fail(FailRequest {
                code: tonic::Code::Internal as i32,
            })
            .await
            .expect_err("fails");
        assert_eq!(internal.code(), tonic::Code::Internal);
        // A method the server does not have: tonic answers UNIMPLEMENTED.
        let mut raw = tonic::client::Grpc::new(channel);
        raw.ready().await.expect("ready");
        let made_up = raw
            .unary(
                tonic::Request::new(HelloRequest { name: "x".into() }),
                http::uri::PathAndQuery::from_static("/traced.demo.Greeter/MadeUp7"),
                tonic_prost::ProstCodec::<HelloRequest, HelloReply>::default(),
            )
            .await
            .expect_err("no such method");
        assert_eq!(made_up.code(), tonic::Code::Unimplemented);
        drop(client);
        let _ = stop.send(());
        tokio::time::timeout(TIMEOUT, server)
            .await
            .expect("the server stops")
            .expect("the server task");
        addr.port().to_string()
    });

    let (unit, server) = histogram("rpc.server.call.duration");
    assert_eq!(unit, "s");
    let on_server = |method: &'static str, code: &'static str| {
        vec![
            ("rpc.system.name", "grpc"),
            ("rpc.method", method),
            ("rpc.response.status_code", code),
        ]
    };
    assert_eq!(
        count(&server, &on_server("traced.demo.Greeter/SayHello", "OK")),
        2
    );
    // NOT_FOUND is the caller's business on a server: no `error.type`.
    assert_eq!(
        count(&server, &on_server("traced.demo.Greeter/Fail", "NOT_FOUND")),
        1
    );
    let mut internal = on_server("traced.demo.Greeter/Fail", "INTERNAL");
    internal.push(("error.type", "INTERNAL"));
    assert_eq!(count(&server, &internal), 1);
    // The made-up method is no series of its own on the server.
    let mut unimplemented = on_server("_OTHER", "UNIMPLEMENTED");
    unimplemented.push(("error.type", "UNIMPLEMENTED"));
    assert_eq!(count(&server, &unimplemented), 1);
    assert_eq!(server.len(), 4, "{server:#?}");

    let (unit, client) = histogram("rpc.client.call.duration");
    assert_eq!(unit, "s");
    let on_client = |method: &'static str, code: &'static str| {
        let mut attributes = vec![
            ("rpc.system.name", "grpc"),
            ("rpc.method", method),
            ("server.address", "127.0.0.1"),
            ("server.port", port.as_str()),
            ("rpc.response.status_code", code),
        ];
        // Every status but OK is an error for a client.
        if code != "OK" {
            attributes.push(("error.type", code));
        }
        attributes
    };
    assert_eq!(
        count(&client, &on_client("traced.demo.Greeter/SayHello", "OK")),
        2
    );
    assert_eq!(
        count(&client, &on_client("traced.demo.Greeter/Fail", "NOT_FOUND")),
        1
    );
    assert_eq!(
        count(&client, &on_client("traced.demo.Greeter/Fail", "INTERNAL")),
        1
    );
    assert_eq!(
        count(
            &client,
            &on_client("traced.demo.Greeter/MadeUp7", "UNIMPLEMENTED")
        ),
        1
    );
    assert_eq!(client.len(), 4, "{client:#?}");
}

#[test]
fn rusqlite_operation_durations_by_summary_never_text() {
    let _turn = turn();
    meters();
    let _capture = Capture::start();
    let conn = rusqlite::Connection::open_in_memory().expect("open");
    conn.execute_traced("CREATE TABLE metric_users (id INTEGER, name TEXT)", [])
        .expect("create");
    for name in ["ana", "bo"] {
        conn.execute_traced(
            &format!("INSERT INTO metric_users (name) VALUES ('{name}')"),
            [],
        )
        .expect("insert");
    }
    let names = conn
        .query_traced("SELECT name FROM metric_users", [], |row| {
            row.get::<_, String>(0)
        })
        .expect("select");
    assert_eq!(names, ["ana", "bo"]);
    conn.execute_traced("INSERT INTO metric_nowhere VALUES (1)", [])
        .expect_err("no such table");

    let (unit, points) = histogram("db.client.operation.duration");
    assert_eq!(unit, "s");
    let insert = [
        ("db.system.name", "sqlite"),
        ("db.operation.name", "INSERT"),
        ("db.collection.name", "metric_users"),
        ("db.query.summary", "INSERT metric_users"),
    ];
    // Two texts with different literals, one series.
    assert_eq!(count(&points, &insert), 2);
    assert_eq!(
        count(
            &points,
            &[
                ("db.system.name", "sqlite"),
                ("db.operation.name", "SELECT"),
                ("db.collection.name", "metric_users"),
                ("db.query.summary", "SELECT metric_users"),
            ]
        ),
        1
    );
    // SQLite's result code: SQLITE_ERROR.
    assert_eq!(
        count(
            &points,
            &[
                ("db.system.name", "sqlite"),
                ("db.operation.name", "INSERT"),
                ("db.collection.name", "metric_nowhere"),
                ("db.query.summary", "INSERT metric_nowhere"),
                ("error.type", "1"),
                ("db.response.status_code", "1"),
            ]
        ),
        1
    );
    for point in &points {
        assert_eq!(point.attr("db.query.text"), None, "{point:?}");
        assert!(
            point.attributes.iter().all(|(_, v)| !v.contains("ana")),
            "{point:?}"
        );
    }
}

#[test]
fn lapin_publish_and_process_durations() {
    use futures_lite::StreamExt as _;
    use lapin::options::{BasicConsumeOptions, QueueDeclareOptions};
    use lapin::types::FieldTable;
    use traced::messaging::lapin as amqp;

    let _turn = turn();
    meters();
    let _capture = Capture::start();
    let broker = support::rabbitmq::RabbitMq::start();
    let rt = runtime();
    rt.block_on(async {
        let connection =
            lapin::Connection::connect(&broker.url(), lapin::ConnectionProperties::default())
                .await
                .expect("connect");
        let channel = connection.create_channel().await.expect("channel");
        channel
            .queue_declare(
                "metric_jobs".into(),
                QueueDeclareOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("declare");
        // A queue the broker names, as a reply queue is.
        let reply = channel
            .queue_declare(
                "".into(),
                QueueDeclareOptions {
                    exclusive: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .expect("declare");
        let reply = reply.name().as_str().to_owned();
        assert!(reply.starts_with("amq.gen-"), "{reply}");
        for _ in 0..2 {
            amqp::publish(
                &channel,
                "",
                "metric_jobs",
                b"job",
                lapin::BasicProperties::default(),
            )
            .await
            .expect("publish");
        }
        amqp::publish(
            &channel,
            "",
            &reply,
            b"reply",
            lapin::BasicProperties::default(),
        )
        .await
        .expect("publish");
        let mut deliveries = channel
            .basic_consume(
                "metric_jobs".into(),
                "metrics".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("consume");
        let first = deliveries.next().await.expect("a delivery").expect("ok");
        amqp::process(&first, "metric_jobs", async {
            amqp::ack(&first).await?;
            Ok::<_, lapin::Error>(())
        })
        .await
        .expect("processed");
        let second = deliveries.next().await.expect("a delivery").expect("ok");
        let failed = amqp::process(&second, "metric_jobs", async {
            Err::<(), _>(std::io::Error::other("bad job"))
        })
        .await;
        assert!(failed.is_err());
        amqp::nack(&second, false).await.expect("nack");
        connection.close(0, "done".into()).await.expect("close");
    });

    let (unit, sent) = histogram("messaging.client.operation.duration");
    assert_eq!(unit, "s");
    let publish = [
        ("messaging.system", "rabbitmq"),
        ("messaging.operation.type", "send"),
        ("messaging.operation.name", "publish"),
    ];
    let mut to_jobs = publish.to_vec();
    to_jobs.push(("messaging.destination.name", "metric_jobs"));
    assert_eq!(count(&sent, &to_jobs), 2);
    // The broker-named queue is no series of its own.
    assert_eq!(count(&sent, &publish), 1);
    assert_eq!(sent.len(), 2, "{sent:#?}");

    let (unit, processed) = histogram("messaging.process.duration");
    assert_eq!(unit, "s");
    let deliver = [
        ("messaging.system", "rabbitmq"),
        ("messaging.operation.name", "deliver"),
        ("messaging.destination.name", "metric_jobs"),
    ];
    assert_eq!(count(&processed, &deliver), 1);
    let mut failed = deliver.to_vec();
    failed.push(("error.type", std::any::type_name::<std::io::Error>()));
    assert_eq!(count(&processed, &failed), 1);
    assert_eq!(processed.len(), 2, "{processed:#?}");
}
