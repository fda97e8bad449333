//! The scrubber's unit tests; `tests/scrubbing.rs` checks what reaches spans.

use super::names::is_secret_with;
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
    assert_eq!(out, "bad token: [REDACTED]");
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

/// The macro's copy of the name rules, compiled here so that a test can
/// hold both to the same answers.
#[path = "../../../macros/src/secret.rs"]
#[allow(dead_code)]
mod macro_names;

/// Names both lists are asked about: every rule, both ways.
const NAMES: &[&str] = &[
    "password",
    "user_password",
    "Password",
    "passwd",
    "pwd",
    "passphrase",
    "client_secret",
    "access_token",
    "accessToken",
    "tokens",
    "api_key",
    "apiKey",
    "apikey",
    "api_keys",
    "access_key",
    "access_keys",
    "secret_key",
    "secretkey",
    "private_key",
    "privatekey",
    "credit_card",
    "card_number",
    "authorization",
    "auth",
    "auth_header",
    "cookie",
    "cookies",
    "credentials",
    "session",
    "session_id",
    "sessionid",
    "sessionId",
    "accesstoken",
    "apitoken",
    "refreshtoken",
    "dbpassword",
    "password1",
    "api_key2",
    "token_2",
    "jwt",
    "csrf",
    "xsrf",
    "ssn",
    "user",
    "author",
    "authority",
    "tokenizer",
    "key",
    "keys",
    "key2",
    "id",
    "passage",
    "sessionless",
    "possession",
    "access",
    "api",
    "card",
    "count",
    "s3",
    "x",
    "_",
    "__",
    "a_b_c_d",
];

// Regression for #25: the two copies of the name rules must agree.
#[test]
fn the_macro_and_the_runtime_agree_on_names() {
    for name in NAMES {
        assert_eq!(
            is_secret_with(name, &[], &[]),
            macro_names::is_secret(name),
            "{name}: runtime and macro disagree"
        );
    }
}

// Regression for #25: `access_key` could never match (a plural strip made
// `access` `acces`); digit suffixes and lowercase concatenations hid the
// secret word.
#[test]
fn issue25_names() {
    for name in [
        "access_key",
        "AccessKey",
        "access_keys",
        "password1",
        "api_key2",
        "Password_2",
        "sessionid",
        "accesstoken",
        "apitoken",
        "secretkey",
        "X-Access-Token",
        "authkey",
    ] {
        assert!(is_secret_with(name, &[], &[]), "{name} is a secret");
    }
    for name in [
        "access",
        "key2",
        "possession",
        "obsession",
        "tokenizer",
        "author",
    ] {
        assert!(!is_secret_with(name, &[], &[]), "{name} is not a secret");
    }
}

fn text(input: &str) -> String {
    scrub_text(input).map_or_else(|| input.to_owned(), |(out, _)| out)
}

// Regression for #25: each of these reached an exported span as written.
#[test]
fn issue25_free_text() {
    assert_eq!(
        text(r#"login failed: password="hunter2" for ann"#),
        r#"login failed: password="[REDACTED]" for ann"#
    );
    assert_eq!(
        text(r#"bad body {"access_token":"tok","user":"ann"}"#),
        r#"bad body {"access_token":"[REDACTED]","user":"ann"}"#
    );
    assert_eq!(
        text("can't authenticate: token: t0k3n"),
        "can't authenticate: token: [REDACTED]"
    );
    assert_eq!(
        text("connect to postgres://app:pw@db/prod failed"),
        "connect to postgres://app:[REDACTED]@db/prod failed"
    );
    assert_eq!(
        text("clone https://ghp_abc123@github.com/o/r.git"),
        "clone https://[REDACTED]@github.com/o/r.git"
    );
    // One `key: value` no longer hides the `key=value` after it.
    assert_eq!(
        text("user: ann, api_key=sk_live_1 and secret: s3cr3t"),
        "user: ann, api_key=[REDACTED] and secret: [REDACTED]"
    );
    assert_eq!(
        text("Authorization: Bearer abc.def.ghi sent"),
        "Authorization: [REDACTED] sent"
    );
    assert_eq!(
        text("GET /cb?code=1&access_token=abc&X-Amz-Signature=f00 HTTP/1.1"),
        "GET /cb?code=1&access_token=[REDACTED]&X-Amz-Signature=[REDACTED] HTTP/1.1"
    );
    assert_eq!(
        text("api_key: Some(\"k\"), n: 1"),
        "api_key: [REDACTED], n: 1"
    );
    assert_eq!(text("password = 'hunter2'"), "password = '[REDACTED]'");
    // What is not a secret stays.
    for plain in [
        "at 12:30:45 the job x=1 ran",
        "std::io::Error: not found",
        "author: me, tokenizer=words",
        "if a == b => password",
        "see https://example.com/a?q=1",
    ] {
        assert!(scrub_text(plain).is_none(), "{plain}");
    }
}

// Regression for #25: `": "` made scrubbing quadratic (120 KB took 200 s in
// a debug build). The work is counted: it must stay a small multiple of
// the length, whatever the text.
#[test]
fn issue25_scrubbing_is_linear() {
    for unit in [
        "x: ",
        "x=",
        "password: ",
        "a: b: ",
        "://@",
        "\"k\":",
        "token=(",
        "Some(",
    ] {
        let input = unit.repeat(120 * 1024 / unit.len());
        let mut work = 0;
        let _ = text::scan(&input, &mut work);
        assert!(
            work <= 4 * input.len(),
            "{unit:?}: {work} steps for {} bytes",
            input.len()
        );
        // The capped entry points finish too, and never return more than
        // the cap and a note.
        let (out, _) = scrub_text(&input).expect("cut");
        assert!(
            out.len()
                <= text::SCAN_LIMIT
                    + 64
                    + 16 * REDACTED.len() * text::SCAN_LIMIT / unit.len().max(1)
        );
        assert!(
            out.ends_with("more bytes not recorded]"),
            "{}",
            &out[out.len() - 40..]
        );
        let _ = scrub_value(&input);
    }
}

#[test]
fn long_text_is_cut_at_a_char_boundary() {
    let input = "é".repeat(text::SCAN_LIMIT);
    let (out, paths) = scrub_text(&input).expect("cut");
    assert!(paths.is_empty());
    assert!(out.starts_with("éé"));
    assert!(out.len() < text::SCAN_LIMIT + 64);
}

fn value(input: &str) -> String {
    scrub_value(input).map_or_else(|| input.to_owned(), |(out, _)| out)
}

// Regression for #25: value shapes that were never scanned.
#[test]
fn issue25_debug_shapes() {
    // Key-value lists, the usual query argument.
    assert_eq!(
        value(r#"[("q", "rust"), ("api_key", "sk_live_1")]"#),
        r#"[("q", "rust"), ("api_key", "[REDACTED]")]"#
    );
    // A list of plain strings is not a pair.
    assert_eq!(value(r#"["api_key", "x"]"#), r#"["api_key", "x"]"#);
    // A newtype whose type name says secret.
    assert_eq!(value(r#"ApiKey("sk_live_1")"#), r#"ApiKey("[REDACTED]")"#);
    assert_eq!(
        value(r#"Req { key: ApiKey("sk_live_1"), n: SessionToken(Inner("t")) }"#),
        r#"Req { key: ApiKey("[REDACTED]"), n: SessionToken("[REDACTED]") }"#
    );
    assert_eq!(value(r#"Some("x")"#), r#"Some("x")"#);
    // Quoted strings inside Debug output, and unquoted URLs (`http::Request`).
    assert_eq!(
        value(r#"Config { dsn: "postgres://app:pw@db/prod", n: 1 }"#),
        r#"Config { dsn: "postgres://app:[REDACTED]@db/prod", n: 1 }"#
    );
    assert_eq!(
        value(
            r#"Request { method: GET, uri: https://h/cb?token=abc&x=1, headers: {"authorization": "Bearer x"} }"#
        ),
        r#"Request { method: GET, uri: https://h/cb?token=[REDACTED]&x=1, headers: {"authorization": "[REDACTED]"} }"#
    );
    // A structural hit is not counted twice by the text pass.
    let (_, paths) = scrub_value(r#"Form { password: "hunter2" }"#).unwrap();
    assert_eq!(paths, vec!["password"]);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Random names: the macro and the runtime say the same.
    #[test]
    fn any_name_agrees(name in "[a-zA-Z0-9_]{0,24}|(pass|word|token|api|key|access|secret|session|id|s|1|_){1,5}") {
        proptest::prop_assert_eq!(is_secret_with(&name, &[], &[]), macro_names::is_secret(&name), "{}", name);
    }

    /// A secret after any separator, quoted or not, in any text around it,
    /// never survives free-text scrubbing.
    #[test]
    fn secret_values_never_survive_in_text(
        before in "[ -!#-&*-9;-<>-Z^-z|~]{0,40}",
        key in "(password|api_key|access_token|secretKey|sessionid|Authorization)",
        sep in "(=|: |:| = |\":\"|=\")",
        secret in "[A-Za-z0-9!#%*+]{8,20}",
        after in "( [ -~]{0,40})?",
    ) {
        // What is around the secret must not itself open a quote or a
        // bracket that swallows the key.
        proptest::prop_assume!(!before.contains(['"', '\'', '\\', '(', '[', '{', '=', ':']));
        let quoted_key = sep.starts_with('"');
        let key = if quoted_key { format!("\"{key}") } else { key };
        let input = format!("{before} {key}{sep}{secret}{after}");
        let out = text(&input);
        proptest::prop_assert!(!out.contains(&secret), "{:?} -> {:?}", input, out);
    }
}
