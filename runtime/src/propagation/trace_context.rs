//! W3C Trace Context Level 2, strictly.
//!
//! The SDK's `TraceContextPropagator` is lenient where the specification is
//! not: it does not check field lengths, drops the `random` flag, truncates
//! an oversize `tracestate` instead of discarding it, and reads only the
//! first of repeated headers. This one follows the specification:
//!
//! - `traceparent` version `00` is exactly 55 characters of lowercase hex and
//!   dashes; version `ff` is invalid; a higher version is read by its first
//!   four fields and may carry more after a `-`.
//! - trace id and parent id have their exact lengths and are not all zeros;
//!   the flags keep `sampled` (`01`) and `random` (`02`).
//! - two `traceparent` headers, or an invalid one, mean no parent (a new
//!   trace starts) and `tracestate` is dropped.
//! - repeated `tracestate` headers are joined; a member with a bad key or
//!   value, a duplicate key or more than 32 members drop the whole
//!   `tracestate`, never part of it.
//! - a trace this process starts carries the `random` flag (its trace id
//!   comes from a random generator); one it continues keeps the caller's.

use std::collections::HashSet;
use std::sync::Mutex;

use opentelemetry::Context;
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator};

const TRACEPARENT: &str = "traceparent";
const TRACESTATE: &str = "tracestate";

/// The `random` trace flag of W3C Trace Context Level 2.
pub const TRACE_FLAG_RANDOM: TraceFlags = TraceFlags::new(0x02);
/// The flags we keep: `sampled` and `random`.
const KNOWN_FLAGS: u8 = 0x03;
/// The most `tracestate` members the specification allows.
const MAX_MEMBERS: usize = 32;

/// The W3C `traceparent`/`tracestate` propagator `traced::init` installs.
#[derive(Debug, Clone)]
pub struct TraceContext {
    fields: [String; 2],
}

impl Default for TraceContext {
    fn default() -> Self {
        TraceContext {
            fields: [TRACEPARENT.to_owned(), TRACESTATE.to_owned()],
        }
    }
}

fn lower_hex(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
}

/// A `traceparent` value's trace id, parent id and flags; `None` when it is
/// not valid.
pub(crate) fn parse_traceparent(value: &str) -> Option<(TraceId, SpanId, TraceFlags)> {
    let value = value.trim_matches(|c| c == ' ' || c == '\t');
    let b = value.as_bytes();
    if b.len() < 55 || b[2] != b'-' || b[35] != b'-' || b[52] != b'-' {
        return None;
    }
    let (version, trace, parent, flags) = (&b[0..2], &b[3..35], &b[36..52], &b[53..55]);
    if !lower_hex(version) || version == b"ff" {
        return None;
    }
    // Version 00 is exactly 55 characters; later versions may add fields.
    if version == b"00" && b.len() != 55 || b.len() > 55 && b[55] != b'-' {
        return None;
    }
    if !lower_hex(trace) || !lower_hex(parent) || !lower_hex(flags) {
        return None;
    }
    // All lowercase hex of the right length, so these parse.
    let trace = TraceId::from_hex(&value[3..35]).ok()?;
    let parent = SpanId::from_hex(&value[36..52]).ok()?;
    let flags = u8::from_str_radix(&value[53..55], 16).ok()?;
    if trace == TraceId::INVALID || parent == SpanId::INVALID {
        return None;
    }
    Some((trace, parent, TraceFlags::new(flags & KNOWN_FLAGS)))
}

fn key_char(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'*' | b'/')
}

/// A `tracestate` key: `simple-key` or `tenant-id@system-id`.
fn valid_key(key: &str) -> bool {
    let b = key.as_bytes();
    match key.split_once('@') {
        None => {
            !b.is_empty()
                && b.len() <= 256
                && b[0].is_ascii_lowercase()
                && b.iter().all(|&c| key_char(c))
        }
        Some((tenant, system)) => {
            let (t, s) = (tenant.as_bytes(), system.as_bytes());
            !t.is_empty()
                && t.len() <= 241
                && (t[0].is_ascii_lowercase() || t[0].is_ascii_digit())
                && t.iter().all(|&c| key_char(c))
                && !s.is_empty()
                && s.len() <= 14
                && s[0].is_ascii_lowercase()
                && s.iter().all(|&c| key_char(c))
        }
    }
}

/// A `tracestate` value: 1 to 256 printable characters but `,` and `=`, not
/// ending in a space.
fn valid_value(value: &str) -> bool {
    let b = value.as_bytes();
    !b.is_empty()
        && b.len() <= 256
        && b.iter()
            .all(|&c| (0x20..=0x7e).contains(&c) && c != b',' && c != b'=')
        && b[b.len() - 1] != b' '
}

/// The `tracestate` of all the header's values joined; `None` when it is
/// not valid (then none of it is kept).
pub(crate) fn parse_tracestate<'a>(
    values: impl IntoIterator<Item = &'a str>,
) -> Option<TraceState> {
    let mut members = Vec::new();
    let mut keys = HashSet::new();
    for value in values {
        for member in value.split(',') {
            let member = member.trim_matches(|c| c == ' ' || c == '\t');
            if member.is_empty() {
                continue;
            }
            let (key, val) = member.split_once('=')?;
            if !valid_key(key) || !valid_value(val) || !keys.insert(key) {
                return None;
            }
            members.push((key, val));
            if members.len() > MAX_MEMBERS {
                return None;
            }
        }
    }
    TraceState::from_key_value(members).ok()
}

impl TraceContext {
    fn span_context(extractor: &dyn Extractor) -> Option<SpanContext> {
        let parents = extractor.get_all(TRACEPARENT).unwrap_or_default();
        let [traceparent] = parents.as_slice() else {
            // None, or two: no parent.
            return None;
        };
        let (trace, parent, flags) = parse_traceparent(traceparent)?;
        let states = extractor.get_all(TRACESTATE).unwrap_or_default();
        let state = parse_tracestate(states.iter().copied()).unwrap_or_default();
        Some(SpanContext::new(trace, parent, flags, true, state))
    }
}

impl TextMapPropagator for TraceContext {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let sc = span.span_context();
        if !sc.is_valid() {
            return;
        }
        let mut flags = sc.trace_flags().to_u8() & KNOWN_FLAGS;
        if minted_here(sc.trace_id()) {
            flags |= TRACE_FLAG_RANDOM.to_u8();
        }
        injector.set(
            TRACEPARENT,
            format!("00-{}-{}-{flags:02x}", sc.trace_id(), sc.span_id()),
        );
        let state = sc.trace_state().header();
        if !state.is_empty() {
            injector.set(TRACESTATE, state);
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        match TraceContext::span_context(extractor) {
            Some(sc) => cx.with_remote_span_context(sc),
            None => cx.clone(),
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(&self.fields)
    }
}

/// Trace ids started in this process, so that `inject` can set the
/// `random` flag on them: the SDK builds a root span's flags from an empty
/// parent, and has no other place to set it. Bounded: when full it starts
/// over, and older traces then go out without the flag (it is a hint).
static MINTED: Mutex<Option<HashSet<TraceId>>> = Mutex::new(None);
const MINTED_MAX: usize = 16_384;

fn minted_here(trace: TraceId) -> bool {
    let minted = MINTED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    minted.as_ref().is_some_and(|set| set.contains(&trace))
}

/// The SDK's random id generator, remembering the trace ids it mints.
#[derive(Debug, Default)]
pub(crate) struct RandomRoots(RandomIdGenerator);

impl IdGenerator for RandomRoots {
    fn new_trace_id(&self) -> TraceId {
        let id = self.0.new_trace_id();
        let mut minted = MINTED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let set = minted.get_or_insert_with(HashSet::new);
        if set.len() >= MINTED_MAX {
            set.clear();
        }
        set.insert(id);
        id
    }

    fn new_span_id(&self) -> SpanId {
        self.0.new_span_id()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const PARENT: &str = "00f067aa0ba902b7";

    fn tp(s: &str) -> Option<(String, String, u8)> {
        parse_traceparent(s).map(|(t, p, f)| (t.to_string(), p.to_string(), f.to_u8()))
    }

    fn valid(flags: &str) -> String {
        format!("00-{TRACE}-{PARENT}-{flags}")
    }

    struct Headers(Vec<(&'static str, String)>);
    impl Extractor for Headers {
        fn get(&self, key: &str) -> Option<&str> {
            self.0
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.as_str())
        }
        fn keys(&self) -> Vec<&str> {
            self.0.iter().map(|(k, _)| *k).collect()
        }
        fn get_all(&self, key: &str) -> Option<Vec<&str>> {
            let all: Vec<&str> = self
                .0
                .iter()
                .filter(|(k, _)| *k == key)
                .map(|(_, v)| v.as_str())
                .collect();
            (!all.is_empty()).then_some(all)
        }
    }

    fn extract(headers: &[(&'static str, &str)]) -> Option<SpanContext> {
        let headers = Headers(headers.iter().map(|(k, v)| (*k, (*v).to_owned())).collect());
        let cx = TraceContext::default().extract_with_context(&Context::new(), &headers);
        let sc = cx.span().span_context().clone();
        sc.is_valid().then_some(sc)
    }

    #[test]
    fn version_00_is_exactly_55_characters() {
        assert_eq!(tp(&valid("01")), Some((TRACE.into(), PARENT.into(), 1)));
        assert_eq!(tp(&format!("{}-", valid("01"))), None);
        assert_eq!(tp(&format!("{}0", valid("01"))), None);
        assert_eq!(tp(&valid("01")[..54]), None);
    }

    #[test]
    fn lowercase_hex_only() {
        assert_eq!(tp(&valid("01").to_uppercase()), None);
        assert_eq!(
            tp(&format!("00-{}-{PARENT}-01", TRACE.to_uppercase())),
            None
        );
        assert_eq!(tp(&format!("00-{TRACE}-{PARENT}-0g")), None);
        assert_eq!(tp(&format!("0x-{TRACE}-{PARENT}-01")), None);
    }

    #[test]
    fn version_ff_is_invalid() {
        assert_eq!(tp(&format!("ff-{TRACE}-{PARENT}-01")), None);
    }

    #[test]
    fn higher_versions_read_four_fields_and_allow_more_after_a_dash() {
        assert_eq!(
            tp(&format!("01-{TRACE}-{PARENT}-01")),
            Some((TRACE.into(), PARENT.into(), 1))
        );
        assert_eq!(
            tp(&format!("cc-{TRACE}-{PARENT}-01-what-the-future-holds")),
            Some((TRACE.into(), PARENT.into(), 1))
        );
        assert_eq!(tp(&format!("cc-{TRACE}-{PARENT}-01x")), None);
    }

    #[test]
    fn ids_of_the_right_length_and_not_all_zeros() {
        assert_eq!(tp(&format!("00-{}-{PARENT}-01", "0".repeat(32))), None);
        assert_eq!(tp(&format!("00-{TRACE}-{}-01", "0".repeat(16))), None);
        assert_eq!(tp(&format!("00-{}-{PARENT}-01", &TRACE[1..])), None);
        assert_eq!(tp(&format!("00-{TRACE}0-{}-01", &PARENT[1..])), None);
        assert_eq!(tp(&format!("00-{TRACE}-{PARENT}0-1")), None);
    }

    #[test]
    fn flags_keep_sampled_and_random() {
        assert_eq!(tp(&valid("00")).map(|t| t.2), Some(0));
        assert_eq!(tp(&valid("01")).map(|t| t.2), Some(1));
        assert_eq!(tp(&valid("02")).map(|t| t.2), Some(2));
        assert_eq!(tp(&valid("03")).map(|t| t.2), Some(3));
        // Unknown bits are ignored.
        assert_eq!(tp(&valid("ff")).map(|t| t.2), Some(3));
    }

    #[test]
    fn surrounding_whitespace_is_allowed() {
        assert!(tp(&format!(" {}\t", valid("01"))).is_some());
    }

    #[test]
    fn continued_trace_keeps_the_callers_flags_and_is_remote() {
        let sc = extract(&[("traceparent", &valid("03"))]).expect("valid");
        assert_eq!(sc.trace_flags().to_u8(), 3);
        assert!(sc.is_remote());
        assert!(sc.is_sampled());
        let sc = extract(&[("traceparent", &valid("00"))]).expect("valid");
        assert!(!sc.is_sampled());
    }

    #[test]
    fn two_traceparents_or_an_invalid_one_start_a_new_trace_and_drop_tracestate() {
        let other = format!("00-{TRACE}-{}-01", "1".repeat(16));
        assert!(extract(&[("traceparent", &valid("01")), ("traceparent", &other)]).is_none());
        assert!(extract(&[("traceparent", &format!("{},{}", valid("01"), other))]).is_none());
        assert!(extract(&[("traceparent", "garbage"), ("tracestate", "a=b")]).is_none());
        assert!(extract(&[("tracestate", "a=b")]).is_none());
    }

    #[test]
    fn repeated_tracestate_headers_are_joined() {
        let sc = extract(&[
            ("traceparent", &valid("01")),
            ("tracestate", "a=1,b=2"),
            ("tracestate", "c=3"),
        ])
        .unwrap();
        assert_eq!(sc.trace_state().header(), "a=1,b=2,c=3");
    }

    #[test]
    fn optional_spaces_and_empty_members() {
        let state = parse_tracestate([" a=1 ,\tb=2, ,,c=3 "]).unwrap();
        assert_eq!(state.header(), "a=1,b=2,c=3");
    }

    #[test]
    fn keys_simple_and_multi_tenant() {
        for good in [
            "a",
            "a1_-*/",
            "vendor",
            "t@s",
            "1tenant@sys",
            &format!("a{}", "b".repeat(255)),
            &format!("t@{}", "s".repeat(14)),
        ] {
            assert!(valid_key(good), "{good}");
        }
        for bad in [
            "",
            "A",
            "1abc",
            "a b",
            "a@",
            "@s",
            "t@1s",
            "t@S",
            &format!("a{}", "b".repeat(256)),
            &format!("t@{}", "s".repeat(15)),
            &format!("{}@s", "t".repeat(242)),
            "a@b@c",
            "a.b",
        ] {
            assert!(!valid_key(bad), "{bad}");
        }
    }

    #[test]
    fn values() {
        assert!(valid_value("x"));
        assert!(valid_value("a b"));
        assert!(valid_value(&"v".repeat(256)));
        assert!(!valid_value(""));
        assert!(!valid_value(&"v".repeat(257)));
        assert!(!valid_value("a,b"));
        assert!(!valid_value("a=b"));
        assert!(!valid_value("tab\there"));
        assert!(!valid_value("é"));
        assert!(!valid_value("ends "));
    }

    #[test]
    fn one_bad_member_drops_the_whole_tracestate() {
        assert!(parse_tracestate(["a=1,B=2"]).is_none());
        assert!(parse_tracestate(["a=1,b"]).is_none());
        let sc = extract(&[
            ("traceparent", &valid("01")),
            ("tracestate", "a=1,bad key=2"),
        ])
        .unwrap();
        assert_eq!(sc.trace_state().header(), "");
    }

    #[test]
    fn duplicate_keys_drop_the_whole_tracestate() {
        assert!(parse_tracestate(["a=1,b=2,a=3"]).is_none());
        assert!(parse_tracestate(["a=1", "a=2"]).is_none());
    }

    #[test]
    fn more_than_32_members_drop_the_whole_tracestate() {
        let members: Vec<String> = (0..33).map(|i| format!("k{i}=v")).collect();
        assert!(parse_tracestate([members.join(",").as_str()]).is_none());
        assert_eq!(
            parse_tracestate([members[..32].join(",").as_str()])
                .unwrap()
                .header()
                .matches('=')
                .count(),
            32
        );
    }

    #[test]
    fn inject_writes_version_00_and_our_entry_goes_first() {
        let state = parse_tracestate(["a=1,b=2"])
            .unwrap()
            .insert("ours", "x")
            .unwrap();
        let sc = SpanContext::new(
            TraceId::from_hex(TRACE).unwrap(),
            SpanId::from_hex(PARENT).unwrap(),
            TraceFlags::SAMPLED,
            false,
            state,
        );
        let mut out = HashMap::new();
        TraceContext::default()
            .inject_context(&Context::new().with_remote_span_context(sc), &mut out);
        assert_eq!(
            out.get("traceparent").map(String::as_str),
            Some(valid("01").as_str())
        );
        assert_eq!(
            out.get("tracestate").map(String::as_str),
            Some("ours=x,a=1,b=2")
        );
        let mut none = HashMap::new();
        TraceContext::default().inject_context(&Context::new(), &mut none);
        assert!(none.is_empty());
    }

    #[test]
    fn traces_started_here_carry_the_random_flag() {
        let trace = RandomRoots::default().new_trace_id();
        let sc = SpanContext::new(
            trace,
            SpanId::from_hex(PARENT).unwrap(),
            TraceFlags::SAMPLED,
            false,
            TraceState::NONE,
        );
        let mut out = HashMap::new();
        TraceContext::default()
            .inject_context(&Context::new().with_remote_span_context(sc), &mut out);
        assert!(out["traceparent"].ends_with("-03"), "{out:?}");
    }

    #[test]
    fn never_panics_on_garbage() {
        let long = "x".repeat(100_000);
        let inputs = [
            "",
            "-",
            "00",
            "00-",
            "ééééééééééééééééééééééééééééééééééééééééééééééééééééééé",
            &long,
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0é",
            "\u{0}\u{1}",
        ];
        for input in inputs {
            let _ = parse_traceparent(input);
            let _ = parse_tracestate([input]);
            let _ = extract(&[("traceparent", input), ("tracestate", input)]);
        }
    }
}
