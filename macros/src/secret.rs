//! Which parameter names mark secrets.
//!
//! The same rules as the runtime's scrubber (`runtime/src/redact/names.rs`,
//! where they are documented): a parameter name and a field name inside a
//! `Debug` value are secrets alike. A test there compiles this file into
//! the runtime and checks that both say the same for every name it tries,
//! so this file uses nothing but `std`.

/// Name segments that mark a secret on their own.
const SECRET_SEGMENTS: &[&str] = &[
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

/// Pairs of adjacent segments that mark a secret together.
const SECRET_PAIRS: &[(&str, &str)] = &[
    ("api", "key"),
    ("private", "key"),
    ("secret", "key"),
    ("access", "key"),
    ("credit", "card"),
    ("card", "number"),
];

/// Segments that also mark a secret at the end of a longer lowercase word.
const SECRET_SUFFIXES: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "credential",
    "cookie",
];

/// What may follow a secret segment in one lowercase word (`sessionid`).
const COMPOUND_TAILS: &[&str] = &["id", "key"];

/// Longer names are never secrets (the runtime's scrubber stops there).
const NAME_LIMIT: usize = 64;

/// The segments of a name, lower-cased, trailing digits dropped.
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
        let kept = segment.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        if kept > 0 {
            segment.truncate(kept);
        }
    }
    out
}

fn segment_is_secret(segment: &str) -> bool {
    let singular = segment.strip_suffix('s').filter(|s| s.len() >= 3);
    [Some(segment), singular].into_iter().flatten().any(|s| {
        let joins =
            |a: &str, b: &str| s.len() == a.len() + b.len() && s.starts_with(a) && s.ends_with(b);
        SECRET_SEGMENTS.contains(&s)
            || SECRET_SUFFIXES
                .iter()
                .any(|w| s.len() > w.len() && s.ends_with(w))
            || SECRET_PAIRS.iter().any(|(a, b)| joins(a, b))
            || SECRET_SEGMENTS
                .iter()
                .any(|w| COMPOUND_TAILS.iter().any(|t| joins(w, t)))
    })
}

fn pair_is_secret(first: &str, second: &str) -> bool {
    SECRET_PAIRS
        .iter()
        .any(|(a, b)| first == *a && (second == *b || second.strip_suffix('s') == Some(b)))
}

/// Whether a parameter named `name` holds a secret and is recorded redacted.
pub(crate) fn is_secret(name: &str) -> bool {
    let name = name.trim_start_matches("r#");
    if name.is_empty() || name.len() > NAME_LIMIT {
        return false;
    }
    let segments = segments(name);
    segments.iter().any(|s| segment_is_secret(s))
        || segments.windows(2).any(|w| pair_is_secret(&w[0], &w[1]))
}

#[cfg(test)]
mod tests {
    use super::is_secret;

    #[test]
    fn secrets_by_segment() {
        for name in [
            "password",
            "user_password",
            "Password",
            "passwd",
            "client_secret",
            "access_token",
            "tokens",
            "api_key",
            "apikey",
            "authorization",
            "auth",
            "auth_header",
            "cookie",
            "cookies",
            "credentials",
            "private_key",
            "session",
            "session_id",
            // Regressions for #25: a plural strip made `access` `acces`;
            // digits and lowercase concatenations hid the secret word.
            "access_key",
            "access_keys",
            "password1",
            "api_key2",
            "sessionid",
            "accesstoken",
            "apitoken",
            "secretkey",
            "r#password",
        ] {
            assert!(is_secret(name), "{name} should be redacted");
        }
    }

    #[test]
    fn ordinary_names() {
        for name in [
            "user",
            "author",
            "tokenizer",
            "key",
            "id",
            "passage",
            "sessionless",
            "api",
            "keys",
            "possession",
            "access",
            "key2",
        ] {
            assert!(!is_secret(name), "{name} should be recorded");
        }
    }
}
