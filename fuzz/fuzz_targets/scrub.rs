//! The secret scrubber: any text (as `Debug` output and as free text)
//! scrubs without a panic, and a secret field between fuzzed text never
//! comes out with its value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use traced_runtime::fuzzing::scrub;

/// The value of the secret field; the fuzzer's text never carries it.
const VALUE: &str = "hunter2hunter2";

fuzz_target!(|input: (&str, &str)| {
    let (prefix, suffix) = input;
    let _ = scrub(prefix);
    // Real `Debug` output escapes quotes and backslashes inside strings,
    // so the text around the field has none of its own.
    let plain = |s: &str| !s.contains(['"', '\'', '\\']) && !s.contains(VALUE);
    if !plain(prefix) || !plain(suffix) {
        return;
    }
    let debug = format!("{prefix} Login {{ password: \"{VALUE}\" }} {suffix}");
    let [as_debug, _] = scrub(&debug);
    let (text, _) = as_debug.expect("a password field is scrubbed");
    assert!(!text.contains(VALUE), "{debug:?} -> {text:?}");
});
