//! B3 (single and multiple headers) and Jaeger: any header values extract
//! without a panic, and an accepted context injects to headers that
//! extract to the same ids and sampled flag.
#![no_main]

use std::collections::HashMap;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use traced_runtime::fuzzing::propagator;

#[derive(Debug, Arbitrary)]
struct Input {
    which: u8,
    b3: String,
    trace_id: String,
    span_id: String,
    sampled: String,
    uber: String,
}

fuzz_target!(|input: Input| {
    let name = ["b3", "b3multi", "jaeger"][usize::from(input.which % 3)];
    let headers: HashMap<String, String> = [
        ("b3", input.b3),
        ("x-b3-traceid", input.trace_id),
        ("x-b3-spanid", input.span_id),
        ("x-b3-sampled", input.sampled),
        ("uber-trace-id", input.uber),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let (sc, injected) = propagator(name, &headers);
    if !sc.is_valid() {
        return;
    }
    let (again, _) = propagator(name, &injected);
    assert_eq!(again.trace_id(), sc.trace_id(), "{name}: {injected:?}");
    assert_eq!(again.span_id(), sc.span_id(), "{name}: {injected:?}");
    assert_eq!(again.is_sampled(), sc.is_sampled(), "{name}: {injected:?}");
});
