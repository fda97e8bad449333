//! Building tokens from already-valid input.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::{Ident, ImplItem, ItemImpl};

use crate::attr::Args;
use crate::errors::Errors;
use crate::fallback;
use crate::item::{Func, Returns, Target};
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
    let parsed = Args::parse(args, &mut errors);
    match Target::from_syn(item.clone(), &mut errors) {
        Some(Target::Fn(func)) => {
            valid::validate(&parsed, &func, &mut errors);
            errors.finish()?;
            Ok(expand(&parsed, &func))
        }
        Some(Target::Impl(block)) => {
            let block = expand_impl(&parsed, block, &mut errors);
            errors.finish()?;
            Ok(block)
        }
        None => {
            errors.finish()?;
            Ok(item)
        }
    }
}

/// Whether an attribute is `#[traced(..)]` (by any path ending in `traced`).
fn is_named(attr: &syn::Attribute, name: &str) -> bool {
    attr.path().segments.last().is_some_and(|s| s.ident == name)
}

// Input:
//     #[traced(opts)] impl Type { fn a() {} #[traced(other)] fn b() {} #[untraced] fn c() {} }
// Output:
//     impl Type { #[traced(opts)] fn a() {} #[traced(other)] fn b() {} #[untraced] fn c() {} }
// with every method's span named `Type::method`.
fn expand_impl(args: &Args, mut block: ItemImpl, errors: &mut Errors) -> TokenStream {
    let self_ty = type_name(&block.self_ty);
    for item in &mut block.items {
        let ImplItem::Fn(method) = item else { continue };
        // `#[untraced]` stays on the method: it is a no-op attribute of its
        // own, and removing it would leave the user's import of it unused.
        if method.attrs.iter().any(|a| is_named(a, "untraced")) {
            continue;
        }
        // A `const fn` cannot be instrumented; the block's option does not
        // make it an error to have one in the block.
        if method.sig.constness.is_some() {
            continue;
        }
        let own = method
            .attrs
            .iter()
            .position(|a| is_named(a, "traced"))
            .map(|pos| method.attrs.remove(pos));
        let method_args = match &own {
            Some(attr) => {
                let tokens = match &attr.meta {
                    syn::Meta::List(list) => list.tokens.clone(),
                    _ => TokenStream::new(),
                };
                Args::parse(tokens, errors)
            }
            // Re-parsed, not cloned: each method gets its own copy.
            None => Args::parse(args.tokens.clone(), &mut Errors::default()),
        };
        let mut func = Func::from_syn(
            method.attrs.clone(),
            method.vis.clone(),
            method.sig.clone(),
            method.block.clone(),
        );
        func.self_ty = self_ty.clone();
        let before = errors.count();
        valid::validate(&method_args, &func, errors);
        if errors.count() == before {
            let tokens = expand(&method_args, &func);
            match syn::parse2::<syn::ImplItemFn>(tokens) {
                Ok(expanded) => {
                    let defaultness = method.defaultness;
                    *method = expanded;
                    method.defaultness = defaultness;
                }
                Err(err) => errors.push(err),
            }
        }
    }
    quote!(#block)
}

fn type_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
        syn::Type::Reference(r) => type_name(&r.elem),
        syn::Type::Paren(p) => type_name(&p.elem),
        _ => None,
    }
}

fn mixed(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

// Input:
//     fn load(id: u64) -> Result<User, Error> { body }
// Output:
//     fn load(id: u64) -> Result<User, Error> {
//         let __traced_started = {
//             static SITE: CallSite = ..;
//             // The closure runs only when the span records.
//             SITE.start(|__traced_rec| { __traced_rec.attr("id", ..); })
//         };
//         let __traced_guard = __traced_started.enter();
//         let __traced_out = (move || -> Result<User, Error> { body })();
//         { /* record `Err` and `ret` on __traced_guard.span() */ }
//         __traced_out
//     }
//
// Input:
//     async fn load(id: u64) -> Result<User, Error> { body }
// Output:
//     fn load(id: u64) -> impl Future<Output = Result<User, Error>> {
//         let __traced_started = ..;           // at call time, as above
//         __traced_started.instrument(
//             async move { let __traced_ret: Result<User, Error> = { body }; __traced_ret },
//             move |span, out| { /* record `Err` and `ret` */ },
//         )
//     }
pub(crate) fn expand(args: &Args, func: &Func) -> TokenStream {
    let krate = args.krate();
    let started = mixed("__traced_started");
    let rec = mixed("__traced_rec");
    let records = record_inputs(args, func, &krate, &rec);
    let start = start_span(args, func, &krate, &rec, &records);
    let record_block = quote!(let #started = #start;);
    let Func {
        sig,
        inner_attrs,
        block,
        ..
    } = func;
    let stmts = &block.stmts;
    let span_var = mixed("__traced_span");
    let out_ref = mixed("__traced_out_ref");
    let outcome = record_outcome(args, &krate, &span_var, &out_ref);

    let returns = func.returns();
    if sig.asyncness.is_some() {
        let ret = mixed("__traced_ret");
        let future = match returns {
            Returns::Typed(ty) => quote_spanned! {block.span()=>
                async move {
                    let #ret: #ty = { #(#stmts)* };
                    #[allow(unreachable_code)] // the user's body may diverge
                    #ret
                }
            },
            _ => quote_spanned! {block.span()=>
                async move { #(#stmts)* }
            },
        };
        let output = match &sig.output {
            syn::ReturnType::Default => quote!(()),
            syn::ReturnType::Type(_, ty) => quote!(#ty),
        };
        let finish = quote! {
            move |#span_var: &#krate::__private::ActiveSpan, #out_ref: &#output| { #outcome }
        };
        if func.is_async_entry_point() {
            // `#[tokio::main]` and the like need an `async fn`: the span then
            // starts at the first poll, which for an entry point is at once.
            return item(
                func,
                sig,
                quote! {
                    #(#inner_attrs)*
                    #record_block
                    #started.instrument(#future, #finish).await
                },
            );
        }
        let mut sig = sig.clone();
        sig.asyncness = None;
        let ret_span = match &func.sig.output {
            syn::ReturnType::Default => sig.ident.span(),
            syn::ReturnType::Type(_, ty) => ty.span(),
        };
        sig.output = syn::parse_quote_spanned! {ret_span=>
            -> impl ::core::future::Future<Output = #output>
        };
        return item(
            func,
            &sig,
            quote! {
                #(#inner_attrs)*
                #record_block
                #started.instrument(#future, #finish)
            },
        );
    }

    let guard = mixed("__traced_guard");
    let out = mixed("__traced_out");
    let body = match returns {
        Returns::Future { boxed } => {
            let finish =
                quote! { move |#span_var: &#krate::__private::ActiveSpan, #out_ref| { #outcome } };
            // `impl Future` cannot be written as a closure's return type;
            // the boxed type can, and pins the body's type to it.
            let annotation = match (&sig.output, boxed) {
                (syn::ReturnType::Type(_, ty), true) => quote!(-> #ty),
                _ => TokenStream::new(),
            };
            let instrumented = quote! {
                #started.instrument_returned(move || #annotation { #(#stmts)* }, #finish)
            };
            if boxed {
                quote!(::std::boxed::Box::pin(#instrumented))
            } else {
                instrumented
            }
        }
        Returns::Unit | Returns::Never => quote! {
            let #guard = #started.enter();
            #(#stmts)*
        },
        _ if func.tracks_caller() => {
            // A closure would report its own location to `Location::caller()`
            // (`#[track_caller]` on closures is unstable), so the body stays
            // inline. An `Err` leaving through `return` or `?` then ends the
            // span without being recorded; the final expression's is.
            let annotation = match returns {
                Returns::Typed(ty) => quote!(: #ty),
                _ => TokenStream::new(),
            };
            quote! {
                let #guard = #started.enter();
                let #out #annotation = { #(#stmts)* };
                #[allow(unreachable_code)]
                let #out_ref = &#out;
                {
                    let #span_var = #guard.span();
                    #outcome
                }
                #out
            }
        }
        _ => {
            let annotation = match returns {
                Returns::Typed(ty) => quote!(-> #ty),
                _ => TokenStream::new(),
            };
            quote! {
                let #guard = #started.enter();
                // The closure gives `return` and `?` in the body their meaning
                // while the value passes through us.
                #[allow(clippy::redundant_closure_call)]
                let #out = (move || #annotation { #(#stmts)* })();
                {
                    let #span_var = #guard.span();
                    let #out_ref = &#out;
                    #outcome
                }
                #out
            }
        }
    };
    item(
        func,
        sig,
        quote! {
            #(#inner_attrs)*
            #record_block
            #body
        },
    )
}

/// The function with a new body. The body's braces keep the span of the
/// user's braces: with our call-site span the whole item would count as
/// macro-generated, and rustc would stop reporting it as dead code.
fn item(func: &Func, sig: &syn::Signature, body: TokenStream) -> TokenStream {
    let Func {
        attrs, vis, block, ..
    } = func;
    let mut group = proc_macro2::Group::new(proc_macro2::Delimiter::Brace, body);
    group.set_span(block.brace_token.span.join());
    quote! {
        #(#attrs)*
        #vis #sig #group
    }
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
    let attributes = records.len() + 3 + 1 + usize::from(args.ret.is_set());
    let record = quote!(|#rec: &mut #krate::__private::Recorder<'_>| { #(#records)* });
    let name = match args.name.get() {
        Some(lit) => lit.value(),
        None => func.default_name(),
    };
    let kind = match args.kind.get().map(ToString::to_string).as_deref() {
        Some("server") => quote!(Server),
        Some("client") => quote!(Client),
        Some("producer") => quote!(Producer),
        Some("consumer") => quote!(Consumer),
        _ => quote!(Internal),
    };
    let ident = &func.sig.ident;
    let function = func.default_name();
    let line = quote_spanned!(ident.span()=> ::core::line!());
    let start = match (args.parent.get(), args.links.get()) {
        (None, None) => quote!(__TRACED_SITE.start(#record)),
        (parent, links) => {
            let parent = match parent {
                Some(expr) => quote_spanned! {expr.span()=>
                    #krate::__private::parent(&(#expr))
                },
                None => quote!(::core::option::Option::None),
            };
            let links = links.into_iter().flatten().map(|expr| {
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
            });
        #start
    }}
}

/// One statement per recorded parameter and per `attributes(..)` entry.
fn record_inputs(args: &Args, func: &Func, krate: &TokenStream, rec: &Ident) -> Vec<TokenStream> {
    let fields = args.attributes.get().map(Vec::as_slice).unwrap_or_default();
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
        out.push(quote_spanned! {binding.span()=>
            #rec.attr(#key, {
                use #krate::__private::kind::*;
                // Named after the parameter, for the error when its type
                // cannot be recorded; a braced struct has no value, so the
                // parameter itself is not shadowed.
                #[allow(non_camel_case_types, dead_code)]
                struct #binding {}
                (&#krate::__private::Tag(&#binding)).traced_kind().to_value::<#binding, _>(&#binding)
            });
        });
    }
    let value = mixed("__traced_value");
    for field in fields {
        let key = &field.key;
        let expr = &field.value;
        out.push(quote_spanned! {expr.span()=>
            #rec.attr(#key, {
                use #krate::__private::kind::*;
                let #value = &(#expr);
                (&#krate::__private::Tag(#value)).traced_kind().to_value::<#krate::__private::value, _>(#value)
            });
        });
    }
    out
}

/// Records a returned `Err` and, with `ret`, the returned value.
fn record_outcome(args: &Args, krate: &TokenStream, span: &Ident, out: &Ident) -> TokenStream {
    let record_errors = args.errors.get().copied().unwrap_or(true);
    let err = mixed("__traced_err");
    let ok = mixed("__traced_ok");
    let errors = record_errors.then(|| {
        quote! {
            if let ::core::option::Option::Some(#err) = #out.traced_err() {
                (&&&&#krate::__private::Tag(#err)).traced_err_kind().record(#span, #err);
            }
        }
    });
    let ret = args.ret.is_set().then(|| {
        quote! {
            if #span.is_recording() {
                if let ::core::option::Option::Some(#ok) = #out.traced_ok() {
                    #span.attr("return", (&#krate::__private::Tag(#ok)).traced_kind().to_value::<#krate::__private::value, _>(#ok));
                }
            }
        }
    });
    if errors.is_none() && ret.is_none() {
        return quote!(let _ = (#span, #out););
    }
    quote! {
        use #krate::__private::kind::*;
        #errors
        #ret
    }
}
