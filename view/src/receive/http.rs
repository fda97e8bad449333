//! OTLP over HTTP: `POST /v1/traces` with a protobuf or a JSON body, gzip
//! or not, answered in the same encoding. A body that cannot be read is a
//! `400` with a `google.rpc.Status` saying why, as the specification asks;
//! an unknown content type is a `415`. Logs and metrics are accepted and
//! dropped, so an SDK that sends them too does not log errors.

use std::io::Read as _;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message as _;

use super::Receiver;
use super::grpc::MAX_MESSAGE;

const PROTOBUF: &str = "application/x-protobuf";
const JSON: &str = "application/json";

/// `google.rpc.Status`, the body of an OTLP/HTTP error.
#[derive(Clone, PartialEq, prost::Message, serde::Serialize)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

/// `google.rpc.Code.INVALID_ARGUMENT`.
const INVALID_ARGUMENT: i32 = 3;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    fn of(headers: &HeaderMap) -> Option<Encoding> {
        let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
        let mime = value.split(';').next()?.trim().to_ascii_lowercase();
        match mime.as_str() {
            PROTOBUF | "application/protobuf" => Some(Encoding::Protobuf),
            JSON => Some(Encoding::Json),
            _ => None,
        }
    }

    fn answer(self, status: StatusCode, protobuf: Vec<u8>, json: String) -> Response {
        let (mime, body) = match self {
            Encoding::Protobuf => (PROTOBUF, protobuf),
            Encoding::Json => (JSON, json.into_bytes()),
        };
        (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(mime))],
            body,
        )
            .into_response()
    }

    fn error(self, message: String) -> Response {
        let status = RpcStatus {
            code: INVALID_ARGUMENT,
            message,
        };
        let json = serde_json::to_string(&status).unwrap_or_default();
        self.answer(StatusCode::BAD_REQUEST, status.encode_to_vec(), json)
    }
}

fn unsupported() -> Response {
    (
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        format!("the content type must be {PROTOBUF} or {JSON}"),
    )
        .into_response()
}

/// The body, gunzipped when `Content-Encoding: gzip`, at most
/// [`MAX_MESSAGE`] bytes either way.
fn body(headers: &HeaderMap, body: Bytes) -> Result<Vec<u8>, String> {
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase());
    match encoding.as_deref() {
        None | Some("identity") => Ok(body.to_vec()),
        Some("gzip") => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&body[..])
                .take(MAX_MESSAGE as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| format!("the gzip body cannot be read: {e}"))?;
            if out.len() > MAX_MESSAGE {
                return Err(format!(
                    "the body is over {MAX_MESSAGE} bytes once unzipped"
                ));
            }
            Ok(out)
        }
        Some(other) => Err(format!(
            "content encoding {other:?} is not supported; use gzip or none"
        )),
    }
}

async fn traces(State(receiver): State<Arc<Receiver>>, headers: HeaderMap, raw: Bytes) -> Response {
    let Some(encoding) = Encoding::of(&headers) else {
        return unsupported();
    };
    let bytes = match body(&headers, raw) {
        Ok(bytes) => bytes,
        Err(why) => return encoding.error(why),
    };
    let request = match encoding {
        Encoding::Protobuf => ExportTraceServiceRequest::decode(&bytes[..])
            .map_err(|e| format!("the body is not an OTLP ExportTraceServiceRequest: {e}")),
        Encoding::Json => serde_json::from_slice(&bytes)
            .map_err(|e| format!("the body is not an OTLP ExportTraceServiceRequest in JSON: {e}")),
    };
    let request = match request {
        Ok(request) => request,
        Err(why) => return encoding.error(why),
    };
    let response = receiver.accept(request);
    let json = serde_json::to_string(&response).unwrap_or_else(|_| "{}".to_owned());
    encoding.answer(StatusCode::OK, response.encode_to_vec(), json)
}

/// Logs and metrics: accepted (an empty success), not kept.
async fn ignored(headers: HeaderMap) -> Response {
    match Encoding::of(&headers) {
        Some(encoding) => encoding.answer(StatusCode::OK, Vec::new(), "{}".to_owned()),
        None => unsupported(),
    }
}

/// The OTLP/HTTP routes.
pub(crate) fn router(receiver: Arc<Receiver>) -> Router {
    Router::new()
        .route("/v1/traces", post(traces))
        .route("/v1/logs", post(ignored))
        .route("/v1/metrics", post(ignored))
        .layer(DefaultBodyLimit::max(MAX_MESSAGE))
        .with_state(receiver)
}
