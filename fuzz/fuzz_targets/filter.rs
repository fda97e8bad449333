//! `TRACED_FILTER` directives (#27): any text parses to a filter or an
//! error naming a directive of it, never a panic; a filter that parses
//! answers for any target and level, and parses the same with blank
//! directives and spaces around commas added.
#![no_main]

use libfuzzer_sys::fuzz_target;
use traced_runtime::Filter;
use traced_runtime::__private::Level;

fuzz_target!(|input: (String, String)| {
    let (text, target) = input;
    match Filter::parse(&text) {
        Err(err) => {
            let message = err.to_string();
            assert!(message.starts_with('`'), "names the directive: {message}");
        }
        Ok(filter) => {
            for level in [
                Level::Error,
                Level::Warn,
                Level::Info,
                Level::Debug,
                Level::Trace,
            ] {
                let _ = filter.enabled(&target, level);
            }
            let spaced = text.replace(',', " ,, ");
            assert_eq!(Filter::parse(&spaced).ok(), Some(filter), "{text:?}");
        }
    }
});
