//! Parsing `#[traced(...)]` arguments into `Args`.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens as _;
use syn::ext::IdentExt as _;
use syn::parse::{ParseStream, Parser as _};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitBool, LitStr, Path, Token};

use crate::errors::{Errors, Slot};

/// The options, in the order the error messages list them.
pub(crate) const OPTIONS: &[&str] = &[
    "name",
    "kind",
    "skip",
    "skip_all",
    "attributes",
    "fields",
    "ret",
    "err",
    "errors",
    "metrics",
    "level",
    "target",
    "parent",
    "links",
    "follows_from",
    "crate",
];

/// How each option is written, for "did you mean" hints: what the hint
/// names must compile as written.
const SYNTAX: &[(&str, &str)] = &[
    ("name", "name = \"..\""),
    ("kind", "kind = server"),
    ("skip", "skip(..)"),
    ("skip_all", "skip_all"),
    ("attributes", "attributes(key = value)"),
    ("fields", "fields(key = value)"),
    ("ret", "ret"),
    ("err", "err"),
    ("errors", "errors = false"),
    ("metrics", "metrics = false"),
    ("level", "level = \"debug\""),
    ("target", "target = \"..\""),
    ("parent", "parent = cx"),
    ("links", "links(cx)"),
    ("follows_from", "follows_from = [cx]"),
    ("crate", "crate = path"),
];

/// Names other instrumentation crates use, and how we write the same thing.
const PEER_NAMES: &[(&str, &str)] = &[
    ("attrs", "attributes(key = value)"),
    ("attribute", "attributes(key = value)"),
    ("field", "fields(key = value)"),
    ("link", "links(cx)"),
    ("skip_args", "skip_all"),
    ("short_name", "name = \"..\""),
    ("span_name", "name = \"..\""),
    ("error", "err"),
    ("record_errors", "err"),
    ("span_kind", "kind = server"),
    ("return", "ret"),
    ("parent_span", "parent = cx"),
];

/// Options peers have that we deliberately don't, with the reason.
const PEER_WITHOUT: &[(&str, &str)] = &[(
    "enter_on_poll",
    "async spans are always current during every poll; remove it",
)];

/// `Display` or `Debug`: how `err(..)`, `ret(..)`, `%` and `?` turn a
/// value into text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Display,
    Debug,
}

/// `level = ..`, in `tracing`'s five levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    const ALL: [Level; 5] = [
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Warn,
        Level::Error,
    ];

    fn word(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }

    /// The variant of the runtime's `Level`.
    pub fn variant(self) -> &'static str {
        match self {
            Level::Trace => "Trace",
            Level::Debug => "Debug",
            Level::Info => "Info",
            Level::Warn => "Warn",
            Level::Error => "Error",
        }
    }

    /// `"debug"`, `"DEBUG"`, `Level::DEBUG`, `tracing::Level::DEBUG`, or
    /// `tracing`'s numbers, 1 (trace) to 5 (error).
    fn from_expr(value: &Expr) -> Option<Level> {
        let word = match value {
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(lit),
                ..
            }) => lit.value(),
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(lit),
                ..
            }) => {
                let n: usize = lit.base10_parse().ok()?;
                return Level::ALL.get(n.checked_sub(1)?).copied();
            }
            Expr::Path(path) => path.path.segments.last()?.ident.to_string(),
            _ => return None,
        };
        Level::ALL
            .into_iter()
            .find(|level| level.word().eq_ignore_ascii_case(&word))
    }
}

/// `kind = ..`, checked while parsing: expansion only ever sees one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum Kind {
    #[default]
    Internal,
    Server,
    Client,
    Producer,
    Consumer,
}

impl Kind {
    /// Every kind, in the order error messages list them.
    const ALL: [Kind; 5] = [
        Kind::Internal,
        Kind::Server,
        Kind::Client,
        Kind::Producer,
        Kind::Consumer,
    ];

    /// The word users write for it.
    fn word(self) -> &'static str {
        match self {
            Kind::Internal => "internal",
            Kind::Server => "server",
            Kind::Client => "client",
            Kind::Producer => "producer",
            Kind::Consumer => "consumer",
        }
    }

    /// The kind a user's word names, if it names one.
    fn from_word(word: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.word() == word)
    }

    /// `otel.kind = ..` as tracing-opentelemetry takes it: `"server"`,
    /// `SpanKind::Server`, `?SpanKind::Server`, in any case.
    fn from_otel(value: &Expr) -> Option<Kind> {
        let word = match value {
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(lit),
                ..
            }) => lit.value(),
            Expr::Path(path) => path.path.segments.last()?.ident.to_string(),
            _ => return None,
        };
        Kind::from_word(&word.to_lowercase())
    }

    /// The variant of OpenTelemetry's `SpanKind` it stands for.
    pub fn variant(self) -> &'static str {
        match self {
            Kind::Internal => "Internal",
            Kind::Server => "Server",
            Kind::Client => "Client",
            Kind::Producer => "Producer",
            Kind::Consumer => "Consumer",
        }
    }
}

/// How a field's value is recorded.
#[derive(Clone, Copy)]
pub(crate) enum How {
    /// `key = value`: by its type, as parameters are.
    ByType,
    /// `key = %value` (`Display`) or `key = ?value` (`Debug`), at the sigil.
    Format(Format, Span),
    /// A bare `key`: declared for `traced::attributes!` to fill in later;
    /// nothing is recorded at the start. `value` is empty.
    Declared,
}

/// One `key = value` of `attributes(...)` or `fields(...)`.
pub(crate) struct Field {
    /// The key as OpenTelemetry sees it, e.g. `http.request.method`.
    pub key: String,
    /// The key's tokens, for errors that underline the whole key.
    pub tokens: TokenStream,
    pub value: Expr,
    pub how: How,
    /// Attributes before the key; `#[allow(deprecated)]` keeps emitting a
    /// key the semantic conventions deprecated, and is the only one allowed.
    pub attrs: Vec<syn::Attribute>,
}

impl Field {
    /// The field as the semantic-conventions check sees it; reports
    /// attributes before the key other than `#[allow(deprecated)]`.
    pub fn as_use(&self, errors: &mut Errors) -> crate::semconv::Use<'_> {
        let mut allow_deprecated = false;
        for attr in &self.attrs {
            if attr.path().is_ident("allow")
                && attr
                    .parse_args::<Ident>()
                    .is_ok_and(|lint| lint == "deprecated")
            {
                allow_deprecated = true;
            } else {
                errors.push(syn::Error::new_spanned(
                    attr,
                    "only `#[allow(deprecated)]` can stand before an attribute key, to keep a key the semantic conventions deprecated; remove this attribute",
                ));
            }
        }
        crate::semconv::Use {
            key: &self.key,
            tokens: &self.tokens,
            value: &self.value,
            allow_deprecated,
        }
    }
}

pub(crate) struct Args {
    /// The tokens the options were parsed from.
    pub tokens: TokenStream,
    /// A string literal, or any `&'static str` expression.
    pub name: Slot<Expr>,
    pub kind: Slot<Kind>,
    pub skip: Slot<Vec<Ident>>,
    pub skip_all: Slot<()>,
    pub attributes: Slot<Vec<Field>>,
    /// `fields(..)`, `tracing`'s spelling of `attributes(..)`.
    pub fields: Slot<Vec<Field>>,
    /// `ret`, or `ret(Display)` / `ret(Debug)`.
    pub ret: Slot<Option<Format>>,
    /// `err(..)`: how the message of a returned error is written.
    pub err: Slot<Format>,
    pub errors: Slot<bool>,
    /// `metrics = false`: no duration histogram for this function.
    pub metrics: Slot<bool>,
    /// A `&'static str` expression.
    pub target: Slot<Expr>,
    pub level: Slot<Level>,
    pub parent: Slot<Expr>,
    pub links: Slot<Vec<Expr>>,
    pub follows_from: Slot<Vec<Expr>>,
    /// `otel.status_code = ..` in `fields(..)`: `true` for ok.
    pub status: Slot<bool>,
    pub krate: Slot<Path>,
}

impl Args {
    fn empty(tokens: TokenStream) -> Self {
        Args {
            tokens,
            name: Slot::new("name"),
            kind: Slot::new("kind"),
            skip: Slot::new("skip"),
            skip_all: Slot::new("skip_all"),
            attributes: Slot::new("attributes"),
            fields: Slot::new("fields"),
            ret: Slot::new("ret"),
            err: Slot::new("err"),
            errors: Slot::new("errors"),
            metrics: Slot::new("metrics"),
            target: Slot::new("target"),
            level: Slot::new("level"),
            parent: Slot::new("parent"),
            links: Slot::new("links"),
            follows_from: Slot::new("follows_from"),
            status: Slot::new("otel.status_code"),
            krate: Slot::new("crate"),
        }
    }

    /// Parses the arguments, reporting every mistake found into `errors`.
    pub fn parse(tokens: TokenStream, errors: &mut Errors) -> Args {
        let mut args = Args::empty(tokens.clone());
        let parser = |input: ParseStream| {
            while !input.is_empty() {
                if let Err(err) = args.parse_one(input, errors) {
                    errors.push(err);
                    skip_to_comma(input);
                }
                if input.is_empty() {
                    break;
                }
                if let Err(err) = input.parse::<Token![,]>() {
                    errors.push(syn::Error::new(err.span(), "expected `,` between options"));
                    skip_to_comma(input);
                    let _ = input.parse::<Option<Token![,]>>();
                }
            }
            Ok(())
        };
        if let Err(err) = parser.parse2(tokens) {
            errors.push(err);
        }
        args.take_otel_fields(errors);
        args
    }

    /// tracing-opentelemetry's `otel.kind`, `otel.name` and
    /// `otel.status_code` fields set the span's kind, name and status;
    /// they are taken out of the attribute lists into those options.
    fn take_otel_fields(&mut self, errors: &mut Errors) {
        let mut taken = Vec::new();
        for slot in [&mut self.attributes, &mut self.fields] {
            if let Some(fields) = slot.get_mut() {
                let (otel, rest) = std::mem::take(fields).into_iter().partition(|f| {
                    matches!(
                        f.key.as_str(),
                        "otel.kind" | "otel.name" | "otel.status_code"
                    )
                });
                *fields = rest;
                taken.extend::<Vec<Field>>(otel);
            }
        }
        for field in taken {
            let span = field
                .tokens
                .clone()
                .into_iter()
                .next()
                .map_or_else(Span::call_site, |t| t.span());
            let value = &field.value;
            match field.key.as_str() {
                "otel.kind" => match Kind::from_otel(value) {
                    Some(kind) => self.kind.set(errors, span, kind),
                    None => errors.push(syn::Error::new_spanned(
                        &field.tokens,
                        format!(
                            "`otel.kind` takes the span kind as a string, e.g. `otel.kind = \"server\"`; the kinds are {}",
                            list(&Kind::ALL.map(Kind::word))
                        ),
                    )),
                },
                "otel.name" => {
                    if let Some(value) = self.check_name(value, "otel.name", errors) {
                        self.name.set(errors, span, value);
                    }
                }
                _ => {
                    let word = match value {
                        Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(lit), .. }) => Some(lit.value()),
                        Expr::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
                        _ => None,
                    }
                    .map(|w| w.to_lowercase());
                    match word.as_deref() {
                        Some("ok") => self.status.set(errors, span, true),
                        Some("error") => self.status.set(errors, span, false),
                        _ => errors.push(syn::Error::new_spanned(
                            &field.tokens,
                            "`otel.status_code` takes `\"ok\"` or `\"error\"`; a returned `Err` sets the error status already",
                        )),
                    }
                }
            }
            if let How::Declared = field.how {
                errors.push(syn::Error::new_spanned(
                    &field.tokens,
                    format!(
                        "`{}` needs a value here, e.g. `{} = \"..\"`",
                        field.key, field.key
                    ),
                ));
            }
        }
    }

    /// A span name: a non-empty string literal, or an expression that
    /// rustc will check is a `&'static str` constant.
    fn check_name(&self, value: &Expr, option: &str, errors: &mut Errors) -> Option<Expr> {
        match value {
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(lit),
                ..
            }) if lit.value().trim().is_empty() => {
                errors.error(
                    lit.span(),
                    format_args!("`{option}` is empty; give the span a name, e.g. `{option} = \"GET /users\"`"),
                );
                return None;
            }
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(_),
                ..
            }) => {}
            Expr::Lit(_) => {
                errors.push(syn::Error::new_spanned(
                    value,
                    format!("`{option}` takes a string, e.g. `{option} = \"POST /login\"`, or a `&'static str` constant"),
                ));
                return None;
            }
            Expr::MethodCall(_) | Expr::Macro(_) if !is_const_macro(value) => {
                errors.push(syn::Error::new_spanned(
                    value,
                    format!("span names are fixed at compile time: `{option}` takes a string literal or a `&'static str` constant; record what varies with `fields(..)`"),
                ));
                return None;
            }
            _ => {}
        }
        Some(value.clone())
    }

    fn parse_one(&mut self, input: ParseStream, errors: &mut Errors) -> syn::Result<()> {
        let key = Ident::parse_any(input)?;
        let span = key.span();
        match key.to_string().as_str() {
            "name" => {
                input.parse::<Token![=]>()?;
                let value: Expr = input.parse()?;
                if let Some(value) = self.check_name(&value, "name", errors) {
                    self.name.set(errors, span, value);
                }
            }
            "kind" => {
                input.parse::<Token![=]>()?;
                let value: Expr = input.parse()?;
                let kind = match &value {
                    Expr::Path(path) => path
                        .path
                        .get_ident()
                        .and_then(|ident| Kind::from_word(&ident.to_string())),
                    _ => None,
                };
                match kind {
                    Some(kind) => self.kind.set(errors, span, kind),
                    _ if matches!(
                        &value,
                        Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(_),
                            ..
                        })
                    ) =>
                    {
                        errors.push(syn::Error::new_spanned(
                            &value,
                            "`kind` takes a bare word, not a string; write e.g. `kind = server`",
                        ));
                    }
                    _ => {
                        let given = value.to_token_stream().to_string();
                        let kinds = Kind::ALL.map(Kind::word);
                        let hint = suggest(&given.to_lowercase(), &kinds)
                            .map(|k| format!("did you mean `{k}`? "))
                            .unwrap_or_default();
                        errors.push(syn::Error::new_spanned(
                            &value,
                            format!(
                                "`{given}` is not a span kind; {hint}the kinds are {}",
                                list(&kinds)
                            ),
                        ));
                    }
                }
            }
            "skip" => {
                let content;
                syn::parenthesized!(content in input);
                let names = Punctuated::<Ident, Token![,]>::parse_terminated_with(
                    &content,
                    Ident::parse_any,
                )?;
                if names.is_empty() {
                    errors.error(span, "`skip()` names no parameter; list the parameters to leave out, e.g. `skip(body)`");
                }
                self.skip.set(errors, span, names.into_iter().collect());
            }
            "skip_all" => self.skip_all.set(errors, span, ()),
            "attributes" => {
                let fields = parse_fields(input, errors)?;
                self.attributes.set(errors, span, fields);
            }
            "fields" => {
                let fields = parse_fields(input, errors)?;
                self.fields.set(errors, span, fields);
            }
            "ret" => {
                let format = parse_format(input, "ret")?;
                self.ret.set(errors, span, format);
            }
            "err" => {
                let format = parse_format(input, "err")?.unwrap_or(Format::Display);
                self.err.set(errors, span, format);
            }
            "errors" => {
                input.parse::<Token![=]>()?;
                let value: Expr = input.parse()?;
                match &value {
                    Expr::Lit(syn::ExprLit { lit: syn::Lit::Bool(LitBool { value, .. }), .. }) => {
                        self.errors.set(errors, span, *value)
                    }
                    other => errors.push(syn::Error::new_spanned(
                        other,
                        "`errors` takes `true` or `false`; `errors = false` stops recording returned `Err` values on this span",
                    )),
                }
            }
            "metrics" => {
                input.parse::<Token![=]>()?;
                let value: Expr = input.parse()?;
                match &value {
                    Expr::Lit(syn::ExprLit { lit: syn::Lit::Bool(LitBool { value, .. }), .. }) => {
                        self.metrics.set(errors, span, *value)
                    }
                    other => errors.push(syn::Error::new_spanned(
                        other,
                        "`metrics` takes `true` or `false`; `metrics = false` stops recording this function's calls in the `traced.function.duration` histogram",
                    )),
                }
            }
            "target" => {
                input.parse::<Token![=]>()?;
                let value: Expr = input.parse()?;
                match &value {
                    Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(_), .. }) => {
                        self.target.set(errors, span, value);
                    }
                    Expr::Lit(_) | Expr::MethodCall(_) => errors.push(syn::Error::new_spanned(
                        &value,
                        "`target` takes a string, e.g. `target = \"my_app::db\"`, or a `&'static str` constant",
                    )),
                    _ => self.target.set(errors, span, value),
                }
            }
            "level" => {
                input.parse::<Token![=]>()?;
                let value: Expr = input.parse()?;
                match Level::from_expr(&value) {
                    Some(level) => self.level.set(errors, span, level),
                    None => errors.push(syn::Error::new_spanned(
                        &value,
                        format!(
                            "`{}` is not a level; write one of {} (or `Level::DEBUG`, as `tracing` spells them)",
                            value.to_token_stream(),
                            Level::ALL
                                .map(|l| format!("`\"{}\"`", l.word()))
                                .join(", ")
                        ),
                    )),
                }
            }
            "parent" => {
                input.parse::<Token![=]>()?;
                let value: Expr = input.parse()?;
                self.parent.set(errors, span, value);
            }
            "links" => {
                let content;
                syn::parenthesized!(content in input);
                let links = Punctuated::<Expr, Token![,]>::parse_terminated(&content)?;
                self.links.set(errors, span, links.into_iter().collect());
            }
            "follows_from" => {
                input.parse::<Token![=]>()?;
                let value: Expr = input.parse()?;
                let elems = match &value {
                    Expr::Array(array) => Some(array.elems.iter().cloned().collect()),
                    Expr::Reference(r) => match &*r.expr {
                        Expr::Array(array) => Some(array.elems.iter().cloned().collect()),
                        _ => None,
                    },
                    _ => None,
                };
                match elems {
                    Some(elems) => self.follows_from.set(errors, span, elems),
                    // One value: a context or span context of its own.
                    None => self.follows_from.set(errors, span, vec![value]),
                }
            }
            "crate" => {
                input.parse::<Token![=]>()?;
                let path = Path::parse_mod_style(input)?;
                self.krate.set(errors, span, path);
            }
            other => {
                errors.error(span, unknown_option(other));
                skip_to_comma(input);
            }
        }
        Ok(())
    }

    /// `attributes(..)` and then `fields(..)`.
    pub fn all_fields(&self) -> impl Iterator<Item = &Field> {
        self.attributes
            .get()
            .into_iter()
            .chain(self.fields.get())
            .flatten()
    }

    /// The span kind: `internal` unless `kind = ..` says otherwise.
    pub fn kind(&self) -> Kind {
        self.kind.get().copied().unwrap_or_default()
    }

    /// The path generated code reaches the runtime through.
    pub fn krate(&self) -> TokenStream {
        match self.krate.get() {
            Some(path) => quote::quote!(#path),
            None => quote::quote!(::traced),
        }
    }
}

/// `key = value`, optionally after `#[allow(deprecated)]`; shared with
/// `event!` and `attributes!`.
pub(crate) fn parse_field(input: ParseStream) -> syn::Result<Field> {
    let attrs = input.call(syn::Attribute::parse_outer)?;
    let (key, tokens) = parse_key(input)?;
    input.parse::<Token![=]>()?;
    let value: Expr = input.parse()?;
    Ok(Field {
        key,
        tokens,
        value,
        how: How::ByType,
        attrs,
    })
}

/// A field of `attributes(..)` or `fields(..)`: `key = value`,
/// `key = %value`, `key = ?value`, or a bare `key`, as `tracing` has them.
fn parse_span_field(input: ParseStream) -> syn::Result<Field> {
    let attrs = input.call(syn::Attribute::parse_outer)?;
    let (key, tokens) = parse_key(input)?;
    if input.is_empty() || input.peek(Token![,]) {
        return Ok(Field {
            key,
            tokens,
            value: Expr::Verbatim(TokenStream::new()),
            how: How::Declared,
            attrs,
        });
    }
    input.parse::<Token![=]>()?;
    let how = if let Some(sigil) = input.parse::<Option<Token![%]>>()? {
        How::Format(Format::Display, sigil.span)
    } else if let Some(sigil) = input.parse::<Option<Token![?]>>()? {
        How::Format(Format::Debug, sigil.span)
    } else {
        How::ByType
    };
    let value: Expr = input.parse()?;
    Ok(Field {
        key,
        tokens,
        value,
        how,
        attrs,
    })
}

/// `(field, ..)`: every field parsed, the mistaken ones reported and
/// skipped so that the others are still checked.
fn parse_fields(input: ParseStream, errors: &mut Errors) -> syn::Result<Vec<Field>> {
    let content;
    syn::parenthesized!(content in input);
    let mut fields = Vec::new();
    while !content.is_empty() {
        match parse_span_field(&content) {
            Ok(field) => fields.push(field),
            Err(err) => {
                errors.push(err);
                skip_to_comma(&content);
            }
        }
        if content.is_empty() {
            break;
        }
        if let Err(err) = content.parse::<Token![,]>() {
            errors.push(syn::Error::new(
                err.span(),
                "expected `,` between attributes",
            ));
            skip_to_comma(&content);
            let _ = content.parse::<Option<Token![,]>>();
        }
    }
    Ok(fields)
}

/// An attribute key: a string literal, or dotted segments such as
/// `http.request.method` (a segment may be a number: `a.0`). Anything
/// else up to the `=` is reported as a key that breaks the naming rules.
fn parse_key(input: ParseStream) -> syn::Result<(String, TokenStream)> {
    if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        return Ok((lit.value(), lit.to_token_stream()));
    }
    let tokens = input.step(|cursor| {
        let mut rest = *cursor;
        let mut tokens = TokenStream::new();
        while let Some((tt, next)) = rest.token_tree() {
            if let TokenTree::Punct(p) = &tt {
                let ends_key = p.as_char() == ','
                    || (p.as_char() == '=' && p.spacing() == proc_macro2::Spacing::Alone);
                if ends_key {
                    break;
                }
            }
            tokens.extend([tt]);
            rest = next;
        }
        Ok((tokens, rest))
    })?;
    if tokens.is_empty() {
        return Err(input.error(format!(
            "expected an attribute key; {}",
            crate::valid::KEY_RULE
        )));
    }
    if let Some(key) = dotted_key(&tokens) {
        return Ok((key, tokens));
    }
    let text: String = tokens.clone().into_iter().map(|t| t.to_string()).collect();
    let message = match crate::valid::check_key(&text) {
        Err(message) => message,
        Ok(()) if crate::semconv::template_of(&text).is_some() => {
            // `http.request.header.content-type`: a template key's user part
            // may hold a `-`, which only a string can.
            return Ok((text, tokens));
        }
        Ok(()) => format!(
            "`{text}` is not an attribute key; {}",
            crate::valid::KEY_RULE
        ),
    };
    Err(syn::Error::new_spanned(&tokens, message))
}

/// The key `tokens` spell as `segment.segment..`, if they do.
fn dotted_key(tokens: &TokenStream) -> Option<String> {
    let mut key = String::new();
    let mut want_segment = true;
    for tt in tokens.clone() {
        match (&tt, want_segment) {
            (TokenTree::Ident(ident), true) => key.push_str(&ident.to_string()),
            // `a.0` lexes as an integer after the dot.
            (TokenTree::Literal(lit), true) if !key.is_empty() => {
                let text = lit.to_string();
                if !text.chars().all(|c| c.is_ascii_digit()) {
                    return None;
                }
                key.push_str(&text);
            }
            (TokenTree::Punct(p), false)
                if p.as_char() == '.' && p.spacing() == proc_macro2::Spacing::Alone =>
            {
                key.push('.')
            }
            _ => return None,
        }
        want_segment = !want_segment;
    }
    (!want_segment).then_some(key)
}

/// `(Display)` or `(Debug)` after `ret` or `err`, if given. `tracing`'s
/// `level = ..` there, the level of the event it emits, is accepted and
/// has nothing to set: the value and the error are recorded on the span.
fn parse_format(input: ParseStream, option: &str) -> syn::Result<Option<Format>> {
    if !input.peek(syn::token::Paren) {
        return Ok(None);
    }
    let content;
    syn::parenthesized!(content in input);
    let mut format = None;
    while !content.is_empty() {
        let word = Ident::parse_any(&content)?;
        match word.to_string().as_str() {
            "Display" if format.is_none() => format = Some(Format::Display),
            "Debug" if format.is_none() => format = Some(Format::Debug),
            "level" => {
                content.parse::<Token![=]>()?;
                let value: Expr = content.parse()?;
                if Level::from_expr(&value).is_none() {
                    return Err(syn::Error::new_spanned(
                        &value,
                        format!(
                            "`{}` is not a level; write e.g. `{option}(level = \"debug\")`",
                            value.to_token_stream()
                        ),
                    ));
                }
            }
            _ => {
                return Err(syn::Error::new(
                    word.span(),
                    format!(
                        "`{option}(..)` takes `Display` or `Debug` once, e.g. `{option}(Debug)`"
                    ),
                ));
            }
        }
        if !content.is_empty() {
            content.parse::<Token![,]>()?;
        }
    }
    Ok(format)
}

/// `concat!`, `stringify!`, `env!` and the like: macros that give a
/// `&'static str` at compile time.
fn is_const_macro(value: &Expr) -> bool {
    matches!(value, Expr::Macro(m) if m.mac.path.segments.last().is_some_and(|s| {
        matches!(s.ident.to_string().as_str(), "concat" | "stringify" | "env" | "include_str" | "module_path" | "file")
    }))
}

fn skip_to_comma(input: ParseStream) {
    let _ = input.step(|cursor| {
        let mut rest = *cursor;
        while let Some((tt, next)) = rest.token_tree() {
            if let TokenTree::Punct(p) = &tt {
                if p.as_char() == ',' {
                    return Ok(((), rest));
                }
            }
            rest = next;
        }
        Ok(((), rest))
    });
}

fn unknown_option(given: &str) -> String {
    if let Some((_, why)) = PEER_WITHOUT.iter().find(|(name, _)| *name == given) {
        return format!("`{given}` is not an option of `#[traced]`: {why}");
    }
    let hint = PEER_NAMES
        .iter()
        .find(|(name, _)| *name == given)
        .map(|(_, ours)| *ours)
        .or_else(|| {
            let option = suggest(given, OPTIONS)?;
            SYNTAX
                .iter()
                .find(|(name, _)| *name == option)
                .map(|(_, syntax)| *syntax)
        });
    match hint {
        Some(ours) => format!(
            "unknown option `{given}`; did you mean `{ours}`? (options: {})",
            list(OPTIONS)
        ),
        None => format!("unknown option `{given}` (options: {})", list(OPTIONS)),
    }
}

/// The closest of `candidates` to `given`, if it is close enough to be a typo.
pub(crate) fn suggest<'a>(given: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(given, c), *c))
        .filter(|(distance, c)| *distance <= (c.len().max(given.len()) / 3).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

/// `a`, `b` and `c`.
pub(crate) fn list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => format!("`{one}`"),
        [init @ .., last] => format!(
            "{} and `{last}`",
            init.iter()
                .map(|i| format!("`{i}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::{Args, Format, How, Kind, Level};
    use crate::errors::Errors;

    fn parse(tokens: proc_macro2::TokenStream) -> (Args, Result<(), String>) {
        let mut errors = Errors::default();
        let args = Args::parse(tokens, &mut errors);
        (args, errors.finish().map_err(|e| e.to_string()))
    }

    #[test]
    fn tracing_options() {
        let (args, result) = parse(quote! {
            skip(self), err(Debug), ret(Display), level = Level::DEBUG, target = "db",
            name = NAME, parent = None, follows_from = [a, b],
            fields(a = %x, b = ?y, c = z, d, e.f = 1, otel.kind = "client", otel.status_code = "ERROR")
        });
        assert_eq!(result, Ok(()));
        assert_eq!(args.err.get(), Some(&Format::Debug));
        assert_eq!(args.ret.get(), Some(&Some(Format::Display)));
        assert_eq!(args.level.get(), Some(&Level::Debug));
        assert_eq!(args.kind(), Kind::Client);
        assert_eq!(args.status.get(), Some(&false));
        assert_eq!(args.follows_from.get().map(Vec::len), Some(2));
        let fields: Vec<_> = args
            .all_fields()
            .map(|f| {
                let how = match f.how {
                    How::ByType => "type",
                    How::Format(Format::Display, _) => "%",
                    How::Format(Format::Debug, _) => "?",
                    How::Declared => "declared",
                };
                (f.key.as_str(), how)
            })
            .collect();
        assert_eq!(
            fields,
            [
                ("a", "%"),
                ("b", "?"),
                ("c", "type"),
                ("d", "declared"),
                ("e.f", "type")
            ]
        );
    }

    #[test]
    fn levels() {
        for (tokens, level) in [
            (quote!(level = "debug"), Level::Debug),
            (quote!(level = "WARN"), Level::Warn),
            (quote!(level = tracing::Level::ERROR), Level::Error),
            (quote!(level = 1), Level::Trace),
            (quote!(level = 5), Level::Error),
        ] {
            let (args, result) = parse(tokens);
            assert_eq!(result, Ok(()));
            assert_eq!(args.level.get(), Some(&level));
        }
        assert!(parse(quote!(level = 6)).1.is_err());
        assert!(parse(quote!(level = "loud")).1.is_err());
    }

    #[test]
    fn keys_that_break_the_rules_say_what_a_key_may_contain() {
        for (tokens, says) in [
            (quote!(attributes(.a = 1)), "starts or ends with a dot"),
            (quote!(attributes(a. = 1)), "starts or ends with a dot"),
            (quote!(attributes(a..b = 1)), "empty segment"),
            (quote!(fields(a - b = 1)), "contains `-`"),
            (quote!(fields(a::b = 1)), "contains `:`"),
        ] {
            let error = parse(tokens.clone()).1.expect_err("refused");
            assert!(error.contains(says), "{tokens}: {error}");
            assert!(error.contains("keys are lowercase segments"), "{error}");
        }
    }
}
