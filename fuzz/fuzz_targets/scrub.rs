//! The secret scrubber: any text (as `Debug` output, as free text and as a
//! recorded value) scrubs without a panic, and a secret between fuzzed text
//! never comes out with its value: a `Debug` field, a `key=value` or
//! `key: value` in free text, a quoted JSON value and a URL's userinfo
//! (#25).
#![no_main]

use libfuzzer_sys::fuzz_target;
use traced_runtime::fuzzing::scrub;

/// The value of the secret; the fuzzer's text never carries it.
const VALUE: &str = "hunter2hunter2";

fuzz_target!(|input: (&str, &str)| {
    let (prefix, suffix) = input;
    let _ = scrub(prefix);
    // Real `Debug` output escapes quotes and backslashes inside strings,
    // so the text around the field has none of its own; and text that
    // opens a bracket or a key before ours may take it for a value.
    let plain = |s: &str| {
        !s.contains(['"', '\'', '\\', '(', '[', '{', ':', '=', '@', '/']) && !s.contains(VALUE)
    };
    if !plain(prefix) || !plain(suffix) {
        return;
    }
    let debug = format!("{prefix} Login {{ password: \"{VALUE}\" }} {suffix}");
    let [as_debug, _, as_value] = scrub(&debug);
    let (text, _) = as_debug.expect("a password field is scrubbed");
    assert!(!text.contains(VALUE), "{debug:?} -> {text:?}");
    let (text, _) = as_value.expect("a password field is scrubbed");
    assert!(!text.contains(VALUE), "{debug:?} -> {text:?}");
    for shape in [
        format!("{prefix} password={VALUE} {suffix}"),
        format!("{prefix} token: {VALUE} {suffix}"),
        format!("{prefix} {{\"access_token\":\"{VALUE}\"}} {suffix}"),
        format!("{prefix} postgres://app:{VALUE}@db/prod {suffix}"),
    ] {
        let [_, as_text, _] = scrub(&shape);
        let (text, _) = as_text.expect("a secret in free text is scrubbed");
        assert!(!text.contains(VALUE), "{shape:?} -> {text:?}");
    }
});
