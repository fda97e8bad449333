//! The command line.

use std::net::SocketAddr;
use std::time::Duration;

use crate::join::Limits;

/// Default gRPC address: the OTLP port, on loopback.
pub const GRPC_DEFAULT: &str = "127.0.0.1:4317";
/// Default HTTP address: the OTLP port, on loopback.
pub const HTTP_DEFAULT: &str = "127.0.0.1:4318";
/// The web page's address when `--ui` is given without one.
pub const UI_DEFAULT: &str = "127.0.0.1:16686";
/// How long a trace with its root must be quiet before it is printed.
pub const QUIET_DEFAULT: Duration = Duration::from_millis(1_000);
/// How long a trace without a root waits before it is printed as
/// incomplete.
pub const TIMEOUT_DEFAULT: Duration = Duration::from_secs(30);

/// What the viewer listens on, when it prints, and how much it keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// OTLP/gRPC; `None` turns it off.
    pub grpc: Option<SocketAddr>,
    /// OTLP/HTTP (protobuf and JSON); `None` turns it off.
    pub http: Option<SocketAddr>,
    /// The web page; `None` (the default) serves none. Must be loopback:
    /// the page shows every attribute it received to whoever connects.
    pub ui: Option<SocketAddr>,
    /// A trace is printed once its root has arrived and nothing else has
    /// for this long.
    pub quiet: Duration,
    /// A trace whose root never arrives is printed after this long.
    pub timeout: Duration,
    /// How much is kept in memory.
    pub limits: Limits,
    /// Print the trees in colour (ANSI escapes).
    pub color: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            grpc: GRPC_DEFAULT.parse().ok(),
            http: HTTP_DEFAULT.parse().ok(),
            ui: None,
            quiet: QUIET_DEFAULT,
            timeout: TIMEOUT_DEFAULT,
            limits: Limits::default(),
            color: false,
        }
    }
}

/// `traced-view --version`.
pub const VERSION: &str = concat!("traced-view ", env!("CARGO_PKG_VERSION"), "\n");

/// `traced-view --help`.
pub const USAGE: &str = "\
traced-view: receive OTLP traces, logs and metrics from every service, print each
trace as one tree with its log records, and serve it as a web waterfall; show each
service's rate, errors and duration per function or route, with exemplar traces

usage: traced-view [options]

  --grpc ADDR            OTLP/gRPC address (default 127.0.0.1:4317; `off` for none)
  --http ADDR            OTLP/HTTP address, protobuf and JSON (default 127.0.0.1:4318; `off`)
  --ui [ADDR]            serve the web page on a loopback address (default 127.0.0.1:16686)
  --quiet DURATION       print a trace once its root arrived and it was quiet this long (default 1s)
  --timeout DURATION     print a trace without a root after this long (default 30s)
  --max-traces N         traces kept in memory (default 2000)
  --max-spans N          spans kept in memory in all, and as many log records (default 50000)
  --max-spans-per-trace N  spans kept per trace, and as many log records (default 5000)
  --max-memory MIB       memory the spans and records kept may take, estimated (default 256)
  --color / --no-color   colour the trees (default: on a terminal unless NO_COLOR is set)
  -h, --help             print this and exit
  -V, --version          print the version and exit

Durations are `250ms`, `2s` or a number of milliseconds. The first line printed
names the bound addresses: `traced-view grpc=ADDR http=ADDR ui=http://ADDR/`.
Every endpoint answers requests addressed to 127.0.0.1, [::1], localhost or the
address given here only.

Metrics: the duration histograms (traced.function.duration and the semantic
conventions' http, rpc, db and messaging durations) become a table per service of
calls, rate, error % and p50/p95/p99, each with the first 8 digits of an exemplar's
trace id. It is printed once metrics pause for --quiet, at most every 10s, and on
exit; the page shows it under `metrics`. Up to 1000 series are kept; other metrics
are counted only.
";

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Receive and print, as configured.
    Run(Config),
    /// Print [`USAGE`] and exit.
    Help,
    /// Print [`VERSION`] and exit.
    Version,
}

impl Config {
    /// Reads the command line (without the program name).
    ///
    /// # Errors
    ///
    /// A message naming the option that is wrong and what to write instead.
    pub fn from_args(args: &[String], terminal: bool) -> Result<Command, String> {
        let mut config = Config {
            color: terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
            ..Config::default()
        };
        let mut args = args.iter().peekable();
        while let Some(flag) = args.next() {
            let mut value = |flag: &str| {
                args.next()
                    .cloned()
                    .ok_or_else(|| format!("`{flag}` needs a value; see --help"))
            };
            match flag.as_str() {
                "-h" | "--help" => return Ok(Command::Help),
                "-V" | "--version" => return Ok(Command::Version),
                "--grpc" => config.grpc = address(flag, &value(flag)?)?,
                "--http" => config.http = address(flag, &value(flag)?)?,
                "--ui" => {
                    let given = match args.peek() {
                        Some(next) if !next.starts_with("--") => args.next().cloned(),
                        _ => None,
                    };
                    let addr = given.as_deref().unwrap_or(UI_DEFAULT);
                    config.ui = address(flag, addr)?;
                    if config.ui.is_some_and(|a| !a.ip().is_loopback()) {
                        return Err(format!(
                            "`--ui {addr}` is not a loopback address; the page shows every attribute received, so it is served on 127.0.0.1 or ::1 only"
                        ));
                    }
                }
                "--quiet" => config.quiet = duration(flag, &value(flag)?)?,
                "--timeout" => config.timeout = duration(flag, &value(flag)?)?,
                "--max-traces" => config.limits.max_traces = count(flag, &value(flag)?)?,
                "--max-spans" => config.limits.max_spans = count(flag, &value(flag)?)?,
                "--max-spans-per-trace" => {
                    config.limits.max_spans_per_trace = count(flag, &value(flag)?)?
                }
                "--max-memory" => {
                    let mib = count(flag, &value(flag)?)?;
                    config.limits.max_bytes = mib.saturating_mul(1024 * 1024);
                }
                "--color" => config.color = true,
                "--no-color" => config.color = false,
                other => return Err(format!("unknown option `{other}`; see --help")),
            }
        }
        Ok(Command::Run(config))
    }
}

fn address(flag: &str, value: &str) -> Result<Option<SocketAddr>, String> {
    if value == "off" {
        return Ok(None);
    }
    value.parse().map(Some).map_err(|_| {
        format!("`{flag} {value}` is not an address; use IP:PORT such as 127.0.0.1:0, or `off`")
    })
}

fn duration(flag: &str, value: &str) -> Result<Duration, String> {
    let parsed = if let Some(ms) = value.strip_suffix("ms") {
        ms.parse().ok().map(Duration::from_millis)
    } else if let Some(s) = value.strip_suffix('s') {
        s.parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s >= 0.0 && *s < 1e9)
            .map(Duration::from_secs_f64)
    } else {
        value.parse().ok().map(Duration::from_millis)
    };
    parsed.ok_or_else(|| format!("`{flag} {value}` is not a duration; use 250ms, 2s or 250"))
}

fn count(flag: &str, value: &str) -> Result<usize, String> {
    value
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{flag} {value}` is not a positive whole number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Config>, String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        match Config::from_args(&args, false)? {
            Command::Run(config) => Ok(Some(config)),
            Command::Help | Command::Version => Ok(None),
        }
    }

    #[test]
    fn flags() {
        let config = parse(&[
            "--grpc",
            "127.0.0.1:0",
            "--http",
            "off",
            "--ui",
            "--quiet",
            "250ms",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(config.grpc, Some("127.0.0.1:0".parse().unwrap()));
        assert_eq!(config.http, None);
        assert_eq!(config.ui, Some(UI_DEFAULT.parse().unwrap()));
        assert_eq!(config.quiet, Duration::from_millis(250));
        assert_eq!(
            parse(&["--timeout", "2s"]).unwrap().unwrap().timeout,
            Duration::from_secs(2)
        );
    }

    #[test]
    fn mistakes_are_errors() {
        assert!(
            parse(&["--ui", "0.0.0.0:80"])
                .unwrap_err()
                .contains("not a loopback")
        );
        assert!(parse(&["--grpc"]).unwrap_err().contains("needs a value"));
        assert!(
            parse(&["--quiet", "soon"])
                .unwrap_err()
                .contains("not a duration")
        );
        assert!(
            parse(&["--max-spans", "0"])
                .unwrap_err()
                .contains("positive")
        );
        assert!(
            parse(&["--frobnicate"])
                .unwrap_err()
                .contains("unknown option")
        );
        assert_eq!(parse(&["--help"]), Ok(None));
    }

    #[test]
    fn help_version_and_memory() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(Config::from_args(&args(&["-h"]), false), Ok(Command::Help));
        assert_eq!(
            Config::from_args(&args(&["--grpc", "off", "--version"]), false),
            Ok(Command::Version)
        );
        assert_eq!(
            parse(&["--max-memory", "64"])
                .unwrap()
                .unwrap()
                .limits
                .max_bytes,
            64 << 20
        );
        assert!(VERSION.starts_with("traced-view 0."));
    }
}
