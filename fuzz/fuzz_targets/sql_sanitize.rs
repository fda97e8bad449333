//! The SQL sanitiser: any text sanitises without a panic, sanitising is
//! idempotent (what comes out has no literal left to replace), and a
//! string literal between fuzzed SQL never survives, placeholders or not
//! (#25).
#![no_main]

use libfuzzer_sys::fuzz_target;
use traced_runtime::db::sanitize;

/// The literal's content; the fuzzer's text never carries it.
const VALUE: &str = "hunter2hunter2";

fuzz_target!(|input: (&str, &str)| {
    let (before, after) = input;
    let once = sanitize(before);
    assert_eq!(sanitize(&once), once, "sanitising {before:?} twice changes it");
    // Text that opens a string, a comment or a quoted name of its own
    // before ours decides what ours is.
    let plain = |s: &str| !s.contains(['\'', '"', '`', '$', '-', '/', '\\']) && !s.contains(VALUE);
    if !plain(before) || !plain(after) {
        return;
    }
    for literal in [
        format!("'{VALUE}'"),
        format!("E'it\\'s {VALUE}'"),
        format!("\"{VALUE}\""),
        format!("'a''{VALUE}'"),
    ] {
        let sql = format!("UPDATE t SET {before} = {literal} WHERE id = ?1 {after}");
        let out = sanitize(&sql);
        assert!(!out.contains(VALUE), "{sql:?} -> {out:?}");
    }
});
