//! Resource attributes `init` detects: the service instance and the
//! process. `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_SERVICE_NAME` and code are
//! applied after these, so they win.

use std::hash::{BuildHasher as _, Hasher as _};

use opentelemetry::KeyValue;

// Keys of the semantic conventions (service and process registries).
const SERVICE_INSTANCE_ID: &str = "service.instance.id";
const SERVICE_VERSION: &str = "service.version";
const PROCESS_PID: &str = "process.pid";
const PROCESS_EXECUTABLE_NAME: &str = "process.executable.name";
const PROCESS_RUNTIME_NAME: &str = "process.runtime.name";
const PROCESS_RUNTIME_DESCRIPTION: &str = "process.runtime.description";

/// `service.instance.id` (a random UUID, new for each process),
/// `service.version` when code gave one, and the process attributes.
pub(super) fn detected(service_version: Option<&str>) -> Vec<KeyValue> {
    let mut out = vec![
        KeyValue::new(SERVICE_INSTANCE_ID, random_uuid()),
        KeyValue::new(PROCESS_PID, i64::from(std::process::id())),
        KeyValue::new(PROCESS_RUNTIME_NAME, "rust"),
        KeyValue::new(
            PROCESS_RUNTIME_DESCRIPTION,
            format!("Rust ({} {})", std::env::consts::OS, std::env::consts::ARCH),
        ),
    ];
    if let Some(name) = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
    {
        out.push(KeyValue::new(PROCESS_EXECUTABLE_NAME, name));
    }
    if let Some(version) = service_version {
        out.push(KeyValue::new(SERVICE_VERSION, version.to_owned()));
    }
    out
}

/// A version 4 UUID. The randomness is std's per-process random hash keys,
/// mixed with the time and the process id: unique enough for an instance
/// id, without a dependency on a random number crate.
pub(super) fn random_uuid() -> String {
    let word = |salt: u64| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(salt);
        h.write_u32(std::process::id());
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        h.finish()
    };
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&word(1).to_le_bytes());
    bytes[8..].copy_from_slice(&word(2).to_le_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_4_and_differ() {
        let (a, b) = (random_uuid(), random_uuid());
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(a.as_bytes()[14], b'4', "{a}");
        assert!(matches!(a.as_bytes()[19], b'8' | b'9' | b'a' | b'b'), "{a}");
    }

    #[test]
    fn process_and_service_attributes() {
        let attrs = detected(Some("1.2.3"));
        let get = |k: &str| {
            attrs
                .iter()
                .find(|kv| kv.key.as_str() == k)
                .map(|kv| kv.value.to_string())
        };
        assert_eq!(get(PROCESS_PID), Some(std::process::id().to_string()));
        assert_eq!(get(SERVICE_VERSION).as_deref(), Some("1.2.3"));
        assert!(get(PROCESS_EXECUTABLE_NAME).is_some());
        assert!(get(SERVICE_INSTANCE_ID).is_some());
        assert!(
            detected(None)
                .iter()
                .all(|kv| kv.key.as_str() != SERVICE_VERSION)
        );
    }
}
