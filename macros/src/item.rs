//! The instrumented function's shape: sync or async, bindings, return type.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens as _;
use syn::spanned::Spanned as _;
use syn::visit::Visit;
use syn::{Attribute, Block, FnArg, Ident, ItemFn, Pat, ReturnType, Signature, Type, Visibility};

use crate::attr::Args;
use crate::errors::Errors;

/// What `#[traced]` was put on.
// Built once per attribute and moved once: the size of a variant costs nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Target {
    Fn(Traced),
    Impl(ImplBlock),
}

/// A function and the options it is instrumented with.
pub(crate) struct Traced {
    pub args: Args,
    pub func: Func,
}

/// A `#[traced]` impl block.
pub(crate) struct ImplBlock {
    /// The block as written, minus the `#[traced(..)]` of its methods:
    /// those options are in `methods`.
    pub block: syn::ItemImpl,
    /// The methods to instrument, by their position in `block.items`.
    pub methods: Vec<(usize, Traced)>,
}

/// A function with a body.
pub(crate) struct Func {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub sig: Signature,
    /// `#![...]` at the top of the body: they stay at the top of the output.
    pub inner_attrs: Vec<Attribute>,
    pub block: Block,
    /// Every name the parameters bind, in order (`self` excluded).
    pub bindings: Vec<Ident>,
    /// The type this function is a method of, when `#[traced]` is on its impl block.
    pub self_ty: Option<String>,
    /// `default fn` in a specializing impl block.
    pub defaultness: Option<syn::token::Default>,
}

/// How the function hands back its value, which decides the expansion's shape.
pub(crate) enum Shape {
    /// An `async fn` that an attribute below ours runs as an entry point.
    AsyncEntryPoint,
    /// Any other `async fn`.
    Async,
    /// A function returning `impl Future` or `Pin<Box<dyn Future>>`.
    ReturnsFuture { boxed: bool },
    /// Returns `()` or never returns: there is no value to record.
    Unit,
    /// Returns a value and carries `#[track_caller]`.
    TrackCaller,
    /// Returns any other value.
    Value,
}

/// The declared return type, as far as instrumentation cares.
pub(crate) enum Returns {
    /// No return type, or `()`.
    Unit,
    /// `-> !`.
    Never,
    /// `impl Future<Output = ..>` or `Pin<Box<dyn Future<Output = ..>>>`:
    /// the returned future carries the span.
    Future { boxed: bool },
    /// Any other type.
    Value,
}

impl Target {
    /// What `item` is, with the options `args` the attribute was given.
    pub fn from_syn(args: Args, item: TokenStream, errors: &mut Errors) -> Option<Target> {
        if let Ok(func) = syn::parse2::<ItemFn>(item.clone()) {
            let func = Func::from_syn(func.attrs, func.vis, func.sig, *func.block);
            return Some(Target::Fn(Traced { args, func }));
        }
        if let Ok(method) = syn::parse2::<syn::TraitItemFn>(item.clone()) {
            if method.default.is_none() {
                errors.push(syn::Error::new_spanned(
                    declaration(&method.sig),
                    "`#[traced]` needs a function body, and a trait method declaration has none; put `#[traced]` on the method in each `impl`, or give the trait method a default body",
                ));
                return None;
            }
        }
        match syn::parse2::<syn::Item>(item) {
            Ok(syn::Item::Impl(block)) => {
                Some(Target::Impl(ImplBlock::from_syn(&args, block, errors)))
            }
            Ok(other) => {
                let what = describe(&other);
                errors.push(syn::Error::new(
                    item_span(&other),
                    format!("`#[traced]` cannot be applied to {what}; it applies to functions, methods and `impl` blocks"),
                ));
                None
            }
            // Not an item we can parse (the user is mid-edit): the untouched
            // tokens let rustc report the user's own syntax error.
            Err(_) => None,
        }
    }
}

/// The tokens to underline for a trait method's declaration: the whole
/// signature, or, after `#[async_trait]` rewrote it (its return type and
/// bounds then carry the span of `#[async_trait]`), the part the user wrote,
/// from `fn` to the parameters.
fn declaration(sig: &Signature) -> TokenStream {
    let rewritten = sig
        .generics
        .lifetimes()
        .any(|l| l.lifetime.ident == "async_trait");
    if !rewritten {
        return sig.to_token_stream();
    }
    let mut tokens = sig.fn_token.to_token_stream();
    sig.ident.to_tokens(&mut tokens);
    let mut params =
        proc_macro2::Group::new(proc_macro2::Delimiter::Parenthesis, TokenStream::new());
    params.set_span(sig.paren_token.span.join());
    tokens.extend([proc_macro2::TokenTree::Group(params)]);
    tokens
}

impl ImplBlock {
    // Input:
    //     #[traced(opts)] impl Type { fn a() {} #[traced(other)] fn b() {} #[untraced] fn c() {} }
    // Model:
    //     `a` with `opts`, `b` with `other` (its attribute taken off the block),
    //     `c` left alone; every span named `Type::method`.
    fn from_syn(args: &Args, mut block: syn::ItemImpl, errors: &mut Errors) -> ImplBlock {
        let self_ty = type_name(&block.self_ty);
        let mut methods = Vec::new();
        for (index, item) in block.items.iter_mut().enumerate() {
            let syn::ImplItem::Fn(method) = item else {
                continue;
            };
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
            let args = match &own {
                Some(attr) => {
                    let tokens = match &attr.meta {
                        syn::Meta::List(list) => list.tokens.clone(),
                        _ => TokenStream::new(),
                    };
                    Args::parse(tokens, errors)
                }
                // Re-parsed, not cloned: each method gets its own copy, and
                // the block's mistakes were reported once already.
                None => Args::parse(args.tokens.clone(), &mut Errors::default()),
            };
            let mut func = Func::from_syn(
                method.attrs.clone(),
                method.vis.clone(),
                method.sig.clone(),
                method.block.clone(),
            );
            func.self_ty = self_ty.clone();
            func.defaultness = method.defaultness;
            methods.push((index, Traced { args, func }));
        }
        ImplBlock { block, methods }
    }
}

/// Whether an attribute is `#[name(..)]` (by any path ending in `name`).
fn is_named(attr: &Attribute, name: &str) -> bool {
    attr.path().segments.last().is_some_and(|s| s.ident == name)
}

/// The last segment of the type an impl block is for: `Cache` in `impl<T> a::Cache<T>`.
fn type_name(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
        Type::Reference(r) => type_name(&r.elem),
        Type::Paren(p) => type_name(&p.elem),
        _ => None,
    }
}

impl Func {
    pub fn from_syn(attrs: Vec<Attribute>, vis: Visibility, sig: Signature, block: Block) -> Func {
        // syn keeps a body's `#![...]` among the item's attributes.
        let (attrs, inner_attrs) = split_inner(attrs);
        let mut bindings = Vec::new();
        for input in &sig.inputs {
            match input {
                FnArg::Receiver(_) => {}
                FnArg::Typed(typed) => collect_bindings(&typed.pat, &mut bindings),
            }
        }
        Func {
            attrs,
            vis,
            sig,
            inner_attrs,
            block,
            bindings,
            self_ty: None,
            defaultness: None,
        }
    }

    /// The shape of the expansion this function needs.
    pub fn shape(&self) -> Shape {
        if self.sig.asyncness.is_some() {
            return if self.is_async_entry_point() {
                Shape::AsyncEntryPoint
            } else {
                Shape::Async
            };
        }
        match self.returns() {
            Returns::Future { boxed } => Shape::ReturnsFuture { boxed },
            Returns::Unit | Returns::Never => Shape::Unit,
            Returns::Value if self.tracks_caller() => Shape::TrackCaller,
            // The body cannot compile, and rustc's error about its `?`
            // should read as it would without us: in a closure, the `?`
            // would be reported as used "in a closure". Inline, the body is
            // the function's own again; what it records does not matter.
            Returns::Value if self.question_mark_cannot_apply() => Shape::TrackCaller,
            Returns::Value => Shape::Value,
        }
    }

    /// Whether the body uses `?` (outside closures, `async` blocks and
    /// nested items) in a function whose declared return type is one that
    /// `?` can never return through: a number, `String`, `Vec<T>`, a
    /// reference, a tuple... (only `Result`, `Option`, `Poll` and
    /// `ControlFlow` can, and an alias could name one of them, so an unknown
    /// name counts as possibly one).
    fn question_mark_cannot_apply(&self) -> bool {
        struct Finder(bool);
        impl<'a> Visit<'a> for Finder {
            fn visit_expr_try(&mut self, _: &'a syn::ExprTry) {
                self.0 = true;
            }
            fn visit_expr_closure(&mut self, _: &'a syn::ExprClosure) {}
            fn visit_expr_async(&mut self, _: &'a syn::ExprAsync) {}
            fn visit_item(&mut self, _: &'a syn::Item) {}
        }
        let ReturnType::Type(_, ty) = &self.sig.output else {
            return false;
        };
        if !never_try(ty) {
            return false;
        }
        let mut finder = Finder(false);
        finder.visit_block(&self.block);
        finder.0
    }

    /// The declared return type as it can be written in a `let` or as a
    /// closure's return type: an `impl Trait` inside it becomes `_`
    /// (`Result<impl Iterator, E>` is `Result<_, E>`); `None` when the whole
    /// type is one. Pinning the body to it makes type errors speak of the
    /// user's signature, and makes the error type known before the
    /// outcome is recorded: autoref dispatch on a type still to be inferred
    /// would pick the first impl that may apply.
    pub fn nameable_output(&self) -> Option<Type> {
        match &self.sig.output {
            ReturnType::Type(_, ty) if !matches!(**ty, Type::ImplTrait(_)) => {
                Some(impl_as_infer(ty))
            }
            _ => None,
        }
    }

    pub fn returns(&self) -> Returns {
        match &self.sig.output {
            ReturnType::Default => Returns::Unit,
            ReturnType::Type(_, ty) => match &**ty {
                Type::Tuple(t) if t.elems.is_empty() => Returns::Unit,
                Type::Never(_) => Returns::Never,
                ty if is_impl_future(ty) => Returns::Future { boxed: false },
                ty if is_boxed_future(ty) => Returns::Future { boxed: true },
                _ => Returns::Value,
            },
        }
    }

    /// Whether the function carries `#[track_caller]`.
    fn tracks_caller(&self) -> bool {
        self.attrs.iter().any(|a| a.path().is_ident("track_caller"))
    }

    /// Whether an attribute below ours runs the function as an async entry
    /// point (`#[tokio::main]`, `#[tokio::test]`, ...), which needs the
    /// function to stay an `async fn`.
    fn is_async_entry_point(&self) -> bool {
        self.attrs.iter().any(|a| {
            let path = a.path();
            path.segments.len() > 1
                && path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "main" || s.ident == "test")
        })
    }

    /// The span name unless `name = ".."` is given.
    pub fn default_name(&self) -> String {
        let ident = self.sig.ident.to_string();
        let ident = ident.trim_start_matches("r#");
        match &self.self_ty {
            Some(ty) => format!("{ty}::{ident}"),
            None => ident.to_owned(),
        }
    }
}

/// Splits `attrs` into outer and inner attributes.
pub(crate) fn split_inner(attrs: Vec<Attribute>) -> (Vec<Attribute>, Vec<Attribute>) {
    attrs
        .into_iter()
        .partition(|a| matches!(a.style, syn::AttrStyle::Outer))
}

pub(crate) fn collect_bindings(pat: &Pat, out: &mut Vec<Ident>) {
    match pat {
        Pat::Ident(p) => {
            out.push(p.ident.clone());
            if let Some((_, sub)) = &p.subpat {
                collect_bindings(sub, out);
            }
        }
        Pat::Tuple(p) => p.elems.iter().for_each(|e| collect_bindings(e, out)),
        Pat::TupleStruct(p) => p.elems.iter().for_each(|e| collect_bindings(e, out)),
        Pat::Struct(p) => p.fields.iter().for_each(|f| collect_bindings(&f.pat, out)),
        Pat::Reference(p) => collect_bindings(&p.pat, out),
        Pat::Slice(p) => p.elems.iter().for_each(|e| collect_bindings(e, out)),
        Pat::Type(p) => collect_bindings(&p.pat, out),
        Pat::Paren(p) => collect_bindings(&p.pat, out),
        // Every alternative binds the same names.
        Pat::Or(p) => {
            if let Some(first) = p.cases.first() {
                collect_bindings(first, out);
            }
        }
        _ => {}
    }
}

/// Whether `ty` is certainly a type `?` cannot return through.
fn never_try(ty: &Type) -> bool {
    const NOT_TRY: &[&str] = &[
        "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
        "f32", "f64", "bool", "char", "str", "String", "Vec", "VecDeque", "HashMap", "HashSet",
        "BTreeMap", "BTreeSet", "Box", "Rc", "Arc", "Cow", "PathBuf",
    ];
    match ty {
        Type::Reference(_) | Type::Array(_) | Type::Slice(_) | Type::Tuple(_) => true,
        Type::Paren(p) => never_try(&p.elem),
        Type::Path(p) if p.qself.is_none() => p
            .path
            .segments
            .last()
            .is_some_and(|s| NOT_TRY.contains(&s.ident.to_string().as_str())),
        _ => false,
    }
}

/// Whether one of `bounds` is `Future<..>` (by any path ending in `Future`).
fn has_future_bound<'a>(mut bounds: impl Iterator<Item = &'a syn::TypeParamBound>) -> bool {
    bounds.any(|b| match b {
        syn::TypeParamBound::Trait(t) => {
            t.path.segments.last().is_some_and(|s| s.ident == "Future")
        }
        _ => false,
    })
}

/// `impl Future<Output = T> + ..`.
fn is_impl_future(ty: &Type) -> bool {
    matches!(ty, Type::ImplTrait(t) if has_future_bound(t.bounds.iter()))
}

/// The single generic type argument of a path type whose last segment is `name`.
fn generic_arg<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

/// `Pin<Box<dyn Future<Output = T> + ..>>`, the shape `#[async_trait]` produces.
fn is_boxed_future(ty: &Type) -> bool {
    generic_arg(ty, "Pin")
        .and_then(|inner| generic_arg(inner, "Box"))
        .is_some_and(
            |inner| matches!(inner, Type::TraitObject(t) if has_future_bound(t.bounds.iter())),
        )
}

/// `ty` with every `impl Trait` in it replaced by `_`.
fn impl_as_infer(ty: &Type) -> Type {
    let mut ty = ty.clone();
    infer_impls(&mut ty);
    ty
}

fn infer_impls(ty: &mut Type) {
    match ty {
        Type::ImplTrait(t) => {
            *ty = Type::Infer(syn::TypeInfer {
                underscore_token: syn::Token![_](t.impl_token.span),
            });
        }
        Type::Path(path) => {
            if let Some(qself) = &mut path.qself {
                infer_impls(&mut qself.ty);
            }
            for segment in &mut path.path.segments {
                if let syn::PathArguments::AngleBracketed(args) = &mut segment.arguments {
                    for arg in &mut args.args {
                        match arg {
                            syn::GenericArgument::Type(t) => infer_impls(t),
                            syn::GenericArgument::AssocType(a) => infer_impls(&mut a.ty),
                            _ => {}
                        }
                    }
                }
            }
        }
        Type::Tuple(t) => t.elems.iter_mut().for_each(infer_impls),
        Type::Reference(r) => infer_impls(&mut r.elem),
        Type::Array(a) => infer_impls(&mut a.elem),
        Type::Slice(s) => infer_impls(&mut s.elem),
        Type::Paren(p) => infer_impls(&mut p.elem),
        Type::Group(g) => infer_impls(&mut g.elem),
        Type::Ptr(p) => infer_impls(&mut p.elem),
        _ => {}
    }
}

fn describe(item: &syn::Item) -> &'static str {
    match item {
        syn::Item::Struct(_) => "a struct",
        syn::Item::Enum(_) => "an enum",
        syn::Item::Union(_) => "a union",
        syn::Item::Trait(_) => {
            "a trait (put it on the methods of its `impl` blocks, or on default methods)"
        }
        syn::Item::Mod(_) => "a module",
        syn::Item::Const(_) => "a constant",
        syn::Item::Static(_) => "a static",
        syn::Item::Type(_) => "a type alias",
        syn::Item::Use(_) => "a `use` declaration",
        syn::Item::Macro(_) => "a macro",
        syn::Item::ForeignMod(_) => "an `extern` block",
        syn::Item::ExternCrate(_) => "an `extern crate` declaration",
        syn::Item::TraitAlias(_) => "a trait alias",
        _ => "this item",
    }
}

fn item_span(item: &syn::Item) -> Span {
    let ident = match item {
        syn::Item::Struct(i) => Some(&i.ident),
        syn::Item::Enum(i) => Some(&i.ident),
        syn::Item::Union(i) => Some(&i.ident),
        syn::Item::Trait(i) => Some(&i.ident),
        syn::Item::Mod(i) => Some(&i.ident),
        syn::Item::Const(i) => Some(&i.ident),
        syn::Item::Static(i) => Some(&i.ident),
        syn::Item::Type(i) => Some(&i.ident),
        _ => None,
    };
    ident.map_or_else(|| item.to_token_stream().span(), Ident::span)
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::{Shape, Target};
    use crate::attr::Args;
    use crate::errors::Errors;

    fn shape(item: proc_macro2::TokenStream) -> Shape {
        let mut errors = Errors::default();
        let args = Args::parse(proc_macro2::TokenStream::new(), &mut errors);
        match Target::from_syn(args, item, &mut errors) {
            Some(Target::Fn(traced)) => traced.func.shape(),
            _ => panic!("not a function"),
        }
    }

    #[test]
    fn shapes() {
        assert!(matches!(
            shape(quote!(
                fn f() {}
            )),
            Shape::Unit
        ));
        assert!(matches!(
            shape(quote!(
                fn f() -> () {}
            )),
            Shape::Unit
        ));
        assert!(matches!(
            shape(quote!(
                fn f() -> ! {
                    loop {}
                }
            )),
            Shape::Unit
        ));
        assert!(matches!(
            shape(quote!(
                fn f() -> u8 {
                    1
                }
            )),
            Shape::Value
        ));
        assert!(matches!(
            shape(quote!(
                fn f() -> impl Iterator<Item = u8> {
                    0..1
                }
            )),
            Shape::Value
        ));
        assert!(matches!(
            shape(quote!(
                #[track_caller]
                fn f() -> u8 {
                    1
                }
            )),
            Shape::TrackCaller
        ));
        assert!(matches!(
            shape(quote!(
                async fn f() -> u8 {
                    1
                }
            )),
            Shape::Async
        ));
        assert!(matches!(
            shape(quote!(
                #[tokio::main]
                async fn main() {}
            )),
            Shape::AsyncEntryPoint
        ));
        assert!(matches!(
            shape(quote!(
                fn f() -> impl Future<Output = u8> {
                    async { 1 }
                }
            )),
            Shape::ReturnsFuture { boxed: false }
        ));
        assert!(matches!(
            shape(quote!(
                fn f() -> Pin<Box<dyn Future<Output = u8> + Send>> {
                    todo!()
                }
            )),
            Shape::ReturnsFuture { boxed: true }
        ));
    }

    #[test]
    fn impl_blocks_take_each_methods_own_options() {
        let mut errors = Errors::default();
        let args = Args::parse(quote!(skip_all), &mut errors);
        let item = quote! {
            impl Cache {
                fn a(&self) {}
                #[traced(ret)]
                fn b(&self) -> u8 { 1 }
                #[untraced]
                fn c(&self) {}
                const fn d() {}
                type T = u8;
            }
        };
        let Some(Target::Impl(block)) = Target::from_syn(args, item, &mut errors) else {
            panic!("not an impl block");
        };
        assert!(errors.finish().is_ok());
        let methods: Vec<_> = block
            .methods
            .iter()
            .map(|(index, traced)| (*index, traced.func.default_name(), traced.args.ret.is_set()))
            .collect();
        assert_eq!(
            methods,
            [
                (0, "Cache::a".to_owned(), false),
                (1, "Cache::b".to_owned(), true)
            ]
        );
        // The method's own `#[traced(..)]` is applied, not left for rustc.
        let syn::ImplItem::Fn(b) = &block.block.items[1] else {
            panic!("not a method");
        };
        assert!(b.attrs.is_empty());
    }
}
