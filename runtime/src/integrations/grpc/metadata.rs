//! tonic's `MetadataMap` as a carrier of trace context, for handlers and
//! interceptors that read or write it themselves.

use tonic::metadata::{KeyRef, MetadataKey, MetadataMap, MetadataValue};

use crate::propagation::Headers;

/// ASCII metadata only: binary (`-bin`) entries cannot be trace context,
/// and a value that is not visible ASCII is skipped, so malformed metadata
/// starts a new trace.
impl Headers for MetadataMap {
    fn header_values(&self, name: &str) -> Vec<&str> {
        self.get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }

    fn header_names(&self) -> Vec<&str> {
        self.keys()
            .filter_map(|key| match key {
                KeyRef::Ascii(key) => Some(key.as_str()),
                KeyRef::Binary(_) => None,
            })
            .collect()
    }

    fn set_header(&mut self, name: &str, value: String) {
        let (Ok(key), Ok(value)) = (
            MetadataKey::from_bytes(name.as_bytes()),
            MetadataValue::try_from(value.as_str()),
        ) else {
            // Our propagators only write valid names and visible ASCII.
            return;
        };
        self.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_bad_values() {
        let mut map = MetadataMap::new();
        map.set_header("traceparent", "00-abc-def-01".to_owned());
        assert_eq!(map.header_values("TraceParent"), vec!["00-abc-def-01"]);
        assert_eq!(map.header_names(), vec!["traceparent"]);
        // Invalid names and values are skipped, never a panic.
        map.set_header("bad key", "v".to_owned());
        map.set_header("k", "line\nbreak".to_owned());
        assert_eq!(map.header_names(), vec!["traceparent"]);
        map.insert_bin(
            "trace-bin",
            tonic::metadata::MetadataValue::from_bytes(b"\xff"),
        );
        assert_eq!(map.header_names(), vec!["traceparent"]);
    }
}
