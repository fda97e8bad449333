//! What we emit when the options or the item are wrong.

use proc_macro2::TokenStream;
use quote::quote;

// Emit the errors *and* the item exactly as written: the crate still builds
// its call sites, the IDE keeps completions, and the only error the user
// sees is ours. If the item itself does not parse (the user is mid-edit),
// the untouched tokens let rustc report the user's own syntax error.
pub(crate) fn expand(err: syn::Error, item: TokenStream) -> TokenStream {
    let err = err.to_compile_error();
    quote! { #err #item }
}
