//! Rules that need several options, or the options and the function, at once.

use std::collections::HashSet;

use syn::spanned::Spanned as _;

use crate::attr::How;
use crate::attr::{list, suggest};
use crate::errors::Errors;
use crate::item::{Func, Target, Traced};
use crate::semconv;

/// Every rule, over everything the attribute instruments.
pub(crate) fn validate(target: &Target, errors: &mut Errors) {
    match target {
        Target::Fn(traced) => validate_fn(traced, errors),
        Target::Impl(block) => {
            for (_, traced) in &block.methods {
                validate_fn(traced, errors);
            }
        }
    }
}

fn validate_fn(Traced { args, func }: &Traced, errors: &mut Errors) {
    if let (Some(_), Some(span)) = (args.skip.span(), args.skip_all.span()) {
        errors.error(
            span,
            "`skip_all` and `skip(..)` cannot be combined; keep one of them",
        );
    }
    if let Some(names) = args.skip.get() {
        check_skip(names, func, errors);
    }
    let mut seen = HashSet::new();
    for field in args.all_fields() {
        if let Err(message) = check_key(&field.key) {
            errors.push(syn::Error::new_spanned(&field.tokens, message));
        } else if !seen.insert(field.key.as_str()) {
            errors.push(syn::Error::new_spanned(
                &field.tokens,
                format!("attribute `{}` is given twice; keep one", field.key),
            ));
        } else if field.key == "return" && args.ret.is_set() {
            errors.push(syn::Error::new_spanned(
                &field.tokens,
                "attribute `return` is what `ret` records; remove one of them",
            ));
        } else {
            let at = field.as_use(errors);
            semconv::check(&at, errors);
            if let How::Format(_, sigil) = field.how {
                if let Some(expected) = semconv::non_string_type(&field.key) {
                    errors.error(
                        sigil,
                        format_args!(
                            "`{}` expects {expected} in the semantic conventions, and `%`/`?` record text; write `{} = {}` to record the value by its type",
                            field.key,
                            field.key,
                            quote::ToTokens::to_token_stream(&field.value)
                        ),
                    );
                }
            }
        }
    }
    if let (Some(span), Some(false)) = (args.err.span(), args.errors.get()) {
        errors.error(
            span,
            "`err` records returned errors and `errors = false` stops recording them; keep one of them",
        );
    }
    if let Some(constness) = &func.sig.constness {
        errors.error(
            constness.span(),
            "`#[traced]` cannot instrument a `const fn`: spans are created at run time; remove `const` or `#[traced]`",
        );
    }
}

fn check_skip(names: &[syn::Ident], func: &Func, errors: &mut Errors) {
    let params: Vec<String> = func.bindings.iter().map(ToString::to_string).collect();
    let mut seen = HashSet::new();
    for name in names {
        let text = name.to_string();
        if text == "self" {
            // `self` is never recorded; `skip(self)` says so, as in `tracing`.
        } else if !seen.insert(text.clone()) {
            errors.error(
                name.span(),
                format_args!("`{text}` is skipped twice; name it once"),
            );
        } else if !params.contains(&text) {
            let candidates: Vec<&str> = params.iter().map(String::as_str).collect();
            let fn_name = &func.sig.ident;
            let message = match (suggest(&text, &candidates), candidates.as_slice()) {
                (_, []) => format!(
                    "`skip({text})` names no parameter of `{fn_name}`; it has no parameters to skip"
                ),
                (Some(close), _) => format!(
                    "`skip({text})` names no parameter of `{fn_name}`; did you mean `{close}`? (its parameters: {})",
                    list(&candidates)
                ),
                (None, [only]) => format!(
                    "`skip({text})` names no parameter of `{fn_name}`; its only parameter is `{only}`"
                ),
                (None, _) => format!(
                    "`skip({text})` names no parameter of `{fn_name}`; its parameters are {}",
                    list(&candidates)
                ),
            };
            errors.error(name.span(), message);
        }
    }
}

/// OpenTelemetry's attribute naming rules, as the semantic conventions apply them.
/// What an attribute key may contain, for messages.
pub(crate) const KEY_RULE: &str = "keys are lowercase segments of `a-z`, `0-9` and `_`, separated by single dots, like `http.request.method`";

pub(crate) fn check_key(key: &str) -> Result<(), String> {
    const RULE: &str = KEY_RULE;
    if key.is_empty() {
        return Err(format!("attribute key is empty; {RULE}"));
    }
    if key.chars().any(char::is_whitespace) {
        return Err(format!("attribute key `{key}` contains whitespace; {RULE}"));
    }
    if key.starts_with('.') || key.ends_with('.') {
        return Err(format!(
            "attribute key `{key}` starts or ends with a dot; {RULE}"
        ));
    }
    if key.contains("..") {
        return Err(format!(
            "attribute key `{key}` has an empty segment (`..`); {RULE}"
        ));
    }
    // A template key's last segment is the user's, e.g. an HTTP header name
    // (`http.request.header.content-type`), and may contain `-`.
    let fixed = semconv::template_of(key).map_or(key.len(), |template| template.key.len());
    if let Some((_, bad)) = key.char_indices().find(|&(i, c)| {
        !(matches!(c, 'a'..='z' | '0'..='9' | '_' | '.') || (c == '-' && i > fixed))
    }) {
        let hint = if bad.is_ascii_uppercase() {
            format!("; write `{}`", key.to_ascii_lowercase())
        } else {
            String::new()
        };
        return Err(format!(
            "attribute key `{key}` contains `{bad}`; {RULE}{hint}"
        ));
    }
    if key == "otel" || key.starts_with("otel.") {
        return Err(format!(
            "attribute key `{key}` is reserved: OpenTelemetry keeps the `otel.` namespace for itself; choose another key (`otel.kind`, `otel.name` and `otel.status_code` set the span's kind, name and status)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_key;

    #[test]
    fn keys() {
        for good in [
            "user.id",
            "http.request.method",
            "a",
            "db.query.text",
            "v2.count_1",
            "http.request.header.content-type",
        ] {
            assert_eq!(check_key(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            ".a",
            "a.",
            "a..b",
            "a b",
            "User.id",
            "a-b",
            "otel.status_code",
            "otel",
        ] {
            assert!(check_key(bad).is_err(), "{bad}");
        }
    }
}
