//! The `traceparent` rules, one test each.

use super::*;

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
