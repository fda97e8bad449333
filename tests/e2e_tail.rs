//! Tail sampling end to end (#28): the two services of
//! `examples/checkout.rs` through a real collector, 1,000 requests, with
//! `TRACED_TAIL_SAMPLING=errors,slower_than=200ms,ratio=0.05` in both.
//!
//! The request's id decides its fate (`id % 50`: 7 fails in `back`, 23 is
//! slow in `back`, 41 is an error `back` recovers from under a 200), and
//! the test chooses every trace id (sent as `traceparent`), so it knows
//! beforehand which traces the ratio keeps: OpenTelemetry's consistent
//! probability sampling, computed here independently of the runtime.
//! What the collector receives must then be exactly the expected traces,
//! each complete in both services, and nothing else; `front` must answer
//! `traceresponse` for exactly those; and each service's `tail_stats`
//! (printed when it stops) must credit each trace to the expected rule.
//!
//! The trace ids come from a seed taken from the clock and printed; set
//! `E2E_TAIL_SEED` (hex, as printed) to run with the same ids again.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead as _, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use support::collector::{Collector, ReceivedSpan};
use support::{examples, wait};

/// How long a service may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long all the requests may take together.
const LOAD_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a service may take to flush and exit after SIGINT.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);
/// How long the collector may take to print what it received.
const COLLECT_TIMEOUT: Duration = Duration::from_secs(20);

const REQUESTS: u64 = 1_000;
/// Requests in flight at once.
const CONCURRENCY: u64 = 8;

const RULES: &str = "errors,slower_than=200ms,ratio=0.05";
/// `slower_than` in [`RULES`].
const SLOWER_THAN: Duration = Duration::from_millis(200);
/// The rejection threshold of `ratio=0.05`: `2^56 - round(2^56 / 20)`, in
/// integers (the runtime computes it in floating point). A trace is kept
/// by the ratio when the low 56 bits of its id are at least this.
const THRESHOLD: u64 = (1 << 56) - ((1 << 56) + 10) / 20;

/// What `examples/checkout.rs` does with an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// `back` fails: 500, and `front` answers 502.
    Fails,
    /// `back` takes 250 ms.
    Slow,
    /// `back`'s `count` fails, `stock` answers from its cache: 200.
    Recovered,
    /// Answered at once.
    Fine,
}

fn fate(id: u64) -> Fate {
    match id % 50 {
        7 => Fate::Fails,
        23 => Fate::Slow,
        41 => Fate::Recovered,
        _ => Fate::Fine,
    }
}

/// The span names of one request in each service, parent first: each
/// span's parent is the one before it, the first's is the caller's.
const FRONT_SPANS: [&str; 4] = ["GET /order/{id}", "order", "reserve", "GET"];
const BACK_SPANS: [&str; 3] = ["GET /stock/{id}", "stock", "count"];
const FRONT: &str = "checkout-front";
const BACK: &str = "checkout-back";

/// One request: its id, and the trace and parent span the test sent.
#[derive(Debug, Clone)]
struct Request {
    id: u64,
    trace_id: String,
    parent_id: String,
}

impl Request {
    /// Whether the ratio keeps its trace: OpenTelemetry's consistent
    /// probability sampling, the randomness being the low 56 bits of the
    /// trace id (no `ot=rv:` in a trace state).
    fn ratio_keeps(&self) -> bool {
        let id = u128::from_str_radix(&self.trace_id, 16).expect("hex trace id");
        // The low 64 bits, then the low 56 of those.
        let randomness = (id as u64) & ((1 << 56) - 1);
        randomness >= THRESHOLD
    }

    /// Whether tail sampling must keep its trace (in both services).
    fn kept(&self) -> bool {
        fate(self.id) != Fate::Fine || self.ratio_keeps()
    }
}

/// SplitMix64: trace and span ids the test chooses, from a seed it prints.
struct Ids(u64);

impl Ids {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn requests(&mut self, n: u64) -> Vec<Request> {
        (0..n)
            .map(|id| Request {
                id,
                trace_id: format!("{:016x}{:016x}", self.next(), self.next()),
                parent_id: format!("{:016x}", self.next() | 1),
            })
            .collect()
    }
}

/// A service of the checkout example, stopped with SIGINT so that it
/// flushes; killed if the test fails before that.
struct Service {
    child: Option<Child>,
    addr: String,
    /// The lines it printed after `listening on`.
    stdout: Option<JoinHandle<Vec<String>>>,
    stderr: Option<JoinHandle<String>>,
}

/// What a service left behind when it stopped.
struct Stopped {
    status: ExitStatus,
    stdout: Vec<String>,
    stderr: String,
}

impl Service {
    fn start(name: &str, args: &[&str], collector: &Collector) -> Service {
        let mut command = examples::command("checkout");
        let mut child = command
            .args(args)
            .args(["--port", "0"])
            .env("OTEL_SERVICE_NAME", name)
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", collector.grpc_endpoint())
            .env("OTEL_BSP_SCHEDULE_DELAY", "100")
            .env("TRACED_TAIL_SAMPLING", RULES)
            // Tail sampling runs on the SDK's pipeline only (ours refuses
            // it at `init`), and CI runs every test binary again with
            // `TRACED_PIPELINE=traced`: this test is about tail sampling,
            // so it asks for the SDK's whatever the environment says.
            .env("TRACED_PIPELINE", "sdk")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the service");
        let stderr = drain(child.stderr.take().expect("stderr"));
        let (first, stdout) = lines(child.stdout.take().expect("stdout"));
        let line = match first.recv_timeout(START_TIMEOUT) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{name} printed no line within {START_TIMEOUT:?}; its stderr:\n{}",
                    stderr.join().unwrap_or_default()
                );
            }
        };
        let Some(addr) = line.strip_prefix("listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{name} printed {line:?}, not its address; its stderr:\n{}",
                stderr.join().unwrap_or_default()
            );
        };
        Service {
            child: Some(child),
            addr: addr.to_owned(),
            stdout: Some(stdout),
            stderr: Some(stderr),
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn stop(mut self) -> Stopped {
        let mut child = self.child.take().expect("a running service");
        let pid = child.id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let status = wait::exit(
            &mut child,
            STOP_TIMEOUT,
            &format!("the checkout service {} after SIGINT", self.addr),
        );
        // The pipes close when the process exits.
        Stopped {
            status,
            stdout: self.stdout.take().expect("stdout").join().expect("stdout"),
            stderr: self.stderr.take().expect("stderr").join().expect("stderr"),
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The first line of `pipe` on a channel, and the lines after it.
fn lines(pipe: impl Read + Send + 'static) -> (mpsc::Receiver<String>, JoinHandle<Vec<String>>) {
    let (tx, rx) = mpsc::channel();
    let rest = std::thread::spawn(move || {
        let mut lines = BufReader::new(pipe).lines().map_while(Result::ok);
        if let Some(first) = lines.next() {
            let _ = tx.send(first);
        }
        lines.collect()
    });
    (rx, rest)
}

fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}

/// What `front` answered a request: its status, its `traceresponse`,
/// and how long it took from here (at least as long as `front`'s server
/// span, which ends before the answer is sent).
#[derive(Debug)]
struct Answer {
    status: u16,
    traceresponse: Option<String>,
    took: Duration,
}

/// Sends every request to `front`, `CONCURRENCY` at a time, and returns
/// what it answered, by id.
fn send_all(front: &str, requests: &[Request]) -> BTreeMap<u64, Answer> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let client = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("client");
    let requests: Arc<[Request]> = requests.into();
    rt.block_on(async {
        let mut workers = tokio::task::JoinSet::new();
        for worker in 0..CONCURRENCY {
            let (client, requests) = (client.clone(), Arc::clone(&requests));
            let front = front.to_owned();
            workers.spawn(async move {
                let mut answers = Vec::new();
                for request in requests
                    .iter()
                    .skip(worker as usize)
                    .step_by(CONCURRENCY as usize)
                {
                    let traceparent = format!("00-{}-{}-01", request.trace_id, request.parent_id);
                    let sent = Instant::now();
                    let response = client
                        .get(format!("{front}/order/{}", request.id))
                        .header("traceparent", traceparent)
                        .send()
                        .await
                        .unwrap_or_else(|e| panic!("order {}: {e}", request.id));
                    let took = sent.elapsed();
                    let traceresponse = response
                        .headers()
                        .get("traceresponse")
                        .map(|v| v.to_str().expect("ASCII").to_owned());
                    let status = response.status().as_u16();
                    answers.push((
                        request.id,
                        Answer {
                            status,
                            traceresponse,
                            took,
                        },
                    ));
                }
                answers
            });
        }
        tokio::time::timeout(LOAD_TIMEOUT, async {
            let mut all = BTreeMap::new();
            while let Some(answers) = workers.join_next().await {
                all.extend(answers.expect("a worker"));
            }
            all
        })
        .await
        .unwrap_or_else(|_| panic!("{REQUESTS} requests did not finish within {LOAD_TIMEOUT:?}"))
    })
}

fn service(span: &ReceivedSpan) -> &str {
    span.resource_attr("service.name")
        .and_then(|v| v.as_str())
        .unwrap_or_else(|| panic!("no service.name: {span:#?}"))
}

/// Checks that `spans` (one trace) hold the request's spans in `front`
/// and, with `back`, in `back`, each once, chained parent to child across
/// the process boundary, with the statuses its fate gives them.
fn assert_complete(request: &Request, spans: &[&ReceivedSpan], back: bool) {
    let context = || format!("request {request:?}, {:?}: {spans:#?}", fate(request.id));
    let back_spans: &[&str] = if back { &BACK_SPANS } else { &[] };
    assert_eq!(
        spans.len(),
        FRONT_SPANS.len() + back_spans.len(),
        "{}",
        context()
    );
    let chain: Vec<(&str, &str)> = FRONT_SPANS
        .iter()
        .map(|name| (FRONT, *name))
        .chain(back_spans.iter().map(|name| (BACK, *name)))
        .collect();
    let mut parent = request.parent_id.as_str();
    let mut errors = Vec::new();
    for (svc, name) in chain {
        let found: Vec<&&ReceivedSpan> = spans
            .iter()
            .filter(|s| service(s) == svc && s.name == name)
            .collect();
        let [span] = found.as_slice() else {
            panic!("{svc} {name:?}: {} spans; {}", found.len(), context());
        };
        assert_eq!(span.parent_id, parent, "{svc} {name:?}; {}", context());
        if span.status_code == "Error" {
            errors.push(format!("{svc} {name}"));
        }
        parent = &span.span_id;
    }
    let expected: &[&str] = match fate(request.id) {
        Fate::Fails => &[
            "checkout-front GET /order/{id}",
            "checkout-front order",
            "checkout-front reserve",
            "checkout-front GET",
            "checkout-back GET /stock/{id}",
            "checkout-back stock",
            "checkout-back count",
        ],
        Fate::Recovered => &["checkout-back count"],
        Fate::Slow | Fate::Fine => &[],
    };
    assert_eq!(errors, expected, "spans with status Error; {}", context());
}

/// `key=value` pairs of the `tail sampling:` line a service prints last.
fn tail_stats(name: &str, stopped: &Stopped) -> BTreeMap<String, u64> {
    let line = stopped
        .stdout
        .iter()
        .find_map(|l| l.strip_prefix("tail sampling: "))
        .unwrap_or_else(|| panic!("{name} printed no stats: {:?}", stopped.stdout));
    line.split(' ')
        .map(|pair| {
            let (k, v) = pair.split_once('=').expect("key=value");
            (k.to_owned(), v.parse().expect("a count"))
        })
        .collect()
}

#[test]
fn tail_sampling_keeps_whole_traces_across_two_services() {
    let started = Instant::now();
    let seed = match std::env::var("E2E_TAIL_SEED") {
        Ok(hex) => {
            u64::from_str_radix(hex.trim_start_matches("0x"), 16).expect("E2E_TAIL_SEED: hex")
        }
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_nanos() as u64,
    };
    eprintln!("trace ids from seed {seed:#x} (E2E_TAIL_SEED)");
    let requests = Ids(seed).requests(REQUESTS);

    let collector = Collector::start();
    let back = Service::start(BACK, &["back"], &collector);
    let front = Service::start(FRONT, &["front", "--back", &back.url()], &collector);
    let load = Instant::now();
    let answers = send_all(&front.url(), &requests);
    let load = load.elapsed();
    let front = front.stop();
    let back = back.stop();

    for (name, stopped) in [(FRONT, &front), (BACK, &back)] {
        eprintln!("{name}: {}", stopped.stdout.join("\n"));
        assert!(
            stopped.status.success(),
            "{name} exited with {}; stderr:\n{}",
            stopped.status,
            stopped.stderr
        );
        // The notice of the signal is all it may say.
        let unexpected: Vec<&str> = stopped
            .stderr
            .lines()
            .filter(|l| !l.starts_with("traced: SIGINT received;"))
            .collect();
        assert!(unexpected.is_empty(), "{name} stderr:\n{}", stopped.stderr);
    }
    // A request expected to be fast that took `slower_than` or longer,
    // seen from here (a loaded machine), may have been kept by
    // `slower_than` in `front`, and in `back` if its part was that slow
    // too: only what holds either way is checked for it. Every other
    // request took less, so neither service's local root reached it.
    let late: BTreeSet<u64> = requests
        .iter()
        .filter(|r| fate(r.id) == Fate::Fine && answers[&r.id].took >= SLOWER_THAN)
        .map(|r| r.id)
        .collect();
    let may_be_slow = |r: &Request| late.contains(&r.id) && !r.kept();

    for request in &requests {
        let expected = if fate(request.id) == Fate::Fails {
            502
        } else {
            200
        };
        let answer = &answers[&request.id];
        assert_eq!(answer.status, expected, "{request:?}");
        // `front` decided when its server span ended, before it answered:
        // it says so for every trace it keeps, and only for those.
        let prefix = format!("00-{}-", request.trace_id);
        match &answer.traceresponse {
            Some(header) => assert!(
                (request.kept() || may_be_slow(request))
                    && header.starts_with(&prefix)
                    && header.ends_with("-01"),
                "{request:?} ({:?}): traceresponse {header}",
                fate(request.id)
            ),
            None => assert!(
                !request.kept(),
                "{request:?} ({:?}) is kept, but front sent no traceresponse",
                fate(request.id)
            ),
        }
    }

    let kept: Vec<&Request> = requests.iter().filter(|r| r.kept()).collect();
    let per_trace = FRONT_SPANS.len() + BACK_SPANS.len();
    let spans = collector.wait_for_spans(kept.len() * per_trace, COLLECT_TIMEOUT);
    let mut by_trace: BTreeMap<&str, Vec<&ReceivedSpan>> = BTreeMap::new();
    for span in &spans {
        by_trace.entry(&span.trace_id).or_default().push(span);
    }
    let sent: BTreeMap<&str, &Request> =
        requests.iter().map(|r| (r.trace_id.as_str(), r)).collect();
    let strays: Vec<(&str, Vec<String>)> = by_trace
        .iter()
        .filter(|(trace, _)| !sent.contains_key(*trace))
        .map(|(trace, spans)| {
            let names = spans
                .iter()
                .map(|s| format!("{} {}", service(s), s.name))
                .collect();
            (*trace, names)
        })
        .collect();
    assert!(strays.is_empty(), "spans of traces never sent: {strays:#?}");

    for request in &requests {
        let trace = by_trace.get(request.trace_id.as_str());
        match trace {
            // Every kept trace, complete in both services.
            Some(trace) if request.kept() => assert_complete(request, trace, true),
            None if request.kept() => {
                panic!("{request:?} ({:?}) is missing", fate(request.id))
            }
            // Kept by `slower_than` in `front` alone, or in both.
            Some(trace) if may_be_slow(request) => {
                assert_complete(request, trace, trace.len() == per_trace);
            }
            // Nothing else: no fragment of a dropped trace, in either
            // service.
            Some(trace) => panic!(
                "{request:?} ({:?}, {:?}) should have been dropped: {trace:#?}",
                fate(request.id),
                answers[&request.id].took
            ),
            None => {}
        }
    }

    // The ratio's share of the rest: 5% of 940 is 47 (binomial standard
    // deviation 6.7); 20..=80 is four standard deviations and more.
    let count = |of: Fate, ratio: bool| {
        requests
            .iter()
            .filter(|r| fate(r.id) == of && r.ratio_keeps() == ratio)
            .count() as u64
    };
    let fine = requests.iter().filter(|r| fate(r.id) == Fate::Fine).count();
    let by_ratio = count(Fate::Fine, true);
    assert!(
        (20..=80).contains(&by_ratio),
        "the ratio kept {by_ratio} of {fine} traces; seed {seed:#x}"
    );

    // Each service counted the same decisions, credited to the first rule
    // that kept them.
    let errors = count(Fate::Fails, true) + count(Fate::Fails, false);
    let slow = count(Fate::Slow, true) + count(Fate::Slow, false);
    let recovered = count(Fate::Recovered, true) + count(Fate::Recovered, false);
    let dropped = count(Fate::Fine, false);
    let stats = |pairs: [(&str, u64); 6]| -> BTreeMap<String, u64> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    };
    let back_expected = stats([
        ("kept_errors", errors + recovered),
        ("kept_slow", slow),
        ("kept_ratio", by_ratio),
        ("kept_by_downstream", 0),
        ("dropped", dropped),
        ("evicted", 0),
    ]);
    // The recovered error left no trace in `front` but `back`'s
    // `traceresponse`: kept for it, unless the ratio kept it anyway.
    let front_expected = stats([
        ("kept_errors", errors),
        ("kept_slow", slow),
        ("kept_ratio", by_ratio + count(Fate::Recovered, true)),
        ("kept_by_downstream", count(Fate::Recovered, false)),
        ("dropped", dropped),
        ("evicted", 0),
    ]);
    for (name, stopped, mut expected) in [
        (BACK, &back, back_expected),
        (FRONT, &front, front_expected),
    ] {
        let actual = tail_stats(name, stopped);
        let slow_too = late
            .iter()
            .filter(|id| !requests[**id as usize].kept())
            .count() as u64;
        if slow_too > 0 {
            // Up to that many moved from dropped to kept_slow.
            let moved = actual["kept_slow"].saturating_sub(slow);
            assert!(moved <= slow_too, "{name}: {actual:?}");
            *expected.get_mut("kept_slow").expect("kept_slow") += moved;
            *expected.get_mut("dropped").expect("dropped") -= moved;
        }
        assert_eq!(actual, expected, "{name}");
    }
    let slowest = requests
        .iter()
        .filter(|r| fate(r.id) == Fate::Fine)
        .map(|r| answers[&r.id].took)
        .max()
        .unwrap_or_default();
    eprintln!(
        "{REQUESTS} requests in {load:.1?} (the slowest fast one {slowest:.1?}; {} over \
         {SLOWER_THAN:?}); kept {} traces ({errors} failing, {slow} slow, {recovered} recovered, \
         {by_ratio} of {fine} by the ratio), {} spans; {:.1?} in all",
        late.len(),
        kept.len(),
        spans.len(),
        started.elapsed()
    );
}
