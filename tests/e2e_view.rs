//! `traced-view` end to end (#17): the login example's two services export
//! to it over gRPC and HTTP and each request prints as one tree; the
//! Python SDK's spans join a trace started in Rust; the web page, in
//! headless Chromium, lists the trace and draws its waterfall; malformed
//! OTLP gets a proper error.

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use support::view::View;
use support::{chromium, examples, python, wait};

/// How long a service may take to start, answer, or its spans to arrive.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The printed trees of `text`, each from its `trace …` header line on.
fn trees(text: &str) -> Vec<String> {
    let mut trees: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.starts_with("trace ") {
            trees.push(String::new());
        }
        if let Some(tree) = trees.last_mut() {
            tree.push_str(line);
            tree.push('\n');
        }
    }
    trees
}

#[test]
fn login_demo_prints_one_joined_tree_per_request() {
    let out = examples::run("login", &[], &[("NO_COLOR", "1")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The gateway exports over gRPC, the app over HTTP.
    let banner = stdout.lines().next().unwrap_or_default();
    assert!(
        banner.starts_with("traced-view grpc=127.0.0.1:") && banner.contains(" http=127.0.0.1:"),
        "{banner}"
    );
    let trees = trees(&stdout);
    assert_eq!(trees.len(), 3, "one tree per request:\n{stdout}");
    for tree in &trees {
        let header = tree.lines().next().unwrap_or_default();
        assert!(header.contains("service gateway → app"), "{tree}");
        for span in [
            "POST /login (gateway) [server]",
            "forward",
            "POST [client]",
            "⇢ POST /login (app) [server]",
            "login",
            "validate",
        ] {
            assert!(tree.contains(span), "no {span:?} in\n{tree}");
        }
        assert!(!tree.contains("s3cret"), "the password leaked:\n{tree}");
    }
    let (valid, bad, wrong) = (&trees[0], &trees[1], &trees[2]);
    assert!(
        valid.contains("SELECT users [client]") && !valid.contains('✗'),
        "{valid}"
    );
    assert!(
        bad.contains("validate ✗") && !bad.contains("SELECT users"),
        "{bad}"
    );
    assert!(
        wrong.contains("check_credentials ✗") && wrong.contains("SELECT users"),
        "{wrong}"
    );
    // Nesting: the app's server span under the gateway's client span,
    // the database under the credentials check.
    let depth = |tree: &str, name: &str| {
        let line = tree
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("no {name:?}"));
        line.find(|c: char| !" │├└─⇢".contains(c)).unwrap_or(0)
    };
    assert!(depth(valid, "POST [client]") < depth(valid, "⇢ POST /login (app)"));
    assert!(depth(valid, "check_credentials") < depth(valid, "SELECT users"));
}

/// A service that is stopped with SIGINT (so it flushes), and killed if
/// the test fails first.
struct Child(Option<std::process::Child>);

impl Child {
    fn start(command: &mut Command, what: &str) -> (Child, String) {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("start {what}: {e}"));
        let line = wait::first_line(child.stdout.take().expect("stdout"), TIMEOUT, what);
        let Some(addr) = line.strip_prefix("listening on ") else {
            let _ = child.kill();
            panic!("{what} printed {line:?}, not its address");
        };
        (Child(Some(child)), addr.to_owned())
    }

    fn interrupt(mut self, what: &str) {
        let mut child = self.0.take().expect("running");
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
        wait::exit(&mut child, TIMEOUT, what);
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn python_spans_join_a_trace_started_in_rust() {
    let view = View::start(false, Duration::from_millis(300));
    // The Python SDK exports over OTLP/HTTP (protobuf), as each span ends.
    let (peer, peer_addr) = Child::start(
        Command::new(python::python())
            .arg(python::peer())
            .arg("server")
            .args(["--export", &view.http_endpoint()]),
        "the Python peer",
    );
    // Our gateway, over gRPC, forwards to it.
    let (gateway, gateway_addr) = Child::start(
        examples::command("login")
            .args([
                "gateway",
                "--port",
                "0",
                "--app",
                &format!("http://{peer_addr}"),
            ])
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", view.grpc_endpoint())
            .env("OTEL_BSP_SCHEDULE_DELAY", "100"),
        "the gateway",
    );
    let status = view.runtime.block_on(async {
        reqwest::Client::new()
            .post(format!("http://{gateway_addr}/login"))
            .header("content-type", "application/json")
            .body(r#"{"user": "ana", "password": "s3cret"}"#)
            .timeout(TIMEOUT)
            .send()
            .await
            .expect("the request")
            .status()
    });
    assert_eq!(status, 200);
    gateway.interrupt("the gateway after SIGINT");
    let text = view.wait_printed(TIMEOUT, "a tree with the Python span", |text| {
        trees(text).iter().any(|t| t.contains("python-server"))
    });
    drop(peer);
    let trees = trees(&text);
    assert_eq!(trees.len(), 1, "{text}");
    let tree = &trees[0];
    assert!(tree.contains("service gateway → python"), "{tree}");
    assert!(tree.contains("POST /login (gateway) [server]"), "{tree}");
    assert!(tree.contains("⇢ python-server (python) [server]"), "{tree}");
}

const TRACE: &str = "5b8efff798038103d269b633813fc60c";

/// One request through `web`, `app` and `db`, the query failing: OTLP/JSON
/// as any SDK sends it.
fn three_services() -> String {
    let t0: u64 = 1_700_000_000_000_000_000;
    let at = |ms: u64| (t0 + ms * 1_000_000).to_string();
    let span = |id: &str, parent: &str, name: &str, kind: u8, from: u64, to: u64, extra: &str| {
        format!(
            r#"{{"traceId":"{TRACE}","spanId":"{id}","parentSpanId":"{parent}","name":"{name}","kind":{kind},
               "startTimeUnixNano":"{}","endTimeUnixNano":"{}"{extra}}}"#,
            at(from),
            at(to)
        )
    };
    let service = |name: &str, spans: Vec<String>| {
        format!(
            r#"{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"{name}"}}}}]}},
               "scopeSpans":[{{"scope":{{"name":"test"}},"spans":[{}]}}]}}"#,
            spans.join(",")
        )
    };
    let failed = r#","status":{"code":2,"message":"relation \"users\" does not exist"},
        "attributes":[{"key":"db.system.name","value":{"stringValue":"postgresql"}},
                      {"key":"db.query.text","value":{"stringValue":"SELECT * FROM users"}}],
        "events":[{"name":"exception","timeUnixNano":"1700000000007000000",
                   "attributes":[{"key":"exception.message","value":{"stringValue":"relation missing"}}]}]"#;
    format!(
        r#"{{"resourceSpans":[{},{},{}]}}"#,
        service(
            "db",
            vec![span(
                "00000000000000d1",
                "00000000000000a2",
                "SELECT users",
                3,
                5,
                8,
                failed
            )]
        ),
        service(
            "web",
            vec![
                span("00000000000000e1", "", "GET /users", 2, 0, 12, ""),
                span(
                    "00000000000000e2",
                    "00000000000000e1",
                    "GET app",
                    3,
                    1,
                    11,
                    ""
                ),
            ]
        ),
        service(
            "app",
            vec![
                span(
                    "00000000000000a1",
                    "00000000000000e2",
                    "GET /users",
                    2,
                    2,
                    10,
                    ""
                ),
                span(
                    "00000000000000a2",
                    "00000000000000a1",
                    "load_users",
                    1,
                    3,
                    9,
                    ""
                ),
            ]
        ),
    )
}

fn post(view: &View, path: &str, content_type: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
    let url = format!("{}{path}", view.http_endpoint());
    view.runtime.block_on(async {
        let response = reqwest::Client::new()
            .post(url)
            .header("content-type", content_type)
            .body(body)
            .timeout(TIMEOUT)
            .send()
            .await
            .expect("the request");
        let status = response.status().as_u16();
        (status, response.bytes().await.expect("body").to_vec())
    })
}

/// `name="value"` of the first tag of `html` that starts with `tag`.
fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let from = tag.find(&key)? + key.len();
    Some(tag[from..].split('"').next()?.to_owned())
}

/// The opening tags in `html` that start with `start`.
fn tags<'a>(html: &'a str, start: &str) -> Vec<&'a str> {
    html.match_indices(start)
        .filter_map(|(i, _)| html[i..].split_once('>').map(|(tag, _)| tag))
        .collect()
}

#[test]
fn the_page_lists_the_trace_and_draws_its_waterfall() {
    let view = View::start(true, Duration::from_millis(100));
    let (status, _) = post(
        &view,
        "/v1/traces",
        "application/json",
        three_services().into_bytes(),
    );
    assert_eq!(status, 200);
    view.wait_printed(TIMEOUT, "the trace printed", |t| t.contains(TRACE));
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e_view");
    std::fs::create_dir_all(&dir).expect("the output folder");
    let profile = dir.join("chromium-profile");

    // The list, and the search.
    let list = chromium::dump_dom(&view.ui_url(), &profile);
    assert!(list.contains(r#"data-state="list""#), "{list}");
    let rows = tags(&list, "<tr class=\"trace\"");
    assert_eq!(rows.len(), 1, "{list}");
    assert_eq!(attr(rows[0], "data-trace-id").as_deref(), Some(TRACE));
    assert_eq!(attr(rows[0], "data-service").as_deref(), Some("web"));
    assert_eq!(attr(rows[0], "data-root").as_deref(), Some("GET /users"));
    assert_eq!(attr(rows[0], "data-errors").as_deref(), Some("1"));
    for (query, hits) in [
        (&TRACE[..8], 1),
        ("db", 1),
        ("load_users", 1),
        ("db.system.name=postgres", 1),
        ("db.system.name=mysql", 0),
        ("nothing-like-it", 0),
    ] {
        let found = chromium::dump_dom(&format!("{}#q={query}", view.ui_url()), &profile);
        assert_eq!(
            tags(&found, "<tr class=\"trace\"").len(),
            hits,
            "search {query:?}"
        );
    }

    // The waterfall, the failed query selected as a click would.
    let url = format!("{}#trace={TRACE}&span=00000000000000d1", view.ui_url());
    let page = chromium::dump_dom(&url, &profile);
    assert!(page.contains(r#"data-state="span""#), "{page}");
    let rows: Vec<(String, String, String, String)> = tags(&page, "<div class=\"row")
        .iter()
        .map(|tag| {
            let get = |name| attr(tag, name).unwrap_or_default();
            (
                get("data-name"),
                get("data-service"),
                get("data-depth"),
                get("data-error"),
            )
        })
        .collect();
    let expected = [
        ("GET /users", "web", "0", "false"),
        ("GET app", "web", "1", "false"),
        ("GET /users", "app", "2", "false"),
        ("load_users", "app", "3", "false"),
        ("SELECT users", "db", "4", "true"),
    ];
    let expected: Vec<(String, String, String, String)> = expected
        .iter()
        .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
        .collect();
    assert_eq!(rows, expected, "{page}");
    let detail = page
        .split("id=\"detail\"")
        .nth(1)
        .expect("the span's details");
    for shown in [
        "db.query.text",
        "SELECT * FROM users",
        "◆ exception",
        "relation missing",
    ] {
        assert!(
            detail.contains(shown),
            "no {shown:?} in the details: {detail}"
        );
    }
    let png = dir.join("waterfall.png");
    let _ = std::fs::remove_file(&png);
    chromium::screenshot(&url, &profile, &png);
    let bytes = std::fs::read(&png).expect("the screenshot");
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
        "{}",
        png.display()
    );
}

#[test]
fn malformed_otlp_gets_an_error_not_a_panic() {
    let view = View::start(false, Duration::from_millis(100));
    let (status, body) = post(
        &view,
        "/v1/traces",
        "application/x-protobuf",
        vec![0xff; 64],
    );
    assert_eq!(status, 400);
    // A google.rpc.Status: code 3 (INVALID_ARGUMENT) and a message.
    assert_eq!(&body[..2], &[0x08, 0x03], "{body:?}");
    let (status, body) = post(
        &view,
        "/v1/traces",
        "application/json",
        b"{\"resourceSpans\": 7}".to_vec(),
    );
    assert_eq!(status, 400);
    let body = String::from_utf8_lossy(&body);
    assert!(
        body.contains("\"code\":3") && body.contains("ExportTraceServiceRequest"),
        "{body}"
    );
    let (status, _) = post(&view, "/v1/traces", "text/plain", b"hello".to_vec());
    assert_eq!(status, 415);
    // A span with a bad id is rejected on its own, as a partial success.
    let json = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[
        {"traceId":"0102","spanId":"0000000000000001","name":"short"},
        {"traceId":"5b8efff798038103d269b633813fc60d","spanId":"0000000000000001","name":"fine"}]}]}]}"#;
    let (status, body) = post(
        &view,
        "/v1/traces",
        "application/json",
        json.as_bytes().to_vec(),
    );
    assert_eq!(status, 200);
    let body = String::from_utf8_lossy(&body);
    assert!(body.contains("\"rejectedSpans\":1"), "{body}");
    // And the viewer still serves.
    let (status, _) = post(&view, "/v1/traces", "application/json", b"{}".to_vec());
    assert_eq!(status, 200);
}
