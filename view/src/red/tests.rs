use super::*;

const S: u64 = 1_000_000_000;
const T0: u64 = 1_000 * S;
const BOUNDS: [f64; 2] = [0.01, 0.1];

fn trace(n: u8) -> TraceId {
    TraceId::from_bytes([n; 16])
}

fn exemplar(n: u8, value: f64, time_ns: u64) -> Exemplar {
    Exemplar {
        trace_id: trace(n),
        span_id: SpanId::from_bytes([n; 8]),
        value,
        time_ns,
    }
}

/// A point of `checkout`'s series, failed when `error`.
fn point(error: bool, start_ns: u64, time_ns: u64, buckets: [u64; 3]) -> Point {
    Point {
        series: u64::from(error),
        service: "shop".into(),
        kind: Kind::Function,
        operation: "checkout".into(),
        error: error.then(|| "Timeout".into()),
        temporality: Temporality::Cumulative,
        start_ns,
        time_ns,
        count: buckets.iter().sum(),
        bounds: BOUNDS.to_vec(),
        buckets: buckets.to_vec(),
        min: None,
        max: None,
        exemplars: Vec::new(),
    }
}

fn only(red: &Red) -> &OperationRed {
    let [service] = &red.services[..] else {
        panic!("{red:?}")
    };
    let [metric] = &service.metrics[..] else {
        panic!("{red:?}")
    };
    let [op] = &metric.operations[..] else {
        panic!("{red:?}")
    };
    op
}

fn near(figure: &Figure, value: f64, trace: Option<TraceId>) {
    let actual = figure.value.expect("a value");
    assert!(
        (actual - value).abs() < 1e-9,
        "{figure:?}, expected {value}"
    );
    assert_eq!(
        figure.exemplar.as_ref().map(|e| e.trace_id.clone()),
        trace.map(|t| t.to_string()),
        "{figure:?}"
    );
}

#[test]
fn cumulative_exports_add_their_differences() {
    let mut store = Store::default();
    let now = Instant::now();
    // 10 s after the start: 8 calls, 2 failed.
    let mut ok = point(false, T0, T0 + 10 * S, [6, 2, 0]);
    ok.exemplars = vec![exemplar(1, 0.004, T0 + 5 * S)];
    let mut failed = point(true, T0, T0 + 10 * S, [0, 1, 1]);
    failed.exemplars = vec![exemplar(2, 0.25, T0 + 6 * S)];
    failed.max = Some(0.3);
    assert_eq!(store.add(vec![ok, failed], 0, now), 0);
    // 20 s after: 16 and 4 in all since the start.
    let ok = point(false, T0, T0 + 20 * S, [12, 4, 0]);
    let failed = point(true, T0, T0 + 20 * S, [0, 2, 2]);
    store.add(vec![ok, failed], 0, now);

    let red = store.red();
    let op = only(&red);
    assert_eq!(
        (op.operation.as_str(), op.count, op.errors),
        ("checkout", 20, 4)
    );
    assert_eq!(op.window_s, Some(20.0));
    // 20 calls in 20 s; the latest exemplar is the failed call's.
    near(&op.rate, 1.0, Some(trace(2)));
    near(&op.error_ratio, 0.2, Some(trace(2)));
    // Merged buckets [12, 6, 2]. p50: rank 10 of bucket 0's 12, from 0 to
    // 10ms: 10ms × 10/12.
    near(&op.p50, 0.01 * 10.0 / 12.0, Some(trace(1)));
    // p95: rank 19; 18 before the last bucket, which ends at max 300ms:
    // 100ms + 200ms × 1/2 = 200ms. p99: rank 19.8: 100ms + 200ms × 0.9.
    near(&op.p95, 0.2, Some(trace(2)));
    near(&op.p99, 0.28, Some(trace(2)));

    // The service restarted: a new start, its counts taken whole; a late
    // retry of an old export adds nothing.
    let restarted = point(false, T0 + 25 * S, T0 + 30 * S, [1, 0, 0]);
    let late = point(true, T0, T0 + 15 * S, [0, 1, 1]);
    store.add(vec![restarted, late], 0, now);
    let red = store.red();
    let op = only(&red);
    assert_eq!((op.count, op.errors), (21, 4));
    // 21 calls over 30 s.
    near(&op.rate, 0.7, Some(trace(2)));
    assert_eq!(red.stats.stale_points, 1);
    assert_eq!(red.stats.points, 6);
}

#[test]
fn delta_exports_add_up_and_p99_finds_the_nearest_exemplar() {
    let mut store = Store::default();
    let delta = |from: u64, buckets, exemplars| Point {
        temporality: Temporality::Delta,
        exemplars,
        ..point(false, T0 + from * S, T0 + (from + 5) * S, buckets)
    };
    store.add(
        vec![
            delta(0, [3, 1, 0], vec![exemplar(1, 0.002, 1)]),
            delta(5, [1, 4, 1], vec![exemplar(3, 0.5, 2)]),
        ],
        0,
        Instant::now(),
    );
    let red = store.red();
    let op = only(&red);
    // 10 calls in 10 s, none failed.
    assert_eq!((op.count, op.errors), (10, 0));
    near(&op.rate, 1.0, Some(trace(3)));
    near(&op.error_ratio, 0.0, None);
    // [4, 5, 1]. p50: rank 5, 4 before bucket 1, so 1 of its 5:
    // 10ms + 90ms × 1/5 = 28ms. Bucket 1 has no exemplar; buckets 0 and 2
    // are as near: the one above.
    near(&op.p50, 0.028, Some(trace(3)));
    // p95 and p99: in the last bucket, no max: its bound, 100ms.
    near(&op.p95, 0.1, Some(trace(3)));
    near(&op.p99, 0.1, Some(trace(3)));
}

#[test]
fn the_series_bound_holds() {
    let mut store = Store::default();
    let points: Vec<Point> = (0..SERIES_MAX as u64 + 5)
        .map(|n| Point {
            series: n,
            operation: format!("f{n}"),
            ..point(false, T0, T0 + S, [1, 0, 0])
        })
        .collect();
    assert_eq!(store.add(points, 3, Instant::now()), 5);
    // An existing series still takes points.
    assert_eq!(
        store.add(
            vec![point(false, T0, T0 + 2 * S, [2, 0, 0])],
            0,
            Instant::now()
        ),
        0
    );
    let red = store.red();
    assert_eq!(red.stats.series, SERIES_MAX);
    assert_eq!(red.stats.series_max, SERIES_MAX);
    assert_eq!(red.stats.dropped_points, 5);
    assert_eq!(red.stats.rejected_points, 3);
    let operations = &red.services[0].metrics[0].operations;
    assert_eq!(operations.len(), SERIES_MAX);
    // The busiest first.
    assert_eq!(
        (operations[0].operation.as_str(), operations[0].count),
        ("f0", 2)
    );
}

#[test]
fn the_table_waits_for_quiet_and_prints_at_most_every_ten_seconds() {
    let mut store = Store::default();
    let quiet = Duration::from_secs(1);
    let t0 = Instant::now();
    let at = |ms: u64| t0 + Duration::from_millis(ms);
    assert!(store.due(at(0), quiet).is_none(), "nothing yet");
    store.add(vec![point(false, T0, T0 + S, [1, 0, 0])], 0, at(0));
    assert!(store.due(at(500), quiet).is_none(), "not quiet yet");
    assert!(store.due(at(1_000), quiet).is_some());
    assert!(store.due(at(2_000), quiet).is_none(), "nothing new");
    store.add(vec![point(false, T0, T0 + 2 * S, [2, 0, 0])], 0, at(2_000));
    assert!(store.due(at(3_500), quiet).is_none(), "printed 2.5 s ago");
    assert!(store.due(at(11_000), quiet).is_some());
    // Points that never pause are printed after ten seconds.
    for s in 12..22 {
        store.add(
            vec![point(false, T0, T0 + s * S, [s, 0, 0])],
            0,
            at(s * 1_000),
        );
        assert!(store.due(at(s * 1_000), quiet).is_none());
    }
    assert!(store.due(at(22_000), quiet).is_some());
    assert!(store.take().is_none());
}

#[test]
fn each_metric_names_its_operation() {
    let attrs = |pairs: &'static [(&'static str, &'static str)]| {
        move |key: &str| pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    };
    type Case = (Kind, &'static [(&'static str, &'static str)], &'static str);
    let cases: [Case; 8] = [
        (
            Kind::Function,
            &[("code.function.name", "shop::pay")],
            "shop::pay",
        ),
        (
            Kind::HttpServer,
            &[
                ("http.request.method", "GET"),
                ("http.route", "/users/{id}"),
            ],
            "GET /users/{id}",
        ),
        (
            Kind::HttpClient,
            &[
                ("http.request.method", "POST"),
                ("server.address", "pay.example"),
            ],
            "POST pay.example",
        ),
        (
            Kind::RpcServer,
            &[("rpc.method", "shop.Cart/Add")],
            "shop.Cart/Add",
        ),
        (
            Kind::Db,
            &[
                ("db.operation.name", "SELECT"),
                ("db.collection.name", "users"),
            ],
            "SELECT users",
        ),
        (
            Kind::Db,
            &[
                ("db.operation.name", "SELECT"),
                ("db.query.summary", "SELECT users JOIN orders"),
            ],
            "SELECT users JOIN orders",
        ),
        (
            Kind::MessagingProcess,
            &[
                ("messaging.operation.name", "process"),
                ("messaging.destination.name", "orders"),
            ],
            "process orders",
        ),
        (Kind::HttpServer, &[], "?"),
    ];
    for (kind, pairs, expected) in cases {
        assert_eq!(kind.operation(attrs(pairs)), expected);
        assert_eq!(Kind::of(kind.name()), Some(kind));
    }
    assert_eq!(Kind::of("http.server.duration"), None);
    assert_eq!(cut("é".repeat(NAME_MAX)).len(), NAME_MAX + '…'.len_utf8());
}

#[test]
fn the_table_as_text() {
    let mut store = Store::default();
    let mut ok = point(false, T0, T0 + 10 * S, [6, 2, 0]);
    ok.exemplars = vec![exemplar(0xab, 0.004, 1)];
    store.add(
        vec![ok, point(true, T0, T0 + 10 * S, [0, 1, 1])],
        0,
        Instant::now(),
    );
    let text = table::render(&store.take().expect("new points"), false);
    // [6, 3, 1]: p50 is 10ms × 5/6; p95 and p99 are in the last bucket,
    // which has no max: its bound. Its nearest exemplar is bucket 0's.
    let expected = "\
RED shop      calls  rate               errors  p50                p95               p99
  traced.function.duration
    checkout     10  1.00/s [abababab]  20.0%   8.33ms [abababab]  100ms [abababab]  100ms [abababab]

";
    assert_eq!(text, expected, "\n{text}");
}

#[test]
fn the_terminal_shows_the_busiest_operations() {
    let mut store = Store::default();
    let points: Vec<Point> = (0..table::ROWS_MAX as u64 + 2)
        .map(|n| Point {
            series: n,
            operation: format!("f{n:02}"),
            ..point(false, T0, T0 + S, [n + 1, 0, 0])
        })
        .collect();
    store.add(points, 0, Instant::now());
    let text = table::render(&store.red(), false);
    // f11 has the most calls, f02 the tenth most; f01 and f00 are left out.
    assert!(text.contains("    f11 "), "{text}");
    assert!(text.contains("    f02 "), "{text}");
    assert!(!text.contains("f01") && !text.contains("f00"), "{text}");
    assert!(text.contains("    … 2 more on the page"), "{text}");
}
