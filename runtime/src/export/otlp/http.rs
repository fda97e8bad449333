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
use super::answer::parse_answer;
use super::retry::Backoff;
use crate::export::reported::{chain, report_failed};
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

    fn send(&self, spans: Vec<Finished>) -> OTelSdkResult {
        let count = spans.len() as u64;
        let mut body = self.requests.encode(&spans)?;
        drop(spans);
        if self.gzip {
            body = gzip(&body);
        }
        let body = bytes::Bytes::from(body);
        let mut backoff = Backoff::new(self.timeout);
        let why = loop {
            let sent = self
                .client
                .post(&self.endpoint)
                .headers(self.headers.clone())
                .timeout(backoff.left())
                .body(body.clone())
                .send();
            let (why, retry) = match sent {
                Ok(response) if response.status().is_success() => {
                    // An answer that cannot be read is still a success.
                    let answer = response.bytes().ok().and_then(|b| parse_answer(&b));
                    if let Some(answer) = answer {
                        answer.settle(count, &self.endpoint);
                    }
                    return Ok(());
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
                break why;
            }
            match backoff.next() {
                // Back-off between attempts on the export thread, as the
                // SDK's blocking exporter does: nothing else waits on it.
                Some(pause) => std::thread::sleep(pause),
                None => break why,
            }
        };
        report_failed(count, &self.endpoint, &why);
        Err(OTelSdkError::InternalFailure(why))
    }
}

impl Sink for HttpSink {
    fn export(&self, spans: Spans) -> Export<'_> {
        let spans = spans.records();
        // The blocking client works here, inside the first poll.
        Box::pin(std::future::ready(self.send(spans)))
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
    use super::*;

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
