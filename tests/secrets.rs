//! Regressions for #25 ("Secrets"): value shapes `#[traced]` records that
//! were never scanned, checked on the spans that reach the exporter.

mod support;

use opentelemetry::Value;
use support::spans::*;
use traced::testing::capture;
use traced::traced;

/// A newtype whose type name says what it holds.
#[derive(Debug)]
#[allow(dead_code)]
struct ApiKey(&'static str);

#[traced]
fn connect(dsn: &str, key: ApiKey, query: &[(&str, &str)], body: &[u8], owned: Vec<u8>) {
    let _ = (dsn, key, query, body, owned);
}

#[traced(ret)]
fn make_link() -> String {
    "https://user:hunter2@example.com/cb?token=t0k3n&page=2".to_owned()
}

#[traced(attributes(url.full = "https://ann:hunter2@example.com/p?X-Amz-Signature=s1g&q=rust"))]
fn fetch() {}

// Regression for #25: a `&str` holding a DSN, a key-value list, a secret
// newtype under an innocent name, and bytes reached spans as they were.
#[test]
fn issue25_parameter_shapes() {
    let spans = capture(|| {
        connect(
            "postgres://app:hunter2@db/prod",
            ApiKey("sk_live_hunter2"),
            &[("q", "rust"), ("api_key", "hunter2")],
            b"password=hunter2",
            b"\x00\x01".to_vec(),
        );
        let _ = make_link();
        fetch();
    });
    let everything = format!("{:?}", spans.all());
    for secret in ["hunter2", "t0k3n", "s1g"] {
        assert!(
            !everything.contains(secret),
            "{secret} leaked: {everything}"
        );
    }
    let span = spans.one("connect");
    let text = |key: &str| match attr(span, key) {
        Some(Value::String(s)) => s.as_str().to_owned(),
        other => panic!("{key}: {other:?}"),
    };
    assert_eq!(text("dsn"), "postgres://app:[REDACTED]@db/prod");
    assert_eq!(text("key"), r#"ApiKey("[REDACTED]")"#);
    assert_eq!(
        text("query"),
        r#"[("q", "rust"), ("api_key", "[REDACTED]")]"#
    );
    // Bytes: their length, never an integer per byte.
    assert_eq!(text("body"), "[16 bytes]");
    assert_eq!(text("owned"), "[2 bytes]");

    let link = spans.one("make_link");
    assert_eq!(
        attr(link, "return"),
        Some(&Value::String(
            "https://user:[REDACTED]@example.com/cb?token=[REDACTED]&page=2".into()
        ))
    );
    let fetched = spans.one("fetch");
    assert_eq!(
        attr(fetched, "url.full"),
        Some(&Value::String(
            "https://ann:[REDACTED]@example.com/p?X-Amz-Signature=[REDACTED]&q=rust".into()
        ))
    );
}

#[derive(Debug, thiserror::Error)]
#[error(
    "can't authenticate: token: t0k3n (dsn postgres://app:hunter2@db, body {{\"access_token\":\"hunter2\"}}, password=\"hunter2\")"
)]
struct Refused;

#[traced]
fn authenticate() -> Result<(), Refused> {
    Err(Refused)
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Huge(String);

#[traced]
fn huge() -> Result<(), Huge> {
    Err(Huge("x: ".repeat(40 * 1024)))
}

// Regression for #25: exception messages kept quoted values, JSON, text
// after an apostrophe and URL userinfo; a 120 KB message of `x: ` took
// minutes to record.
#[test]
fn issue25_exception_messages() {
    let spans = capture(|| {
        let _ = authenticate();
        let _ = huge();
    });
    let everything = format!("{:?}", spans.all());
    for secret in ["hunter2", "t0k3n"] {
        assert!(
            !everything.contains(secret),
            "{secret} leaked: {everything}"
        );
    }
    let span = spans.one("authenticate");
    assert_eq!(
        description(span),
        r#"can't authenticate: token: [REDACTED] (dsn postgres://app:[REDACTED]@db, body {"access_token":"[REDACTED]"}, password="[REDACTED]")"#
    );
    // The long message is recorded, cut at the scanning limit.
    let huge = description(spans.one("huge"));
    assert!(huge.len() < 40 * 1024, "{}", huge.len());
    assert!(
        huge.ends_with("more bytes not recorded]"),
        "{}",
        &huge[huge.len() - 60..]
    );
}

#[derive(Debug)]
#[allow(dead_code)]
struct Item(u32);

#[traced::traced]
fn bulk(ids: Vec<u64>, items: &[Item]) -> usize {
    ids.len() + items.len()
}

// Regression for #25: one big collection made a span too big for the
// collector, which rejected the whole request with it. Arrays are capped.
#[test]
fn issue25_big_collections_are_capped() {
    let ids: Vec<u64> = (0..5_000).collect();
    let items: Vec<Item> = (0..2_000).map(Item).collect();
    let spans = traced::testing::capture(|| {
        bulk(ids.clone(), &items);
    });
    let span = spans.one("bulk");
    let value = |key: &str| {
        span.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.clone())
            .unwrap_or_else(|| panic!("no {key}"))
    };
    match value("ids") {
        opentelemetry::Value::Array(opentelemetry::Array::I64(ids)) => {
            assert_eq!(ids.len(), 1024);
            assert_eq!(ids[1023], 1023);
        }
        other => panic!("{other:?}"),
    }
    let items = value("items").to_string();
    assert!(items.starts_with("[Item(0), Item(1)"), "{}", &items[..40]);
    assert!(
        items.ends_with("Item(1023), … 976 more]"),
        "{}",
        &items[items.len() - 40..]
    );
}
