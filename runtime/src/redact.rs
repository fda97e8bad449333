//! Secrets scrubbed from what spans carry: values of fields and keys whose
//! names mark a secret, inside `Debug` output, free text (exception
//! messages) and URL queries.
//!
//! A name marks a secret when one of its segments does. Names are split on
//! `_`, `-`, `.`, spaces and lower-to-upper camel-case steps, compared
//! case-insensitively with a plural `s` ignored, so `auth_token`,
//! `X-Api-Key`, `accessToken` and `sessionId` are secrets and `author`,
//! `tokenizer` and `passage` are not. The list ([`SECRET_SEGMENTS`],
//! [`SECRET_PAIRS`]) is extended with `TRACED_SCRUB_EXTRA` (comma-separated
//! segments) and overridden per name with `TRACED_SCRUB_ALLOW`
//! (comma-separated whole names that are never scrubbed), both read once.
//!
//! Only strings are scanned, and only on spans that record: nothing here
//! runs for an unsampled span.

use std::cell::RefCell;
use std::sync::OnceLock;

use opentelemetry::{Array, KeyValue, StringValue, Value};

use crate::semconv::TRACED_SCRUBBED;

/// What a scrubbed value becomes.
pub(crate) const REDACTED: &str = "[REDACTED]";

/// Extra segments that mark secrets, comma-separated.
pub(crate) const TRACED_SCRUB_EXTRA: &str = "TRACED_SCRUB_EXTRA";
/// Whole names (case-insensitive) never scrubbed, comma-separated.
pub(crate) const TRACED_SCRUB_ALLOW: &str = "TRACED_SCRUB_ALLOW";

/// Name segments that mark a secret on their own.
pub const SECRET_SEGMENTS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "auth",
    "authorization",
    "credential",
    "session",
    "cookie",
    "jwt",
    "csrf",
    "xsrf",
    "ssn",
];

/// Adjacent segment pairs that mark a secret together.
pub const SECRET_PAIRS: &[(&str, &str)] = &[
    ("api", "key"),
    ("private", "key"),
    ("secret", "key"),
    ("access", "key"),
    ("credit", "card"),
    ("card", "number"),
];

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

/// The segments of a name, lower-cased, plural `s` dropped.
fn segments(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        let boundary = matches!(c, '_' | '-' | '.' | ' ' | '/' | ':')
            || (c.is_ascii_uppercase() && previous_lower);
        if boundary && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        if c.is_ascii_alphanumeric() {
            current.push(c.to_ascii_lowercase());
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
    }
    if !current.is_empty() {
        out.push(current);
    }
    for segment in &mut out {
        if segment.len() > 3 && segment.ends_with('s') {
            segment.pop();
        }
    }
    out
}

/// Whether a field, key or parameter named `name` holds a secret.
pub(crate) fn is_secret(name: &str) -> bool {
    let lists = lists();
    is_secret_with(name, &lists.extra, &lists.allow)
}

fn is_secret_with(name: &str, extra: &[String], allow: &[String]) -> bool {
    let name = name.trim().trim_matches('"');
    if allow.iter().any(|a| a.eq_ignore_ascii_case(name)) {
        return false;
    }
    let segments = segments(name);
    segments
        .iter()
        .any(|s| SECRET_SEGMENTS.contains(&s.as_str()) || extra.iter().any(|e| e == s))
        || segments
            .windows(2)
            .any(|w| SECRET_PAIRS.iter().any(|(a, b)| w[0] == *a && w[1] == *b))
}

/// `Debug` output with the value of every field or map key that marks a
/// secret replaced by `"[REDACTED]"`, and the paths replaced (`inner.token`,
/// `[0].password`, `headers."authorization"`); `None` when nothing was.
///
/// Understands what `{:?}` prints: structs `Name { field: value, .. }`,
/// tuples, lists `[..]`, maps `{key: value, ..}`, quoted strings and chars
/// with escapes. Anything it cannot read is left as it is.
pub(crate) fn scrub_debug(text: &str) -> Option<(String, Vec<String>)> {
    // Fast exit: no `:` means no field and no map entry.
    if !text.contains(':') {
        return None;
    }
    let mut scrubber = Debug {
        text,
        bytes: text.as_bytes(),
        out: String::with_capacity(text.len()),
        copied: 0,
        paths: Vec::new(),
    };
    scrubber.run();
    if scrubber.paths.is_empty() {
        return None;
    }
    scrubber.out.push_str(&text[scrubber.copied..]);
    Some((scrubber.out, scrubber.paths))
}

/// One pass over `Debug` output.
struct Debug<'a> {
    text: &'a str,
    bytes: &'a [u8],
    out: String,
    /// Everything before this offset is in `out` already.
    copied: usize,
    paths: Vec<String>,
}

impl Debug<'_> {
    fn run(&mut self) {
        // Per open bracket: the key that led to it (a field name, a map
        // key, or a list element's `[index]`) and its element count.
        // Whether its elements are positional (a list or a tuple).
        let mut frames: Vec<(Option<String>, usize, bool)> = Vec::new();
        // The key of the current element, once its `key: ` was read.
        let mut pending: Option<String> = None;
        // Where the current element started (after a bracket or a comma).
        let mut element = 0;
        let mut at = 0;
        while at < self.bytes.len() {
            match self.bytes[at] {
                b'"' => at = skip_quoted(self.bytes, at, b'"'),
                b'\'' => at = skip_quoted(self.bytes, at, b'\''),
                open @ (b'{' | b'(' | b'[') => {
                    let key = pending.take().or_else(|| {
                        frames
                            .last()
                            .filter(|(_, _, positional)| *positional)
                            .map(|(_, index, _)| format!("[{index}]"))
                    });
                    frames.push((key, 0, open != b'{'));
                    at += 1;
                    element = at;
                }
                b'}' | b')' | b']' => {
                    frames.pop();
                    pending = None;
                    at += 1;
                    element = at;
                }
                b',' => {
                    if let Some((_, index, _)) = frames.last_mut() {
                        *index += 1;
                    }
                    pending = None;
                    at += 1;
                    element = at;
                }
                b':' if self.bytes.get(at + 1) == Some(&b' ') => {
                    // `key: value`: the key is what this element holds
                    // before the colon (a field name, or a quoted map key).
                    let key = self.text[element..at].trim();
                    let start = at + 2;
                    if !key.is_empty() && is_secret(key) {
                        let end = value_end(self.bytes, start);
                        let mut path: Vec<&str> = frames
                            .iter()
                            .filter_map(|(key, _, _)| key.as_deref())
                            .collect();
                        path.push(key);
                        let path = path.join(".");
                        self.replace(start, end, path);
                        at = end;
                        continue;
                    }
                    pending = Some(key.to_owned());
                    at = start;
                }
                _ => at += 1,
            }
        }
    }

    /// Replaces `start..end` with the redaction marker, remembering `path`.
    fn replace(&mut self, start: usize, end: usize, path: String) {
        self.out.push_str(&self.text[self.copied..start]);
        self.out.push('"');
        self.out.push_str(REDACTED);
        self.out.push('"');
        self.copied = end;
        self.paths.push(path);
    }
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

/// Where the value starting at `start` ends: the `,` or closing bracket at
/// its own depth, or the end of the text.
fn value_end(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0_usize;
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i = skip_quoted(bytes, i, b'"');
                continue;
            }
            b'\'' => {
                i = skip_quoted(bytes, i, b'\'');
                continue;
            }
            b'{' | b'(' | b'[' => depth += 1,
            b'}' | b')' | b']' if depth == 0 => return trim_end(bytes, start, i),
            b'}' | b')' | b']' => depth -= 1,
            b',' if depth == 0 => return trim_end(bytes, start, i),
            _ => {}
        }
        i += 1;
    }
    trim_end(bytes, start, bytes.len())
}

/// `end`, moved back over the spaces before it.
fn trim_end(bytes: &[u8], start: usize, mut end: usize) -> usize {
    while end > start && bytes[end - 1] == b' ' {
        end -= 1;
    }
    end
}

/// Free text (an exception message) with the value after every
/// `secret=value`, `secret: value` or `"secret": value` replaced; the
/// paths are the names. `None` when nothing was.
pub(crate) fn scrub_text(text: &str) -> Option<(String, Vec<String>)> {
    if let Some(found) = scrub_debug(text) {
        return Some(found);
    }
    if !text.contains('=') {
        return None;
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut paths = Vec::new();
    let mut at = 0;
    while let Some(offset) = text[at..].find('=') {
        let eq = at + offset;
        let key_start = text[..eq]
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let key = &text[key_start..eq];
        let end = text[eq + 1..]
            .find(|c: char| c.is_whitespace() || matches!(c, '&' | ',' | ';' | '"' | '\''))
            .map_or(bytes.len(), |i| eq + 1 + i);
        if !key.is_empty() && end > eq + 1 && is_secret(key) {
            out.push_str(&text[copied..=eq]);
            out.push_str(REDACTED);
            copied = end;
            paths.push(key.to_owned());
        }
        at = end.max(eq + 1);
    }
    if paths.is_empty() {
        return None;
    }
    out.push_str(&text[copied..]);
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
    match scrub_debug(&text) {
        None => text,
        Some((clean, paths)) => {
            let _ = PENDING.try_with(|pending| pending.borrow_mut().extend(paths));
            clean
        }
    }
}

/// Paths scrubbed in a value recorded other than through `Debug`
/// (`traced::Json`): they wait for [`claim`] like [`debug_value`]'s.
#[cfg_attr(not(feature = "serde"), allow(dead_code))]
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

#[cfg(test)]
mod tests {
    use super::*;

    fn scrub(text: &str) -> (String, Vec<String>) {
        scrub_debug(text).unwrap_or_else(|| (text.to_owned(), Vec::new()))
    }

    #[test]
    fn names_by_whole_segment() {
        for name in [
            "password",
            "user_password",
            "Password",
            "auth_token",
            "X-Api-Key",
            "api_key",
            "apiKey",
            "accessToken",
            "sessionId",
            "private_key",
            "credit_card",
            "csrf",
            "\"authorization\"",
            "Cookies",
            "jwt",
        ] {
            assert!(is_secret_with(name, &[], &[]), "{name} is a secret");
        }
        for name in [
            "author",
            "tokenizer",
            "passage",
            "user",
            "key",
            "id",
            "sessionless",
            "keys",
            "authority",
            "card",
        ] {
            assert!(!is_secret_with(name, &[], &[]), "{name} is not a secret");
        }
    }

    /// The macro redacts parameters by name with its own copy of the list
    /// (a proc-macro crate cannot share code with this one): both must say
    /// the same.
    #[test]
    fn the_macro_redacts_parameters_by_the_same_list() {
        let macro_list = include_str!("../../macros/src/secret.rs");
        let quoted = |s: &str| format!("\"{s}\"");
        for segment in SECRET_SEGMENTS {
            assert!(
                macro_list.contains(&quoted(segment)),
                "macros/src/secret.rs lacks {segment}"
            );
        }
        for (a, b) in SECRET_PAIRS {
            assert!(
                macro_list.contains(&format!("({}, {})", quoted(a), quoted(b))),
                "macros/src/secret.rs lacks ({a}, {b})"
            );
        }
        let count = |list: &str| list.matches("\",").count();
        let start = macro_list
            .find("SECRET_SEGMENTS: &[&str] = &[")
            .expect("list");
        let end = macro_list[start..].find("];").expect("end") + start;
        assert_eq!(
            count(&macro_list[start..end]),
            SECRET_SEGMENTS.len(),
            "the macro has segments this list lacks"
        );
    }

    #[test]
    fn extra_and_allow_lists() {
        let extra = vec!["pin".to_owned()];
        let allow = vec!["session_count".to_owned()];
        assert!(is_secret_with("card_pin", &extra, &allow));
        assert!(!is_secret_with("card_pin", &[], &[]));
        assert!(!is_secret_with("session_count", &extra, &allow));
        assert!(is_secret_with("session_id", &extra, &allow));
    }

    #[test]
    fn struct_fields() {
        let (out, paths) = scrub(r#"Form { user: "ann", password: "hunter2", remember: true }"#);
        assert_eq!(
            out,
            r#"Form { user: "ann", password: "[REDACTED]", remember: true }"#
        );
        assert_eq!(paths, vec!["password"]);
    }

    #[test]
    fn nested_structs_enums_lists_and_maps() {
        let text = r#"Login { who: User { name: "a", api_key: Some("k, with } tricky \" chars") }, attempts: [Try { token: Token("t1") }, Try { token: Token("t2") }], headers: {"authorization": "Bearer x", "accept": "*/*"}, mode: Password { hash: [1, 2] } }"#;
        let (out, paths) = scrub(text);
        assert_eq!(
            out,
            r#"Login { who: User { name: "a", api_key: "[REDACTED]" }, attempts: [Try { token: "[REDACTED]" }, Try { token: "[REDACTED]" }], headers: {"authorization": "[REDACTED]", "accept": "*/*"}, mode: Password { hash: [1, 2] } }"#
        );
        assert_eq!(
            paths,
            vec![
                "who.api_key",
                "attempts.[0].token",
                "attempts.[1].token",
                "headers.\"authorization\""
            ]
        );
    }

    #[test]
    fn false_positives_stay() {
        let text = r#"Book { author: "Tolkien", tokenizer: Words, session_count: 3 }"#;
        // `session_count` is a secret by its segment, unless allowed.
        let (out, paths) = scrub(text);
        assert_eq!(paths, vec!["session_count"]);
        assert!(out.contains(r#"author: "Tolkien""#) && out.contains("tokenizer: Words"));
        assert!(scrub_debug(r#"Book { author: "Tolkien", tokenizer: Words }"#).is_none());
    }

    #[test]
    fn odd_input_never_panics() {
        for text in [
            "",
            ":",
            ": ",
            "password: ",
            "{password: ",
            "\"",
            "'",
            "password: \"open",
            "a: b: c",
            "}}}]]]",
            "\\",
            "password: [",
            "{\"password\"",
            "é: ü, password: ß",
        ] {
            let _ = scrub_debug(text);
            let _ = scrub_text(text);
        }
        assert_eq!(scrub("password: ").0, "password: \"[REDACTED]\"");
    }

    #[test]
    fn free_text() {
        let (out, paths) = scrub_text("login failed for user=ann password=hunter2; retry").unwrap();
        assert_eq!(out, "login failed for user=ann password=[REDACTED]; retry");
        assert_eq!(paths, vec!["password"]);
        assert!(scrub_text("division by zero").is_none());
        assert!(scrub_text("x=1 author=me").is_none());
        let (out, _) = scrub_text("bad token: abc").unwrap();
        assert_eq!(out, "bad token: \"[REDACTED]\"");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Hostile input (#16): never a panic, and what comes back is no
        /// longer than a marker per replaced value allows.
        #[test]
        fn any_text_is_safe(text in "[ -~é{}\\[\\]():,=\"']{0,300}") {
            if let Some((clean, paths)) = scrub_debug(&text) {
                proptest::prop_assert!(!paths.is_empty());
                proptest::prop_assert!(clean.len() <= text.len() + paths.len() * (REDACTED.len() + 2));
            }
            let _ = scrub_text(&text);
        }

        /// A secret field's value never survives, whatever surrounds it.
        #[test]
        fn secret_fields_never_survive(
            name in "[A-Z][a-z]{0,8}",
            before in "[a-z]{1,8}",
            secret in "[A-Za-z0-9!#%&*+]{6,20}",
            nested in proptest::bool::ANY,
        ) {
            let inner = format!("Inner {{ password: \"{secret}\" }}");
            let value = if nested { inner.clone() } else { format!("\"{secret}\"") };
            let field = if nested { "inner" } else { "password" };
            let text = format!("{name} {{ {before}: 1, {field}: {value} }}");
            let (clean, _) = scrub_debug(&text).expect("scrubbed");
            proptest::prop_assert!(!clean.contains(&secret), "{}", clean);
        }
    }
}
