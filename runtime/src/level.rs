//! The verbosity a call site declares with `#[traced(level = ..)]`.
//!
//! OpenTelemetry spans have no level; `traced` carries one per call site
//! (in [`Meta`](crate::span::Meta)) so that a run-time filter can choose
//! which spans to start, with the directive syntax of `tracing`'s
//! `EnvFilter`. Nothing is recorded on the span itself.

/// A call site's level, ordered from the least to the most verbose, as
/// `tracing`'s `LevelFilter` compares them: a filter at `Info` keeps
/// `Error`, `Warn` and `Info`. The default, when `level` is not given, is
/// [`Level::Info`].
///
/// Used only by code that `#[traced]` generates (and the filter that reads
/// it). Not public API.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Level {
    /// `level = "error"`.
    Error = 1,
    /// `level = "warn"`.
    Warn = 2,
    /// `level = "info"`, the default.
    #[default]
    Info = 3,
    /// `level = "debug"`.
    Debug = 4,
    /// `level = "trace"`.
    Trace = 5,
}

impl Level {
    /// The name `tracing` and its filter directives use: `"info"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Level;

    #[test]
    fn ordered_by_verbosity() {
        assert!(Level::Error < Level::Warn);
        assert!(Level::Info < Level::Debug);
        assert!(Level::Debug < Level::Trace);
        assert_eq!(Level::default(), Level::Info);
        assert_eq!(Level::Debug.as_str(), "debug");
    }
}
