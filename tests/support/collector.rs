//! A real OpenTelemetry collector on loopback, for end-to-end tests.
//!
//! Used from a test file as `support::collector` (with `mod support;`).
//!
//! The collector is `rotel-agent` from the `PyPI` package `rotel`
//! (`0.0.1a15`), installed by `scripts/install-collector.sh` into
//! `target/collector-venv`. [`Collector::start`] runs it in the foreground
//! on two free ports of 127.0.0.1, one for OTLP/gRPC and one for
//! OTLP/HTTP, with its own directory for the pid file and the output:
//!
//! ```text
//! rotel-agent start --exporter blackhole \
//!     --debug-log traces --debug-log-verbosity detailed \
//!     --pid-file DIR/rotel.pid --log-file DIR/rotel-daemon.log \
//!     --otlp-grpc-endpoint 127.0.0.1:GRPC --otlp-http-endpoint 127.0.0.1:HTTP
//! ```
//!
//! In the foreground rotel prints everything, the received spans included,
//! on stdout (`--log-file` is only used with `--daemon`; it is given so the
//! default `/tmp/rotel-agent.log` is never touched), so stdout and stderr
//! go to `DIR/received.log`, which [`Collector::spans`] parses. The layout
//! is the OpenTelemetry Collector's "detailed" debug layout:
//!
//! ```text
//! ResourceSpans #0
//! Resource SchemaURL:
//! Resource attributes:
//!      -> service.name: Str(svc)
//! ScopeSpans #0
//! ScopeSpans SchemaURL:
//! InstrumentationScope my.scope 1.2
//! Span #0
//!     Trace ID       : 5b8efff798038103d269b633813fc60c
//!     Parent ID      : eee19b7ec3c1b173
//!     ID             : eee19b7ec3c1b174
//!     Name           : child span
//!     Kind           : SPAN_KIND_SERVER
//! Start time: 1544712660000000000
//! End time: 1544712661000000000
//!     Status code    : STATUS_CODE_ERROR
//!     Status message : went wrong
//! Attributes:
//!      -> i: Int(42)
//! Events:
//! SpanEvent #0
//!      -> Name: exception
//!      -> Timestamp: 1544712660500000000
//!      -> DroppedAttributesCount: 0
//!      -> Attributes::
//!           -> exception.message: Str(boom)
//! Links:
//! SpanLink #0
//!      -> Trace ID: 5b8efff798038103d269b633813fc60c
//!      ...
//! ```
//!
//! Values are printed raw, so a string holding a newline continues on the
//! next lines; the parser appends such lines to the value they continue.
//!
//! [`Collector::start_with_logs`] adds `--debug-log logs`: rotel then also
//! prints the log records it receives, which [`Collector::logs`] parses
//! (and [`parse`] skips):
//!
//! ```text
//! ResourceLog #0
//! Resource SchemaURL:
//! Resource attributes:
//!      -> service.name: Str(svc)
//! ScopeLogs #0
//! ScopeLogs SchemaURL:
//! InstrumentationScope my.scope
//! LogRecord #0
//! ObservedTimestamp: 1796164459591219070
//! Timestamp: 0
//! SeverityText: INFO
//! SeverityNumber: SEVERITY_NUMBER_INFO(9)
//! EventName: exception
//! Body: Str(order placed)
//! Attributes:
//!      -> order_id: Int(7)
//!     Trace ID       : 3de8889e96b1e5e81637c8f5294e16ac
//!     Span ID        : 17f56129e9737fb1
//! Flags: 1
//! ```
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The environment variable naming a `rotel-agent` binary to use instead of
/// the one `scripts/install-collector.sh` installs.
pub const BIN_ENV: &str = "TRACED_COLLECTOR_BIN";

/// How long [`Collector::start`] waits for both ports to accept connections.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);

/// How many lines of the collector's output a failure message shows.
const TAIL_LINES: usize = 40;

/// An attribute value with the OTLP type the collector printed.
#[derive(Debug, Clone, PartialEq)]
pub enum Typed {
    /// `Str(…)`.
    Str(String),
    /// `Int(…)`.
    Int(i64),
    /// `Double(…)`.
    Double(f64),
    /// `Bool(…)`.
    Bool(bool),
    /// `Slice(…)`: the elements as printed, e.g. `Str(a), Int(1)`.
    Array(String),
    /// Any other type (`Map(…)`, `Bytes(…)`, …) or a value that did not
    /// parse as its type, printed whole, e.g. `Map(a:Str(x))`.
    Other(String),
}

impl Typed {
    /// The string, for a `Str`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Typed::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, for an `Int`.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Typed::Int(i) => Some(*i),
            _ => None,
        }
    }
}

/// A span event as the collector received it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReceivedEvent {
    /// The event's name.
    pub name: String,
    /// The event's attributes, in the order received.
    pub attributes: Vec<(String, Typed)>,
}

impl ReceivedEvent {
    /// The value of the attribute `key`.
    pub fn attr(&self, key: &str) -> Option<&Typed> {
        lookup(&self.attributes, key)
    }
}

/// A span as the collector received it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReceivedSpan {
    /// 32 lowercase hex digits.
    pub trace_id: String,
    /// 16 lowercase hex digits; empty for a root span.
    pub parent_id: String,
    /// 16 lowercase hex digits.
    pub span_id: String,
    /// The span's name.
    pub name: String,
    /// `Internal`, `Server`, `Client`, `Producer`, `Consumer` or
    /// `Unspecified`.
    pub kind: String,
    /// `Unset`, `Ok` or `Error`.
    pub status_code: String,
    /// Empty unless the status is `Error` with a description.
    pub status_message: String,
    /// The span's attributes, in the order received.
    pub attributes: Vec<(String, Typed)>,
    /// The span's events, in the order received.
    pub events: Vec<ReceivedEvent>,
    /// The attributes of the resource that sent the span.
    pub resource: Vec<(String, Typed)>,
    /// The name of the instrumentation scope (the tracer's name).
    pub scope_name: String,
    /// `Start time`, in nanoseconds since the epoch; 0 when not printed.
    pub start_time: u64,
    /// `End time`, in nanoseconds since the epoch; 0 when not printed.
    pub end_time: u64,
}

impl ReceivedSpan {
    /// The value of the span attribute `key`.
    pub fn attr(&self, key: &str) -> Option<&Typed> {
        lookup(&self.attributes, key)
    }

    /// The value of the resource attribute `key`.
    pub fn resource_attr(&self, key: &str) -> Option<&Typed> {
        lookup(&self.resource, key)
    }

    /// The first event named `name`.
    pub fn event(&self, name: &str) -> Option<&ReceivedEvent> {
        self.events.iter().find(|e| e.name == name)
    }

    /// Whether the span has no parent.
    pub fn is_root(&self) -> bool {
        self.parent_id.is_empty()
    }
}

/// A log record as the collector received it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReceivedLog {
    /// 32 lowercase hex digits; empty outside a span.
    pub trace_id: String,
    /// 16 lowercase hex digits; empty outside a span.
    pub span_id: String,
    /// `INFO`, `ERROR`, … as sent.
    pub severity_text: String,
    /// `SEVERITY_NUMBER_INFO(9)`, as printed.
    pub severity_number: String,
    /// The event name; empty when none was sent.
    pub event_name: String,
    /// The body; `None` when it was empty.
    pub body: Option<Typed>,
    /// The record's attributes, in the order received.
    pub attributes: Vec<(String, Typed)>,
    /// The attributes of the resource that sent the record.
    pub resource: Vec<(String, Typed)>,
    /// The name of the instrumentation scope.
    pub scope_name: String,
}

impl ReceivedLog {
    /// The value of the record attribute `key`.
    pub fn attr(&self, key: &str) -> Option<&Typed> {
        lookup(&self.attributes, key)
    }

    /// The body, for a string body.
    pub fn body_str(&self) -> Option<&str> {
        self.body.as_ref().and_then(Typed::as_str)
    }
}

fn lookup<'a>(attributes: &'a [(String, Typed)], key: &str) -> Option<&'a Typed> {
    attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// A running collector; stopped (killed) when dropped.
pub struct Collector {
    child: Option<Child>,
    dir: PathBuf,
    grpc: SocketAddr,
    http: SocketAddr,
}

impl Collector {
    /// Installs the collector if needed, starts it on two free loopback
    /// ports and waits until both accept connections.
    ///
    /// # Panics
    ///
    /// When the collector cannot be installed or started, with the reason
    /// and the tail of its output: an end-to-end test never skips.
    pub fn start() -> Collector {
        let bin = agent().unwrap_or_else(|why| panic!("no OpenTelemetry collector: {why}"));
        Collector::try_start_with(&bin).unwrap_or_else(|why| panic!("{why}"))
    }

    /// [`Collector::start`], and the collector also prints the log
    /// records it receives, for [`Collector::logs`].
    ///
    /// # Panics
    ///
    /// As [`Collector::start`].
    pub fn start_with_logs() -> Collector {
        let bin = agent().unwrap_or_else(|why| panic!("no OpenTelemetry collector: {why}"));
        Collector::try_start_printing(&bin, &["logs"]).unwrap_or_else(|why| panic!("{why}"))
    }

    /// [`Collector::start`], and the collector also prints the metrics it
    /// receives, for [`Collector::metrics`](super::metrics).
    ///
    /// # Panics
    ///
    /// As [`Collector::start`].
    pub fn start_with_metrics() -> Collector {
        let bin = agent().unwrap_or_else(|why| panic!("no OpenTelemetry collector: {why}"));
        Collector::try_start_printing(&bin, &["metrics"]).unwrap_or_else(|why| panic!("{why}"))
    }

    /// Starts `bin` as the collector; `Err` says why it did not come up.
    /// A collector that exits early (e.g. a port taken in the meantime) is
    /// retried twice on fresh ports.
    pub fn try_start_with(bin: &Path) -> Result<Collector, String> {
        Collector::try_start_printing(bin, &[])
    }

    /// [`Collector::try_start_with`]; `also`: the other signals printed
    /// besides traces (`logs`, `metrics`).
    fn try_start_printing(bin: &Path, also: &[&str]) -> Result<Collector, String> {
        let mut last = String::new();
        for _ in 0..3 {
            match Collector::attempt(bin, also)? {
                Ok(collector) => return Ok(collector),
                Err(exited) => last = exited,
            }
        }
        Err(last)
    }

    /// One start. The outer `Err` is final (cannot run, timed out); the
    /// inner one means the collector exited and may be retried.
    fn attempt(bin: &Path, also: &[&str]) -> Result<Result<Collector, String>, String> {
        static RUN: AtomicUsize = AtomicUsize::new(0);
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "collector-{}-{}",
            std::process::id(),
            RUN.fetch_add(1, Ordering::Relaxed)
        ));
        // A stale pid file makes rotel exit 0 without starting.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let (grpc, http) = free_ports();
        let log = std::fs::File::create(dir.join("received.log"))
            .map_err(|e| format!("cannot create the collector's log: {e}"))?;
        let out = log
            .try_clone()
            .map_err(|e| format!("cannot share the collector's log: {e}"))?;
        let mut command = Command::new(bin);
        command
            .arg("start")
            .args(["--exporter", "blackhole"])
            .args(["--debug-log", "traces", "--debug-log-verbosity", "detailed"])
            .args(also.iter().flat_map(|signal| ["--debug-log", signal]))
            .arg("--pid-file")
            .arg(dir.join("rotel.pid"))
            .arg("--log-file")
            .arg(dir.join("rotel-daemon.log"))
            .arg("--otlp-grpc-endpoint")
            .arg(grpc.to_string())
            .arg("--otlp-http-endpoint")
            .arg(http.to_string())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(log);
        // Every flag has a ROTEL_* twin; inherited ones must not leak in.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("ROTEL_") {
                command.env_remove(key);
            }
        }
        let child = command.spawn().map_err(|e| {
            let _ = std::fs::remove_dir_all(&dir);
            format!("cannot start the collector {}: {e}", bin.display())
        })?;
        let mut collector = Collector {
            child: Some(child),
            dir,
            grpc,
            http,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let up = [grpc, http]
                .iter()
                .all(|addr| TcpStream::connect_timeout(addr, Duration::from_millis(200)).is_ok());
            if up {
                return Ok(Ok(collector));
            }
            if let Some(Ok(Some(status))) = collector.child.as_mut().map(Child::try_wait) {
                collector.child = None;
                return Ok(Err(format!(
                    "the collector {} exited with {status} before listening on {grpc} and \
                     {http}; its output ({}) ends with:\n{}",
                    bin.display(),
                    collector.log_path().display(),
                    collector.log_tail(TAIL_LINES)
                )));
            }
            if Instant::now() >= deadline {
                collector.stop();
                return Err(format!(
                    "the collector {} did not listen on {grpc} and {http} within {:?}; its \
                     output ({}) ends with:\n{}",
                    bin.display(),
                    START_TIMEOUT,
                    collector.log_path().display(),
                    collector.log_tail(TAIL_LINES)
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `http://127.0.0.1:PORT` of the OTLP/gRPC receiver.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://{}", self.grpc)
    }

    /// `http://127.0.0.1:PORT` of the OTLP/HTTP receiver (traces are posted
    /// to `/v1/traces` under it).
    pub fn http_endpoint(&self) -> String {
        format!("http://{}", self.http)
    }

    /// The collector's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The directory with the collector's pid file and output.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file the collector's output (the received spans) goes to.
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("received.log")
    }

    /// Stops (kills) the collector; what it printed stays readable.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// What the collector printed, escape codes removed.
    pub fn raw_log(&self) -> String {
        let raw = std::fs::read(self.log_path()).unwrap_or_default();
        strip_ansi(&String::from_utf8_lossy(&raw))
    }

    /// The last `lines` lines of [`Collector::raw_log`].
    pub fn log_tail(&self, lines: usize) -> String {
        let log = self.raw_log();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        parse(&self.raw_log())
    }

    /// Polls until at least `n` spans arrived and the output stopped
    /// growing (so no span is read half-printed), or until `timeout`
    /// passed; returns the spans received by then.
    pub fn wait_for_spans(&self, n: usize, timeout: Duration) -> Vec<ReceivedSpan> {
        let deadline = Instant::now() + timeout;
        let mut previous: Option<String> = None;
        loop {
            let log = self.raw_log();
            let enough = count_spans(&log) >= n;
            let settled = previous.as_deref() == Some(log.as_str());
            // Past the deadline, a run still printing gets one more second.
            let late = Instant::now() >= deadline + Duration::from_secs(1);
            if (enough && settled) || (!enough && Instant::now() >= deadline) || late {
                return parse(&log);
            }
            previous = Some(log);
            std::thread::sleep(Duration::from_millis(150));
        }
    }
}

impl Collector {
    /// Every log record received so far (needs [`Collector::start_with_logs`]).
    pub fn logs(&self) -> Vec<ReceivedLog> {
        parse_logs(&self.raw_log())
    }

    /// Polls until at least `n` log records arrived and the output stopped
    /// growing, or until `timeout` passed; returns the records received by
    /// then.
    pub fn wait_for_logs(&self, n: usize, timeout: Duration) -> Vec<ReceivedLog> {
        let deadline = Instant::now() + timeout;
        let mut previous: Option<String> = None;
        loop {
            let log = self.raw_log();
            let enough = log.lines().filter(|l| l.starts_with("LogRecord #")).count() >= n;
            let settled = previous.as_deref() == Some(log.as_str());
            let late = Instant::now() >= deadline + Duration::from_secs(1);
            if (enough && settled) || (!enough && Instant::now() >= deadline) || late {
                return parse_logs(&log);
            }
            previous = Some(log);
            std::thread::sleep(Duration::from_millis(150));
        }
    }
}

impl Drop for Collector {
    /// Kills the collector; removes its directory unless the test failed.
    fn drop(&mut self) {
        self.stop();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The `rotel-agent` binary: `$TRACED_COLLECTOR_BIN`, else the one in
/// `target/collector-venv`, else the one `scripts/install-collector.sh`
/// installs. Looked up once per test process.
fn agent() -> Result<PathBuf, String> {
    static AGENT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    AGENT.get_or_init(find_agent).clone()
}

fn find_agent() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(BIN_ENV).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if is_executable(&path) {
            Ok(path)
        } else {
            Err(format!(
                "{BIN_ENV}={} is not an executable file",
                path.display()
            ))
        };
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Some(found) = installed_agent(&root.join("target/collector-venv")) {
        return Ok(found);
    }
    let script = root.join("scripts/install-collector.sh");
    let out = Command::new("bash")
        .arg(&script)
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!(
            "{} failed ({}); the end-to-end tests need it (or set {BIN_ENV}):\n{stderr}",
            script.display(),
            out.status
        ));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let path = PathBuf::from(stdout.lines().last().unwrap_or_default().trim());
    if is_executable(&path) {
        Ok(path)
    } else {
        Err(format!(
            "{} printed {:?}, which is not an executable file:\n{stderr}",
            script.display(),
            path.display()
        ))
    }
}

/// `VENV/lib*/python*/site-packages/rotel/rotel-agent`, if executable.
fn installed_agent(venv: &Path) -> Option<PathBuf> {
    let mut found = Vec::new();
    for lib in ["lib", "lib64"] {
        let Ok(pythons) = std::fs::read_dir(venv.join(lib)) else {
            continue;
        };
        for python in pythons.flatten() {
            let agent = python.path().join("site-packages/rotel/rotel-agent");
            if is_executable(&agent) {
                found.push(agent);
            }
        }
    }
    found.sort();
    found.into_iter().next()
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Two distinct free ports on 127.0.0.1 (both held until both are known).
fn free_ports() -> (SocketAddr, SocketAddr) {
    let bind = || TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port");
    let (a, b) = (bind(), bind());
    (
        a.local_addr().expect("local address"),
        b.local_addr().expect("local address"),
    )
}

/// Removes ANSI escape sequences (rotel colours its own log lines).
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
        } else if chars.peek() == Some(&'[') {
            // CSI: ESC [ parameters… final byte in @..~
            chars.next();
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        } else {
            // A two-character escape.
            chars.next();
        }
    }
    out
}

/// How many spans the log holds (cheaper than parsing it).
fn count_spans(log: &str) -> usize {
    log.lines().filter(|l| l.starts_with("Span #")).count()
}

/// Parses `Type(value)` as the debug layout prints attribute values.
pub fn typed(raw: &str) -> Typed {
    let Some((kind, rest)) = raw.split_once('(') else {
        return Typed::Other(raw.to_owned());
    };
    let Some(value) = rest.strip_suffix(')') else {
        return Typed::Other(raw.to_owned());
    };
    let other = || Typed::Other(raw.to_owned());
    match kind {
        "Str" => Typed::Str(value.to_owned()),
        "Int" => value.parse().map_or_else(|_| other(), Typed::Int),
        "Double" => value.parse().map_or_else(|_| other(), Typed::Double),
        "Bool" => match value {
            "true" => Typed::Bool(true),
            "false" => Typed::Bool(false),
            _ => other(),
        },
        "Slice" | "Array" => Typed::Array(value.to_owned()),
        _ => other(),
    }
}

/// `-> key: Type(value)` with exactly `indent` spaces before the arrow.
fn attribute_line(line: &str, indent: usize) -> Option<(&str, &str)> {
    let rest = line
        .strip_prefix(&" ".repeat(indent))?
        .strip_prefix("-> ")?;
    rest.split_once(": ")
}

/// `    Field   : value` of a span header.
fn span_field<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let rest = line.strip_prefix("    ")?.strip_prefix(name)?;
    let value = rest.trim_start_matches(' ').strip_prefix(':')?;
    Some(value.strip_prefix(' ').unwrap_or(value))
}

const SPAN_FIELDS: [&str; 7] = [
    "Trace ID",
    "Parent ID",
    "ID",
    "Name",
    "Kind",
    "Status code",
    "Status message",
];

/// Whether `line` is part of the layout (or one of rotel's own log lines),
/// as opposed to the continuation of a value that holds a newline.
fn is_structural(line: &str) -> bool {
    const STARTS: [&str; 14] = [
        "ResourceSpans #",
        "Resource SchemaURL:",
        "Resource attributes:",
        "ScopeSpans #",
        "ScopeSpans SchemaURL:",
        "InstrumentationScope ",
        "Span #",
        "Start time:",
        "End time:",
        "Attributes:",
        "Events:",
        "Links:",
        "SpanEvent #",
        "SpanLink #",
    ];
    STARTS.iter().any(|s| line.starts_with(s))
        || LOG_STARTS.iter().any(|s| line.starts_with(s))
        || span_field(line, "Span ID").is_some()
        || line.starts_with("     -> ")
        || line.starts_with("          -> ")
        || SPAN_FIELDS.iter().any(|f| span_field(line, f).is_some())
        || is_log_line(line)
}

/// The lines of the log records' layout that the spans' layout lacks.
const LOG_STARTS: [&str; 11] = [
    "ResourceLog #",
    "Body:",
    "ScopeLogs #",
    "ScopeLogs SchemaURL:",
    "LogRecord #",
    "ObservedTimestamp:",
    "Timestamp:",
    "SeverityText:",
    "SeverityNumber:",
    "EventName:",
    "Flags:",
];

/// rotel's own log lines start with an RFC 3339 timestamp.
fn is_log_line(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() > 11
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
}

#[derive(Clone, Copy, PartialEq)]
enum Section {
    None,
    Resource,
    SpanHeader,
    SpanAttributes,
    Event,
    EventAttributes,
    Links,
}

/// The last value read, which a continuation line extends.
#[derive(Clone, Copy)]
enum Open {
    ResourceAttr,
    SpanAttr,
    EventAttr,
    SpanName,
    StatusMessage,
    EventName,
}

/// Parses the collector's detailed debug output. Lines it does not know
/// are ignored; it never panics.
pub fn parse(log: &str) -> Vec<ReceivedSpan> {
    let mut spans: Vec<ReceivedSpan> = Vec::new();
    let mut resource: Vec<(String, Typed)> = Vec::new();
    let mut scope = String::new();
    let mut section = Section::None;
    // The open value and its raw text so far.
    let mut open: Option<(Open, String)> = None;
    // Inside a block of log records (printed with `--debug-log logs`).
    let mut in_logs = false;
    for line in log.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        // Metrics (`--debug-log metrics`) are skipped like log records.
        if line.starts_with("ResourceLog #") || line.starts_with("ResourceMetrics #") {
            in_logs = true;
            open = None;
        } else if line.starts_with("ResourceSpans #") {
            in_logs = false;
        }
        if in_logs {
            continue;
        }
        if !is_structural(line) {
            if let Some((what, raw)) = open.as_mut() {
                raw.push('\n');
                raw.push_str(line);
                extend(*what, raw, &mut resource, spans.last_mut());
            }
            continue;
        }
        open = None;
        if line.starts_with("ResourceSpans #") {
            resource = Vec::new();
            scope.clear();
            section = Section::None;
        } else if line.starts_with("Resource attributes:") {
            section = Section::Resource;
        } else if line.starts_with("ScopeSpans #") {
            scope.clear();
            section = Section::None;
        } else if let Some(rest) = line.strip_prefix("InstrumentationScope ") {
            // `InstrumentationScope NAME VERSION`; the name may be empty.
            rest.split_once(' ')
                .map_or(rest, |(name, _)| name)
                .clone_into(&mut scope);
            section = Section::None;
        } else if let Some(v) = line.strip_prefix("Start time:") {
            if let Some(span) = spans.last_mut() {
                span.start_time = v.trim().parse().unwrap_or(0);
            }
        } else if let Some(v) = line.strip_prefix("End time:") {
            if let Some(span) = spans.last_mut() {
                span.end_time = v.trim().parse().unwrap_or(0);
            }
        } else if line.starts_with("Span #") {
            spans.push(ReceivedSpan {
                resource: resource.clone(),
                scope_name: scope.clone(),
                ..ReceivedSpan::default()
            });
            section = Section::SpanHeader;
        } else if line.starts_with("Attributes:") {
            section = Section::SpanAttributes;
        } else if line.starts_with("Events:") {
            section = Section::Event;
        } else if line.starts_with("SpanEvent #") {
            if let Some(span) = spans.last_mut() {
                span.events.push(ReceivedEvent::default());
            }
            section = Section::Event;
        } else if line.starts_with("Links:") || line.starts_with("SpanLink #") {
            section = Section::Links;
        } else {
            open = body_line(line, section, &mut resource, spans.last_mut());
            if let Some(Open::EventAttr) = open.as_ref().map(|(w, _)| *w) {
                section = Section::EventAttributes;
            }
        }
    }
    spans
}

/// A line inside a section; returns the value it opened, if any.
fn body_line(
    line: &str,
    section: Section,
    resource: &mut Vec<(String, Typed)>,
    span: Option<&mut ReceivedSpan>,
) -> Option<(Open, String)> {
    if section == Section::Resource {
        let (key, raw) = attribute_line(line, 5)?;
        resource.push((key.to_owned(), typed(raw)));
        return Some((Open::ResourceAttr, raw.to_owned()));
    }
    let span = span?;
    match section {
        Section::SpanHeader => {
            let field = SPAN_FIELDS
                .iter()
                .find_map(|f| span_field(line, f).map(|v| (*f, v)))?;
            match field {
                ("Trace ID", v) => v.trim().clone_into(&mut span.trace_id),
                ("Parent ID", v) => v.trim().clone_into(&mut span.parent_id),
                ("ID", v) => v.trim().clone_into(&mut span.span_id),
                ("Kind", v) => span.kind = title(v.trim().trim_start_matches("SPAN_KIND_")),
                ("Status code", v) => {
                    span.status_code = title(v.trim().trim_start_matches("STATUS_CODE_"));
                }
                ("Name", v) => {
                    v.clone_into(&mut span.name);
                    return Some((Open::SpanName, v.to_owned()));
                }
                ("Status message", v) => {
                    v.clone_into(&mut span.status_message);
                    return Some((Open::StatusMessage, v.to_owned()));
                }
                _ => {}
            }
            None
        }
        Section::SpanAttributes => {
            let (key, raw) = attribute_line(line, 5)?;
            span.attributes.push((key.to_owned(), typed(raw)));
            Some((Open::SpanAttr, raw.to_owned()))
        }
        Section::Event | Section::EventAttributes => {
            let event = span.events.last_mut()?;
            if let Some((key, raw)) = attribute_line(line, 10) {
                event.attributes.push((key.to_owned(), typed(raw)));
                return Some((Open::EventAttr, raw.to_owned()));
            }
            let (key, value) = attribute_line(line, 5)?;
            if key == "Name" && section == Section::Event {
                value.clone_into(&mut event.name);
                return Some((Open::EventName, value.to_owned()));
            }
            None
        }
        Section::None | Section::Resource | Section::Links => None,
    }
}

/// Replaces the open value with its extended raw text.
fn extend(
    what: Open,
    raw: &str,
    resource: &mut [(String, Typed)],
    span: Option<&mut ReceivedSpan>,
) {
    let slot = match (what, span) {
        (Open::ResourceAttr, _) => resource.last_mut().map(|(_, v)| v),
        (_, None) => None,
        (Open::SpanAttr, Some(span)) => span.attributes.last_mut().map(|(_, v)| v),
        (Open::EventAttr, Some(span)) => span
            .events
            .last_mut()
            .and_then(|e| e.attributes.last_mut())
            .map(|(_, v)| v),
        (Open::SpanName, Some(span)) => {
            raw.clone_into(&mut span.name);
            None
        }
        (Open::StatusMessage, Some(span)) => {
            raw.clone_into(&mut span.status_message);
            None
        }
        (Open::EventName, Some(span)) => {
            if let Some(event) = span.events.last_mut() {
                raw.clone_into(&mut event.name);
            }
            None
        }
    };
    if let Some(slot) = slot {
        *slot = typed(raw);
    }
}

/// `SERVER` → `Server`.
fn title(upper: &str) -> String {
    let lower = upper.to_ascii_lowercase();
    let mut chars = lower.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// Parses the log records in the collector's detailed debug output (see
/// [`Collector::start_with_logs`]); spans and unknown lines are skipped. It
/// never panics.
pub fn parse_logs(log: &str) -> Vec<ReceivedLog> {
    #[derive(PartialEq)]
    enum At {
        Elsewhere,
        Resource,
        Record,
        Attributes,
    }
    let mut records: Vec<ReceivedLog> = Vec::new();
    let mut resource: Vec<(String, Typed)> = Vec::new();
    let mut scope = String::new();
    let mut at = At::Elsewhere;
    let mut in_logs = false;
    // The value a continuation line extends: the body (`None`) or the last
    // attribute of the resource or the record, and its raw text so far.
    let mut open: Option<(bool, String)> = None;
    for line in log.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.starts_with("ResourceSpans #") || line.starts_with("ResourceMetrics #") {
            in_logs = false;
        } else if line.starts_with("ResourceLog #") {
            in_logs = true;
            resource = Vec::new();
            scope.clear();
            at = At::Elsewhere;
            open = None;
            continue;
        }
        if !in_logs {
            continue;
        }
        if !is_structural(line) {
            if let Some((is_attr, raw)) = open.as_mut() {
                raw.push('\n');
                raw.push_str(line);
                let value = typed(raw);
                let slot = match (*is_attr, &at) {
                    (true, At::Resource) => resource.last_mut().map(|(_, v)| v),
                    (true, _) => records
                        .last_mut()
                        .and_then(|r| r.attributes.last_mut())
                        .map(|(_, v)| v),
                    (false, _) => records
                        .last_mut()
                        .map(|r| r.body.get_or_insert(Typed::Other(String::new()))),
                };
                if let Some(slot) = slot {
                    *slot = value;
                }
            }
            continue;
        }
        open = None;
        let record = records.last_mut();
        if line.starts_with("Resource attributes:") {
            at = At::Resource;
        } else if line.starts_with("ScopeLogs #") {
            scope.clear();
            at = At::Elsewhere;
        } else if let Some(rest) = line.strip_prefix("InstrumentationScope ") {
            rest.split_once(' ')
                .map_or(rest, |(name, _)| name)
                .clone_into(&mut scope);
            at = At::Elsewhere;
        } else if line.starts_with("LogRecord #") {
            records.push(ReceivedLog {
                resource: resource.clone(),
                scope_name: scope.clone(),
                ..ReceivedLog::default()
            });
            at = At::Record;
        } else if line.starts_with("Attributes:") {
            at = At::Attributes;
        } else if let Some((key, raw)) = attribute_line(line, 5) {
            match (&at, record) {
                (At::Resource, _) => resource.push((key.to_owned(), typed(raw))),
                (At::Attributes, Some(record)) => {
                    record.attributes.push((key.to_owned(), typed(raw)))
                }
                _ => continue,
            }
            open = Some((true, raw.to_owned()));
        } else if let Some(record) = record {
            let field = |name: &str| line.strip_prefix(name).map(str::trim);
            if let Some(v) = field("SeverityText:") {
                v.clone_into(&mut record.severity_text);
            } else if let Some(v) = field("SeverityNumber:") {
                v.clone_into(&mut record.severity_number);
            } else if let Some(v) = field("EventName:") {
                v.clone_into(&mut record.event_name);
            } else if let Some(raw) = line.strip_prefix("Body: ") {
                record.body = match raw {
                    "" | "Empty()" => None,
                    raw => Some(typed(raw)),
                };
                open = Some((false, raw.to_owned()));
            } else if let Some(v) = span_field(line, "Trace ID") {
                v.trim().clone_into(&mut record.trace_id);
            } else if let Some(v) = span_field(line, "Span ID") {
                v.trim().clone_into(&mut record.span_id);
            }
        }
    }
    records
}
