//! A real OpenTelemetry collector on loopback, for end-to-end tests.
//!
//! The collector is `rotel-agent` from the PyPI package `rotel`, installed
//! by `scripts/install-collector.sh` into `target/`. It receives OTLP over
//! gRPC and HTTP and prints every span it gets in the OpenTelemetry
//! Collector's "detailed" debug layout, which [`Collector::spans`] parses.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// An attribute value with the OTLP type the collector printed.
#[derive(Debug, Clone, PartialEq)]
pub enum Typed {
    Str(String),
    Int(i64),
    Double(f64),
    Bool(bool),
    /// An array, as printed.
    Array(String),
    /// Any other type, as printed.
    Other(String),
}

/// A span event as the collector received it.
#[derive(Debug, Clone, Default)]
pub struct ReceivedEvent {
    pub name: String,
    pub attributes: Vec<(String, Typed)>,
}

/// A span as the collector received it.
#[derive(Debug, Clone, Default)]
pub struct ReceivedSpan {
    pub trace_id: String,
    /// Empty for a root span.
    pub parent_id: String,
    pub span_id: String,
    pub name: String,
    /// `Internal`, `Server`, `Client`, `Producer` or `Consumer`.
    pub kind: String,
    /// `Unset`, `Ok` or `Error`.
    pub status_code: String,
    pub status_message: String,
    pub attributes: Vec<(String, Typed)>,
    pub events: Vec<ReceivedEvent>,
    pub resource: Vec<(String, Typed)>,
    pub scope_name: String,
}

/// A running collector; stopped when dropped.
pub struct Collector {
    child: Option<Child>,
    dir: PathBuf,
    grpc: SocketAddr,
    http: SocketAddr,
}

fn agent() -> PathBuf {
    static AGENT: OnceLock<PathBuf> = OnceLock::new();
    AGENT
        .get_or_init(|| {
            if let Some(path) = std::env::var_os("TRACED_COLLECTOR_BIN") {
                return PathBuf::from(path);
            }
            let script = format!(
                "{}/scripts/install-collector.sh",
                env!("CARGO_MANIFEST_DIR")
            );
            let out = Command::new("bash")
                .arg(&script)
                .stderr(Stdio::inherit())
                .output()
                .unwrap_or_else(|e| panic!("cannot run {script}: {e}"));
            assert!(
                out.status.success(),
                "installing the collector failed (see above); the end-to-end tests need it"
            );
            PathBuf::from(String::from_utf8(out.stdout).expect("utf-8 path").trim())
        })
        .clone()
}

fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address")
}

impl Collector {
    /// Starts a collector on two free loopback ports and waits until it
    /// accepts connections. Panics, saying why, when it cannot.
    pub fn start() -> Collector {
        static RUN: AtomicUsize = AtomicUsize::new(0);
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "collector-{}-{}",
            std::process::id(),
            RUN.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("collector directory");
        let (grpc, http) = (free_port(), free_port());
        let log = std::fs::File::create(dir.join("received.log")).expect("log file");
        let child = Command::new(agent())
            .arg("start")
            .args(["--exporter", "blackhole"])
            .args(["--debug-log", "traces", "--debug-log-verbosity", "detailed"])
            .arg("--pid-file")
            .arg(dir.join("rotel.pid"))
            .arg("--otlp-grpc-endpoint")
            .arg(grpc.to_string())
            .arg("--otlp-http-endpoint")
            .arg(http.to_string())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the collector {}: {e}", agent().display()));
        let mut collector = Collector {
            child: Some(child),
            dir,
            grpc,
            http,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let up = [grpc, http]
                .iter()
                .all(|addr| TcpStream::connect_timeout(addr, Duration::from_millis(200)).is_ok());
            if up {
                return collector;
            }
            if let Some(Ok(Some(status))) = collector.child.as_mut().map(Child::try_wait) {
                panic!(
                    "the collector exited with {status}:\n{}",
                    collector.raw_log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "the collector did not listen within 20 s:\n{}",
                collector.raw_log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `http://127.0.0.1:PORT` of the OTLP/gRPC receiver.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://{}", self.grpc)
    }

    /// `http://127.0.0.1:PORT` of the OTLP/HTTP receiver.
    pub fn http_endpoint(&self) -> String {
        format!("http://{}", self.http)
    }

    /// Stops the collector.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// What the collector printed, escape codes removed.
    pub fn raw_log(&self) -> String {
        let raw = std::fs::read(self.dir.join("received.log")).unwrap_or_default();
        strip_ansi(&String::from_utf8_lossy(&raw))
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        parse(&self.raw_log())
    }

    /// Waits until at least `n` spans arrived (or `timeout` passed) and
    /// returns what arrived, after a short pause for stragglers.
    pub fn wait_for_spans(&self, n: usize, timeout: Duration) -> Vec<ReceivedSpan> {
        let deadline = Instant::now() + timeout;
        loop {
            let spans = self.spans();
            if spans.len() >= n || Instant::now() >= deadline {
                std::thread::sleep(Duration::from_millis(300));
                return self.spans();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        self.stop();
    }
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ ... final byte in @..~
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) && c != '[' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `key: Type(value)` as the debug layout prints attributes.
fn attribute(line: &str) -> Option<(String, Typed)> {
    let line = line.trim_start().strip_prefix("-> ")?;
    let (key, rest) = line.split_once(": ")?;
    let (kind, value) = rest.split_once('(')?;
    let value = value.strip_suffix(')').unwrap_or(value).to_owned();
    let typed = match kind {
        "Str" => Typed::Str(value),
        "Int" => value
            .parse()
            .map_or(Typed::Other(value.clone()), Typed::Int),
        "Double" => value
            .parse()
            .map_or(Typed::Other(value.clone()), Typed::Double),
        "Bool" => Typed::Bool(value == "true"),
        "Slice" | "Array" => Typed::Array(value),
        _ => Typed::Other(rest.to_owned()),
    };
    Some((key.to_owned(), typed))
}

fn field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let rest = line.trim_start().strip_prefix(name)?;
    Some(rest.trim_start().strip_prefix(':')?.trim())
}

#[derive(PartialEq)]
enum Section {
    None,
    Resource,
    Span,
    Events,
}

/// Parses the collector's detailed debug output; odd lines are ignored.
pub fn parse(log: &str) -> Vec<ReceivedSpan> {
    let mut spans: Vec<ReceivedSpan> = Vec::new();
    let mut resource = Vec::new();
    let mut scope = String::new();
    let mut section = Section::None;
    for line in log.lines() {
        let trimmed = line.trim_start();
        if line.starts_with("ResourceSpans #") {
            resource = Vec::new();
            section = Section::None;
        } else if line.starts_with("Resource attributes:") {
            section = Section::Resource;
        } else if let Some(rest) = line.strip_prefix("InstrumentationScope ") {
            scope = rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
            section = Section::None;
        } else if line.starts_with("ScopeSpans #") {
            section = Section::None;
        } else if line.starts_with("Span #") {
            spans.push(ReceivedSpan {
                resource: resource.clone(),
                scope_name: scope.clone(),
                ..ReceivedSpan::default()
            });
            section = Section::Span;
        } else if line.starts_with("Attributes:") {
            section = Section::Span;
        } else if line.starts_with("Events:") {
            section = Section::Events;
        } else if line.starts_with("Links:") {
            section = Section::None;
        } else if line.starts_with("SpanEvent #") {
            if let Some(span) = spans.last_mut() {
                span.events.push(ReceivedEvent::default());
            }
        } else if section == Section::Resource {
            if let Some(kv) = attribute(line) {
                resource.push(kv);
            }
        } else if let Some(span) = spans.last_mut() {
            if let Some(v) = field(line, "Trace ID") {
                span.trace_id = v.to_owned();
            } else if let Some(v) = field(line, "Parent ID") {
                span.parent_id = v.to_owned();
            } else if let Some(v) = field(line, "ID") {
                span.span_id = v.to_owned();
            } else if let Some(v) = field(line, "Name").filter(|_| section == Section::Span) {
                span.name = v.to_owned();
            } else if let Some(v) = field(line, "Kind") {
                span.kind = title(v.trim_start_matches("SPAN_KIND_"));
            } else if let Some(v) = field(line, "Status code") {
                span.status_code = title(v.trim_start_matches("STATUS_CODE_"));
            } else if let Some(v) = field(line, "Status message") {
                span.status_message = v.to_owned();
            } else if section == Section::Events {
                let Some(event) = span.events.last_mut() else {
                    continue;
                };
                if let Some(name) = trimmed.strip_prefix("-> Name: ") {
                    event.name = name.to_owned();
                } else if line.starts_with("          -> ") {
                    if let Some(kv) = attribute(line) {
                        event.attributes.push(kv);
                    }
                }
            } else if section == Section::Span && trimmed.starts_with("-> ") {
                if let Some(kv) = attribute(line) {
                    span.attributes.push(kv);
                }
            }
        }
    }
    spans
}

fn title(upper: &str) -> String {
    let lower = upper.to_ascii_lowercase();
    let mut chars = lower.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}
