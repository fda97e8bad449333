//! Secrets scrubbed from what spans carry: values of fields and keys whose
//! names mark a secret, inside `Debug` output, free text (exception
//! messages, string values) and URLs.
//!
//! Which names mark a secret is in [`names`]: `auth_token`, `X-Api-Key`,
//! `accessToken`, `sessionid`, `password1` and `access_key` are secrets,
//! `author`, `tokenizer` and `passage` are not. The list is extended with
//! `TRACED_SCRUB_EXTRA` (comma-separated segments) and overridden per name
//! with `TRACED_SCRUB_ALLOW` (comma-separated whole names that are never
//! scrubbed), both read once, at run time: they apply to field and map
//! keys, `event!` keys and `#[traced]` parameters alike.
//!
//! `Debug` output is read twice, by structure ([`debug`]) and as text
//! ([`text`]), so that the URL or `key=value` inside a quoted string is
//! found too. Every pass is linear in its input, and no input longer than
//! [`text::SCAN_LIMIT`] is scanned: it is cut there.
//!
//! Only strings are scanned, and only on spans that record: nothing here
//! runs for an unsampled span.

mod debug;
pub(crate) mod names;
#[cfg(test)]
mod tests;
pub(crate) mod text;

use std::cell::RefCell;
use std::sync::OnceLock;

use opentelemetry::{Array, KeyValue, StringValue, Value};

use crate::semconv::TRACED_SCRUBBED;

pub(crate) use debug::scrub_debug;
pub(crate) use text::SENSITIVE_QUERY_KEYS;
pub(crate) use text::scrub_text;

/// What a scrubbed value becomes.
pub(crate) const REDACTED: &str = "[REDACTED]";

/// Extra segments that mark secrets, comma-separated.
pub(crate) const TRACED_SCRUB_EXTRA: &str = "TRACED_SCRUB_EXTRA";
/// Whole names (case-insensitive) never scrubbed, comma-separated.
pub(crate) const TRACED_SCRUB_ALLOW: &str = "TRACED_SCRUB_ALLOW";

struct Lists {
    extra: Vec<String>,
    allow: Vec<String>,
}

fn lists() -> &'static Lists {
    static LISTS: OnceLock<Lists> = OnceLock::new();
    LISTS.get_or_init(|| {
        let read = |name: &str| -> Vec<String> {
            std::env::var(name)
                .unwrap_or_default()
                .split(',')
                .map(|s| s.trim().to_ascii_lowercase())
                .filter(|s| !s.is_empty())
                .collect()
        };
        Lists {
            extra: read(TRACED_SCRUB_EXTRA),
            allow: read(TRACED_SCRUB_ALLOW),
        }
    })
}

/// Whether a field, key or parameter named `name` holds a secret.
pub(crate) fn is_secret(name: &str) -> bool {
    let lists = lists();
    names::is_secret_with(name, &lists.extra, &lists.allow)
}

/// What the run-time lists say about a parameter the macro decided on at
/// compile time: `Some(true)` when `TRACED_SCRUB_EXTRA` makes it a secret,
/// `Some(false)` when `TRACED_SCRUB_ALLOW` names it, `None` when neither
/// list is set (the compile-time answer stands). Cheap when both are empty.
#[inline]
pub(crate) fn run_time_override(name: &str) -> Option<bool> {
    let lists = lists();
    if lists.extra.is_empty() && lists.allow.is_empty() {
        return None;
    }
    if lists.allow.iter().any(|a| a.eq_ignore_ascii_case(name)) {
        return Some(false);
    }
    names::is_secret_with(name, &lists.extra, &[]).then_some(true)
}

/// The offset after the quoted string or char starting at `at`.
fn skip_quoted(bytes: &[u8], at: usize, quote: u8) -> usize {
    let mut i = at + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                // Skip the escaped character whole: it may be several bytes.
                i += 2;
                while i < bytes.len() && (bytes[i] & 0xC0) == 0x80 {
                    i += 1;
                }
            }
            b if b == quote => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// `Debug` output (or any text recorded as a value) with its secrets
/// replaced: by structure, then as text; the paths of both.
pub(crate) fn scrub_value(text: &str) -> Option<(String, Vec<String>)> {
    let (scanned, rest) = text::split_at_limit(text);
    let by_structure = scrub_debug(scanned);
    let base = by_structure
        .as_ref()
        .map_or(scanned, |(clean, _)| clean.as_str());
    let as_text = text::scan(base, &mut 0);
    let (mut out, mut paths) = match (by_structure, as_text) {
        (None, None) if rest == 0 => return None,
        (None, None) => (scanned.to_owned(), Vec::new()),
        (Some(found), None) | (None, Some(found)) => found,
        (Some((_, mut first)), Some((clean, second))) => {
            first.extend(second);
            (clean, first)
        }
    };
    if rest > 0 {
        out.push_str(&format!("… [{rest} more bytes not recorded]"));
    }
    paths.dedup();
    Some((out, paths))
}

thread_local! {
    /// Paths scrubbed by the last `Debug` conversion on this thread, not
    /// yet claimed by the attribute the value became.
    static PENDING: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// `text` (a value's `Debug` output) scrubbed; the paths scrubbed wait for
/// [`claim`] by the attribute the value becomes.
pub(crate) fn debug_value(text: String) -> String {
    match scrub_value(&text) {
        None => text,
        Some((clean, paths)) => {
            let _ = PENDING.try_with(|pending| pending.borrow_mut().extend(paths));
            clean
        }
    }
}

/// Paths scrubbed in a value recorded other than through `Debug` (a
/// string, `traced::Json`): they wait for [`claim`] like [`debug_value`]'s.
pub(crate) fn pending(paths: Vec<String>) {
    if !paths.is_empty() {
        let _ = PENDING.try_with(|pending| pending.borrow_mut().extend(paths));
    }
}

/// Moves the paths scrubbed for the attribute `key` into `into`, as
/// `key.path`.
#[inline]
pub(crate) fn claim(key: &str, into: &mut Vec<StringValue>) {
    let _ = PENDING.try_with(|pending| {
        let mut pending = pending.borrow_mut();
        if !pending.is_empty() {
            into.extend(
                pending
                    .drain(..)
                    .map(|p| StringValue::from(format!("{key}.{p}"))),
            );
        }
    });
}

/// The attribute that says which paths were scrubbed, if any were.
pub(crate) fn scrubbed_attribute(paths: Vec<StringValue>) -> Option<KeyValue> {
    (!paths.is_empty()).then(|| KeyValue::new(TRACED_SCRUBBED, Value::Array(Array::String(paths))))
}
