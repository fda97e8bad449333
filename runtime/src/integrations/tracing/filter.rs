//! The default `tracing` filter, and `RUST_LOG` on top of it.

use tracing_subscriber::EnvFilter;

/// The filter `traced` starts from, in `EnvFilter` syntax: `info` and
/// above, with the internals of the transport crates off (their spans and
/// events describe frames, connections and buffers, and ours would go
/// through them too: the OTLP exporter is built on `tonic`, `hyper` and
/// `h2`, so their events inside an export would feed the export).
///
/// `RUST_LOG` (or [`Builder::tracing_filter`](crate::Builder::tracing_filter))
/// is added on top: a directive for the same target replaces the default
/// one, so `RUST_LOG=debug` leaves `h2` off and `RUST_LOG=h2=trace` turns
/// it on.
pub const DEFAULT_TRACING_FILTER: &str = "info,\
h2=off,\
hyper=off,\
hyper_util=off,\
tonic::transport=off,\
tower::buffer=off,\
reqwest::connect=off,\
rustls=off,\
want=off,\
mio=off,\
lapin::io_loop=off,\
opentelemetry=off,\
opentelemetry_sdk=off,\
opentelemetry_otlp=off,\
opentelemetry_http=off";

/// [`DEFAULT_TRACING_FILTER`] with `user`'s directives (already checked)
/// on top.
pub(crate) fn build(user: &str) -> EnvFilter {
    EnvFilter::builder()
        .parse(format!("{DEFAULT_TRACING_FILTER},{user}"))
        .unwrap_or_else(|_| EnvFilter::new(DEFAULT_TRACING_FILTER))
}

/// The filter [`tracing_layer`](crate::tracing_layer) applies:
/// [`DEFAULT_TRACING_FILTER`], then `TRACED_FILTER` (the directives that
/// choose `#[traced]` spans, so that one variable controls both), then
/// `RUST_LOG`; a variable that does not parse is warned about on stderr
/// and left out.
pub fn tracing_filter() -> EnvFilter {
    let mut user = Vec::new();
    for variable in [crate::filter::TRACED_FILTER, "RUST_LOG"] {
        let value = std::env::var(variable).unwrap_or_default();
        match crate::filter::check(&value) {
            Ok(directives) if !directives.is_empty() => user.push(directives),
            Ok(_) => {}
            Err(err) => {
                eprintln!("traced: ignoring {variable}: {err}; using the default filter instead")
            }
        }
    }
    build(&user.join(","))
}
