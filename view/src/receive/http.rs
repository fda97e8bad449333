//! OTLP over HTTP: `POST /v1/traces`, `/v1/logs` and `/v1/metrics` with a
//! protobuf or a JSON body, gzip or not, answered in the same encoding. A
//! body that cannot be read is a `400` with a `google.rpc.Status` saying
//! why, as the specification asks; one over budget (`budget.rs`) a `413`;
//! an unknown content type a `415`.

use std::io::Read as _;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use prost::Message as _;

use super::budget::{self, MAX_MESSAGE, READ_TIMEOUT, TooLarge};
use super::{Logs, Metrics, Receiver, Signal, Traces};
use crate::guard::{self, Hosts};

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
/// `google.rpc.Code.RESOURCE_EXHAUSTED`.
const RESOURCE_EXHAUSTED: i32 = 8;

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

    fn status(self, status: StatusCode, code: i32, message: String) -> Response {
        let rpc = RpcStatus { code, message };
        let json = serde_json::to_string(&rpc).unwrap_or_default();
        self.answer(status, rpc.encode_to_vec(), json)
    }

    fn error(self, message: String) -> Response {
        self.status(StatusCode::BAD_REQUEST, INVALID_ARGUMENT, message)
    }

    fn too_large(self, why: TooLarge) -> Response {
        self.status(
            StatusCode::PAYLOAD_TOO_LARGE,
            RESOURCE_EXHAUSTED,
            why.to_string(),
        )
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
fn unzip(headers: &HeaderMap, body: Bytes) -> Result<Bytes, Result<TooLarge, String>> {
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase());
    match encoding.as_deref() {
        None | Some("identity") => Ok(body),
        Some("gzip") => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&body[..])
                .take(MAX_MESSAGE as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| Err(format!("the gzip body cannot be read: {e}")))?;
            if out.len() > MAX_MESSAGE {
                return Err(Ok(TooLarge::Bytes));
            }
            Ok(out.into())
        }
        Some(other) => Err(Err(format!(
            "content encoding {other:?} is not supported; use gzip or none"
        ))),
    }
}

/// Reads at most [`MAX_MESSAGE`] bytes of `body` within [`READ_TIMEOUT`].
async fn read(body: Body) -> Result<Bytes, Result<TooLarge, String>> {
    match tokio::time::timeout(READ_TIMEOUT, axum::body::to_bytes(body, MAX_MESSAGE)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => {
            // http-body-util's `LengthLimitError`, not a type axum exports.
            let mut source: Option<&dyn std::error::Error> = Some(&e);
            while let Some(error) = source {
                if error.to_string().contains("length limit exceeded") {
                    return Err(Ok(TooLarge::Bytes));
                }
                source = error.source();
            }
            Err(Err(format!("the body cannot be read: {e}")))
        }
        Err(_) => Err(Err(format!(
            "the body did not arrive within {}s",
            READ_TIMEOUT.as_secs()
        ))),
    }
}

/// A refused export: counted, answered `413` or `400`.
fn refuse(receiver: &Receiver, encoding: Encoding, why: Result<TooLarge, String>) -> Response {
    receiver.refused();
    match why {
        Ok(too_large) => encoding.too_large(too_large),
        Err(why) => encoding.error(why),
    }
}

async fn export<S: Signal>(State(receiver): State<Arc<Receiver>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let headers = &parts.headers;
    let Some(encoding) = Encoding::of(headers) else {
        return unsupported();
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_MESSAGE as u64) {
        return refuse(&receiver, encoding, Ok(TooLarge::Bytes));
    }
    let _turn = receiver.permit().await;
    let bytes = match read(body).await {
        Ok(raw) => unzip(headers, raw),
        Err(why) => Err(why),
    };
    let bytes = match bytes {
        Ok(bytes) => bytes,
        Err(why) => return refuse(&receiver, encoding, why),
    };
    let checked = match encoding {
        Encoding::Protobuf => budget::check_protobuf(&bytes),
        Encoding::Json => budget::check_json(&bytes),
    };
    if let Err(why) = checked {
        return refuse(&receiver, encoding, Ok(why));
    }
    let request = match encoding {
        Encoding::Protobuf => S::Request::decode(bytes)
            .map_err(|e| format!("the body is not an OTLP {}: {e}", S::REQUEST)),
        Encoding::Json => serde_json::from_slice(&bytes)
            .map_err(|e| format!("the body is not an OTLP {} in JSON: {e}", S::REQUEST)),
    };
    let request = match request {
        Ok(request) => request,
        Err(why) => return refuse(&receiver, encoding, Err(why)),
    };
    let response = S::accept(&receiver, request);
    let json = serde_json::to_string(&response).unwrap_or_else(|_| "{}".to_owned());
    encoding.answer(StatusCode::OK, response.encode_to_vec(), json)
}

/// The OTLP/HTTP routes, answering `hosts` only.
pub(crate) fn router(receiver: Arc<Receiver>, hosts: Hosts) -> Router {
    Router::new()
        .route(Traces::PATH, post(export::<Traces>))
        .route(Logs::PATH, post(export::<Logs>))
        .route(Metrics::PATH, post(export::<Metrics>))
        .with_state(receiver)
        .layer(axum::middleware::from_fn_with_state(hosts, guard::http))
}
