//! What `parent = ..` and `links(..)` accept.
//!
//! Generated code passes `&(expr)`, so the expressions are borrowed, never
//! moved: the parameters they name are still there for the body.

use opentelemetry::Context;
use opentelemetry::trace::{Link, SpanContext, TraceContextExt as _};

/// A value that can be the explicit parent of a span: `parent = expr`.
///
/// Implemented for [`Context`] and [`SpanContext`], for incoming headers
/// ([`http::HeaderMap`], `HashMap<String, String>`: the remote trace is
/// continued, or a new one started when they carry none), references to
/// them, and `Option`s of those (`None`: the current context).
#[diagnostic::on_unimplemented(
    message = "`#[traced(parent = ..)]` cannot use a `{Self}` as the parent of a span",
    label = "expected a `Context`, a `SpanContext` or incoming headers",
    note = "pass the `Context` (e.g. one extracted from incoming headers) or the parent's `SpanContext`"
)]
pub trait IntoParent {
    /// The context to start the span in; `None` for the current context.
    fn to_parent(&self) -> Option<Context>;
}

impl IntoParent for Context {
    fn to_parent(&self) -> Option<Context> {
        Some(self.clone())
    }
}
impl IntoParent for SpanContext {
    fn to_parent(&self) -> Option<Context> {
        Some(Context::new().with_remote_span_context(self.clone()))
    }
}
impl IntoParent for http::HeaderMap {
    fn to_parent(&self) -> Option<Context> {
        Some(super::headers::extract(self))
    }
}
impl<S: std::hash::BuildHasher> IntoParent for std::collections::HashMap<String, String, S> {
    fn to_parent(&self) -> Option<Context> {
        Some(super::headers::extract(self))
    }
}
impl<T: IntoParent + ?Sized> IntoParent for &T {
    fn to_parent(&self) -> Option<Context> {
        (**self).to_parent()
    }
}
impl<T: IntoParent> IntoParent for Option<T> {
    fn to_parent(&self) -> Option<Context> {
        self.as_ref().and_then(IntoParent::to_parent)
    }
}

/// A value a span can link to: each expression of `links(..)`.
///
/// Implemented for [`SpanContext`], [`Context`] (its span), references to
/// them, and `Option`s of those (no link for `None`).
#[diagnostic::on_unimplemented(
    message = "`#[traced(links(..))]` cannot link to a `{Self}`",
    label = "expected a `SpanContext` or a `Context`",
    note = "pass the `SpanContext` of the span to link to, or a `Context` that holds it"
)]
pub trait IntoLink {
    /// The span context to link to; `None` adds no link.
    fn to_link(&self) -> Option<SpanContext>;
}

impl IntoLink for SpanContext {
    fn to_link(&self) -> Option<SpanContext> {
        Some(self.clone())
    }
}
impl IntoLink for Context {
    fn to_link(&self) -> Option<SpanContext> {
        Some(self.span().span_context().clone())
    }
}
impl<T: IntoLink + ?Sized> IntoLink for &T {
    fn to_link(&self) -> Option<SpanContext> {
        (**self).to_link()
    }
}
impl<T: IntoLink> IntoLink for Option<T> {
    fn to_link(&self) -> Option<SpanContext> {
        self.as_ref().and_then(IntoLink::to_link)
    }
}

/// The parent of `parent = expr`.
pub fn parent<P: IntoParent + ?Sized>(parent: &P) -> Option<Context> {
    parent.to_parent()
}

/// One link of `links(..)`.
pub fn link<L: IntoLink + ?Sized>(target: &L) -> Option<SpanContext> {
    target.to_link()
}

/// The links of `links(..)`, invalid span contexts left out.
pub fn links<const N: usize>(targets: [Option<SpanContext>; N]) -> Vec<Link> {
    targets
        .into_iter()
        .flatten()
        .filter(SpanContext::is_valid)
        .map(Link::with_context)
        .collect()
}
