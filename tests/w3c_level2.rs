//! W3C Trace Context Level 2 end to end: the `w3c_service` example runs as a
//! process, gets real HTTP requests with representative Level 2 headers, and
//! calls back a local server; the test asserts on the headers it propagated.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::{examples, wait};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use tokio::sync::mpsc as tokio_mpsc;

const TRACE: &str = "12345678901234567890123456789012";
const PARENT: &str = "1234567890123456";

/// The example service, stopped with SIGINT when dropped.
struct Service {
    child: Option<Child>,
    endpoint: String,
}

impl Service {
    fn start() -> Service {
        let mut child = examples::command("w3c_service")
            .args(["--port", "0"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the w3c_service example");
        let line = wait::first_line(
            child.stdout.take().expect("stdout"),
            Duration::from_secs(30),
            "the w3c_service example",
        );
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("the service printed {line:?}"))
            .to_owned();
        Service {
            child: Some(child),
            endpoint: format!("http://{addr}/test"),
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
        // Killed if it has not exited within 10 s.
        wait::exit(
            &mut child,
            Duration::from_secs(10),
            "the w3c_service example",
        );
    }
}

type Seen = (String, Vec<(String, String)>);

/// A local server standing in for the suite's harness: it records the
/// headers of every callback.
async fn callbacks() -> (String, tokio_mpsc::UnboundedReceiver<Seen>) {
    let (tx, rx) = tokio_mpsc::unbounded_channel::<Seen>();
    async fn record(
        State(tx): State<tokio_mpsc::UnboundedSender<Seen>>,
        Path(id): Path<String>,
        headers: HeaderMap,
    ) -> &'static str {
        let headers = headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let _ = tx.send((id, headers));
        "null"
    }
    let app = Router::new().route("/cb/{id}", post(record)).with_state(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}/cb", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (base, rx)
}

struct Out {
    traceparent: Vec<String>,
    tracestate: Vec<String>,
}

impl Out {
    fn parts(&self) -> (String, String, String) {
        assert_eq!(
            self.traceparent.len(),
            1,
            "one traceparent: {:?}",
            self.traceparent
        );
        let fields: Vec<&str> = self.traceparent[0].split('-').collect();
        assert_eq!(fields.len(), 4, "{:?}", self.traceparent);
        assert_eq!(fields[0], "00");
        (fields[1].into(), fields[2].into(), fields[3].into())
    }

    fn tracestate(&self) -> Option<String> {
        (!self.tracestate.is_empty()).then(|| self.tracestate.join(","))
    }
}

/// Sends `headers` to the service, asking for `count` callbacks, and
/// returns what each callback carried.
async fn send(
    client: &reqwest::Client,
    service: &Service,
    base: &str,
    rx: &mut tokio_mpsc::UnboundedReceiver<Seen>,
    headers: &[(&str, &str)],
    count: usize,
) -> Vec<Out> {
    let body: Vec<serde_json::Value> = (0..count)
        .map(|i| serde_json::json!({"url": format!("{base}/{i}"), "arguments": []}))
        .collect();
    let mut request = client.post(&service.endpoint).json(&body);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.expect("the service answers");
    assert!(response.status().is_success(), "{}", response.status());
    let statuses: Vec<Option<u16>> = response.json().await.expect("statuses");
    assert_eq!(statuses, vec![Some(200); count]);
    // The service answers after its calls, so they have all arrived.
    let mut out = Vec::new();
    for i in 0..count {
        let (id, seen) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("a callback within 5 s")
            .expect("the callback server runs");
        assert_eq!(id, i.to_string());
        let values = |name: &str| {
            seen.iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
                .collect::<Vec<_>>()
        };
        out.push(Out {
            traceparent: values("traceparent"),
            tracestate: values("tracestate"),
        });
    }
    out
}

#[test]
fn level_2_headers_through_a_real_service() {
    let service = Service::start();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let (base, mut rx) = callbacks().await;
        let tp = |flags: &str| format!("00-{TRACE}-{PARENT}-{flags}");

        // A trace started by the service: random and sampled, one trace id
        // and a new parent id per call.
        let out = send(&client, &service, &base, &mut rx, &[], 3).await;
        let parts: Vec<_> = out.iter().map(Out::parts).collect();
        assert!(parts.iter().all(|(_, _, flags)| flags == "03"), "{parts:?}");
        assert!(parts.iter().all(|(trace, _, _)| *trace == parts[0].0));
        assert_ne!(parts[0].1, parts[1].1);
        assert_ne!(parts[1].1, parts[2].1);

        // A continued trace keeps the caller's random flag, sampled or not,
        // with the trace id kept and the parent id replaced.
        for flags in ["00", "01", "02", "03"] {
            let out = send(
                &client,
                &service,
                &base,
                &mut rx,
                &[("traceparent", &tp(flags))],
                1,
            )
            .await;
            let (trace, parent, sent) = out[0].parts();
            assert_eq!((trace.as_str(), sent.as_str()), (TRACE, flags));
            assert_ne!(parent, PARENT);
        }

        // Unknown flags go out as zero; a higher version is read and sent
        // on as 00; header names in any case.
        let future = format!("cc-{TRACE}-{PARENT}-ff-what-comes-next");
        let out = send(
            &client,
            &service,
            &base,
            &mut rx,
            &[("TraceParent", &future)],
            1,
        )
        .await;
        assert_eq!(out[0].parts().2, "03");
        assert_eq!(out[0].parts().0, TRACE);

        // Level 2 keys (`@` anywhere after the first character, 256 in
        // total) are kept, over repeated tracestate headers, in order,
        // including those the SDK's TraceState cannot hold.
        let long = format!("t@{}=3", "v".repeat(15));
        let out = send(
            &client,
            &service,
            &base,
            &mut rx,
            &[
                ("traceparent", &tp("02")),
                ("tracestate", "foo@@bar=1, rojo=00f067aa0ba902b7"),
                ("TRACESTATE", &long),
                ("tracestate", "foo@bar@baz=x"),
            ],
            1,
        )
        .await;
        assert_eq!(out[0].parts().2, "02");
        assert_eq!(
            out[0].tracestate().as_deref(),
            Some(format!("foo@@bar=1,rojo=00f067aa0ba902b7,{long},foo@bar@baz=x").as_str())
        );

        // Duplicated keys, in one header or across headers, keep the first
        // member and the rest of the list (the W3C suite's
        // `test_tracestate_duplicated_keys` expects the list inherited).
        for (headers, kept) in [
            (&["foo=1,foo=1"][..], "foo=1"),
            (&["foo=1,foo=2"], "foo=1"),
            (&["foo=1", "foo=1"], "foo=1"),
            (&["foo=1", "foo=2"], "foo=1"),
            (&["foo=1,bar=2", "foo=3,baz=4"], "foo=1,bar=2,baz=4"),
        ] {
            let traceparent = tp("01");
            let mut sent = vec![("traceparent", traceparent.as_str())];
            sent.extend(headers.iter().map(|v| ("tracestate", *v)));
            let out = send(&client, &service, &base, &mut rx, &sent, 1).await;
            assert_eq!(out[0].parts().0, TRACE);
            assert_eq!(out[0].tracestate().as_deref(), Some(kept), "{headers:?}");
        }

        // Invalid tracestates are dropped whole, the traceparent kept:
        // a 33rd member, a 257-character key, `@` first.
        let members: Vec<String> = (1..=33).map(|i| format!("k{i}=v")).collect();
        let thirty_three = members.join(",");
        let key_257 = format!("{}=1", "z".repeat(257));
        for bad in [&thirty_three, &key_257, "@foo=1,bar=2"] {
            let out = send(
                &client,
                &service,
                &base,
                &mut rx,
                &[("traceparent", &tp("01")), ("tracestate", bad)],
                1,
            )
            .await;
            assert_eq!(out[0].parts().0, TRACE);
            assert_eq!(out[0].tracestate(), None, "{bad}");
        }
        let thirty_two = members[..32].join(",");
        let out = send(
            &client,
            &service,
            &base,
            &mut rx,
            &[("traceparent", &tp("01")), ("tracestate", &thirty_two)],
            1,
        )
        .await;
        assert_eq!(out[0].tracestate(), Some(thirty_two));

        // An invalid or repeated traceparent restarts the trace and drops
        // the tracestate.
        let invalid = [
            vec![("traceparent", format!("ff-{TRACE}-{PARENT}-01"))],
            vec![("traceparent", format!("00-{}-{PARENT}-01", "0".repeat(32)))],
            vec![("traceparent", tp("01")), ("traceparent", tp("01"))],
        ];
        for headers in invalid {
            let mut headers: Vec<(&str, &str)> =
                headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            headers.push(("tracestate", "foo=1"));
            let out = send(&client, &service, &base, &mut rx, &headers, 1).await;
            let (trace, _, flags) = out[0].parts();
            assert_ne!(trace, TRACE);
            assert_eq!(flags, "03", "a new trace started here");
            assert_eq!(out[0].tracestate(), None);
        }
    });
    drop(service);
}
