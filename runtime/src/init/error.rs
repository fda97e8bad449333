//! The error `init` returns for a value it cannot use.

use std::fmt;

/// A configuration value that is not valid: which variable (or builder
/// call), the value, and what is accepted.
///
/// `Debug` shows the same sentence as `Display`, so that a `main` returning
/// `Result<(), InitError>` prints something a person can act on.
#[derive(Clone, PartialEq, Eq)]
pub struct InitError {
    variable: String,
    value: String,
    expected: String,
}

impl InitError {
    /// The value is kept as it may be shown (#25): the values of a
    /// `*_HEADERS` variable (API keys) are replaced, and any other value
    /// loses what the scrubber finds in it (a URL's userinfo, `token=..`).
    pub(crate) fn new(variable: &str, value: &str, expected: impl Into<String>) -> Self {
        InitError {
            variable: variable.to_owned(),
            value: shown(variable, value),
            expected: expected.into(),
        }
    }

    /// The environment variable (or, for failures that are not about one
    /// variable, what failed) this error is about.
    pub fn variable(&self) -> &str {
        &self.variable
    }

    /// The value that was rejected.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// What would have been accepted.
    pub fn expected(&self) -> &str {
        &self.expected
    }
}

/// `value` of `variable` as an error may show it on stderr.
fn shown(variable: &str, value: &str) -> String {
    if variable.ends_with("_HEADERS") {
        return value
            .split(',')
            .map(|entry| match entry.split_once('=') {
                Some((key, _)) => format!("{key}={}", crate::redact::REDACTED),
                None if entry.trim().is_empty() => entry.to_owned(),
                None => crate::redact::REDACTED.to_owned(),
            })
            .collect::<Vec<_>>()
            .join(",");
    }
    crate::redact::scrub_text(value).map_or_else(|| value.to_owned(), |(clean, _)| clean)
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} has the invalid value {:?}; expected {}",
            self.variable, self.value, self.expected
        )
    }
}

impl fmt::Debug for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for InitError {}

#[cfg(test)]
mod secrets {
    use super::InitError;

    // Regression for #25: header values and endpoint userinfo were echoed to
    // stderr in warnings.
    #[test]
    fn issue25_errors_show_no_secret() {
        let err = InitError::new(
            "OTEL_EXPORTER_OTLP_HEADERS",
            "x-api-key=sk_hunter2,Authorization=Bearer%20t0k3n,bare-hunter2",
            "pairs",
        );
        let shown = format!("{err} {err:?} {}", err.value());
        assert!(
            !shown.contains("hunter2") && !shown.contains("t0k3n"),
            "{shown}"
        );
        assert!(shown.contains("x-api-key=[REDACTED]"), "{shown}");
        let err = InitError::new(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "https://user:hunter2@collector:4318",
            "a URL",
        );
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(err.to_string().contains("collector:4318"), "{err}");
    }
}
