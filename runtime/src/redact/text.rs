//! Secrets in free text: exception messages, string values, the text
//! inside `Debug` output.
//!
//! One pass, left to right. At every `=` or `:` the word just before it
//! (at most [`NAME_LIMIT`] bytes, optionally quoted: `"access_token":`) is
//! the key; when it marks a secret, the value after it is replaced: a
//! quoted string up to its closing quote, a bracketed group up to its
//! closing bracket, or else a word (an auth scheme such as `Bearer` takes
//! the word after it too). At every `://` the userinfo of the URL's
//! authority is replaced (`postgres://app:[REDACTED]@db`). Nothing is ever
//! looked at twice except the few bytes of a key, so the cost is linear in
//! the text; texts longer than [`SCAN_LIMIT`] are cut there first.

use super::names::NAME_LIMIT;
use super::{REDACTED, is_secret};

/// Bytes of a text scanned for secrets. A longer text is cut at this
/// length (at a character boundary) and ends with a note of how much was
/// left out: what is not scanned is not recorded, and no message costs more
/// than this to record.
pub(crate) const SCAN_LIMIT: usize = 32 * 1024;

/// Query keys whose values the HTTP conventions ask to redact in `url.query`
/// and `url.full` (matched case-sensitively): signatures and credentials of
/// pre-signed URLs. Their values are replaced wherever `key=value` appears.
pub(crate) const SENSITIVE_QUERY_KEYS: [&str; 5] = [
    "X-Amz-Signature",
    "X-Amz-Credential",
    "X-Amz-Security-Token",
    "sig",
    "X-Goog-Signature",
];

/// Auth schemes: in `Authorization: Bearer abc` the secret is the word
/// after the scheme.
const AUTH_SCHEMES: &[&str] = &["bearer", "basic", "digest", "token", "negotiate", "apikey"];

/// The name scrubbed URL userinfo is listed under.
const USERINFO: &str = "userinfo";

/// `text` with every secret value replaced, and the names of the keys whose
/// values were (`userinfo` for a URL's); `None` when the text is recorded
/// as it is. A text longer than [`SCAN_LIMIT`] is cut, so it comes back
/// changed even without a secret in it.
pub(crate) fn scrub_text(text: &str) -> Option<(String, Vec<String>)> {
    let (scanned, rest) = split_at_limit(text);
    let found = scan(scanned, &mut 0);
    if rest == 0 {
        return found;
    }
    let (mut out, paths) = found.unwrap_or_else(|| (scanned.to_owned(), Vec::new()));
    out.push_str(&format!("… [{rest} more bytes not recorded]"));
    Some((out, paths))
}

/// `text` up to [`SCAN_LIMIT`] and how many bytes were left out.
pub(crate) fn split_at_limit(text: &str) -> (&str, usize) {
    if text.len() <= SCAN_LIMIT {
        return (text, 0);
    }
    let mut cut = SCAN_LIMIT;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    (&text[..cut], text.len() - cut)
}

/// The scan itself, without the length cap; `work` counts the bytes looked
/// at, so a test can check that the cost is linear.
pub(crate) fn scan(text: &str, work: &mut usize) -> Option<(String, Vec<String>)> {
    let bytes = text.as_bytes();
    // Fast exit: no separator, no key and no URL.
    if !bytes.iter().any(|b| matches!(b, b':' | b'=')) {
        return None;
    }
    let mut out = Scrubbed {
        text,
        out: String::new(),
        copied: 0,
        paths: Vec::new(),
    };
    let mut at = 0;
    while at < bytes.len() {
        *work += 1;
        let b = bytes[at];
        if b == b':' && bytes[at + 1..].starts_with(b"//") {
            at = out.userinfo(at + 3, work);
            continue;
        }
        if !is_separator(bytes, at) {
            at += 1;
            continue;
        }
        let Some(key) = key_before(bytes, at, work) else {
            at += 1;
            continue;
        };
        let key = &text[key.0..key.1];
        let secret = is_secret(key) || (b == b'=' && SENSITIVE_QUERY_KEYS.contains(&key));
        if !secret {
            at += 1;
            continue;
        }
        let mut start = at + 1;
        while start < bytes.len() && matches!(bytes[start], b' ' | b'\t') {
            start += 1;
        }
        let (from, to) = value_at(bytes, start, work);
        if to > from && !is_redacted(&text[from..to]) {
            out.replace(from, to, key);
        }
        at = to.max(at + 1);
    }
    out.finish()
}

/// Whether the `:` or `=` at `at` separates a key from a value: not part
/// of `::`, `==`, `=>`, `<=`, `>=` or `!=`.
fn is_separator(bytes: &[u8], at: usize) -> bool {
    let before = at.checked_sub(1).map(|i| bytes[i]);
    let after = bytes.get(at + 1).copied();
    match bytes[at] {
        b':' => before != Some(b':') && after != Some(b':'),
        b'=' => {
            !matches!(before, Some(b'=' | b'<' | b'>' | b'!'))
                && !matches!(after, Some(b'=' | b'>'))
        }
        _ => false,
    }
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

/// The byte range of the key before the separator at `at`: a word of
/// letters, digits, `_`, `-` and `.`, optionally in quotes, optionally
/// followed by spaces. `None` when there is none or it is longer than
/// [`NAME_LIMIT`].
fn key_before(bytes: &[u8], at: usize, work: &mut usize) -> Option<(usize, usize)> {
    let mut end = at;
    while end > 0 && bytes[end - 1] == b' ' && at - end < 2 {
        end -= 1;
    }
    let quote = match end.checked_sub(1).map(|i| bytes[i]) {
        Some(q @ (b'"' | b'\'')) => {
            end -= 1;
            Some(q)
        }
        _ => None,
    };
    let mut start = end;
    while start > 0 && is_key_byte(bytes[start - 1]) {
        *work += 1;
        if end - start >= NAME_LIMIT {
            return None;
        }
        start -= 1;
    }
    if start == end {
        return None;
    }
    if let Some(q) = quote {
        if start == 0 || bytes[start - 1] != q {
            return None;
        }
    }
    Some((start, end))
}

/// The range of the value starting at `start` that is replaced: inside the
/// quotes of a quoted string, the whole of a bracketed group, or a word
/// (with what brackets it opens, and the word after an auth scheme).
fn value_at(bytes: &[u8], start: usize, work: &mut usize) -> (usize, usize) {
    match bytes.get(start) {
        None => (start, start),
        Some(&q @ (b'"' | b'\'')) => {
            let end = super::skip_quoted(bytes, start, q);
            *work += end - start;
            let inner_end = if end > start + 1 && bytes[end - 1] == q {
                end - 1
            } else {
                end
            };
            (start + 1, inner_end)
        }
        Some(_) => {
            let end = word_end(bytes, start, work);
            let word = &bytes[start..end];
            let scheme = AUTH_SCHEMES
                .iter()
                .any(|s| word.eq_ignore_ascii_case(s.as_bytes()));
            if scheme
                && bytes.get(end) == Some(&b' ')
                && bytes.get(end + 1).is_some_and(|b| !b.is_ascii_whitespace())
            {
                return (start, word_end(bytes, end + 1, work));
            }
            (start, end)
        }
    }
}

/// Where the word starting at `start` ends: at whitespace or `,;&"'<>` or
/// an unmatched closing bracket; brackets it opens (`Some("x")`,
/// `Key { v: 1 }`) are taken whole, quotes inside them skipped.
fn word_end(bytes: &[u8], start: usize, work: &mut usize) -> usize {
    let mut depth = 0_usize;
    let mut i = start;
    while i < bytes.len() {
        *work += 1;
        let b = bytes[i];
        match b {
            b'{' | b'(' | b'[' => depth += 1,
            b'}' | b')' | b']' if depth == 0 => return i,
            b'}' | b')' | b']' => depth -= 1,
            b'"' | b'\'' if depth > 0 => {
                i = super::skip_quoted(bytes, i, b);
                continue;
            }
            b' ' if depth == 0 && bytes.get(i + 1) == Some(&b'{') && i > start => {}
            b if depth == 0
                && (b.is_ascii_whitespace()
                    || matches!(b, b',' | b';' | b'&' | b'"' | b'\'' | b'<' | b'>')) =>
            {
                return i;
            }
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

/// Whether a value was replaced already (by a pass before this one).
fn is_redacted(value: &str) -> bool {
    let value = value.trim_matches('"');
    value == REDACTED || value == "REDACTED"
}

/// The output being built.
struct Scrubbed<'a> {
    text: &'a str,
    out: String,
    /// Everything before this offset is in `out` already.
    copied: usize,
    paths: Vec<String>,
}

impl Scrubbed<'_> {
    fn replace(&mut self, start: usize, end: usize, path: &str) {
        if self.out.capacity() == 0 {
            self.out.reserve(self.text.len());
        }
        self.out.push_str(&self.text[self.copied..start]);
        self.out.push_str(REDACTED);
        self.copied = end;
        self.paths.push(path.to_owned());
    }

    /// Replaces the userinfo of the authority starting at `start` (after a
    /// `://`): the password of `user:password@`, or a lone `token@`. Returns
    /// where the authority ends.
    fn userinfo(&mut self, start: usize, work: &mut usize) -> usize {
        let bytes = self.text.as_bytes();
        let mut end = start;
        let mut at_sign = None;
        while end < bytes.len() {
            *work += 1;
            match bytes[end] {
                b'/' | b'?' | b'#' | b'"' | b'\'' | b'<' | b'>' | b'(' | b')' | b'[' | b']'
                | b'{' | b'}' | b',' | b';' | b'\\' => break,
                b if b.is_ascii_whitespace() => break,
                b'@' => at_sign = Some(end),
                _ => {}
            }
            end += 1;
        }
        let Some(at_sign) = at_sign else {
            return end;
        };
        let info = &self.text[start..at_sign];
        let from = match info.find(':') {
            Some(colon) => start + colon + 1,
            None => start,
        };
        if at_sign > from && !is_redacted(&self.text[from..at_sign]) {
            self.replace(from, at_sign, USERINFO);
        }
        end
    }

    fn finish(mut self) -> Option<(String, Vec<String>)> {
        if self.paths.is_empty() {
            return None;
        }
        self.out.push_str(&self.text[self.copied..]);
        Some((self.out, self.paths))
    }
}
