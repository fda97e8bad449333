//! What one export may cost, checked before it is decoded: its size once
//! unzipped, and how many values it holds.
//!
//! Size alone does not bound memory. A 65 KB gzip body unzips to 64 MiB of
//! `0a 00`, and each two bytes are an empty span that prost turns into a
//! struct of a few hundred bytes: 33 M of them asked for 4.4 GB (#25). So
//! the body is also walked once, without allocating, and its fields are
//! counted: every field at every depth, a length-delimited one taken as a
//! nested message whenever it parses as one. A string that happens to parse
//! is counted too, which can only over-count. JSON is counted by its `{`,
//! one per object, strings included for the same reason.
//!
//! Metrics are decoded through types that skip everything but the
//! duration histograms' points (`metrics.rs`). Their bucket counts and
//! bounds do become vectors, which the field count does not see (a packed
//! array is one field): 8 bytes of vector for 8 bytes of protobuf, and at
//! most 4 for each of JSON's (`0,`): 32 MiB for a body of [`MAX_MESSAGE`],
//! less than the worst that [`MAX_FIELDS`] allows. The points are checked
//! once decoded, and at most `red::BOUNDS_MAX` bounds are kept per point.

/// The largest export accepted, as sent and once unzipped: twice the
/// OpenTelemetry Collector's default gRPC limit (4 MiB), so whatever a
/// collector takes, the viewer takes.
pub(crate) const MAX_MESSAGE: usize = 8 * 1024 * 1024;

/// The most fields one export may hold. The SDKs' batches of 512 spans with
/// a dozen attributes each hold about 30 000. The worst an export can cost
/// is this many empty spans: 264-byte structs in a vector grown by
/// doubling, 53 MB at most.
pub(crate) const MAX_FIELDS: usize = 100_000;

/// Exports decoded at once, over every endpoint; the others wait their turn
/// before their bodies are read. With [`MAX_FIELDS`], about 110 MB at most
/// are spent decoding at any time.
pub(crate) const CONCURRENT: usize = 2;

/// How long an export may take to arrive once its turn has come: a client
/// that sends its body slowly must not hold a turn for ever.
pub(crate) const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// prost's recursion limit: below it, a field is counted by its size.
const DEPTH_MAX: usize = 100;

/// Why an export is refused before it is decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TooLarge {
    /// Over [`MAX_MESSAGE`] bytes, as sent or once unzipped.
    Bytes,
    /// Over [`MAX_FIELDS`] fields.
    Fields(usize),
}

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TooLarge::Bytes => write!(
                f,
                "the export is over {MAX_MESSAGE} bytes once unzipped; send smaller batches"
            ),
            TooLarge::Fields(n) => write!(
                f,
                "the export holds {n} values, over the {MAX_FIELDS} accepted at once; send smaller batches"
            ),
        }
    }
}

/// Refuses a protobuf body too big or too many-fielded to decode.
pub(crate) fn check_protobuf(body: &[u8]) -> Result<(), TooLarge> {
    if body.len() > MAX_MESSAGE {
        return Err(TooLarge::Bytes);
    }
    // A body that is not a message at all is prost's to refuse.
    let fields = fields(body, 0).unwrap_or(0);
    if fields > MAX_FIELDS {
        return Err(TooLarge::Fields(fields));
    }
    Ok(())
}

/// Refuses a JSON body too big or with too many objects to decode.
pub(crate) fn check_json(body: &[u8]) -> Result<(), TooLarge> {
    if body.len() > MAX_MESSAGE {
        return Err(TooLarge::Bytes);
    }
    let objects = body.iter().filter(|b| **b == b'{').count();
    if objects > MAX_FIELDS {
        return Err(TooLarge::Fields(objects));
    }
    Ok(())
}

fn varint(buf: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for i in 0..10 {
        let byte = *buf.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Some(value);
        }
    }
    None
}

/// The fields of `buf` read as a message, nested ones included; `None`
/// when it is not one. Each byte is read by one level only (a nested
/// message is skipped by its length once counted), so this is linear.
///
/// It must never refuse what prost accepts, or an attacker could hide
/// fields from it: groups (which prost skips) are walked through, and the
/// rest of the wire format is read as loosely as prost reads it.
fn fields(buf: &[u8], depth: usize) -> Option<usize> {
    let mut count = 0usize;
    let mut groups = 0usize;
    let mut at = 0;
    while at < buf.len() {
        let key = varint(buf, &mut at)?;
        match key & 7 {
            0 => {
                varint(buf, &mut at)?;
            }
            1 => at = at.checked_add(8).filter(|end| *end <= buf.len())?,
            5 => at = at.checked_add(4).filter(|end| *end <= buf.len())?,
            2 => {
                let len = usize::try_from(varint(buf, &mut at)?).ok()?;
                let end = at.checked_add(len).filter(|end| *end <= buf.len())?;
                let inner = &buf[at..end];
                count += if depth >= DEPTH_MAX {
                    // Each nested field takes two bytes at least.
                    inner.len() / 2
                } else {
                    fields(inner, depth + 1).unwrap_or(0)
                };
                at = end;
            }
            3 => groups += 1,
            4 => groups = groups.checked_sub(1)?,
            _ => return None,
        }
        count += 1;
    }
    (groups == 0).then_some(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_spans_are_counted() {
        // ExportTraceServiceRequest { resource_spans: [{ scope_spans: [{ spans: [{}; n] }] }] }
        let n = 1_000;
        let spans: Vec<u8> = std::iter::repeat_n([0x12, 0x00], n).flatten().collect();
        let resource = [&[0x12][..], &prost_len(spans.len()), &spans].concat();
        let request = [&[0x0a][..], &prost_len(resource.len()), &resource].concat();
        assert_eq!(fields(&request, 0), Some(n + 2));
    }

    #[test]
    fn strings_and_groups() {
        // A string that is no message is one field; a group is walked through.
        assert_eq!(fields(&[0x0a, 0x02, 0xff, 0xff], 0), Some(1));
        assert_eq!(fields(&[0x0b, 0x10, 0x01, 0x0c], 0), Some(3));
        assert_eq!(fields(&[0x0b], 0), None);
        assert_eq!(fields(&[0x0f], 0), None);
    }

    #[test]
    fn too_many_fields_are_refused() {
        let bomb: Vec<u8> = std::iter::repeat_n([0x0a, 0x00], MAX_FIELDS + 1)
            .flatten()
            .collect();
        assert_eq!(check_protobuf(&bomb), Err(TooLarge::Fields(MAX_FIELDS + 1)));
        assert!(check_json(&b"{}".repeat(MAX_FIELDS + 1)).is_err());
        assert!(check_json(br#"{"resourceSpans":[]}"#).is_ok());
    }

    fn prost_len(n: usize) -> Vec<u8> {
        let mut out = Vec::new();
        prost::encoding::encode_varint(n as u64, &mut out);
        out
    }
}
