//! The talk's login flow as two real services, `gateway` and `app`, each
//! exporting over OTLP to a real collector: one request is one trace across
//! the process boundary.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::collector::{Collector, ReceivedSpan, Typed};
use support::{examples, wait};

/// How long a service may take to start listening, or to answer a request.
const SERVICE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a service may take to flush and exit after SIGINT.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

const PASSWORD: &str = "s3cret";

/// A service of the login example, stopped with SIGINT so that it flushes;
/// killed if the test fails before that.
struct Service {
    child: Option<Child>,
    addr: String,
}

impl Service {
    fn start(args: &[&str], collector: &Collector) -> Service {
        let mut command = examples::command("login");
        command.args(args).args(["--port", "0"]);
        let mut child = command
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", collector.grpc_endpoint())
            .env("OTEL_BSP_SCHEDULE_DELAY", "100")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the service");
        // It prints its address once it listens.
        let line = wait::first_line(
            child.stdout.take().expect("stdout"),
            SERVICE_TIMEOUT,
            &format!("the login service {args:?}"),
        );
        let Some(addr) = line.strip_prefix("listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the service printed {line:?}, not its address");
        };
        Service {
            child: Some(child),
            addr: addr.to_owned(),
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn stop(mut self) {
        let mut child = self.child.take().expect("a running service");
        let pid = child.id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        wait::exit(
            &mut child,
            STOP_TIMEOUT,
            &format!("the login service {} after SIGINT", self.addr),
        );
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn post(
    client: &reqwest::Client,
    rt: &tokio::runtime::Runtime,
    url: &str,
    body: &str,
    headers: &[(&str, &str)],
) -> u16 {
    rt.block_on(async {
        let mut request = client
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_owned());
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        request.send().await.expect("request").status().as_u16()
    })
}

fn attr<'a>(span: &'a ReceivedSpan, key: &str) -> Option<&'a Typed> {
    span.attributes
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

fn service(span: &ReceivedSpan) -> String {
    match span.resource.iter().find(|(k, _)| k == "service.name") {
        Some((_, Typed::Str(name))) => name.clone(),
        other => panic!("service.name: {other:?}"),
    }
}

const CLIENT_TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const CLIENT_SPAN: &str = "b7ad6b7169203331";

#[test]
fn one_request_is_one_trace_across_processes() {
    let collector = Collector::start();
    let app = Service::start(&["app"], &collector);
    let gateway = Service::start(&["gateway", "--app", &app.url()], &collector);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = reqwest::Client::builder()
        .timeout(SERVICE_TIMEOUT)
        .build()
        .expect("client");
    let login = format!("{}/login", gateway.url());
    let good = format!(r#"{{"user": "ana", "password": "{PASSWORD}"}}"#);
    assert_eq!(post(&client, &rt, &login, &good, &[]), 200);
    assert_eq!(post(&client, &rt, &login, r#"{"user": ""}"#, &[]), 422);
    assert_eq!(
        post(
            &client,
            &rt,
            &login,
            r#"{"user": "ana", "password": "wrong"}"#,
            &[]
        ),
        400
    );
    let traceparent = format!("00-{CLIENT_TRACE}-{CLIENT_SPAN}-01");
    assert_eq!(
        post(
            &client,
            &rt,
            &login,
            &good,
            &[("traceparent", &traceparent)]
        ),
        200
    );
    gateway.stop();
    app.stop();

    let spans = collector.wait_for_spans(20, Duration::from_secs(20));
    let mut traces: Vec<String> = spans.iter().map(|s| s.trace_id.clone()).collect();
    traces.sort();
    traces.dedup();
    assert_eq!(traces.len(), 4, "one trace per request: {spans:#?}");

    let mut statuses = Vec::new();
    for trace in &traces {
        let in_trace: Vec<&ReceivedSpan> = spans.iter().filter(|s| &s.trace_id == trace).collect();
        let find = |service_name: &str, name: &str| {
            in_trace
                .iter()
                .copied()
                .find(|s| service(s) == service_name && s.name == name)
                .unwrap_or_else(|| panic!("{service_name} {name} in {in_trace:#?}"))
        };
        let gateway_server = find("gateway", "POST /login");
        let gateway_client = find("gateway", "POST");
        let app_server = find("app", "POST /login");
        assert_eq!(gateway_server.kind, "Server");
        assert_eq!(gateway_client.kind, "Client");
        assert_eq!(app_server.kind, "Server");
        if trace == CLIENT_TRACE {
            assert_eq!(
                gateway_server.parent_id, CLIENT_SPAN,
                "continues the client's trace"
            );
        } else {
            assert_eq!(
                gateway_server.parent_id, "",
                "the gateway's server span is the root"
            );
        }
        let forward = find("gateway", "forward");
        assert_eq!(forward.parent_id, gateway_server.span_id);
        assert_eq!(gateway_client.parent_id, forward.span_id);
        // Across the process boundary.
        assert_eq!(app_server.parent_id, gateway_client.span_id);
        let login = find("app", "login");
        assert_eq!(login.parent_id, app_server.span_id);
        let status = match attr(app_server, "http.response.status_code") {
            Some(Typed::Int(code)) => *code,
            other => panic!("status code: {other:?}"),
        };
        assert_eq!(
            attr(gateway_server, "http.response.status_code"),
            Some(&Typed::Int(status))
        );
        assert_eq!(
            attr(gateway_server, "http.route"),
            Some(&Typed::Str("/login".into()))
        );
        statuses.push(status);
        match status {
            200 | 400 => {
                let check = find("app", "check_credentials");
                let db = find("app", "SELECT users");
                assert_eq!(check.parent_id, login.span_id);
                assert_eq!(
                    db.parent_id, check.span_id,
                    "the database span is under the app's"
                );
                assert_eq!(db.kind, "Client");
                assert_eq!(
                    attr(db, "db.system.name"),
                    Some(&Typed::Str("sqlite".into()))
                );
                assert_eq!(
                    attr(db, "db.operation.name"),
                    Some(&Typed::Str("SELECT".into()))
                );
                assert_eq!(
                    attr(db, "db.query.text"),
                    Some(&Typed::Str(
                        "SELECT password_hash FROM users WHERE name = ?1".into()
                    ))
                );
                // Written by `traced::db::rusqlite`, not by hand.
                assert_eq!(
                    attr(db, "db.query.summary"),
                    Some(&Typed::Str("SELECT users".into()))
                );
                assert_eq!(
                    attr(db, "db.collection.name"),
                    Some(&Typed::Str("users".into()))
                );
                assert!(
                    matches!(
                        attr(db, "db.response.returned_rows"),
                        Some(Typed::Int(0 | 1))
                    ),
                    "{db:?}"
                );
                if status == 400 {
                    assert_eq!(check.status_code, "Error");
                    assert_eq!(check.status_message, "wrong user or password");
                    // 4xx is the caller's fault: the server spans stay Unset.
                    assert_eq!(app_server.status_code, "Unset");
                    assert_eq!(gateway_server.status_code, "Unset");
                    assert_eq!(gateway_client.status_code, "Error");
                } else {
                    assert_eq!(app_server.status_code, "Unset");
                    assert_eq!(gateway_client.status_code, "Unset");
                }
            }
            422 => {
                let validate = find("app", "validate");
                assert_eq!(validate.status_code, "Error");
                assert!(
                    in_trace.iter().all(|s| s.name != "SELECT users"),
                    "no database call"
                );
            }
            other => panic!("unexpected status {other}"),
        }
    }
    statuses.sort_unstable();
    assert_eq!(statuses, vec![200, 200, 400, 422]);

    for span in &spans {
        let text = format!("{span:?}");
        assert!(
            !text.contains(PASSWORD),
            "the password leaked into a span: {span:#?}"
        );
    }
}

#[test]
fn malformed_trace_headers_start_a_new_trace() {
    let collector = Collector::start();
    let app = Service::start(&["app"], &collector);
    let gateway = Service::start(&["gateway", "--app", &app.url()], &collector);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = reqwest::Client::builder()
        .timeout(SERVICE_TIMEOUT)
        .build()
        .expect("client");
    let login = format!("{}/login", gateway.url());
    let good = r#"{"user": "bob", "password": "hunter2"}"#;
    let bogus_trace = "1234567890abcdef1234567890abcdef";
    let long = "x".repeat(8000);
    let members: Vec<String> = (0..40).map(|i| format!("k{i}=v")).collect();
    let many = members.join(",");
    let cases: Vec<Vec<(&str, String)>> = vec![
        vec![(
            "traceparent",
            format!("00-{}-{CLIENT_SPAN}-01", bogus_trace.to_uppercase()),
        )],
        vec![(
            "traceparent",
            format!("00-{bogus_trace}-{CLIENT_SPAN}-01-extra"),
        )],
        vec![("traceparent", format!("ff-{bogus_trace}-{CLIENT_SPAN}-01"))],
        vec![(
            "traceparent",
            format!("00-{}-{CLIENT_SPAN}-01", "0".repeat(32)),
        )],
        vec![("traceparent", long.clone())],
        vec![
            ("traceparent", format!("00-{bogus_trace}-{CLIENT_SPAN}-01")),
            (
                "traceparent",
                format!("00-{bogus_trace}-{}-01", "1".repeat(16)),
            ),
        ],
        vec![
            ("traceparent", "garbage".to_owned()),
            ("tracestate", many.clone()),
        ],
    ];
    for headers in &cases {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(
            post(&client, &rt, &login, good, &headers),
            200,
            "served despite {headers:?}"
        );
    }
    // A valid parent with an oversize tracestate: the trace continues, the
    // tracestate is dropped whole.
    let valid = format!("00-{bogus_trace}-{CLIENT_SPAN}-01");
    assert_eq!(
        post(
            &client,
            &rt,
            &login,
            good,
            &[("traceparent", &valid), ("tracestate", &many)]
        ),
        200
    );
    gateway.stop();
    app.stop();

    let spans = collector.wait_for_spans(8 * cases.len(), Duration::from_secs(20));
    let roots: Vec<&ReceivedSpan> = spans
        .iter()
        .filter(|s| s.name == "POST /login" && service(s) == "gateway")
        .collect();
    assert_eq!(roots.len(), cases.len() + 1);
    let continued: Vec<&&ReceivedSpan> =
        roots.iter().filter(|s| s.trace_id == bogus_trace).collect();
    assert_eq!(
        continued.len(),
        1,
        "only the valid traceparent is continued"
    );
    assert_eq!(continued[0].parent_id, CLIENT_SPAN);
    for root in roots.iter().filter(|s| s.trace_id != bogus_trace) {
        assert_eq!(root.parent_id, "", "a malformed header starts a new trace");
        assert_eq!(root.trace_id.len(), 32);
        assert_ne!(root.trace_id, "0".repeat(32));
    }
}
