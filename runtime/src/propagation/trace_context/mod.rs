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
//!   the flags keep `sampled` (`01`) and `random` (`02`); every other bit goes
//!   out as zero.
//! - two `traceparent` headers, or an invalid one, mean no parent (a new
//!   trace starts) and `tracestate` is dropped.
//! - repeated `tracestate` headers are joined in order; empty and blank
//!   members are skipped; keys follow the Level 2 grammar (a lowercase
//!   letter or digit, then up to 255 of `a-z 0-9 _ - * / @`, so `@` may
//!   appear any number of times); a member with a bad key or value, or
//!   more than 32 members drop the whole `tracestate`, never part of it.
//! - a key that comes again (in one header or across headers) keeps its
//!   first member; the later ones are dropped, the rest of the list is kept.
//!   The specification allows only one entry per key and lets a vendor
//!   discard an invalid list, but its test suite expects the list inherited
//!   with the duplicates either kept or dropped down to one; keeping the
//!   first is what a reader of the first value (the SDK's `TraceState`
//!   among them) already sees.
//! - members whose keys the SDK's `TraceState` cannot hold (it still applies
//!   the Level 1 `tenant@system` split) are carried beside the span context
//!   and written back in their place, so nothing valid is lost.
//! - a trace this process starts carries the `random` flag (its trace id
//!   comes from a random generator); one it continues keeps the caller's.

use std::hash::{BuildHasher as _, RandomState};
use std::sync::OnceLock;

use opentelemetry::Context;
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
#[cfg(any(feature = "init", feature = "testing", test))]
use opentelemetry_sdk::trace::{IdGenerator, RandomIdGenerator};

const TRACEPARENT: &str = "traceparent";
const TRACESTATE: &str = "tracestate";

/// The `random` trace flag of W3C Trace Context Level 2.
pub const TRACE_FLAG_RANDOM: TraceFlags = TraceFlags::new(0x02);
/// The flags we keep: `sampled` and `random`.
const KNOWN_FLAGS: u8 = 0x03;
/// The most `tracestate` members the specification allows.
const MAX_MEMBERS: usize = 32;
/// The longest `tracestate` key and value.
const MAX_KEY: usize = 256;
const MAX_VALUE: usize = 256;

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
    // All lowercase hex of the right length (so ASCII, and these slices are
    // on character boundaries), so these parse.
    let trace = TraceId::from_hex(&value[3..35]).ok()?;
    let parent = SpanId::from_hex(&value[36..52]).ok()?;
    let flags = u8::from_str_radix(&value[53..55], 16).ok()?;
    if trace == TraceId::INVALID || parent == SpanId::INVALID {
        return None;
    }
    Some((trace, parent, TraceFlags::new(flags & KNOWN_FLAGS)))
}

/// `keychar` of Level 2: `lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"`.
fn key_char(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'*' | b'/' | b'@')
}

/// A Level 2 `tracestate` key: `( lcalpha / DIGIT ) 0*255( keychar )`.
///
/// Level 1 split keys at `@` into a tenant (at most 241 characters) and a
/// system (at most 14, starting with a letter); Level 2 dropped that split:
/// `@` is an ordinary key character after the first, and only the total
/// length (256) is limited.
fn valid_key(key: &str) -> bool {
    let b = key.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_KEY
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter().all(|&c| key_char(c))
}

/// A `tracestate` value: `0*255(chr) nblk-chr`, 1 to 256 printable
/// characters but `,` and `=`, not ending in a space.
fn valid_value(value: &str) -> bool {
    let b = value.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_VALUE
        && b.iter()
            .all(|&c| (0x20..=0x7e).contains(&c) && c != b',' && c != b'=')
        && b[b.len() - 1] != b' '
}

/// A valid `tracestate` list, its members in the order received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Members(Vec<(String, String)>);

impl Members {
    /// The members the SDK's `TraceState` can hold, in order, and whether
    /// every member could be held.
    fn trace_state(&self) -> (TraceState, bool) {
        let held: Vec<&(String, String)> = self.0.iter().filter(|kv| sdk_holds(kv)).collect();
        let all = held.len() == self.0.len();
        let state = TraceState::from_key_value(held.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            // Each member was accepted alone, so together they are too.
            .unwrap_or_default();
        (state, all)
    }
}

/// Whether the SDK's `TraceState` accepts this (valid Level 2) member.
fn sdk_holds((key, value): &(String, String)) -> bool {
    TraceState::from_key_value([(key.as_str(), value.as_str())]).is_ok()
}

fn join<'a>(members: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (i, (k, v)) in members.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// The `tracestate` of all the header's values joined in order (RFC 7230
/// §3.2.2), a duplicated key keeping its first member; `None` when it is
/// not valid (then none of it is kept).
pub(crate) fn parse_tracestate<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<Members> {
    let mut members: Vec<(String, String)> = Vec::new();
    for value in values {
        for member in value.split(',') {
            let member = member.trim_matches(|c| c == ' ' || c == '\t');
            if member.is_empty() {
                continue;
            }
            let (key, val) = member.split_once('=')?;
            if !valid_key(key) || !valid_value(val) {
                return None;
            }
            // At most 32 members are kept, so this scan is bounded.
            if members.iter().any(|(k, _)| k == key) {
                continue;
            }
            if members.len() == MAX_MEMBERS {
                return None;
            }
            members.push((key.to_owned(), val.to_owned()));
        }
    }
    Some(Members(members))
}

/// The full `tracestate` received with a remote parent, kept in the context
/// when some of its members do not fit the SDK's `TraceState`.
#[derive(Debug)]
struct Received {
    trace: TraceId,
    members: Members,
}

/// The `tracestate` to send for a span whose own state is `current`, when
/// `received` came in with its trace: what the span changed or added goes
/// first (in its order), then every received member it left alone, in the
/// order received; members past the 32nd are removed from the right.
fn merge(received: &Members, current: &TraceState) -> String {
    let changed = current
        .into_iter()
        .filter(|(k, v)| !received.0.iter().any(|(rk, rv)| rk == k && rv == v));
    let kept = received
        .0
        .iter()
        .filter(|kv| !sdk_holds(kv) || current.get(&kv.0) == Some(kv.1.as_str()))
        .map(|(k, v)| (k.as_str(), v.as_str()));
    join(changed.chain(kept).take(MAX_MEMBERS))
}

impl TraceContext {
    fn extract(extractor: &dyn Extractor) -> Option<(SpanContext, Option<Received>)> {
        let parents = extractor.get_all(TRACEPARENT).unwrap_or_default();
        let [traceparent] = parents.as_slice() else {
            // None, or two: no parent.
            return None;
        };
        let (trace, parent, flags) = parse_traceparent(traceparent)?;
        let states = extractor.get_all(TRACESTATE).unwrap_or_default();
        // An invalid tracestate is dropped; the traceparent still holds.
        let members = parse_tracestate(states.iter().copied()).unwrap_or_default();
        let (state, all) = members.trace_state();
        let sc = SpanContext::new(trace, parent, flags, true, state);
        let received = (!all).then_some(Received { trace, members });
        Some((sc, received))
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
        let state = match cx.get::<Received>() {
            Some(received) if received.trace == sc.trace_id() => {
                merge(&received.members, sc.trace_state())
            }
            // The SDK's `TraceState` never holds more than 32 members.
            _ => sc.trace_state().header(),
        };
        if !state.is_empty() {
            injector.set(TRACESTATE, state);
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        match TraceContext::extract(extractor) {
            Some((sc, None)) => cx.with_remote_span_context(sc),
            Some((sc, Some(received))) => cx.with_remote_span_context(sc).with_value(received),
            None => cx.clone(),
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(&self.fields)
    }
}

/// How many leading bytes of a trace id started here are a tag; the other
/// ten (80 bits, more than the 7 bytes Level 2 asks for, and all of the
/// 8 low bytes the SDK's ratio sampler reads) are random.
const TAG_LEN: usize = 6;

/// The process's secret key for tagging trace ids.
fn tag_key() -> &'static RandomState {
    static KEY: OnceLock<RandomState> = OnceLock::new();
    // Randomly keyed SipHash: a caller cannot forge a tag it has not seen.
    KEY.get_or_init(RandomState::new)
}

fn tag(random: &[u8]) -> [u8; TAG_LEN] {
    let hash = tag_key().hash_one(random).to_be_bytes();
    let mut tag = [0; TAG_LEN];
    tag.copy_from_slice(&hash[..TAG_LEN]);
    tag
}

/// Whether `trace` was started by [`RandomRoots`] in this process.
///
/// The SDK builds a root span's flags from an empty parent, so the
/// `random` flag cannot ride in the span context from the start; the trace
/// id can. Started traces carry a keyed tag of their random bytes in their
/// leading bytes, so this is decided from the id alone, for as long as the
/// process lives, with no set to fill up or forget. A caller's trace id
/// matches by chance once in 2^48.
fn minted_here(trace: TraceId) -> bool {
    let bytes = trace.to_bytes();
    bytes[..TAG_LEN] == tag(&bytes[TAG_LEN..])
}

/// The SDK's random id generator, tagging the trace ids it mints so that
/// `inject` can tell them apart (see `minted_here`).
#[cfg(any(feature = "init", feature = "testing", test))]
#[derive(Debug, Default)]
pub(crate) struct RandomRoots(RandomIdGenerator);

#[cfg(any(feature = "init", feature = "testing", test))]
impl IdGenerator for RandomRoots {
    fn new_trace_id(&self) -> TraceId {
        loop {
            let mut bytes = self.0.new_trace_id().to_bytes();
            let tag = tag(&bytes[TAG_LEN..]);
            bytes[..TAG_LEN].copy_from_slice(&tag);
            let id = TraceId::from_bytes(bytes);
            if id != TraceId::INVALID {
                return id;
            }
        }
    }

    fn new_span_id(&self) -> SpanId {
        self.0.new_span_id()
    }
}

/// One test per rule of the `traceparent` and `tracestate` sections of W3C
/// Trace Context Level 2 (and of the processing model where it says what to
/// do with them). Each test's name starts with the header it is about and
/// its doc comment names the rule.
#[cfg(test)]
mod tests;
