//! The `OTEL_*` configuration: any values for any of the variables
//! `traced::init` parses give a configuration (with warnings) or, in
//! strict mode, an error naming a variable, and never a panic.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use traced_runtime::fuzzing::{VARIABLES, config};

fuzz_target!(|pairs: Vec<(u8, String)>| {
    let vars: HashMap<String, String> = pairs
        .into_iter()
        .map(|(i, v)| (VARIABLES[usize::from(i) % VARIABLES.len()].to_owned(), v))
        .collect();
    if let Err(message) = config(&vars) {
        assert!(
            VARIABLES.iter().any(|name| message.contains(name)),
            "an error names its variable: {message}"
        );
    }
});
