//! Secrets in `Debug` output, by structure: fields and map keys whose
//! names mark a secret, the second element of a `("api_key", "…")` pair,
//! and the inside of a tuple struct whose type name marks a secret
//! (`ApiKey("sk_…")`).

use super::names::NAME_LIMIT;
use super::{REDACTED, is_secret, skip_quoted};

/// `Debug` output with the value of every field or map key that marks a
/// secret replaced by `"[REDACTED]"`, and the paths replaced (`inner.token`,
/// `[0].password`, `headers."authorization"`); `None` when nothing was.
///
/// Understands what `{:?}` prints: structs `Name { field: value, .. }`,
/// tuples, lists `[..]`, maps `{key: value, ..}`, quoted strings and chars
/// with escapes. Anything it cannot read is left as it is. One pass: every
/// byte is looked at a bounded number of times.
pub(crate) fn scrub_debug(text: &str) -> Option<(String, Vec<String>)> {
    // Fast exit: no `:`, `(` or `,` means no field, no newtype, no pair.
    if !text
        .as_bytes()
        .iter()
        .any(|b| matches!(b, b':' | b'(' | b','))
    {
        return None;
    }
    let mut scrubber = Debug {
        text,
        bytes: text.as_bytes(),
        out: String::new(),
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

/// One open bracket: the key that led to it (a field name, a map key, or a
/// list element's `[index]`), its element count, and whether its elements
/// are positional (a list or a tuple).
struct Frame {
    key: Option<String>,
    index: usize,
    positional: bool,
    /// The opening bracket.
    open: u8,
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
        let mut frames: Vec<Frame> = Vec::new();
        // The key of the current element, once its `key: ` was read.
        let mut pending: Option<String> = None;
        // Where the current element started (after a bracket, a comma, or
        // the `: ` of its key).
        let mut element = 0;
        let mut at = 0;
        while at < self.bytes.len() {
            match self.bytes[at] {
                b'"' => at = skip_quoted(self.bytes, at, b'"'),
                b'\'' => at = skip_quoted(self.bytes, at, b'\''),
                open @ (b'{' | b'(' | b'[') => {
                    if open == b'(' {
                        // `ApiKey("sk_…")`: the type name is the only name
                        // the inside has.
                        let name = self.word_before(at);
                        if !name.is_empty() && is_secret(name) {
                            let end = group_end(self.bytes, at);
                            let inner_end = if self.bytes[end - 1] == b')' && end > at + 1 {
                                end - 1
                            } else {
                                end
                            };
                            let path = self.path(&frames, name);
                            self.replace(at + 1, inner_end, path);
                            at = end;
                            continue;
                        }
                    }
                    let key = pending.take().or_else(|| {
                        frames
                            .last()
                            .filter(|frame| frame.positional)
                            .map(|frame| format!("[{}]", frame.index))
                    });
                    frames.push(Frame {
                        key,
                        index: 0,
                        positional: open != b'{',
                        open,
                    });
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
                    // `("api_key", "…")`: a pair whose first element is a
                    // string naming a secret.
                    let first = self.text[element..at].trim();
                    let in_tuple = frames
                        .last()
                        .is_some_and(|f| f.open == b'(' && f.index == 0);
                    if in_tuple
                        && first.len() >= 2
                        && first.starts_with('"')
                        && first.ends_with('"')
                        && is_secret(&first[1..first.len() - 1])
                    {
                        let start = (at + 1..self.bytes.len())
                            .find(|&i| self.bytes[i] != b' ')
                            .unwrap_or(self.bytes.len());
                        let end = value_end(self.bytes, start);
                        let path = self.path(&frames, first);
                        self.replace(start, end, path);
                        if let Some(frame) = frames.last_mut() {
                            frame.index += 1;
                        }
                        at = end;
                        element = at;
                        continue;
                    }
                    if let Some(frame) = frames.last_mut() {
                        frame.index += 1;
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
                    if !key.is_empty() && key.len() <= NAME_LIMIT + 2 && is_secret(key) {
                        let end = value_end(self.bytes, start);
                        let path = self.path(&frames, key);
                        self.replace(start, end, path);
                        at = end;
                        element = at;
                        continue;
                    }
                    pending = Some(key.chars().take(NAME_LIMIT + 2).collect());
                    at = start;
                    // What follows is the value: a later `: ` in it (text
                    // that is not `Debug` output) starts its own key, so no
                    // key is ever read twice.
                    element = start;
                }
                _ => at += 1,
            }
        }
    }

    /// The identifier just before `at` (at most [`NAME_LIMIT`] bytes).
    fn word_before(&self, at: usize) -> &str {
        let mut start = at;
        while start > 0
            && at - start < NAME_LIMIT
            && (self.bytes[start - 1].is_ascii_alphanumeric() || self.bytes[start - 1] == b'_')
        {
            start -= 1;
        }
        if start > 0 && self.bytes[start - 1].is_ascii_alphanumeric() {
            return "";
        }
        &self.text[start..at]
    }

    fn path(&self, frames: &[Frame], key: &str) -> String {
        let mut path: Vec<&str> = frames.iter().filter_map(|f| f.key.as_deref()).collect();
        path.push(key);
        path.join(".")
    }

    /// Replaces `start..end` with the redaction marker, remembering `path`.
    fn replace(&mut self, start: usize, end: usize, path: String) {
        if self.out.capacity() == 0 {
            self.out.reserve(self.text.len());
        }
        self.out.push_str(&self.text[self.copied..start]);
        self.out.push('"');
        self.out.push_str(REDACTED);
        self.out.push('"');
        self.copied = end;
        self.paths.push(path);
    }
}

/// The offset after the group whose opening bracket is at `at`, or the end
/// of the text when it never closes.
fn group_end(bytes: &[u8], at: usize) -> usize {
    let mut depth = 0_usize;
    let mut i = at;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i = skip_quoted(bytes, i, b'"');
                continue;
            }
            b'{' | b'(' | b'[' => depth += 1,
            b'}' | b')' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
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
