//! The default `tracing` filter, and `RUST_LOG` on top of it.

use tracing_subscriber::EnvFilter;

use crate::init::InitError;

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

/// `value`, each directive trimmed, when it parses as `EnvFilter`
/// directives; the error names
/// `variable` and says why not.
pub(crate) fn check_filter(variable: &str, value: &str) -> Result<String, InitError> {
    // `EnvFilter` does not trim directives; `info, app=debug` is meant well.
    let directives = value
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .collect::<Vec<_>>()
        .join(",");
    match EnvFilter::builder().parse(&directives) {
        Ok(_) => Ok(directives),
        Err(err) => Err(InitError::new(
            variable,
            value,
            format!("`tracing` filter directives such as `info,my_crate=debug,h2=trace` ({err})"),
        )),
    }
}

/// [`DEFAULT_TRACING_FILTER`] with `user`'s directives (already checked)
/// on top.
pub(crate) fn build(user: &str) -> EnvFilter {
    EnvFilter::builder()
        .parse(format!("{DEFAULT_TRACING_FILTER},{user}"))
        .unwrap_or_else(|_| EnvFilter::new(DEFAULT_TRACING_FILTER))
}

/// The filter [`tracing_layer`](crate::tracing_layer) applies:
/// [`DEFAULT_TRACING_FILTER`] with `RUST_LOG` on top; a `RUST_LOG` that
/// does not parse is warned about on stderr and left out.
pub fn tracing_filter() -> EnvFilter {
    let user = std::env::var("RUST_LOG").unwrap_or_default();
    match check_filter("RUST_LOG", &user) {
        Ok(user) => build(&user),
        Err(err) => {
            eprintln!("traced: {err}; using the default filter instead");
            build("")
        }
    }
}
