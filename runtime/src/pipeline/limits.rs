//! `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`: the SDK reads no value-length limit,
//! so both pipelines cut string values themselves (the SDK path in a
//! processor, `export/truncate.rs`; ours on the export thread).

use opentelemetry::{Array, KeyValue, StringValue, Value};

fn truncate_str(s: &StringValue, limit: usize) -> Option<StringValue> {
    let text = s.as_str();
    let cut = text.char_indices().nth(limit)?.0;
    Some(StringValue::from(text[..cut].to_owned()))
}

/// Cuts string values (and the strings in string arrays) to `limit`
/// characters.
pub(crate) fn truncate_all(attributes: &mut [KeyValue], limit: usize) {
    for kv in attributes {
        match &mut kv.value {
            Value::String(s) => {
                if let Some(short) = truncate_str(s, limit) {
                    *s = short;
                }
            }
            Value::Array(Array::String(items)) => {
                for item in items {
                    if let Some(short) = truncate_str(item, limit) {
                        *item = short;
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_strings_by_characters() {
        let mut attrs = vec![
            KeyValue::new("a", "héllo wörld"),
            KeyValue::new("b", "ok"),
            KeyValue::new("n", 123_456_789_i64),
            KeyValue::new(
                "arr",
                Value::Array(Array::String(vec!["abcdef".into(), "x".into()])),
            ),
        ];
        truncate_all(&mut attrs, 4);
        assert_eq!(attrs[0].value, Value::String("héll".into()));
        assert_eq!(attrs[1].value, Value::String("ok".into()));
        assert_eq!(attrs[2].value, Value::I64(123_456_789));
        assert_eq!(
            attrs[3].value,
            Value::Array(Array::String(vec!["abcd".into(), "x".into()]))
        );
    }
}
