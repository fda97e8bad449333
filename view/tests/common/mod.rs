//! A viewer started in-process on loopback ports, and the clients the
//! tests attack it with: raw HTTP/1.1 (to send any `Host` and `Origin`)
//! and raw gRPC (to send any bytes, gzipped or not).

#![allow(dead_code)] // Each test file uses its own part.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prost::bytes::{Buf as _, BufMut as _};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tonic::codec::{CompressionEncoding, DecodeBuf, EncodeBuf};
use traced_view::{Config, Viewer};

/// Every network exchange of a test ends within this, or the test fails.
pub const BOUND: Duration = Duration::from_secs(60);

/// What the viewer printed.
#[derive(Clone, Default)]
pub struct Printed(Arc<Mutex<Vec<u8>>>);

impl Write for Printed {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Printed {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// A viewer on three loopback ports that prints nothing until flushed.
pub async fn start() -> (Viewer, Printed) {
    let any = Some("127.0.0.1:0".parse().unwrap());
    let config = Config {
        grpc: any,
        http: any,
        ui: any,
        quiet: Duration::from_secs(3_600),
        timeout: Duration::from_secs(3_600),
        ..Config::default()
    };
    let printed = Printed::default();
    let viewer = Viewer::start(config, printed.clone()).await.expect("start");
    (viewer, printed)
}

/// An HTTP/1.1 answer: status and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }
}

/// Sends one request on a fresh connection, exactly as written: `head`
/// holds the request line and the headers a test chooses (`Host`
/// included); `Content-Length` and `Connection: close` are added.
pub async fn http(addr: SocketAddr, head: &str, body: &[u8]) -> Answer {
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let head = format!(
            "{}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            head.trim_end(),
            body.len()
        );
        stream.write_all(head.as_bytes()).await.expect("send");
        stream.write_all(body).await.expect("send the body");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.expect("read the answer");
        raw
    };
    let raw = tokio::time::timeout(BOUND, exchange)
        .await
        .expect("the answer came in time");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP answer");
    let head = String::from_utf8_lossy(&raw[..split]);
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    Answer {
        status,
        body: raw[split + 4..].to_vec(),
    }
}

/// The body gzipped.
pub fn gzip(body: &[u8]) -> Vec<u8> {
    let mut out = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    out.write_all(body).unwrap();
    out.finish().unwrap()
}

/// A protobuf length-delimited field.
pub fn field(tag: u8, inner: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    prost::encoding::encode_varint(inner.len() as u64, &mut out);
    out.extend_from_slice(inner);
    out
}

/// An export of `n` empty spans (or log records: the same tags), 2 bytes
/// each: `{ resource_*: [{ scope_*: [{ spans: [{}; n] }] }] }`.
pub fn empty_items(n: usize) -> Vec<u8> {
    let items: Vec<u8> = std::iter::repeat_n([0x12u8, 0x00], n).flatten().collect();
    field(0x0a, &field(0x12, &items))
}

/// Sends `body` as the message of the unary `path`, gzipped or not, to
/// `addr` named `authority` (`:authority`).
pub async fn grpc(
    addr: SocketAddr,
    authority: &str,
    path: &'static str,
    body: Vec<u8>,
    gzip: bool,
) -> Result<(), tonic::Status> {
    let exchange = async {
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .expect("an URI")
            .origin(format!("http://{authority}").parse().expect("an URI"))
            .connect()
            .await
            .expect("connect");
        let mut client = tonic::client::Grpc::new(channel);
        if gzip {
            client = client.send_compressed(CompressionEncoding::Gzip);
        }
        client.ready().await.expect("ready");
        client
            .unary(
                tonic::Request::new(body),
                tonic::codegen::http::uri::PathAndQuery::from_static(path),
                Raw,
            )
            .await
            .map(|_| ())
    };
    tokio::time::timeout(BOUND, exchange)
        .await
        .expect("the answer came in time")
}

pub const TRACES: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
pub const LOGS: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

/// Sends bytes as they are, reads nothing of the answer.
struct Raw;

impl tonic::codec::Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = ();
    type Encoder = Raw;
    type Decoder = Raw;

    fn encoder(&mut self) -> Raw {
        Raw
    }

    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl tonic::codec::Encoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn encode(&mut self, item: Vec<u8>, buf: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        buf.put_slice(&item);
        Ok(())
    }
}

impl tonic::codec::Decoder for Raw {
    type Item = ();
    type Error = tonic::Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<()>, tonic::Status> {
        buf.advance(buf.remaining());
        Ok(Some(()))
    }
}
