//! Which parameter names mark secrets.

/// Name segments (split on `_`, compared case-insensitively, a plural `s`
/// ignored) that mark a parameter as a secret.
///
/// The same list as the runtime's scrubber (`runtime/src/redact.rs`), which
/// a test there keeps in step: a parameter name and a field name inside a
/// `Debug` value are secrets alike.
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

/// Whether a parameter named `name` holds a secret and is recorded redacted.
pub(crate) fn is_secret(name: &str) -> bool {
    let segments: Vec<String> = name
        .trim_start_matches("r#")
        .split('_')
        .filter(|s| !s.is_empty())
        .map(|s| s.to_ascii_lowercase())
        .collect();
    let singular = |s: &str| s.strip_suffix('s').unwrap_or(s).to_owned();
    let any_segment = segments.iter().any(|s| {
        SECRET_SEGMENTS.contains(&s.as_str()) || SECRET_SEGMENTS.contains(&singular(s).as_str())
    });
    let any_pair = segments.windows(2).any(|w| {
        SECRET_PAIRS
            .iter()
            .any(|(a, b)| w[0] == *a && singular(&w[1]) == *b)
    });
    any_segment || any_pair
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
        ] {
            assert!(!is_secret(name), "{name} should be recorded");
        }
    }
}
