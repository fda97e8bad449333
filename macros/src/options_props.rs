//! Property tests of the option parser and validator (#16): option lists
//! generated from a grammar of our options, with the mistakes users make
//! mixed in (unknown and misspelt options, duplicates, missing commas and
//! values, wrong value types, junk tokens). Whatever comes in, the macro
//! never panics, always emits items that parse, keeps the user's function
//! (so call sites still compile), and explains every refused input with a
//! `compile_error!`.

use proc_macro2::TokenStream;
use proptest::prelude::*;

/// One option, well formed or not.
fn option() -> impl Strategy<Value = String> {
    let ident = "[a-z][a-z0-9_]{0,8}";
    prop_oneof![
        Just("skip_all".to_owned()),
        Just("ret".to_owned()),
        ident.prop_map(|n| format!("name = \"{n}\"")),
        prop_oneof![
            Just("server"),
            Just("client"),
            Just("producer"),
            Just("consumer"),
            Just("internal"),
            Just("\"server\""),
            Just("sever"),
            Just("1"),
        ]
        .prop_map(|k| format!("kind = {k}")),
        prop::collection::vec(
            prop_oneof![Just("id"), Just("body"), Just("nope"), Just("self")],
            0..4
        )
        .prop_map(|names| format!("skip({})", names.join(", "))),
        prop::collection::vec(
            (
                prop_oneof![
                    Just("user.id"),
                    Just("http.method"),
                    Just("http.response.status_code"),
                    Just("db.system.name"),
                    Just("task.id"),
                    Just("a..b"),
                    Just("http.request.methd"),
                ],
                prop_oneof![
                    Just("id"),
                    Just("\"200\""),
                    Just("200"),
                    Just("\"postgres\""),
                    Just("body.len()"),
                    Just(""),
                ]
            ),
            0..4
        )
        .prop_map(|pairs| format!(
            "attributes({})",
            pairs
                .iter()
                .map(|(k, v)| format!("{k} = {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        prop_oneof![Just("true"), Just("false"), Just("maybe")]
            .prop_map(|v| format!("errors = {v}")),
        Just("parent = id".to_owned()),
        Just("links = [id]".to_owned()),
        Just("crate = ::traced".to_owned()),
        // What users of other crates write, and plain junk.
        prop_oneof![
            Just("fields(a = 1)"),
            Just("level = \"info\""),
            Just("target = \"x\""),
            Just("skip"),
            Just("name ="),
            Just("= 3"),
            Just("#"),
            Just("kind server"),
            Just("attributes(user.id id)"),
        ]
        .prop_map(str::to_owned),
        ident.prop_map(|n| n.to_owned()),
    ]
}

/// A list of options, joined by commas or, sometimes, not.
fn options() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (option(), prop_oneof![4 => Just(", "), 1 => Just(" ")]),
        0..6,
    )
    .prop_map(|parts| parts.into_iter().map(|(o, sep)| o + sep).collect())
}

/// A function the options go on.
fn item() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("fn work(id: u64, body: &str) -> u64 { id }"),
        Just("async fn work(id: u64, body: String) -> Result<u64, std::io::Error> { Ok(id) }"),
        Just("fn work(id: u64) {}"),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_option_list_expands_to_items_that_keep_the_function(args in options(), item in item()) {
        // Generated text that does not even lex is not something the
        // compiler hands a macro.
        let Ok(args_tokens) = args.parse::<TokenStream>() else { return Ok(()) };
        let item_tokens: TokenStream = item.parse().expect("the item lexes");
        let out = crate::expand::traced(args_tokens, item_tokens);
        let text = out.to_string();
        let file = syn::parse2::<syn::File>(out);
        prop_assert!(file.is_ok(), "#[traced({args})] on `{item}` emits no items: {text}");
        prop_assert!(text.contains("fn work"), "#[traced({args})] lost the function: {text}");
    }

    #[test]
    fn unknown_options_are_explained(name in "[a-z]{2,10}") {
        prop_assume!(!crate::attr::OPTIONS.contains(&name.as_str()));
        let out = crate::expand::traced(name.parse().unwrap(), "fn work() {}".parse().unwrap());
        let text = out.to_string();
        prop_assert!(text.contains("compile_error"), "`{name}` was accepted: {text}");
        prop_assert!(text.contains("fn work"));
    }
}
