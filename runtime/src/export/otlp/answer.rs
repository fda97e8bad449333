//! The collector's answer to an export, over either transport: an
//! `ExportTraceServiceResponse`, read by hand for its partial success.

/// How the collector answered an export.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Answer {
    /// Spans it said it rejected (`partial_success.rejected_spans`).
    pub(crate) rejected: u64,
    /// Why (`partial_success.error_message`).
    pub(crate) message: String,
}

impl Answer {
    /// Counts and reports the spans of a batch of `count` that the
    /// collector at `target` rejected. Partial success is not retried
    /// (OTLP): the rest arrived.
    pub(crate) fn settle(&self, count: u64, target: &str) {
        if self.rejected == 0 {
            return;
        }
        let rejected = self.rejected.min(count);
        crate::export::reported::report_rejected(
            rejected,
            target,
            &format_args!(
                "the collector rejected {rejected} of {count}: {}",
                self.message
            ),
        );
    }
}

/// Reads an `ExportTraceServiceResponse`: field 1, `partial_success`, with
/// `rejected_spans` (1) and `error_message` (2); anything else is skipped.
pub(crate) fn parse_answer(mut bytes: &[u8]) -> Option<Answer> {
    let mut answer = Answer::default();
    while !bytes.is_empty() {
        let (number, value) = field(&mut bytes)?;
        if let (1, Field::Len(mut partial)) = (number, value) {
            while !partial.is_empty() {
                match field(&mut partial)? {
                    (1, Field::Varint(v)) => answer.rejected = v,
                    (2, Field::Len(text)) => {
                        answer.message = String::from_utf8_lossy(text).into_owned();
                    }
                    _ => {}
                }
            }
        }
    }
    Some(answer)
}

enum Field<'a> {
    Varint(u64),
    Len(&'a [u8]),
    Fixed,
}

fn varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = bytes.split_first()?;
        *bytes = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Some(value);
        }
    }
    None
}

fn field<'a>(bytes: &mut &'a [u8]) -> Option<(u64, Field<'a>)> {
    let key = varint(bytes)?;
    let value = match key & 7 {
        0 => Field::Varint(varint(bytes)?),
        1 | 5 => {
            let n = if key & 7 == 1 { 8 } else { 4 };
            *bytes = bytes.get(n..)?;
            Field::Fixed
        }
        2 => {
            let len = usize::try_from(varint(bytes)?).ok()?;
            let (value, rest) = (bytes.get(..len)?, bytes.get(len..)?);
            *bytes = rest;
            Field::Len(value)
        }
        _ => return None,
    };
    Some((key >> 3, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_answer_is_full_success() {
        assert_eq!(parse_answer(&[]), Some(Answer::default()));
    }

    #[test]
    fn partial_success_is_read() {
        // partial_success { rejected_spans: 300, error_message: "full" }
        let answer = [
            0x0a, 0x09, 0x08, 0xac, 0x02, 0x12, 0x04, b'f', b'u', b'l', b'l',
        ];
        assert_eq!(
            parse_answer(&answer),
            Some(Answer {
                rejected: 300,
                message: "full".into()
            })
        );
    }

    #[test]
    fn unknown_fields_are_skipped_and_garbage_is_refused() {
        // field 7 fixed64, then field 1 with rejected_spans 2
        let mut answer = vec![0x39, 1, 2, 3, 4, 5, 6, 7, 8];
        answer.extend([0x0a, 0x02, 0x08, 0x02]);
        assert_eq!(parse_answer(&answer).map(|a| a.rejected), Some(2));
        // A length past the end.
        assert_eq!(parse_answer(&[0x0a, 0x05, 0x08]), None);
        // Wire type 7 does not exist.
        assert_eq!(parse_answer(&[0x0f]), None);
    }
}
