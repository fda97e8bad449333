//! Parsing `#[traced(...)]` arguments into `Args`.

use proc_macro2::{TokenStream, TokenTree};
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
    "ret",
    "errors",
    "parent",
    "links",
    "crate",
];

/// Names other instrumentation crates use, and what we call the same thing.
const PEER_NAMES: &[(&str, &str)] = &[
    ("fields", "attributes"),
    ("attrs", "attributes"),
    ("attribute", "attributes"),
    ("follows_from", "links"),
    ("link", "links"),
    ("skip_args", "skip_all"),
    ("short_name", "name"),
    ("span_name", "name"),
    ("err", "errors"),
    ("record_errors", "errors"),
    ("span_kind", "kind"),
    ("return", "ret"),
];

/// Options peers have that we deliberately don't, with the reason.
const PEER_WITHOUT: &[(&str, &str)] = &[
    (
        "level",
        "OpenTelemetry spans have no level; choose which spans to keep with a sampler (`OTEL_TRACES_SAMPLER`)",
    ),
    (
        "target",
        "the instrumentation scope is always the calling crate",
    ),
    (
        "enter_on_poll",
        "async spans are always current during every poll",
    ),
];

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

/// One `key = value` of `attributes(...)`.
pub(crate) struct Field {
    /// The key as OpenTelemetry sees it, e.g. `http.request.method`.
    pub key: String,
    /// The key's tokens, for errors that underline the whole key.
    pub tokens: TokenStream,
    pub value: Expr,
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
    pub name: Slot<LitStr>,
    pub kind: Slot<Kind>,
    pub skip: Slot<Vec<Ident>>,
    pub skip_all: Slot<()>,
    pub attributes: Slot<Vec<Field>>,
    pub ret: Slot<()>,
    pub errors: Slot<bool>,
    pub parent: Slot<Expr>,
    pub links: Slot<Vec<Expr>>,
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
            ret: Slot::new("ret"),
            errors: Slot::new("errors"),
            parent: Slot::new("parent"),
            links: Slot::new("links"),
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
        args
    }

    fn parse_one(&mut self, input: ParseStream, errors: &mut Errors) -> syn::Result<()> {
        let key = Ident::parse_any(input)?;
        let span = key.span();
        match key.to_string().as_str() {
            "name" => {
                input.parse::<Token![=]>()?;
                let value: Expr = input.parse()?;
                match &value {
                    Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(lit), .. }) => {
                        if lit.value().trim().is_empty() {
                            errors.error(lit.span(), "`name` is empty; give the span a name, e.g. `name = \"GET /users\"`");
                        }
                        self.name.set(errors, span, lit.clone());
                    }
                    other => errors.push(syn::Error::new_spanned(
                        other,
                        "`name` must be a string literal, e.g. `name = \"POST /login\"`; span names are fixed at compile time",
                    )),
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
                let content;
                syn::parenthesized!(content in input);
                let fields =
                    Punctuated::<Field, Token![,]>::parse_terminated_with(&content, parse_field)?;
                self.attributes
                    .set(errors, span, fields.into_iter().collect());
            }
            "ret" => self.ret.set(errors, span, ()),
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
    let mut tokens = TokenStream::new();
    let key = if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        lit.to_tokens(&mut tokens);
        lit.value()
    } else {
        let first = Ident::parse_any(input)?;
        first.to_tokens(&mut tokens);
        let mut key = first.to_string();
        while input.peek(Token![.]) {
            let dot: Token![.] = input.parse()?;
            dot.to_tokens(&mut tokens);
            key.push('.');
            if input.peek(syn::LitInt) {
                // `a.0` lexes as an integer after the dot.
                let lit: syn::LitInt = input.parse()?;
                lit.to_tokens(&mut tokens);
                key.push_str(&lit.to_string());
            } else {
                let segment = Ident::parse_any(input)?;
                segment.to_tokens(&mut tokens);
                key.push_str(&segment.to_string());
            }
        }
        key
    };
    input.parse::<Token![=]>()?;
    let value: Expr = input.parse()?;
    Ok(Field {
        key,
        tokens,
        value,
        attrs,
    })
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
        .or_else(|| suggest(given, OPTIONS));
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
