//! `TRACED_TAIL_SAMPLING`: comma-separated rules, read by `init`.

use std::time::Duration;

use super::rule::TailRule;

/// What the variable accepts, for errors.
pub(crate) const EXPECTED: &str = "comma-separated rules: `errors`, `slower_than=<duration>` (`250ms`, `2s`), `ratio=<0.0 to 1.0>`, `attribute=<key>=<value>`";

/// The rules in `text`; blank items are skipped. Every item that is not a
/// rule is reported, each as `` `item`: why ``, all at once.
pub(crate) fn parse(text: &str) -> Result<Vec<TailRule>, Vec<String>> {
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match rule(item) {
            Ok(rule) => rules.push(rule),
            Err(why) => errors.push(format!("`{item}`: {why}")),
        }
    }
    if errors.is_empty() {
        Ok(rules)
    } else {
        Err(errors)
    }
}

fn rule(item: &str) -> Result<TailRule, String> {
    let (name, value) = match item.split_once('=') {
        Some((name, value)) => (name.trim(), Some(value.trim())),
        None => (item, None),
    };
    match (name.to_ascii_lowercase().as_str(), value) {
        ("errors", None) => Ok(TailRule::Errors),
        ("errors", Some(_)) => Err("`errors` takes no value".to_owned()),
        ("slower_than", Some(v)) => duration(v).map(TailRule::SlowerThan),
        ("ratio", Some(v)) => match v.parse::<f64>() {
            Ok(r) if (0.0..=1.0).contains(&r) => Ok(TailRule::Ratio(r)),
            _ => Err(format!("`{v}` is not a number from 0.0 to 1.0")),
        },
        ("attribute", Some(v)) => match v.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => Ok(TailRule::Attribute(
                key.trim().to_owned(),
                value.trim().to_owned(),
            )),
            _ => Err("expected `attribute=<key>=<value>`".to_owned()),
        },
        ("slower_than" | "ratio" | "attribute", None) => Err(format!(
            "`{name}` needs `={}`",
            match name {
                "slower_than" => "<duration>",
                "ratio" => "<0.0 to 1.0>",
                _ => "<key>=<value>",
            }
        )),
        _ => Err(format!(
            "unknown rule `{name}` (rules: `errors`, `slower_than`, `ratio`, `attribute`)"
        )),
    }
}

/// `250ms`, `2s`, `1.5s`, `1m`, `500us`, `100ns`: a number and a unit.
pub(crate) fn duration(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let seconds_per = match unit.trim() {
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "" => return Err(format!("`{text}` has no unit (`ms`, `s`, `m`, ...)")),
        other => {
            return Err(format!(
                "unknown unit `{other}` (`ns`, `us`, `ms`, `s`, `m`, `h`)"
            ));
        }
    };
    match number.parse::<f64>() {
        Ok(n) if n.is_finite() && n >= 0.0 => Duration::try_from_secs_f64(n * seconds_per)
            .map_err(|_| format!("`{text}` is too long")),
        _ => Err(format!(
            "`{text}` is not a duration such as `250ms` or `2s`"
        )),
    }
}
