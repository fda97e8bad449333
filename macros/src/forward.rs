//! `event!` and `attributes!`: the keys are checked against the semantic
//! conventions here, then the call goes on to the runtime's `macro_rules!`
//! of the same name, which stays usable on its own as
//! `traced_runtime::event!`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{ParseStream, Parser as _};
use syn::punctuated::Punctuated;
use syn::{Expr, Token};

use crate::attr::{Field, parse_field};
use crate::errors::Errors;
use crate::semconv;

// Input:
//     event!("name", #[allow(deprecated)] http.method = m, task.id = id)
// Output:
//     ::traced::__runtime_event!("name", http.method = m, task.id = id)
//     (after any errors, so the values still type-check and count as used)
pub(crate) fn event(input: TokenStream) -> TokenStream {
    let parser = |input: ParseStream| {
        let name: Expr = input.parse()?;
        let fields = if input.is_empty() {
            Vec::new()
        } else {
            input.parse::<Token![,]>()?;
            fields(input)?
        };
        Ok((name, fields))
    };
    match parser.parse2(input) {
        Ok((name, fields)) => {
            let (errors, pairs) = check(&fields);
            quote! {{ #errors ::traced::__runtime_event!(#name #(, #pairs)*) }}
        }
        Err(err) => err.to_compile_error(),
    }
}

// Input:
//     attributes!(db.system.name = "sqlite", rows = n)
// Output:
//     ::traced::__runtime_attributes!(db.system.name = "sqlite", rows = n)
pub(crate) fn attributes(input: TokenStream) -> TokenStream {
    match fields.parse2(input) {
        Ok(fields) => {
            let (errors, pairs) = check(&fields);
            quote! {{ #errors ::traced::__runtime_attributes!(#(#pairs),*) }}
        }
        Err(err) => err.to_compile_error(),
    }
}

fn fields(input: ParseStream) -> syn::Result<Vec<Field>> {
    Ok(
        Punctuated::<Field, Token![,]>::parse_terminated_with(input, parse_field)?
            .into_iter()
            .collect(),
    )
}

/// The errors for every field, and each field as the runtime macro takes it.
fn check(fields: &[Field]) -> (TokenStream, Vec<TokenStream>) {
    let mut errors = Errors::default();
    for field in fields {
        let at = field.as_use(&mut errors);
        semconv::check(&at, &mut errors);
    }
    let errors = match errors.finish() {
        Ok(()) => TokenStream::new(),
        Err(err) => err.to_compile_error(),
    };
    // The type checks never run: `if false` type-checks the values without
    // evaluating them a second time (and keeps `?` in them meaning what it
    // means in the function).
    let krate = quote!(::traced);
    let checks: Vec<TokenStream> = fields
        .iter()
        .map(|field| {
            semconv::type_assertion(&krate, &field.key, &field.value, &{
                let value = &field.value;
                quote!(&(#value))
            })
        })
        .filter(|check| !check.is_empty())
        .collect();
    let errors = if checks.is_empty() {
        errors
    } else {
        quote! {
            #errors
            #[allow(unreachable_code, clippy::all)]
            if false { #(#checks)* }
        }
    };
    let pairs = fields
        .iter()
        .map(|Field { tokens, value, .. }| quote!(#tokens = #value))
        .collect();
    (errors, pairs)
}
