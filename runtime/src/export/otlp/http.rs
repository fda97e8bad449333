//! OTLP/HTTP with protobuf bodies for our pipeline: each batch is encoded
//! straight from the finished spans (`encode.rs`), as over gRPC, and
//! posted with the blocking client on the export thread, as the SDK's
//! HTTP exporter does on its batch processor's thread (so these exports go
//! one after the other). `http/json` stays with `opentelemetry-otlp`'s
//! exporter.

use std::io::Write as _;
use std::time::Duration;

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use reqwest::StatusCode;
use reqwest::blocking::Client;
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, HeaderValue};

use super::Requests;
use super::answer::{Answer, parse_answer};
use super::retry::Backoff;
use crate::export::reported::{chain, delivered, report_failed};
use crate::pipeline::{Export, Finished, Sink, Spans};

/// Our pipeline's OTLP/HTTP (protobuf) exporter.
pub(crate) struct HttpSink {
    requests: Requests,
    client: Client,
    /// The URL posted to, `/v1/traces` included.
    endpoint: String,
    headers: HeaderMap,
    gzip: bool,
    /// For the whole export, retries included.
    timeout: Duration,
}

impl HttpSink {
    /// An exporter posting to `endpoint` with `client` (built, with its
    /// TLS, by `init`).
    pub(crate) fn new(
        client: Client,
        endpoint: String,
        mut headers: HeaderMap,
        gzip: bool,
        timeout: Duration,
    ) -> Self {
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-protobuf"),
        );
        if gzip {
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        HttpSink {
            requests: Requests::new(),
            client,
            endpoint,
            headers,
            gzip,
            timeout,
        }
    }

    /// Sends `spans`, in as many requests as their size takes (see
    /// [`Requests::encode`]).
    fn send(&self, spans: Vec<Finished>) -> OTelSdkResult {
        let requests = self.requests.encode(&spans, &self.endpoint)?;
        drop(spans);
        let mut result = Ok(());
        for (body, count) in requests {
            result = result.and(self.post(body, count));
        }
        result
    }

    /// Posts one request of `count` spans, retrying what may succeed later.
    fn post(&self, body: Vec<u8>, count: u64) -> OTelSdkResult {
        match self.post_body(body) {
            Ok(answer) => {
                if let Some(answer) = answer {
                    answer.settle(count, &self.endpoint);
                }
                Ok(())
            }
            Err(why) => {
                report_failed(count, &self.endpoint, &why);
                Err(OTelSdkError::InternalFailure(why))
            }
        }
    }

    /// Posts one request, retrying what may succeed later: the collector's
    /// answer when it accepted it (`None` when the answer cannot be read,
    /// still a success), or why it failed. The metrics exporter posts
    /// through this too.
    pub(crate) fn post_body(&self, mut body: Vec<u8>) -> Result<Option<Answer>, String> {
        if self.gzip {
            body = gzip(&body);
        }
        let body = bytes::Bytes::from(body);
        let mut backoff = Backoff::new(self.timeout);
        loop {
            let sent = self
                .client
                .post(&self.endpoint)
                .headers(self.headers.clone())
                .timeout(backoff.left())
                .body(body.clone())
                .send();
            let (why, retry) = match sent {
                Ok(response) if response.status().is_success() => {
                    delivered(&self.endpoint);
                    return Ok(response.bytes().ok().and_then(|b| parse_answer(&b)));
                }
                Ok(response) => {
                    let status = response.status();
                    // The body may echo credentials: only the status is told.
                    (format!("HTTP status {status}"), retryable(status))
                }
                // Refused, reset or timed out: the collector may be back soon.
                Err(err) => (chain(&err), err.is_connect() || err.is_timeout()),
            };
            if !retry {
                return Err(why);
            }
            match backoff.next() {
                // Back-off between attempts on the export thread, as the
                // SDK's blocking exporter does: nothing else waits on it.
                Some(pause) => std::thread::sleep(pause),
                None => return Err(why),
            }
        }
    }

    /// Where it posts.
    pub(crate) fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

impl Sink for HttpSink {
    fn export(&self, spans: Spans) -> Export<'_> {
        let spans = spans.records();
        // The blocking client works here, inside the first poll.
        Box::pin(std::future::ready(self.send(spans)))
    }

    fn concurrent(&self) -> bool {
        // Each export is a request of its own, sent inside `export`.
        true
    }

    fn name(&self) -> &str {
        &self.endpoint
    }

    fn flush(&mut self) -> OTelSdkResult {
        // Nothing is buffered here: an export has returned when its future has.
        Ok(())
    }

    fn shutdown(&mut self, _timeout: Duration) -> OTelSdkResult {
        self.requests.shutdown()
    }

    fn prepare(&mut self, resource: &Resource, value_length_limit: Option<usize>) {
        self.requests.prepare(resource, value_length_limit);
    }
}

/// The statuses OTLP/HTTP says to retry.
fn retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::default(),
    );
    // Writing into a `Vec` cannot fail.
    let _ = encoder.write_all(body);
    encoder.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead as _, BufReader, Read as _};
    use std::net::TcpListener;

    use prost::Message as _;

    use super::*;

    /// A collector on loopback that answers each request with the next
    /// of `answers` (a status and a body), then closes the connection;
    /// returns its endpoint and, once it has answered them all, the
    /// request bodies.
    fn collector(answers: Vec<(u16, Vec<u8>)>) -> (String, std::thread::JoinHandle<Vec<Vec<u8>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}/v1/traces", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            let mut bodies = Vec::new();
            for (status, answer) in answers {
                let (conn, _) = listener.accept().unwrap();
                conn.set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                let mut reader = BufReader::new(conn);
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    let line = line.trim_end().to_ascii_lowercase();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(n) = line.strip_prefix("content-length:") {
                        length = n.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                bodies.push(body);
                let mut conn = reader.into_inner();
                write!(
                    conn,
                    "HTTP/1.1 {status} X\r\ncontent-type: application/x-protobuf\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    answer.len()
                )
                .unwrap();
                conn.write_all(&answer).unwrap();
            }
            bodies
        });
        (endpoint, server)
    }

    fn sink(endpoint: String) -> HttpSink {
        let client = Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        HttpSink::new(
            client,
            endpoint,
            HeaderMap::new(),
            false,
            Duration::from_secs(10),
        )
    }

    // Regression for #25: a span of 5 MiB made the collector refuse the
    // whole request (4 MiB is its default limit); now it alone is left out,
    // and counted.
    #[test]
    fn a_span_larger_than_a_request_may_be_is_dropped_alone_and_counted() {
        let _counter = crate::export::reported::counter_test_lock();
        let (endpoint, server) = collector(vec![(200, Vec::new())]);
        let spans = super::super::tests::sized(&[10, 5 << 20, 10]);
        let before = crate::export::dropped_spans();
        let result = sink(endpoint).send(spans);
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(crate::export::dropped_spans() - before, 1);
        let bodies = server.join().unwrap();
        assert_eq!(bodies.len(), 1);
        assert!(bodies[0].len() <= 4 << 20);
        let request =
            opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest::decode(
                bodies[0].as_slice(),
            )
            .unwrap();
        let names: Vec<_> = request.resource_spans[0].scope_spans[0]
            .spans
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(names, ["span 0", "span 2"]);
    }

    #[test]
    fn unavailable_is_retried_with_the_same_request_until_it_is_taken() {
        let _counter = crate::export::reported::counter_test_lock();
        // Twice 503, then a partial success: 2 spans rejected.
        let partial = vec![0x0a, 0x02, 0x08, 0x02];
        let (endpoint, server) =
            collector(vec![(503, Vec::new()), (503, Vec::new()), (200, partial)]);
        let spans = super::super::tests::spans();
        let count = spans.len();
        let result = sink(endpoint).send(spans);
        assert!(result.is_ok(), "{result:?}");
        let bodies = server.join().unwrap();
        assert_eq!(bodies.len(), 3, "one request and two retries");
        assert!(bodies.iter().all(|b| b == &bodies[0]), "retries resend it");
        let request =
            opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest::decode(
                bodies[0].as_slice(),
            )
            .unwrap();
        let sent: usize = request.resource_spans[0]
            .scope_spans
            .iter()
            .map(|s| s.spans.len())
            .sum();
        assert_eq!(sent, count);
    }

    #[test]
    fn a_refusal_is_not_retried() {
        let _counter = crate::export::reported::counter_test_lock();
        let (endpoint, server) = collector(vec![(400, Vec::new())]);
        let result = sink(endpoint).send(super::super::tests::spans());
        assert!(
            matches!(&result, Err(OTelSdkError::InternalFailure(why)) if why == "HTTP status 400 Bad Request"),
            "{result:?}"
        );
        assert_eq!(server.join().unwrap().len(), 1);
    }

    #[test]
    fn retryable_statuses_are_the_specifications() {
        for code in [429, 502, 503, 504] {
            assert!(retryable(StatusCode::from_u16(code).unwrap()), "{code}");
        }
        for code in [400, 401, 403, 404, 500] {
            assert!(!retryable(StatusCode::from_u16(code).unwrap()), "{code}");
        }
    }

    #[test]
    fn gzip_round_trips() {
        use std::io::Read as _;
        let body: Vec<u8> = (0..10_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let packed = gzip(&body);
        assert!(packed.len() < body.len());
        let mut unpacked = Vec::new();
        flate2::read::GzDecoder::new(packed.as_slice())
            .read_to_end(&mut unpacked)
            .unwrap();
        assert_eq!(unpacked, body);
    }
}
