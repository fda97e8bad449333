//! The SQL sanitiser: any text sanitises without a panic, and sanitising
//! is idempotent (what comes out has no literal left to replace).
#![no_main]

use libfuzzer_sys::fuzz_target;
use traced_runtime::db::sanitize;

fuzz_target!(|sql: &str| {
    let once = sanitize(sql);
    assert_eq!(sanitize(&once), once, "sanitising {sql:?} twice changes it");
});
