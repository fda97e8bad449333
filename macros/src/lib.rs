//! Implementation detail of the `traced` crate: depend on `traced` instead.

mod attr;
mod errors;
mod expand;
mod fallback;
mod forward;
mod item;
#[cfg(test)]
mod options_props;
mod secret;
mod semconv;
mod valid;

use proc_macro::TokenStream;

/// See the documentation of `traced::traced`.
#[proc_macro_attribute]
pub fn traced(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::traced(args.into(), item.into()).into()
}

/// See the documentation of `traced::untraced`.
#[proc_macro_attribute]
pub fn untraced(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::untraced(args.into(), item.into()).into()
}

/// See the documentation of `traced::event`.
#[proc_macro]
pub fn event(input: TokenStream) -> TokenStream {
    forward::event(input.into()).into()
}

/// See the documentation of `traced::attributes`.
#[proc_macro]
pub fn attributes(input: TokenStream) -> TokenStream {
    forward::attributes(input.into()).into()
}
