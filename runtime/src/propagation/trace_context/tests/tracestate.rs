//! The `tracestate` rules, one test each.

use super::*;

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

/// Only one entry per key is allowed. A list with a duplicated key (in
/// one header or across headers) is still inherited: the first member of
/// the key is kept, the later ones are dropped, the rest of the list stays
/// in order (the W3C suite's `test_tracestate_duplicated_keys` accepts the
/// list as received or with one duplicate dropped, not discarded whole).
#[test]
fn tracestate_duplicated_keys_keep_the_first() {
    for (headers, kept) in [
        (&["foo=1,foo=1"][..], "foo=1"),
        (&["foo=1,foo=2"], "foo=1"),
        (&["foo=1", "foo=1"], "foo=1"),
        (&["foo=1", "foo=2"], "foo=1"),
        (&["a=1,foo@@x=2,b=3,foo@@x=4"], "a=1,foo@@x=2,b=3"),
        (&["a=1,b=2", "c=3,a=4,d=5"], "a=1,b=2,c=3,d=5"),
    ] {
        assert_eq!(ts(headers).as_deref(), Some(kept), "{headers:?}");
    }
    let out = forwarded(&[
        ("traceparent", &valid("00")),
        ("tracestate", "foo=1"),
        ("tracestate", "foo=2,bar=3"),
    ]);
    assert!(out["traceparent"].contains(TRACE), "{out:?}");
    assert_eq!(out["tracestate"], "foo=1,bar=3");
    let sc = extract(&[("traceparent", &valid("00")), ("tracestate", "foo=1,foo=2")]).unwrap();
    assert_eq!(sc.trace_state().get("foo"), Some("1"));
    // A dropped duplicate is no member: 32 distinct keys and one repeat
    // are a full list, not a 33rd member.
    let members: Vec<String> = (1..=32).map(|i| format!("k{i}=v")).collect();
    let with_repeat = format!("{},k1=w", members.join(","));
    assert_eq!(ts(&[with_repeat.as_str()]), Some(members.join(",")));
    // A duplicate is still checked: a bad value in it drops the list.
    assert_eq!(ts(&["foo=1,foo=tab\there"]), None);
    assert_eq!(ts(&["foo=1,foo="]), None);
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

/// Hostile input never panics, whatever its length or bytes, and gives
/// what the rules above say: none of it is a `traceparent` (so nothing is
/// sent on when it is the only one), and beside a valid `traceparent` the
/// traceparent is always sent on with a `tracestate` only where the input
/// is a valid list.
#[test]
fn never_panics_on_garbage() {
    let long = "x".repeat(100_000);
    let many = "a=1,".repeat(10_000);
    let wide: String = (0..10_000).map(|i| format!("k{i}=v,")).collect();
    // Each input and the tracestate it is as one: `None` when invalid.
    let inputs: [(&str, Option<&str>); 13] = [
        ("", Some("")),
        ("-", None),
        ("00", None),
        ("00-", None),
        (
            "ééééééééééééééééééééééééééééééééééééééééééééééééééééééé",
            None,
        ),
        (&long, None),
        // Ten thousand repeats of one member: the first is kept.
        (&many, Some("a=1")),
        // Ten thousand distinct members: over 32.
        (&wide, None),
        (
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0é",
            None,
        ),
        (
            "00-4bf92f3577b34da6a3ce929d0e0e473é-00f067aa0ba902b7-01",
            None,
        ),
        ("\u{0}\u{1}", None),
        ("=,=,=", None),
        ("@=@", None),
    ];
    for (input, state) in inputs {
        let shown: String = input.chars().take(60).collect();
        assert_eq!(tp(input), None, "{shown:?}");
        assert_eq!(ts(&[input]).as_deref(), state, "{shown:?}");
        let out = forwarded(&[("traceparent", input), ("tracestate", input)]);
        assert!(out.is_empty(), "{shown:?}: {out:?}");
        let out = forwarded(&[("traceparent", &valid("01")), ("tracestate", input)]);
        let (trace, _, flags) = tp(&out["traceparent"]).expect("a valid traceparent is sent on");
        assert_eq!((trace.as_str(), flags), (TRACE, 1), "{shown:?}");
        // An empty list is not sent.
        let sent = state.filter(|s| !s.is_empty());
        assert_eq!(out.get("tracestate").map(String::as_str), sent, "{shown:?}");
    }
}
