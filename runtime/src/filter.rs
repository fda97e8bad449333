//! Choosing spans at run time: `TRACED_FILTER`, in the directive syntax of
//! `RUST_LOG` (`tracing-subscriber`'s `EnvFilter`).
//!
//! A directive is `level` or `target=level`, directives are separated by
//! commas: `info,my_crate::db=debug,noisy_dep=off`. A span's target is its
//! module path unless `#[traced(target = "..")]` gives another, its level
//! `info` unless `#[traced(level = ..)]` gives another. The directive with
//! the longest target that starts the span's target decides (as in
//! `EnvFilter`, a plain prefix: `my_crate` also covers `my_crate_extra`);
//! without one, the bare level; without a bare level, `info`. So the
//! default keeps what it always kept: every span at `info` and above.
//!
//! `EnvFilter`'s span and field filters (`target[span{field=value}]=level`)
//! are accepted, so that one string serves `tracing` too, but choose no
//! `#[traced]` span: those directives are skipped here.
//!
//! Call sites decide once and keep the answer until the filter or the
//! provider changes (the provider's generation moves on with either), so
//! a filtered-out call costs what a call with nothing installed costs.

use std::fmt;
use std::sync::{Arc, OnceLock, RwLock};

use crate::level::Level;

/// The variable read when the first span starts, unless a filter was set
/// in code first.
pub(crate) const TRACED_FILTER: &str = "TRACED_FILTER";

/// Parsed span filter directives.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// `target=level` directives, longest target first.
    targets: Vec<(String, Option<Level>)>,
    /// The bare level, if one was given (`None` inside: `off`).
    default: Option<Option<Level>>,
}

/// Why directives do not parse: the directive and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError {
    directive: String,
    reason: &'static str,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.directive, self.reason)
    }
}

impl std::error::Error for FilterError {}

/// `off` is `None`; a level keeps it and everything less verbose.
fn parse_level(text: &str) -> Option<Option<Level>> {
    Some(match text.trim().to_ascii_lowercase().as_str() {
        "off" | "0" => None,
        "error" | "1" => Some(Level::Error),
        "warn" | "2" => Some(Level::Warn),
        "info" | "3" => Some(Level::Info),
        "debug" | "4" => Some(Level::Debug),
        "trace" | "5" => Some(Level::Trace),
        _ => return None,
    })
}

/// Whether `target` is made of what a Rust module path or a `target = ".."`
/// holds: letters, digits, `_`, `-`, `.`, `:`.
fn valid_target(target: &str) -> bool {
    !target.is_empty()
        && target
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}

impl Filter {
    /// The directives in `text`; blank ones are skipped and each is
    /// trimmed, so `info, my_crate=debug` is meant as written.
    ///
    /// # Errors
    ///
    /// The first directive that is neither a level, nor `target=level`,
    /// nor one of `EnvFilter`'s span filters.
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        let mut filter = Filter::default();
        for directive in text.split(',').map(str::trim).filter(|d| !d.is_empty()) {
            let error = |reason| FilterError {
                directive: directive.to_owned(),
                reason,
            };
            if directive.contains('[') || directive.contains('{') {
                // A span or field filter of `EnvFilter`: checked for its
                // brackets only, and left to `tracing`.
                let balanced = directive.matches('[').count() == directive.matches(']').count()
                    && directive.matches('{').count() == directive.matches('}').count();
                if !balanced {
                    return Err(error("unbalanced `[..]` or `{..}`"));
                }
                continue;
            }
            match directive.split_once('=') {
                None => match parse_level(directive) {
                    Some(level) => filter.default = Some(level),
                    // A bare target turns it on at every level, as in
                    // `EnvFilter`.
                    None if valid_target(directive) => {
                        filter
                            .targets
                            .push((directive.to_owned(), Some(Level::Trace)));
                    }
                    None => {
                        return Err(error(
                            "expected a level (`trace`, `debug`, `info`, `warn`, `error`, `off`) or `target=level`",
                        ));
                    }
                },
                Some((target, level)) => {
                    let target = target.trim();
                    if !valid_target(target) {
                        return Err(error(
                            "a target is a module path such as `my_crate::db` (letters, digits, `_`, `-`, `.`, `:`)",
                        ));
                    }
                    let Some(level) = parse_level(level) else {
                        return Err(error(
                            "the level after `=` is one of `trace`, `debug`, `info`, `warn`, `error`, `off`",
                        ));
                    };
                    filter.targets.retain(|(t, _)| t != target);
                    filter.targets.push((target.to_owned(), level));
                }
            }
        }
        // Longest first: the most specific directive is found first.
        filter
            .targets
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        Ok(filter)
    }

    /// Whether a span of `target` at `level` is started.
    pub fn enabled(&self, target: &str, level: Level) -> bool {
        let limit = self
            .targets
            .iter()
            .find(|(t, _)| target.starts_with(t.as_str()))
            .map(|(_, limit)| *limit)
            .or(self.default)
            .unwrap_or(Some(Level::Info));
        limit.is_some_and(|limit| level <= limit)
    }
}

impl std::str::FromStr for Filter {
    type Err = FilterError;

    fn from_str(text: &str) -> Result<Filter, FilterError> {
        Filter::parse(text)
    }
}

/// `text`'s directives, blank ones dropped and each trimmed (`EnvFilter`
/// does not trim them; `info, app=debug` is meant well).
pub(crate) fn normalize(text: &str) -> String {
    text.split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .collect::<Vec<_>>()
        .join(",")
}

/// `text`'s directives, normalized, when they parse.
///
/// # Errors
///
/// As [`Filter::parse`].
#[cfg_attr(not(feature = "tracing"), allow(dead_code))]
pub(crate) fn check(text: &str) -> Result<String, FilterError> {
    Filter::parse(text).map(|_| normalize(text))
}

/// The filter in force: set in code, or read from [`TRACED_FILTER`] when
/// first asked for.
static CURRENT: RwLock<Option<Arc<Filter>>> = RwLock::new(None);
/// Whether [`TRACED_FILTER`] was read (once; a filter set in code wins).
static FROM_ENV: OnceLock<()> = OnceLock::new();

/// The filter in force now.
pub(crate) fn current() -> Arc<Filter> {
    FROM_ENV.get_or_init(|| {
        let Ok(text) = std::env::var(TRACED_FILTER) else {
            return;
        };
        let mut slot = CURRENT
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if slot.is_some() {
            return;
        }
        match Filter::parse(&text) {
            Ok(filter) => *slot = Some(Arc::new(filter)),
            Err(err) => eprintln!(
                "traced: ignoring {TRACED_FILTER}: {err}; every span at `info` and above is started"
            ),
        }
    });
    CURRENT
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
        .unwrap_or_default()
}

/// Puts `filter` in force; every call site decides again on its next call.
/// `None` goes back to the default (`info` and above).
pub fn set_filter(filter: Option<Filter>) {
    // The environment is not read after a filter was set in code.
    let _ = FROM_ENV.set(());
    *CURRENT
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = filter.map(Arc::new);
    crate::span::provider::bump();
}

#[cfg(test)]
mod tests {
    use super::{Filter, Level};

    fn on(filter: &str, target: &str, level: Level) -> bool {
        Filter::parse(filter).unwrap().enabled(target, level)
    }

    #[test]
    fn the_default_keeps_info_and_above() {
        for filter in ["", " , "] {
            assert!(on(filter, "app", Level::Info));
            assert!(on(filter, "app", Level::Error));
            assert!(!on(filter, "app", Level::Debug));
        }
    }

    #[test]
    fn the_longest_matching_target_decides() {
        let f = "warn,my_crate=info,my_crate::db=debug,noisy_dep=off";
        assert!(on(f, "my_crate::db::pool", Level::Debug));
        assert!(!on(f, "my_crate::db::pool", Level::Trace));
        assert!(on(f, "my_crate::http", Level::Info));
        assert!(!on(f, "my_crate::http", Level::Debug));
        assert!(!on(f, "noisy_dep", Level::Error));
        assert!(!on(f, "other", Level::Info));
        assert!(on(f, "other", Level::Warn));
    }

    #[test]
    fn levels_in_any_case_and_as_numbers() {
        assert!(on("DEBUG", "a", Level::Debug));
        assert!(on("a=4", "a", Level::Debug));
        assert!(!on("a=0", "a", Level::Error));
        assert!(!on("off", "a", Level::Error));
    }

    #[test]
    fn a_bare_target_is_on_at_every_level() {
        assert!(on("my_crate", "my_crate::x", Level::Trace));
        assert!(!on("my_crate", "other", Level::Debug));
    }

    #[test]
    fn span_filters_are_left_to_tracing() {
        assert!(on("info,app[request{id=1}]=trace", "app", Level::Info));
        assert!(!on("info,app[request{id=1}]=trace", "app", Level::Trace));
        assert!(Filter::parse("app[request=trace").is_err());
    }

    #[test]
    fn mistakes_name_the_directive() {
        let err = Filter::parse("info,my_crate=loud").unwrap_err();
        assert_eq!(
            err.to_string(),
            "`my_crate=loud`: the level after `=` is one of `trace`, `debug`, `info`, `warn`, `error`, `off`"
        );
        assert!(Filter::parse("a b=info").is_err());
        assert!(Filter::parse("=info").is_err());
        assert!(Filter::parse("héllo wörld").is_err());
    }

    #[test]
    fn a_later_directive_for_the_same_target_wins() {
        assert!(on("a=off,a=debug", "a", Level::Debug));
        assert!(!on("a=debug,a=off", "a", Level::Error));
    }
}
