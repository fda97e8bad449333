//! Which names mark a secret.
//!
//! A name is split into segments on `_`, `-`, `.`, spaces, `/`, `:` and
//! lower-to-upper camel-case steps; each segment is lower-cased and loses
//! its trailing digits (`password1`, `key2`). A segment marks a secret when
//! it is one of [`SECRET_SEGMENTS`], with or without a plural `s`; when it
//! ends with one of [`SECRET_SUFFIXES`] (`accesstoken`, `dbpassword`); when
//! it is a pair of [`SECRET_PAIRS`] written as one word (`apikey`,
//! `secretkey`); or when it is a secret segment followed by one of
//! [`COMPOUND_TAILS`] (`sessionid`). Two adjacent segments mark a secret
//! when they are one of [`SECRET_PAIRS`] (`access_key`, `api_keys`).
//!
//! `macros/src/secret.rs` decides parameters at compile time with a copy of
//! these rules (a proc-macro crate cannot share code with this one); a test
//! compiles that file into this crate and checks that both agree.

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

/// Segments that also mark a secret at the end of a longer lowercase word
/// (`accesstoken`, `apitoken`, `clientsecret`). `session` is not one:
/// `possession` and `recession` end with it.
pub const SECRET_SUFFIXES: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "credential",
    "cookie",
];

/// What may follow a secret segment in one lowercase word (`sessionid`,
/// `authkey`).
pub const COMPOUND_TAILS: &[&str] = &["id", "key"];

/// Longer names are not looked at: no secret's name is this long, and the
/// scrubber asks about every word before a `:` or `=`.
pub(crate) const NAME_LIMIT: usize = 64;

/// The segments of a name, lower-cased, trailing digits dropped.
pub(crate) fn segments(name: &str) -> Vec<String> {
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
        let kept = segment.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        if kept > 0 {
            segment.truncate(kept);
        }
    }
    out
}

/// Whether one segment marks a secret, `extra` holding more segments.
fn segment_is_secret(segment: &str, extra: &[String]) -> bool {
    let singular = segment.strip_suffix('s').filter(|s| s.len() >= 3);
    [Some(segment), singular].into_iter().flatten().any(|s| {
        let joins =
            |a: &str, b: &str| s.len() == a.len() + b.len() && s.starts_with(a) && s.ends_with(b);
        SECRET_SEGMENTS.contains(&s)
            || extra.iter().any(|e| e == s)
            || SECRET_SUFFIXES
                .iter()
                .any(|w| s.len() > w.len() && s.ends_with(w))
            || SECRET_PAIRS.iter().any(|(a, b)| joins(a, b))
            || SECRET_SEGMENTS
                .iter()
                .any(|w| COMPOUND_TAILS.iter().any(|t| joins(w, t)))
    })
}

/// Whether two adjacent segments are a pair.
fn pair_is_secret(first: &str, second: &str) -> bool {
    SECRET_PAIRS
        .iter()
        .any(|(a, b)| first == *a && (second == *b || second.strip_suffix('s') == Some(b)))
}

/// Whether `name` marks a secret, `extra` holding more segments and `allow`
/// whole names (lower-case) that never do.
pub(crate) fn is_secret_with(name: &str, extra: &[String], allow: &[String]) -> bool {
    let name = name.trim().trim_matches(['"', '\'']);
    if name.is_empty() || name.len() > NAME_LIMIT {
        return false;
    }
    if allow.iter().any(|a| a.eq_ignore_ascii_case(name)) {
        return false;
    }
    let segments = segments(name);
    segments.iter().any(|s| segment_is_secret(s, extra))
        || segments.windows(2).any(|w| pair_is_secret(&w[0], &w[1]))
}
