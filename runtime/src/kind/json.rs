//! `Json`: a `serde::Serialize` value recorded as JSON text, with the
//! values of secret keys replaced, at any depth (feature `serde`).

use opentelemetry::{StringValue, Value};

use super::value::IntoAttr;
use crate::redact;

/// Records the value it wraps as JSON (through `serde_json`), as a span
/// attribute, an event attribute or a parameter:
///
/// ```
/// # use traced_runtime as traced;
/// #[derive(serde::Serialize)]
/// struct Login { user: String, password: String }
///
/// let login = Login { user: "ann".into(), password: "hunter2".into() };
/// let value = traced::IntoAttr::to_attr(&traced::Json(&login)).unwrap();
/// assert_eq!(value.as_str(), r#"{"password":"[REDACTED]","user":"ann"}"#);
/// ```
///
/// The value of every object key that names a secret (the same segment
/// rules as parameter names and `Debug` fields: `password`, `token`,
/// `api_key`, …, but not `author` or `tokenizer`) is replaced by
/// `"[REDACTED]"`, whatever it holds, and each replaced path (`user.password`,
/// `items.[2].token`) is listed in the span's `traced.scrubbed`. Strings
/// elsewhere are scrubbed like free text (`password=…` inside them). Keys
/// come out sorted, as `serde_json` orders an object without its
/// `preserve_order` feature. A value `serde_json` cannot serialize (a map
/// with non-string keys) is recorded as the error, never a panic.
#[derive(Debug, Clone, Copy)]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> IntoAttr for Json<T> {
    fn to_attr(&self) -> Option<Value> {
        let mut value = match serde_json::to_value(&self.0) {
            Ok(value) => value,
            Err(err) => {
                return Some(Value::String(StringValue::from(format!(
                    "<not recordable as JSON: {err}>"
                ))));
            }
        };
        let mut paths = Vec::new();
        scrub(&mut value, &mut String::new(), &mut paths);
        redact::pending(paths);
        Some(Value::String(StringValue::from(value.to_string())))
    }
}

/// Replaces the secrets in `value`, adding each replaced path (below
/// `path`) to `paths`.
fn scrub(value: &mut serde_json::Value, path: &mut String, paths: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                if redact::is_secret(key) {
                    *inner = serde_json::Value::String(redact::REDACTED.to_owned());
                    paths.push(path.clone());
                } else {
                    scrub(inner, path, paths);
                }
                path.truncate(len);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, inner) in items.iter_mut().enumerate() {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&format!("[{i}]"));
                scrub(inner, path, paths);
                path.truncate(len);
            }
        }
        serde_json::Value::String(text) => {
            if let Some((clean, found)) = redact::scrub_text(text) {
                *text = clean;
                paths.extend(found.into_iter().map(|p| {
                    if path.is_empty() {
                        p
                    } else {
                        format!("{path}.{p}")
                    }
                }));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct Order {
        id: u32,
        customer: Customer,
        items: Vec<Item>,
        note: &'static str,
    }

    #[derive(serde::Serialize)]
    struct Customer {
        name: &'static str,
        author: &'static str,
        api_key: &'static str,
        session: Session,
    }

    #[derive(serde::Serialize)]
    struct Session {
        id: u32,
    }

    #[derive(serde::Serialize)]
    struct Item {
        sku: &'static str,
        tokenizer: &'static str,
        token: Option<&'static str>,
    }

    fn record(value: impl serde::Serialize) -> (String, Vec<String>) {
        let text = Json(value)
            .to_attr()
            .map(|v| v.as_str().into_owned())
            .unwrap();
        let mut claimed = Vec::new();
        redact::claim("order", &mut claimed);
        (
            text,
            claimed.iter().map(|p| p.as_str().to_owned()).collect(),
        )
    }

    #[test]
    fn secret_keys_are_replaced_at_any_depth_and_listed() {
        let (text, paths) = record(Order {
            id: 7,
            customer: Customer {
                name: "ann",
                author: "Tolkien",
                api_key: "k-123",
                session: Session { id: 99 },
            },
            items: vec![
                Item {
                    sku: "a",
                    tokenizer: "words",
                    token: Some("t0k3n"),
                },
                Item {
                    sku: "b",
                    tokenizer: "chars",
                    token: None,
                },
            ],
            note: "call back, password=hunter2",
        });
        let value: serde_json::Value = serde_json::from_str(&text).expect("JSON still");
        assert_eq!(value["id"], 7);
        assert_eq!(value["customer"]["name"], "ann");
        assert_eq!(value["customer"]["author"], "Tolkien", "a look-alike stays");
        assert_eq!(value["customer"]["api_key"], "[REDACTED]");
        // A whole object under a secret key goes, not only strings.
        assert_eq!(value["customer"]["session"], "[REDACTED]");
        assert_eq!(value["items"][0]["tokenizer"], "words");
        assert_eq!(value["items"][0]["token"], "[REDACTED]");
        assert_eq!(value["items"][1]["token"], "[REDACTED]");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains("k-123") && !text.contains("t0k3n"), "{text}");
        assert_eq!(
            paths,
            [
                "order.customer.api_key",
                "order.customer.session",
                "order.items.[0].token",
                "order.items.[1].token",
                "order.note.password",
            ]
        );
    }

    #[test]
    fn a_value_json_cannot_hold_is_recorded_as_the_error() {
        let map = std::collections::HashMap::from([((1, 2), "x")]);
        let (text, paths) = record(map);
        assert!(text.starts_with("<not recordable as JSON: "), "{text}");
        assert!(paths.is_empty());
    }

    #[test]
    fn a_json_value_is_scrubbed_too() {
        let (text, paths) = record(serde_json::json!({"Authorization": "Bearer x", "ok": [1, 2]}));
        assert_eq!(text, r#"{"Authorization":"[REDACTED]","ok":[1,2]}"#);
        assert_eq!(paths, ["order.Authorization"]);
    }
}
