//! Adding events and attributes to the current span from inside a function.

use opentelemetry::trace::TraceContextExt as _;
use opentelemetry::{Context, KeyValue, StringValue};

/// Adds an event to the current span, with typed attributes converted like
/// `#[traced]` parameters. Nothing is evaluated when the current span does
/// not record.
///
/// ```
/// # use traced_runtime as traced;
/// # let id = 7_u64;
/// traced::event!("record inserted", task.id = id, db.table = "tasks");
/// ```
#[macro_export]
macro_rules! event {
    ($name:expr $(, $($key:tt).+ = $value:expr)* $(,)?) => {{
        if let ::core::option::Option::Some(__traced_cx) = $crate::__private::recording_context() {
            let mut __traced_attrs = $crate::__private::Attributes::new();
            $( $crate::__traced_attr!(__traced_attrs, $($key).+ = $value); )*
            $crate::__private::add_event(&__traced_cx, $name, __traced_attrs);
        }
    }};
}

/// Sets attributes on the current span, converted like `#[traced]`
/// parameters. Nothing is evaluated when the current span does not record.
///
/// ```
/// # use traced_runtime as traced;
/// # let rows = 3_usize;
/// traced::attributes!(db.response.returned_rows = rows, db.system.name = "sqlite");
/// ```
#[macro_export]
macro_rules! attributes {
    ($($($key:tt).+ = $value:expr),* $(,)?) => {{
        if let ::core::option::Option::Some(__traced_cx) = $crate::__private::recording_context() {
            let mut __traced_attrs = $crate::__private::Attributes::new();
            $( $crate::__traced_attr!(__traced_attrs, $($key).+ = $value); )*
            $crate::__private::set_attributes(&__traced_cx, __traced_attrs);
        }
    }};
}

/// One `key = value` of `event!` and `attributes!`. Not public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __traced_attr {
    ($attrs:ident, $key:literal = $value:expr) => {
        $crate::__traced_attr!(@push $attrs, $key, $value)
    };
    ($attrs:ident, $($key:ident).+ = $value:expr) => {
        $crate::__traced_attr!(@push $attrs, ::core::stringify!($($key).+), $value)
    };
    (@push $attrs:ident, $key:expr, $value:expr) => {{
        let __traced_value = &($value);
        $attrs.push($key, $crate::__private::to_value!($crate::__private::value, __traced_value));
    }};
}

/// Attributes collected by `event!` and `attributes!`.
///
/// A key whose name marks a secret (`user.password`, `session.id`; see
/// `redact`) gets `[REDACTED]` whatever its value, and the paths of
/// scrubbed values are listed in `traced.scrubbed`.
#[doc(hidden)]
#[derive(Default)]
pub struct Attributes {
    list: Vec<KeyValue>,
    scrubbed: Vec<StringValue>,
}

impl Attributes {
    /// No attributes yet.
    pub fn new() -> Self {
        Attributes::default()
    }

    /// Adds one; `None` adds nothing.
    pub fn push(&mut self, key: &'static str, value: Option<opentelemetry::Value>) {
        let Some(value) = value else { return };
        crate::redact::claim(key, &mut self.scrubbed);
        let value = if crate::redact::is_secret(key) {
            self.scrubbed.push(StringValue::from(key));
            opentelemetry::Value::String(StringValue::from(crate::redact::REDACTED))
        } else {
            value
        };
        self.list.push(KeyValue::new(key, value));
    }

    fn into_list(mut self) -> Vec<KeyValue> {
        self.list
            .extend(crate::redact::scrubbed_attribute(self.scrubbed));
        self.list
    }
}

/// The current context, when its span records.
#[doc(hidden)]
pub fn recording_context() -> Option<Context> {
    Context::map_current(|cx| cx.span().is_recording().then(|| cx.clone()))
}

/// Adds the event. Not public API.
#[doc(hidden)]
pub fn add_event(cx: &Context, name: &'static str, attributes: Attributes) {
    cx.span().add_event(name, attributes.into_list());
}

/// Sets the attributes. Not public API.
#[doc(hidden)]
pub fn set_attributes(cx: &Context, attributes: Attributes) {
    cx.span().set_attributes(attributes.into_list());
}
