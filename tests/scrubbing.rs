//! Secrets scrubbed everywhere, not only by parameter name (#16): fields
//! inside `Debug` output, `event!`/`attributes!` keys, exception messages
//! and URL queries; the span lists what it scrubbed in `traced.scrubbed`.

mod support;

use std::collections::BTreeMap;

use opentelemetry::{Array, Value};
use support::spans::*;
use traced::testing::capture;
use traced::traced;

#[derive(Debug)]
#[allow(dead_code)]
struct Credentials {
    user: String,
    password: String,
}

#[derive(Debug)]
#[allow(dead_code)]
enum Auth {
    Basic(Credentials),
    Bearer { token: String },
    Anonymous,
}

#[derive(Debug)]
#[allow(dead_code)]
struct Request {
    methods: Vec<Auth>,
    headers: BTreeMap<&'static str, &'static str>,
    book: Book,
}

#[derive(Debug)]
#[allow(dead_code)]
struct Book {
    author: &'static str,
    tokenizer: &'static str,
}

#[traced]
fn handle(request: Request, fallback: Option<Credentials>) -> usize {
    traced::event!("checked", user.password = "hunter2", user.name = "ann");
    request.methods.len() + usize::from(fallback.is_some())
}

#[derive(Debug, thiserror::Error)]
#[error("login rejected: user=ann password=hunter2")]
struct Rejected;

#[traced]
fn login() -> Result<(), Rejected> {
    Err(Rejected)
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(Array::String(items))) => {
            items.iter().map(|s| s.as_str().to_owned()).collect()
        }
        other => panic!("not a string array: {other:?}"),
    }
}

#[test]
fn debug_values_events_and_messages() {
    let spans = capture(|| {
        let request = Request {
            methods: vec![
                Auth::Basic(Credentials {
                    user: "ann".into(),
                    password: "hunter2".into(),
                }),
                Auth::Bearer {
                    token: "t0k3n".into(),
                },
                Auth::Anonymous,
            ],
            headers: BTreeMap::from([("accept", "*/*"), ("authorization", "Bearer t0k3n")]),
            book: Book {
                author: "Tolkien",
                tokenizer: "words",
            },
        };
        let fallback = Some(Credentials {
            user: "bob".into(),
            password: "s3cret".into(),
        });
        handle(request, fallback);
        let _ = login();
    });

    let everything = format!("{:?}", spans.all());
    for secret in ["hunter2", "t0k3n", "s3cret"] {
        assert!(
            !everything.contains(secret),
            "{secret} leaked: {everything}"
        );
    }

    let span = spans.one("handle");
    let Some(Value::String(request)) = attr(span, "request") else {
        panic!("request not recorded: {span:?}");
    };
    // The whole value keeps its shape; only the secrets are replaced, and
    // look-alike names (`author`, `tokenizer`) stay.
    assert_eq!(
        request.as_str(),
        r#"Request { methods: [Basic(Credentials { user: "ann", password: "[REDACTED]" }), Bearer { token: "[REDACTED]" }, Anonymous], headers: {"accept": "*/*", "authorization": "[REDACTED]"}, book: Book { author: "Tolkien", tokenizer: "words" } }"#
    );
    assert_eq!(
        attr(span, "fallback"),
        Some(&Value::String(
            r#"Credentials { user: "bob", password: "[REDACTED]" }"#.into()
        ))
    );
    assert_eq!(
        strings(attr(span, "traced.scrubbed")),
        vec![
            "request.methods.[0].[0].password",
            "request.methods.[1].token",
            "request.headers.\"authorization\"",
            "fallback.password",
        ]
    );

    let event = span
        .events
        .iter()
        .find(|e| e.name == "checked")
        .expect("event");
    let get = |key: &str| {
        event
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.clone())
    };
    assert_eq!(
        get("user.password"),
        Some(Value::String("[REDACTED]".into()))
    );
    assert_eq!(get("user.name"), Some(Value::String("ann".into())));
    assert_eq!(
        strings(get("traced.scrubbed").as_ref()),
        vec!["user.password"]
    );

    let failed = spans.one("login");
    assert_eq!(
        description(failed),
        "login rejected: user=ann password=[REDACTED]"
    );
    let events = exceptions(failed);
    assert_eq!(
        get_event(&events[0], "exception.message"),
        Some(&Value::String(
            "login rejected: user=ann password=[REDACTED]".into()
        ))
    );
    assert_eq!(
        strings(get_event(&events[0], "traced.scrubbed")),
        vec!["exception.message.password"]
    );
}

fn get_event<'a>(event: &'a [(String, Value)], key: &str) -> Option<&'a Value> {
    support::spans::get(event, key)
}

#[derive(serde::Serialize)]
struct Signup {
    user: &'static str,
    password: &'static str,
    profile: serde_json::Value,
}

#[traced(skip(form), attributes(form = traced::Json(form)))]
fn signup(form: &Signup, payload: traced::Json<serde_json::Value>) {
    traced::event!(
        "stored",
        row = traced::Json(serde_json::json!({"id": 1, "token": "t0k3n"}))
    );
    let _ = payload;
}

#[test]
fn serde_values_through_json() {
    let spans = capture(|| {
        signup(
            &Signup {
                user: "ann",
                password: "hunter2",
                profile: serde_json::json!({"author": "Tolkien", "api_key": "k-1"}),
            },
            traced::Json(serde_json::json!([{"session": "s-9", "ok": true}])),
        );
    });
    let everything = format!("{:?}", spans.all());
    for secret in ["hunter2", "k-1", "s-9", "t0k3n"] {
        assert!(
            !everything.contains(secret),
            "{secret} leaked: {everything}"
        );
    }
    let span = spans.one("signup");
    assert_eq!(
        attr(span, "form"),
        Some(&Value::String(
            r#"{"password":"[REDACTED]","profile":{"api_key":"[REDACTED]","author":"Tolkien"},"user":"ann"}"#
                .into()
        ))
    );
    assert_eq!(
        attr(span, "payload"),
        Some(&Value::String(
            r#"[{"ok":true,"session":"[REDACTED]"}]"#.into()
        ))
    );
    assert_eq!(
        strings(attr(span, "traced.scrubbed")),
        vec![
            "payload.[0].session",
            "form.password",
            "form.profile.api_key"
        ]
    );
    let event = span
        .events
        .iter()
        .find(|e| e.name == "stored")
        .expect("event");
    let row = event
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == "row")
        .map(|kv| kv.value.clone());
    assert_eq!(
        row,
        Some(Value::String(r#"{"id":1,"token":"[REDACTED]"}"#.into()))
    );
}
