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
    pub(crate) fn new(variable: &str, value: &str, expected: impl Into<String>) -> Self {
        InitError {
            variable: variable.to_owned(),
            value: value.to_owned(),
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
