//! One test per rule of W3C Trace Context Level 2 (`traceparent`, then
//! `tracestate`), and the random flag on traces started here.

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

fn ts(values: &[&str]) -> Option<String> {
    parse_tracestate(values.iter().copied())
        .map(|m| join(m.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
}

/// Request headers as a list, so that repeated names and any casing can
/// be sent; names are matched case-insensitively, as the carriers do.
struct Headers(Vec<(String, String)>);
impl Extractor for Headers {
    fn get(&self, key: &str) -> Option<&str> {
        self.get_all(key).and_then(|all| all.first().copied())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| k.as_str()).collect()
    }
    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let all: Vec<&str> = self
            .0
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
            .collect();
        (!all.is_empty()).then_some(all)
    }
}

fn extract_cx(headers: &[(&str, &str)]) -> Context {
    let headers = Headers(
        headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    );
    TraceContext::default().extract_with_context(&Context::new(), &headers)
}

fn extract(headers: &[(&str, &str)]) -> Option<SpanContext> {
    let sc = extract_cx(headers).span().span_context().clone();
    sc.is_valid().then_some(sc)
}

fn inject(cx: &Context) -> HashMap<String, String> {
    let mut out = HashMap::new();
    TraceContext::default().inject_context(cx, &mut out);
    out
}

/// What a service sends on after receiving `headers`: the remote
/// parent's context, with a local child span of the same trace.
fn forwarded(headers: &[(&str, &str)]) -> HashMap<String, String> {
    let cx = extract_cx(headers);
    let parent = cx.span().span_context().clone();
    let child = SpanContext::new(
        parent.trace_id(),
        SpanId::from_hex("1111111111111111").unwrap(),
        parent.trace_flags(),
        false,
        parent.trace_state().clone(),
    );
    inject(&cx.with_remote_span_context(child))
}

fn local(trace: TraceId, flags: TraceFlags, state: TraceState) -> Context {
    Context::new().with_remote_span_context(SpanContext::new(
        trace,
        SpanId::from_hex(PARENT).unwrap(),
        flags,
        false,
        state,
    ))
}

// ---- traceparent ----

/// Header name: vendors MUST expect the name in any case.
#[test]
fn traceparent_header_name_in_any_case() {
    for name in ["traceparent", "TraceParent", "TRACEPARENT", "tRaCePaReNt"] {
        let sc = extract(&[(name, &valid("01"))]).expect(name);
        assert_eq!(sc.trace_id().to_string(), TRACE);
    }
    // A name with a delimiter is another header.
    assert!(extract(&[("trace-parent", &valid("01"))]).is_none());
    assert!(extract(&[("trace.parent", &valid("01"))]).is_none());
}

/// version = 2HEXDIGLC followed by a dash; otherwise the trace restarts.
#[test]
fn traceparent_version_is_two_lowercase_hex_digits() {
    let rest = format!("{TRACE}-{PARENT}-01");
    for bad in ["0", "000", "0000", ".0", "0.", "0A", "AA", "g0", ""] {
        assert_eq!(tp(&format!("{bad}-{rest}")), None, "{bad}");
    }
    assert!(tp(&format!("00-{rest}")).is_some());
}

/// Version `ff` is invalid.
#[test]
fn traceparent_version_ff_is_invalid() {
    assert_eq!(tp(&format!("ff-{TRACE}-{PARENT}-01")), None);
}

/// Version 00: exactly `version "-" trace-id "-" parent-id "-" trace-flags`,
/// nothing before or after (55 characters).
#[test]
fn traceparent_version_00_is_exactly_55_characters() {
    assert_eq!(tp(&valid("01")), Some((TRACE.into(), PARENT.into(), 1)));
    assert_eq!(tp(&format!("{}.", valid("01"))), None);
    assert_eq!(tp(&format!("{}-", valid("01"))), None);
    assert_eq!(tp(&format!("{}-what-the-future-holds", valid("01"))), None);
    assert_eq!(tp(&valid("01")[..54]), None);
}

/// A higher version: at least 55 characters, the first three fields
/// parsed as in 00, the flags at the end or followed by a dash; fields
/// after them are not parsed.
#[test]
fn traceparent_higher_version_is_parsed_by_its_known_fields() {
    let ok = Some((TRACE.into(), PARENT.into(), 1));
    assert_eq!(tp(&format!("01-{TRACE}-{PARENT}-01")), ok);
    assert_eq!(
        tp(&format!("cc-{TRACE}-{PARENT}-01-what-the-future-holds")),
        ok
    );
    assert_eq!(
        tp(&format!("cc-{TRACE}-{PARENT}-01.what-the-future-holds")),
        None
    );
    assert_eq!(tp(&format!("cc-{TRACE}-{PARENT}-01x")), None);
    assert_eq!(tp(&format!("cc-{TRACE}-{PARENT}-1")), None);
    // Its fields are checked like version 00's.
    assert_eq!(tp(&format!("cc-{}-{PARENT}-01", "0".repeat(32))), None);
}

/// trace-id = 32HEXDIGLC; anything else makes vendors ignore the header.
#[test]
fn traceparent_trace_id_is_32_lowercase_hex_digits() {
    let long = format!("{TRACE}3");
    let upper = TRACE.to_uppercase();
    let dot = format!(".{}", &TRACE[1..]);
    for bad in [&TRACE[1..], long.as_str(), upper.as_str(), dot.as_str()] {
        assert_eq!(tp(&format!("00-{bad}-{PARENT}-01")), None, "{bad}");
    }
}

/// trace-id: all zeros is invalid.
#[test]
fn traceparent_trace_id_all_zeros_is_invalid() {
    assert_eq!(tp(&format!("00-{}-{PARENT}-01", "0".repeat(32))), None);
}

/// parent-id = 16HEXDIGLC; anything else makes vendors ignore the header.
#[test]
fn traceparent_parent_id_is_16_lowercase_hex_digits() {
    let long = format!("{PARENT}7");
    for bad in [
        &PARENT[1..],
        long.as_str(),
        "00F067AA0BA902B7",
        ".0f067aa0ba902b7",
    ] {
        assert_eq!(tp(&format!("00-{TRACE}-{bad}-01")), None, "{bad}");
    }
}

/// parent-id: all zeros is invalid.
#[test]
fn traceparent_parent_id_all_zeros_is_invalid() {
    assert_eq!(tp(&format!("00-{TRACE}-{}-01", "0".repeat(16))), None);
}

/// trace-flags = 2HEXDIGLC.
#[test]
fn traceparent_trace_flags_are_two_lowercase_hex_digits() {
    for bad in ["1", "001", ".0", "0.", "0A", "FF"] {
        assert_eq!(tp(&format!("00-{TRACE}-{PARENT}-{bad}")), None, "{bad}");
    }
}

/// trace-flags is a bit field: each flag is read by masking.
#[test]
fn traceparent_trace_flags_are_a_bit_field() {
    assert_eq!(tp(&valid("00")).map(|t| t.2), Some(0));
    assert_eq!(tp(&valid("01")).map(|t| t.2), Some(1));
    assert_eq!(tp(&valid("09")).map(|t| t.2), Some(1));
    assert_eq!(tp(&valid("02")).map(|t| t.2), Some(2));
    assert_eq!(tp(&valid("0a")).map(|t| t.2), Some(2));
    assert_eq!(tp(&valid("03")).map(|t| t.2), Some(3));
}

/// Sampled flag: the caller's value is what a continued trace starts
/// from, and the parent is remote.
#[test]
fn traceparent_sampled_flag_is_read_from_the_caller() {
    let sc = extract(&[("traceparent", &valid("01"))]).expect("valid");
    assert!(sc.is_sampled());
    assert!(sc.is_remote());
    let sc = extract(&[("traceparent", &valid("00"))]).expect("valid");
    assert!(!sc.is_sampled());
}

/// Random flag: a participant that continues a trace MUST send the
/// random flag it received, set or not.
#[test]
fn traceparent_random_flag_of_a_continued_trace_is_kept() {
    for flags in ["00", "01", "02", "03"] {
        let out = forwarded(&[("traceparent", &valid(flags))]);
        assert!(
            out["traceparent"].ends_with(&format!("-{flags}")),
            "{flags}: {out:?}"
        );
    }
}

/// Random flag: a participant that starts a trace with a trace id whose
/// right-most 7 bytes are random sets the flag.
#[test]
fn traceparent_random_flag_is_set_on_traces_started_here() {
    let trace = RandomRoots::default().new_trace_id();
    for (flags, out) in [(TraceFlags::SAMPLED, "-03"), (TraceFlags::default(), "-02")] {
        let headers = inject(&local(trace, flags, TraceState::NONE));
        assert!(headers["traceparent"].ends_with(out), "{headers:?}");
    }
}

/// Random flag: it MUST NOT be set for a trace id that is not known to
/// be random, such as a caller's that did not set it.
#[test]
fn traceparent_random_flag_is_not_set_on_a_callers_trace_without_it() {
    for trace in [TRACE, "12345678901234567890123456789012"] {
        let trace = TraceId::from_hex(trace).unwrap();
        let headers = inject(&local(trace, TraceFlags::SAMPLED, TraceState::NONE));
        assert!(headers["traceparent"].ends_with("-01"), "{headers:?}");
    }
}

/// Random flag: the flag of a trace started here does not switch off
/// while the trace goes on, however many traces start meanwhile (the
/// decision is made from the trace id alone, with nothing to roll over).
#[test]
fn traceparent_random_flag_survives_any_number_of_later_traces() {
    let roots = RandomRoots::default();
    let first = roots.new_trace_id();
    // More than the 16 384 trace ids the old bounded set held.
    let mut last = first;
    for _ in 0..20_000 {
        last = roots.new_trace_id();
        assert!(minted_here(last));
    }
    assert!(minted_here(first));
    let headers = inject(&local(first, TraceFlags::SAMPLED, TraceState::NONE));
    assert!(headers["traceparent"].ends_with("-03"), "{headers:?}");
    // Another generator of this process (a second `init`) agrees.
    assert!(minted_here(RandomRoots::default().new_trace_id()));
    assert_ne!(first, last);
}

/// Random flag: when set, at least the right-most 7 bytes are random, and
/// the ids of started traces stay unique.
#[test]
fn traceparent_random_trace_ids_are_random_in_their_low_bytes() {
    let roots = RandomRoots::default();
    let ids: Vec<[u8; 16]> = (0..2_000)
        .map(|_| roots.new_trace_id().to_bytes())
        .collect();
    let unique: std::collections::HashSet<&[u8]> = ids.iter().map(|b| &b[TAG_LEN..]).collect();
    assert_eq!(unique.len(), ids.len());
    // Every bit of the random part takes both values.
    for bit in 0..(16 - TAG_LEN) * 8 {
        let ones = ids
            .iter()
            .filter(|b| b[TAG_LEN + bit / 8] & (1 << (bit % 8)) != 0)
            .count();
        assert!((700..1_300).contains(&ones), "bit {bit}: {ones}");
    }
    // A changed random byte breaks the tag: it is not a constant.
    let mut forged = ids[0];
    forged[15] ^= 1;
    assert!(!minted_here(TraceId::from_bytes(forged)));
}

/// Other flags are reserved: vendors MUST set them to zero.
#[test]
fn traceparent_other_flags_go_out_as_zero() {
    assert_eq!(tp(&valid("ff")).map(|t| t.2), Some(3));
    let out = forwarded(&[("traceparent", &valid("ff"))]);
    assert!(out["traceparent"].ends_with("-03"), "{out:?}");
    let trace = TraceId::from_hex(TRACE).unwrap();
    let headers = inject(&local(trace, TraceFlags::new(0xfd), TraceState::NONE));
    assert!(headers["traceparent"].ends_with("-01"), "{headers:?}");
}

/// Versioning: a vendor sends the highest version it knows (00), so a
/// higher version received is downgraded.
#[test]
fn traceparent_goes_out_as_version_00() {
    let out = forwarded(&[("traceparent", &format!("cc-{TRACE}-{PARENT}-01-extra"))]);
    assert_eq!(
        out["traceparent"],
        format!("00-{TRACE}-1111111111111111-01")
    );
}

/// Mutation: the outgoing parent-id is the current operation's, the
/// trace id stays.
#[test]
fn traceparent_parent_id_is_updated_and_trace_id_kept() {
    let out = forwarded(&[("traceparent", &valid("01"))]);
    assert_eq!(
        out["traceparent"],
        format!("00-{TRACE}-1111111111111111-01")
    );
    assert!(inject(&Context::new()).is_empty());
}

/// More than one traceparent (as repeated headers or combined with a
/// comma, RFC 7230) is not a valid traceparent: the trace restarts.
#[test]
fn traceparent_repeated_is_invalid() {
    let other = format!("00-{TRACE}-{}-01", "1".repeat(16));
    assert!(extract(&[("traceparent", &valid("01")), ("traceparent", &other)]).is_none());
    assert!(extract(&[("traceparent", &valid("01")), ("TraceParent", &valid("01"))]).is_none());
    assert!(extract(&[("traceparent", &format!("{},{other}", valid("01")))]).is_none());
}

/// Optional whitespace (SP, HTAB) around the value is not part of it.
#[test]
fn traceparent_surrounding_whitespace_is_ignored() {
    for value in [
        format!(" {}", valid("01")),
        format!("\t{}", valid("01")),
        format!("{} ", valid("01")),
        format!("{}\t", valid("01")),
        format!("\t {} \t", valid("01")),
    ] {
        assert!(tp(&value).is_some(), "{value:?}");
    }
    assert!(tp(&format!("\n{}", valid("01"))).is_none());
}

/// If the traceparent cannot be parsed, tracestate MUST NOT be parsed
/// (and is dropped with it); a tracestate without a traceparent is
/// discarded.
#[test]
fn traceparent_invalid_or_missing_drops_tracestate() {
    let cx = extract_cx(&[("traceparent", "garbage"), ("tracestate", "a=b")]);
    assert!(!cx.span().span_context().is_valid());
    assert!(inject(&cx).is_empty());
    let cx = extract_cx(&[("tracestate", "foo@@bar=1")]);
    assert!(!cx.span().span_context().is_valid());
    assert!(cx.get::<Received>().is_none());
}

// ---- tracestate ----

/// Header name: vendors MUST expect the name in any case.
#[test]
fn tracestate_header_name_in_any_case() {
    for name in ["tracestate", "TraceState", "TRACESTATE", "tRaCeStAtE"] {
        let sc = extract(&[("traceparent", &valid("00")), (name, "foo=1")]).unwrap();
        assert_eq!(sc.trace_state().get("foo"), Some("1"), "{name}");
    }
    let sc = extract(&[("traceparent", &valid("00")), ("trace-state", "foo=1")]).unwrap();
    assert_eq!(sc.trace_state().header(), "");
}

/// Multiple tracestate headers MUST be combined into one, in order
/// (RFC 7230 §3.2.2).
#[test]
fn tracestate_repeated_headers_are_combined_in_order() {
    assert_eq!(
        ts(&["foo=1,bar=2", "rojo=1,congo=2", "baz=3"]).as_deref(),
        Some("foo=1,bar=2,rojo=1,congo=2,baz=3")
    );
    let out = forwarded(&[
        ("traceparent", &valid("00")),
        ("tracestate", "foo=1,bar=2"),
        ("TraceState", "baz=3"),
    ]);
    assert_eq!(out["tracestate"], "foo=1,bar=2,baz=3");
}

/// Vendors MUST accept empty tracestate headers; empty and
/// whitespace-only list members are allowed.
#[test]
fn tracestate_empty_headers_and_members_are_accepted() {
    assert_eq!(ts(&[""]).as_deref(), Some(""));
    assert_eq!(ts(&["foo=1", ""]).as_deref(), Some("foo=1"));
    assert_eq!(ts(&["", "foo=1"]).as_deref(), Some("foo=1"));
    assert_eq!(ts(&["a=1, ,,\t,b=2,"]).as_deref(), Some("a=1,b=2"));
    assert_eq!(ts(&[" \t "]).as_deref(), Some(""));
}

/// Spaces and horizontal tabs surrounding list members are ignored.
#[test]
fn tracestate_whitespace_around_members_is_ignored() {
    assert_eq!(
        ts(&["foo=1 \t , \t bar=2, \t baz=3"]).as_deref(),
        Some("foo=1,bar=2,baz=3")
    );
    for one in [" foo=1", "\tfoo=1", "foo=1 ", "foo=1\t", "\t foo=1 \t"] {
        assert_eq!(ts(&[one]).as_deref(), Some("foo=1"), "{one:?}");
    }
    // Only SP and HTAB are optional whitespace.
    assert_eq!(ts(&["foo=1\n"]), None);
}

/// list-member = key "=" value: a member without `=` is invalid.
#[test]
fn tracestate_member_is_key_equals_value() {
    assert_eq!(ts(&["foo"]), None);
    assert_eq!(ts(&["foo=1,bar"]), None);
    assert_eq!(ts(&["=1"]), None);
    assert_eq!(ts(&["foo="]), None);
}

/// There can be at most 32 list members: 32 are kept, 33 (over any
/// number of headers) make the list invalid.
#[test]
fn tracestate_has_at_most_32_members() {
    let members: Vec<String> = (1..=33).map(|i| format!("bar{i:02}={i:02}")).collect();
    let headers: Vec<String> = members[..32].chunks(10).map(|c| c.join(",")).collect();
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let out = ts(&headers).unwrap();
    assert_eq!(out, members[..32].join(","));
    let mut over = headers.clone();
    over.push(&members[32]);
    assert_eq!(ts(&over), None);
    // Empty members do not count.
    let joined = members[..32].join(",");
    assert!(ts(&[joined.as_str(), ",,"]).is_some());
}

/// key = ( lcalpha / DIGIT ) 0*255( keychar ), keychar = lcalpha / DIGIT
/// / "_" / "-" / "*" / "/" / "@": every allowed character is kept.
#[test]
fn tracestate_key_allows_every_level_2_character() {
    let all = "abcdefghijklmnopqrstuvwxyz0123456789_-*/@";
    for key in [all, "0abc", "9", "a", "a@b", "1tenant@sys"] {
        assert!(valid_key(key), "{key}");
    }
    for bad in [
        "", "A", "Foo", "foo bar", "foo.bar", "foo=", "é", "_a", "-a", "*a", "/a",
    ] {
        assert!(!valid_key(bad), "{bad:?}");
    }
}

/// Key: `@` is an ordinary key character after the first, any number of
/// times and anywhere (the Level 1 tenant@system form is gone), but a
/// key cannot start with it.
#[test]
fn tracestate_key_at_sign_anywhere_after_the_first_character() {
    for key in ["foo@", "foo@@bar", "foo@bar@baz", "a@1"] {
        assert!(valid_key(key), "{key}");
    }
    assert!(!valid_key("@foo"));
    assert_eq!(ts(&["@foo=1,bar=2"]), None);
    assert_eq!(
        ts(&["foo@=1,foo@@bar=2,foo@bar@baz=3"]).as_deref(),
        Some("foo@=1,foo@@bar=2,foo@bar@baz=3")
    );
}

/// Key: up to 256 characters in total, wherever the `@` signs are (no
/// 241/14 split any more).
#[test]
fn tracestate_key_is_at_most_256_characters() {
    assert!(valid_key(&"z".repeat(256)));
    assert!(!valid_key(&"z".repeat(257)));
    for key in [
        format!("{}@{}", "t".repeat(241), "v".repeat(14)),
        format!("{}@v", "t".repeat(242)),
        format!("t@{}", "v".repeat(15)),
        format!("t@{}", "v".repeat(254)),
    ] {
        assert!(valid_key(&key), "{}", key.len());
    }
    assert!(!valid_key(&format!("t@{}", "v".repeat(255))));
}

/// value = 0*255(chr) nblk-chr: 1 to 256 printable ASCII characters but
/// `,` and `=`, the last not a space; every allowed character is kept.
#[test]
fn tracestate_value_grammar() {
    let all: String = (0x20u8..=0x7e)
        .filter(|c| *c != b',' && *c != b'=')
        .map(char::from)
        .collect();
    assert!(valid_value(&all));
    let member = format!("k={all}");
    assert_eq!(ts(&[member.as_str()]), Some(member.clone()));
    assert!(valid_value(&"v".repeat(256)));
    for bad in ["", "a,b", "a=b", "tab\there", "é", "\u{7f}", "nl\n"] {
        assert!(!valid_value(bad), "{bad:?}");
    }
    assert!(!valid_value(&"v".repeat(257)));
}

/// Value: leading spaces are part of the value; trailing ones are
/// optional whitespace, not part of it.
#[test]
fn tracestate_value_leading_spaces_kept_trailing_dropped() {
    assert!(valid_value(" x"));
    assert!(!valid_value("x "));
    assert_eq!(ts(&["k= x  "]).as_deref(), Some("k= x"));
}

/// Only one entry per key is allowed: a list with a duplicated key (in
/// one header or across headers) is invalid and is discarded whole
/// (the processing model allows discarding the entire header).
#[test]
fn tracestate_duplicated_keys_discard_the_list() {
    for headers in [
        &["foo=1,foo=1"][..],
        &["foo=1,foo=2"],
        &["foo=1", "foo=1"],
        &["foo=1", "foo=2"],
        &["a=1,foo@@x=2,b=3,foo@@x=4"],
    ] {
        assert_eq!(ts(headers), None, "{headers:?}");
    }
    let mut pairs = vec![("traceparent", valid("00"))];
    pairs.extend([
        ("tracestate", "foo=1".to_owned()),
        ("tracestate", "foo=2".to_owned()),
    ]);
    let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = forwarded(&refs);
    assert!(!out.contains_key("tracestate"), "{out:?}");
}

/// A tracestate that cannot be parsed MAY be discarded whole: one bad
/// member drops all of it, never part of it.
#[test]
fn tracestate_invalid_list_is_discarded_whole() {
    for bad in [
        "foo =1",
        "FOO=1",
        "foo.bar=1",
        "a=1,B=2",
        "a=1,b",
        "a=1,z=x,y",
    ] {
        assert_eq!(ts(&[bad]), None, "{bad}");
    }
    let long = format!("{}=1", "z".repeat(257));
    assert_eq!(ts(&["a=1", long.as_str()]), None);
}

/// Failure to parse tracestate MUST NOT affect the parsing of
/// traceparent.
#[test]
fn tracestate_invalid_keeps_the_traceparent() {
    let sc = extract(&[("traceparent", &valid("01")), ("tracestate", "bad key=1")]).unwrap();
    assert_eq!(sc.trace_id().to_string(), TRACE);
    assert_eq!(sc.trace_state().header(), "");
    let out = forwarded(&[("traceparent", &valid("01")), ("tracestate", "a=1,=")]);
    assert!(out["traceparent"].contains(TRACE));
    assert!(!out.contains_key("tracestate"));
}

/// Vendors receiving tracestate MUST send it on, every member the
/// Level 2 grammar allows, the ones the SDK's `TraceState` cannot hold
/// too, in their order.
#[test]
fn tracestate_is_forwarded_with_every_valid_member() {
    let long_tenant = format!("{}@v=2", "t".repeat(242));
    let state = format!("a=1,foo@@bar=x,b=2,{long_tenant},t@{}=3", "v".repeat(15));
    let out = forwarded(&[("traceparent", &valid("01")), ("tracestate", &state)]);
    assert_eq!(out["tracestate"], state);
    // What the SDK's TraceState holds is in the span context too.
    let sc = extract(&[("traceparent", &valid("01")), ("tracestate", &state)]).unwrap();
    assert_eq!(sc.trace_state().get("a"), Some("1"));
    assert_eq!(sc.trace_state().get("b"), Some("2"));
}

/// Mutating tracestate: an updated or added key moves to the left, the
/// unmodified members keep their order, deleted ones are gone.
#[test]
fn tracestate_mutations_go_left_and_keep_the_rest_in_order() {
    let received = parse_tracestate(["a=1,x@@y=2,b=3,c=4"]).unwrap();
    let (state, all) = received.trace_state();
    assert!(!all);
    assert_eq!(state.header(), "a=1,b=3,c=4");
    let mutated = state
        .insert("b", "9")
        .unwrap()
        .insert("ours", "z")
        .unwrap()
        .delete("c")
        .unwrap();
    assert_eq!(merge(&received, &mutated), "ours=z,b=9,a=1,x@@y=2");
    assert_eq!(merge(&received, &state), "a=1,x@@y=2,b=3,c=4");
}

/// Adding an entry to a full list (32 members) removes the right-most.
#[test]
fn tracestate_adding_to_a_full_list_removes_the_rightmost() {
    let full: Vec<String> = (0..31).map(|i| format!("k{i}=v")).collect();
    let header = format!("t@@x=1,{}", full.join(","));
    let out = forwarded(&[("traceparent", &valid("01")), ("tracestate", &header)]);
    assert_eq!(out["tracestate"], header);
    let received = parse_tracestate([header.as_str()]).unwrap();
    let (state, _) = received.trace_state();
    let added = state.insert("ours", "z").unwrap();
    let merged = merge(&received, &added);
    assert_eq!(merged.split(',').count(), 32);
    assert!(merged.starts_with("ours=z,t@@x=1,k0=v,"), "{merged}");
    assert!(!merged.contains("k30="), "{merged}");
    let sdk_only = parse_tracestate([full.join(",").as_str()]).unwrap();
    let (state, _) = sdk_only.trace_state();
    let added = state
        .insert("ours", "z")
        .unwrap()
        .insert("more", "y")
        .unwrap();
    let headers = inject(&local(
        TraceId::from_hex(TRACE).unwrap(),
        TraceFlags::SAMPLED,
        added,
    ));
    assert_eq!(headers["tracestate"].split(',').count(), 32);
}

/// Limits: vendors SHOULD propagate at least 512 characters; a list of
/// 32 maximal members is sent on whole, never truncated.
#[test]
fn tracestate_long_lists_are_not_truncated() {
    let members: Vec<String> = (0..32)
        .map(|i| format!("{}{i:02}={}", "k".repeat(254), "v".repeat(256)))
        .collect();
    let header = members.join(",");
    assert!(header.len() > 16_000);
    let out = forwarded(&[("traceparent", &valid("01")), ("tracestate", &header)]);
    assert_eq!(out["tracestate"], header);
}

/// Vendors SHOULD avoid sending empty tracestate headers.
#[test]
fn tracestate_empty_is_not_sent() {
    let out = forwarded(&[("traceparent", &valid("01")), ("tracestate", " , ")]);
    assert!(!out.contains_key("tracestate"), "{out:?}");
    let out = forwarded(&[("traceparent", &valid("01"))]);
    assert!(!out.contains_key("tracestate"), "{out:?}");
}

/// The state kept for members the SDK cannot hold belongs to its trace:
/// a span of another trace in the same context does not send it.
#[test]
fn tracestate_kept_members_stay_with_their_trace() {
    let cx = extract_cx(&[("traceparent", &valid("01")), ("tracestate", "a@@b=1")]);
    let other = RandomRoots::default().new_trace_id();
    let root = cx.with_remote_span_context(SpanContext::new(
        other,
        SpanId::from_hex(PARENT).unwrap(),
        TraceFlags::SAMPLED,
        false,
        TraceState::NONE,
    ));
    let out = inject(&root);
    assert!(!out.contains_key("tracestate"), "{out:?}");
}

/// Hostile input never panics, whatever its length or bytes.
#[test]
fn never_panics_on_garbage() {
    let long = "x".repeat(100_000);
    let many = "a=1,".repeat(10_000);
    let inputs = [
        "",
        "-",
        "00",
        "00-",
        "ééééééééééééééééééééééééééééééééééééééééééééééééééééééé",
        &long,
        &many,
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0é",
        "00-4bf92f3577b34da6a3ce929d0e0e473é-00f067aa0ba902b7-01",
        "\u{0}\u{1}",
        "=,=,=",
        "@=@",
    ];
    for input in inputs {
        let _ = parse_traceparent(input);
        let _ = parse_tracestate([input]);
        let _ = forwarded(&[("traceparent", input), ("tracestate", input)]);
        let _ = forwarded(&[("traceparent", &valid("01")), ("tracestate", input)]);
    }
}
