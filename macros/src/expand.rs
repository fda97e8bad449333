//! Building tokens from already-valid input.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::{Ident, ImplItem, Signature, Type};

use crate::attr::{Args, Format, How};
use crate::errors::Errors;
use crate::fallback;
use crate::item::{Func, ImplBlock, Returns, Shape, Target, Traced};
use crate::secret::is_secret;
use crate::valid;

pub(crate) fn traced(args: TokenStream, item: TokenStream) -> TokenStream {
    match try_expand(args, item.clone()) {
        Ok(tokens) => tokens,
        Err(err) => fallback::expand(err, item),
    }
}

/// `#[untraced]` outside a `#[traced]` impl block: nothing to opt out of,
/// so the item stays as it is.
pub(crate) fn untraced(args: TokenStream, item: TokenStream) -> TokenStream {
    if args.is_empty() {
        item
    } else {
        let err =
            syn::Error::new_spanned(&args, "`#[untraced]` takes no options; write `#[untraced]`");
        fallback::expand(err, item)
    }
}

fn try_expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let args = Args::parse(args, &mut errors);
    let target = Target::from_syn(args, item.clone(), &mut errors);
    if let Some(target) = &target {
        valid::validate(target, &mut errors);
    }
    errors.finish()?;
    Ok(match &target {
        Some(target) => expand(target),
        // Nothing to instrument, and nothing wrong with it.
        None => item,
    })
}

pub(crate) fn expand(target: &Target) -> TokenStream {
    match target {
        Target::Fn(traced) => function(traced),
        Target::Impl(block) => impl_block(block),
    }
}

// Input:
//     impl Type { fn a() {} fn b() {} #[untraced] fn c() {} }
//     with `a` and `b` in `methods`
// Output:
//     impl Type { <a, instrumented> <b, instrumented> #[untraced] fn c() {} }
fn impl_block(ImplBlock { block, methods }: &ImplBlock) -> TokenStream {
    let mut block = block.clone();
    for (index, traced) in methods {
        block.items[*index] = ImplItem::Verbatim(function(traced));
    }
    quote!(#block)
}

fn function(traced: &Traced) -> TokenStream {
    let parts = Parts::new(traced);
    match traced.func.shape() {
        // `otel.status_code` is set when the call returns, through the
        // closure the value shape runs the body in.
        Shape::Unit if traced.args.status.is_set() => sync_value(&parts),
        Shape::Unit => sync_unit(&parts),
        Shape::Value => sync_value(&parts),
        Shape::TrackCaller => track_caller(&parts),
        Shape::Async => async_fn(&parts),
        Shape::AsyncEntryPoint => async_entry_point(&parts),
        Shape::ReturnsFuture { boxed: false } => returns_future(&parts),
        Shape::ReturnsFuture { boxed: true } => returns_boxed_future(&parts),
    }
}

fn mixed(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

/// `tokens` with every token (inside groups too) at `span`.
///
/// A macro invocation is reported where its path starts: the dispatch
/// macros invoked at a parameter get the parameter's span down to the
/// `::traced` of their path, so that an error inside them points at the
/// parameter rather than at the attribute.
fn respan(tokens: &TokenStream, span: Span) -> TokenStream {
    tokens
        .clone()
        .into_iter()
        .map(|mut tree| {
            if let proc_macro2::TokenTree::Group(group) = &tree {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), respan(&group.stream(), span));
                inner.set_span(span);
                tree = proc_macro2::TokenTree::Group(inner);
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}

/// What every shape is built from.
struct Parts<'a> {
    func: &'a Func,
    /// `let __traced_started = { static __TRACED_SITE: CallSite = ..; __TRACED_SITE.start(..) };`
    start: TokenStream,
    started: Ident,
    guard: Ident,
    out: Ident,
    /// Records the outcome `__traced_out_ref: &Output` on `__traced_span: &ActiveSpan`.
    outcome: TokenStream,
    span: Ident,
    out_ref: Ident,
}

impl<'a> Parts<'a> {
    fn new(Traced { args, func }: &'a Traced) -> Self {
        let krate = args.krate();
        let started = mixed("__traced_started");
        let rec = mixed("__traced_rec");
        let records = record_inputs(args, func, &krate, &rec);
        let site = start_span(args, func, &krate, &rec, &records);
        let span = mixed("__traced_span");
        let out_ref = mixed("__traced_out_ref");
        Parts {
            func,
            outcome: record_outcome(args, func, &krate, &span, &out_ref),
            start: quote!(let #started = #site;),
            started,
            guard: mixed("__traced_guard"),
            out: mixed("__traced_out"),
            span,
            out_ref,
        }
    }

    /// The function with `sig` and a body that starts the span, then goes
    /// on with `rest`. The user's inner attributes stay at the top, and the
    /// body's braces keep the span of the user's braces: with our call-site
    /// span the whole item would count as macro-generated, and rustc would
    /// stop reporting it as dead code.
    fn item(&self, sig: &Signature, rest: TokenStream) -> TokenStream {
        let Func {
            attrs,
            vis,
            defaultness,
            inner_attrs,
            block,
            ..
        } = self.func;
        let start = &self.start;
        let body = quote! {
            #(#inner_attrs)*
            #start
            #rest
        };
        let mut group = proc_macro2::Group::new(proc_macro2::Delimiter::Brace, body);
        group.set_span(block.brace_token.span.join());
        quote! {
            #(#attrs)*
            #vis #defaultness #sig #group
        }
    }

    /// For the shapes whose body runs at the call: the span is current
    /// while `compute` binds the body's value to `__traced_out`, whose
    /// outcome is then recorded on the span before it is returned.
    fn sync_item(&self, compute: TokenStream) -> TokenStream {
        let Parts {
            func,
            started,
            guard,
            out,
            outcome,
            span,
            out_ref,
            ..
        } = self;
        self.item(
            &func.sig,
            quote! {
                let #guard = #started.enter();
                #compute
                #[allow(unreachable_code)] // the user's body may diverge
                let #out_ref = &#out;
                // Only a span that records, or a call timed for its
                // function's histogram, has anything to record.
                if let ::core::option::Option::Some(#span) = #guard.outcome_span() {
                    #outcome
                }
                #out
            },
        )
    }

    /// For the shapes that return a future: the closure recording its
    /// output. Its parameter types come from the runtime's `FnOnce` bound;
    /// written out, they could not name an `impl Trait` output.
    fn finish(&self) -> TokenStream {
        let Parts {
            outcome,
            span,
            out_ref,
            ..
        } = self;
        quote!(move |#span, #out_ref| { #outcome })
    }

    /// The user's body as an `async` block whose output is the declared
    /// return type, so that `return`, `?` and the tail are checked against
    /// the user's signature rather than against our wrapper. The block
    /// takes the span of the user's braces: errors about the body as a
    /// whole underline the body, as they would without us.
    fn async_body(&self) -> TokenStream {
        let block = &self.func.block;
        let braces = block.brace_token.span.join();
        let inner = match self.async_output_type() {
            Some((at, ty)) => {
                let ret = mixed("__traced_ret");
                // Located at the return type: rustc's "return type inferred
                // to be `T` here" then points at the user's signature.
                let fixed = Ident::new("__traced_ret", Span::mixed_site().located_at(at));
                quote! {
                    // The first `return` fixes an `async` block's output type;
                    // this one, never taken, fixes it to the declared type
                    // before a `return` in the body can.
                    if let ::core::option::Option::Some(#fixed) = ::core::option::Option::None::<#ty> {
                        return #fixed;
                    }
                    let #ret: #ty = #block;
                    #[allow(unreachable_code)] // the user's body may diverge
                    #ret
                }
            }
            // `impl Trait` cannot be named in a `let`: the block's output is
            // inferred from the body, and the signature still pins it.
            None => {
                let stmts = &block.stmts;
                quote!(#(#stmts)*)
            }
        };
        let mut group = proc_macro2::Group::new(proc_macro2::Delimiter::Brace, inner);
        group.set_span(braces);
        quote_spanned!(braces=> async move #group)
    }

    /// The output of an `async fn` when it can be named (the declared type,
    /// or `()` when none is declared), with where the signature says it.
    fn async_output_type(&self) -> Option<(Span, TokenStream)> {
        let sig = &self.func.sig;
        match &sig.output {
            // Where the return type would be written.
            syn::ReturnType::Default => Some((sig.paren_token.span.close(), quote!(()))),
            syn::ReturnType::Type(..) => self
                .func
                .nameable_output()
                .map(|ty| (ty.span(), quote!(#ty))),
        }
    }

    /// An `async fn`'s signature, made synchronous and returning
    /// `impl Future` of its output.
    fn future_sig(&self) -> Signature {
        let mut sig = self.func.sig.clone();
        sig.asyncness = None;
        let (span, output) = match &self.func.sig.output {
            syn::ReturnType::Default => (sig.ident.span(), quote!(())),
            // `Output = impl A + B` is ambiguous to the parser; parentheses
            // say where the bounds belong.
            syn::ReturnType::Type(_, ty) => match &**ty {
                Type::ImplTrait(t) if t.bounds.len() > 1 => (ty.span(), quote!((#ty))),
                _ => (ty.span(), quote!(#ty)),
            },
        };
        sig.output = syn::parse_quote_spanned! {span=>
            -> impl ::core::future::Future<Output = #output>
        };
        sig
    }
}

// Input:
//     fn save(id: u64) { body }               (also `-> ()` and `-> !`)
// Output:
//     fn save(id: u64) {
//         let __traced_started = ..;
//         let __traced_guard = __traced_started.enter();
//         body
//     }
// Nothing is returned that could be recorded, so the body stays the
// function's own: `return`, `?` and the tail mean what they meant.
fn sync_unit(parts: &Parts) -> TokenStream {
    let Parts {
        func,
        started,
        guard,
        ..
    } = parts;
    let stmts = &func.block.stmts;
    parts.item(
        &func.sig,
        quote! {
            let #guard = #started.enter();
            #(#stmts)*
        },
    )
}

// Input:
//     fn load(id: u64) -> Result<User, Error> { body }
// Output:
//     fn load(id: u64) -> Result<User, Error> {
//         let __traced_started = ..;
//         let __traced_guard = __traced_started.enter();
//         let __traced_out = (move || -> Result<User, Error> { body })();
//         /* record `Err` and `ret` on __traced_guard.span() */
//         __traced_out
//     }
// The closure is what lets a value leaving through `return` or `?` pass
// through us to be recorded. Its return type is the declared one (when it
// can be named), so type errors in the body point at the user's signature.
fn sync_value(parts: &Parts) -> TokenStream {
    let Parts { func, out, .. } = parts;
    let block = &func.block;
    let output = func.nameable_output().map(|ty| quote!(-> #ty));
    // Spanned at the function's name: a `?` the closure cannot return is
    // then reported with a label on the user's signature.
    let closure = quote_spanned!(func.sig.ident.span()=> move ||);
    parts.sync_item(quote! {
        #[allow(clippy::redundant_closure_call)]
        let #out = (#closure #output #block)();
    })
}

// Input:
//     #[track_caller] fn check(id: u64) -> Result<(), Error> { body }
// Output:
//     #[track_caller] fn check(id: u64) -> Result<(), Error> {
//         let __traced_started = ..;
//         let __traced_guard = __traced_started.enter();
//         let __traced_out: Result<(), Error> = { body };
//         /* record `Err` and `ret` */
//         __traced_out
//     }
// A closure would report its own location to `Location::caller()`
// (`#[track_caller]` on closures is unstable), so the body stays inline. An
// `Err` leaving through `return` or `?` then ends the span without being
// recorded; the final expression's is.
fn track_caller(parts: &Parts) -> TokenStream {
    let Parts { func, out, .. } = parts;
    let block = &func.block;
    let annotation = func.nameable_output().map(|ty| quote!(: #ty));
    parts.sync_item(quote!(let #out #annotation = #block;))
}

// Input:
//     async fn load(id: u64) -> Result<User, Error> { body }
// Output:
//     fn load(id: u64) -> impl Future<Output = Result<User, Error>> {
//         let __traced_started = ..;           // at the call, not at the first poll
//         __traced_started.instrument(
//             async move {
//                 if let Some(r) = None::<Result<User, Error>> { return r; }
//                 let __traced_ret: Result<User, Error> = { body };
//                 __traced_ret
//             },
//             move |__traced_span, __traced_out_ref| { /* record `Err` and `ret` */ },
//         )
//     }
fn async_fn(parts: &Parts) -> TokenStream {
    let started = &parts.started;
    let future = parts.async_body();
    let finish = parts.finish();
    parts.item(
        &parts.future_sig(),
        quote!(#started.instrument(#future, #finish)),
    )
}

// Input:
//     #[tokio::main] async fn main() { body }
// Output:
//     #[tokio::main] async fn main() {
//         let __traced_started = ..;
//         __traced_started.instrument(async move { body }, move |..| { .. }).await
//     }
// `#[tokio::main]` and the like need an `async fn`: the span then starts at
// the first poll, which for an entry point is at once.
fn async_entry_point(parts: &Parts) -> TokenStream {
    let started = &parts.started;
    let future = parts.async_body();
    let finish = parts.finish();
    parts.item(
        &parts.func.sig,
        quote!(#started.instrument(#future, #finish).await),
    )
}

// Input:
//     fn fetch(id: u64) -> impl Future<Output = u64> { body }
// Output:
//     fn fetch(id: u64) -> impl Future<Output = u64> {
//         let __traced_started = ..;
//         __traced_started.instrument_returned(move || { body }, move |..| { .. })
//     }
// The body runs at the call with the span current; the future it builds
// carries the span. `impl Future` cannot be a closure's return type, so the
// closure's is inferred and the signature pins it.
fn returns_future(parts: &Parts) -> TokenStream {
    let Parts { func, started, .. } = parts;
    let block = &func.block;
    let finish = parts.finish();
    parts.item(
        &func.sig,
        quote!(#started.instrument_returned(move || #block, #finish)),
    )
}

// Input:
//     fn fetch(id: u64) -> Pin<Box<dyn Future<Output = u64> + Send>> { body }
// Output:
//     fn fetch(id: u64) -> Pin<Box<dyn Future<Output = u64> + Send>> {
//         let __traced_started = ..;
//         Box::pin(__traced_started.instrument_returned(
//             move || -> Pin<Box<dyn Future<Output = u64> + Send>> { body },
//             move |..| { .. },
//         ))
//     }
// The shape `#[async_trait]` gives its methods. The closure's return type is
// the declared one, so the body is checked against the user's signature.
fn returns_boxed_future(parts: &Parts) -> TokenStream {
    let Parts { func, started, .. } = parts;
    let block = &func.block;
    let output = func.nameable_output().map(|ty| quote!(-> #ty));
    let finish = parts.finish();
    parts.item(
        &func.sig,
        quote! {
            ::std::boxed::Box::pin(#started.instrument_returned(move || #output #block, #finish))
        },
    )
}

/// `records`: the statements that record arguments and `attributes(..)`.
fn start_span(
    args: &Args,
    func: &Func,
    krate: &TokenStream,
    rec: &Ident,
    records: &[TokenStream],
) -> TokenStream {
    // The code attributes, `error.type`, and `return` with `ret`.
    let declared = args
        .all_fields()
        .filter(|f| matches!(f.how, How::Declared))
        .count();
    let attributes = records.len() + declared + 3 + 1 + usize::from(args.ret.is_set());
    let record = quote!(|#rec: &mut #krate::__private::Recorder<'_>| { #(#records)* });
    let name = match args.name.get() {
        Some(expr) => quote_spanned!(expr.span()=> #expr),
        None => {
            let name = func.default_name();
            quote!(#name)
        }
    };
    let target = match args.target.get() {
        Some(expr) => quote_spanned!(expr.span()=> #expr),
        None => quote!(::core::module_path!()),
    };
    let level = Ident::new(
        args.level.get().map_or("Info", |level| level.variant()),
        Span::call_site(),
    );
    let kind = Ident::new(args.kind().variant(), Span::call_site());
    let metrics = args.metrics.get().copied().unwrap_or(true);
    let ident = &func.sig.ident;
    let function = func.default_name();
    let line = quote_spanned!(ident.span()=> ::core::line!());
    let links: Vec<&syn::Expr> = args
        .links
        .get()
        .into_iter()
        .chain(args.follows_from.get())
        .flatten()
        .collect();
    let start = match (args.parent.get(), links.is_empty()) {
        (None, true) => quote!(__TRACED_SITE.start(#record)),
        (parent, _) => {
            let parent = match parent {
                // `parent = None` starts a root span, as in `tracing`.
                Some(syn::Expr::Path(path)) if path.path.is_ident("None") => {
                    quote_spanned! {path.span()=>
                        ::core::option::Option::Some(#krate::__private::Context::new())
                    }
                }
                Some(expr) => quote_spanned! {expr.span()=>
                    #krate::__private::parent(&(#expr))
                },
                None => quote!(::core::option::Option::None),
            };
            let links = links.into_iter().map(|expr| {
                quote_spanned! {expr.span()=> #krate::__private::link(&(#expr)) }
            });
            quote!(__TRACED_SITE.start_with(#parent, #krate::__private::links([#(#links),*]), #record))
        }
    };
    quote! {{
        static __TRACED_SITE: #krate::__private::CallSite =
            #krate::__private::CallSite::new(#krate::__private::Meta {
                name: #name,
                kind: #krate::__private::SpanKind::#kind,
                function: ::core::concat!(::core::module_path!(), "::", #function),
                file: ::core::file!(),
                line: #line,
                scope_name: #krate::__private::or_unknown(::core::option_env!("CARGO_PKG_NAME")),
                scope_version: #krate::__private::or_unknown(::core::option_env!("CARGO_PKG_VERSION")),
                attributes: #attributes,
                target: #target,
                level: #krate::__private::Level::#level,
                metrics: #metrics,
            });
        #start
    }}
}

/// One statement per recorded parameter and per `attributes(..)` entry.
fn record_inputs(args: &Args, func: &Func, krate: &TokenStream, rec: &Ident) -> Vec<TokenStream> {
    let fields: Vec<&crate::attr::Field> = args.all_fields().collect();
    let skipped = |name: &str| {
        args.skip_all.is_set()
            || args.skip.get().is_some_and(|s| s.iter().any(|i| i == name))
            // An explicit attribute with the parameter's name replaces it.
            || fields.iter().any(|f| f.key == name)
    };
    let mut out = Vec::new();
    for binding in &func.bindings {
        let key = binding.to_string();
        let key = key.trim_start_matches("r#").to_owned();
        if skipped(&key) {
            continue;
        }
        if is_secret(&key) {
            out.push(quote!(#rec.redacted(#key);));
            continue;
        }
        let at_binding = respan(krate, binding.span());
        // `value::param` lets `TRACED_SCRUB_EXTRA`, read at run time, make
        // this parameter a secret too (#25).
        out.push(quote_spanned! {binding.span()=>
            #rec.attr(#key, #krate::__private::value::param(#key, {
                // Named after the parameter, for the error when its type
                // cannot be recorded; a braced struct has no value, so the
                // parameter itself is not shadowed.
                #[allow(non_camel_case_types, dead_code)]
                struct #binding {}
                #at_binding::__private::to_value!(#binding, &#binding)
            }));
        });
    }
    let value = mixed("__traced_value");
    for field in fields {
        let key = &field.key;
        let expr = &field.value;
        let format = match field.how {
            How::ByType => None,
            How::Format(Format::Display, _) => Some(quote!(display)),
            How::Format(Format::Debug, _) => Some(quote!(debug)),
            // Filled later by `traced::attributes!`.
            How::Declared => continue,
        };
        if let Some(format) = format {
            let format = respan(&quote!(#krate::__private::format::#format), expr.span());
            out.push(quote_spanned! {expr.span()=>
                #rec.attr(#key, #format(&(#expr)));
            });
            continue;
        }
        let at_expr = respan(krate, expr.span());
        let check = crate::semconv::type_assertion(krate, key, expr, &quote!(#value));
        out.push(quote_spanned! {expr.span()=>
            #rec.attr(#key, {
                let #value = &(#expr);
                #check
                #at_expr::__private::to_value!(#krate::__private::value, #value)
            });
        });
    }
    out
}

/// Records a returned `Err` and, with `ret`, the returned value; then the
/// status `otel.status_code` asks for.
fn record_outcome(
    args: &Args,
    func: &Func,
    krate: &TokenStream,
    span: &Ident,
    out: &Ident,
) -> TokenStream {
    let record_errors = args.errors.get().copied().unwrap_or(true);
    let err = mixed("__traced_err");
    let ok = mixed("__traced_ok");
    let errors = record_errors.then(|| {
        let record = match (args.err.get(), args.err.span()) {
            // At `err`: an error type without `Debug` is reported on the
            // option that asked for its `Debug` text.
            (Some(Format::Debug), Some(at)) => {
                let at_err = respan(krate, at);
                let err = Ident::new("__traced_err", Span::mixed_site().located_at(at));
                quote_spanned!(at=> #at_err::__private::record_err!(debug: #span, #err))
            }
            _ => quote!(#krate::__private::record_err!(#span, #err)),
        };
        quote! {
            if let ::core::option::Option::Some(#err) = #out.traced_err() {
                #record;
            }
        }
    });
    // `ret` on a function returning `()` or never returning: as in
    // `tracing`, there is nothing to record.
    let has_value = !matches!(func.returns(), Returns::Unit | Returns::Never);
    let ret = args.ret.span().filter(|_| has_value).map(|at| {
        let at_ret = respan(krate, at);
        // At `ret`: a returned type that cannot be recorded is reported on
        // the option that asked for it.
        let value = match args.ret.get().copied().flatten() {
            None => quote_spanned! {at=>
                #at_ret::__private::to_value!(#krate::__private::value, #ok)
            },
            Some(Format::Display) => quote_spanned! {at=>
                #at_ret::__private::format::display(#ok)
            },
            Some(Format::Debug) => quote_spanned! {at=>
                #at_ret::__private::format::debug(#ok)
            },
        };
        quote! {
            if #span.is_recording() {
                if let ::core::option::Option::Some(#ok) = #out.traced_ok() {
                    #span.attr("return", #value);
                }
            }
        }
    });
    let status = args
        .status
        .get()
        .map(|ok| quote!(#krate::__private::set_status(#span, #ok);));
    if errors.is_none() && ret.is_none() && status.is_none() {
        return quote!(let _ = (#span, #out););
    }
    let read_out = if errors.is_some() || ret.is_some() {
        quote!(use #krate::__private::kind::*;)
    } else {
        quote!(let _ = #out;)
    };
    quote! {
        #read_out
        #errors
        #ret
        #status
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    #[test]
    fn every_shape_expands_to_items() {
        for item in [
            quote!(
                fn f(id: u64) {}
            ),
            quote!(
                fn f(id: u64) -> Result<u8, E> {
                    Ok(1)
                }
            ),
            quote!(
                #[track_caller]
                fn f() -> u8 {
                    1
                }
            ),
            quote!(
                async fn f(id: u64) -> u8 {
                    1
                }
            ),
            quote!(
                async fn f() -> impl Iterator<Item = u8> + Send {
                    0..1
                }
            ),
            quote!(
                #[tokio::main]
                async fn main() {}
            ),
            quote!(
                fn f() -> impl Future<Output = u8> {
                    async { 1 }
                }
            ),
            quote!(
                fn f() -> Pin<Box<dyn Future<Output = u8> + Send>> {
                    Box::pin(async { 1 })
                }
            ),
            quote!(impl S { fn a(&self) -> u8 { 1 } }),
        ] {
            let out = super::traced(quote!(kind = server), item.clone());
            assert!(
                syn::parse2::<syn::File>(out.clone()).is_ok(),
                "{item} expanded to {out}"
            );
            assert!(!out.to_string().contains("compile_error"), "{out}");
        }
    }
}
