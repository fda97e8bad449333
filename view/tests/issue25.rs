//! Regressions for #25, "traced-view": the viewer is reachable by anything
//! on the machine, and by any web page the user opens. Each test attacks
//! one promise and then checks the viewer still answers.
//!
//! - a gzip bomb (a small body that unzips to millions of empty spans) is
//!   refused before it is decoded: `413` over HTTP, `RESOURCE_EXHAUSTED`
//!   over gRPC;
//! - a request naming another host (DNS rebinding) is refused on every
//!   listener;
//! - a write from a web page of another origin is refused.

mod common;

use std::net::SocketAddr;

use common::{LOGS, TRACES, empty_items, field, grpc, gzip, http, start};
use tonic::Code;
use traced_view::Viewer;

/// One valid export of one span, as protobuf: trace `7`, span `1`, named
/// `alive`.
fn one_span() -> Vec<u8> {
    let mut span = field(
        0x0a,
        &[0; 15].iter().chain(&[7]).copied().collect::<Vec<u8>>(),
    );
    span.extend(field(0x12, &[0, 0, 0, 0, 0, 0, 0, 1]));
    span.extend(field(0x2a, b"alive"));
    field(0x0a, &field(0x12, &field(0x12, &span)))
}

/// The viewer still takes an export over both endpoints and lists it.
async fn still_alive(viewer: &Viewer) {
    let http_addr = viewer.http_addr().unwrap();
    let answer = http(
        http_addr,
        &format!(
            "POST /v1/traces HTTP/1.1\r\nHost: {http_addr}\r\nContent-Type: application/x-protobuf"
        ),
        &one_span(),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let grpc_addr = viewer.grpc_addr().unwrap();
    grpc(grpc_addr, &grpc_addr.to_string(), TRACES, one_span(), true)
        .await
        .expect("a small export over gRPC");
    let ui = viewer.ui_addr().unwrap();
    let list = http(ui, &format!("GET /api/traces HTTP/1.1\r\nHost: {ui}"), b"").await;
    assert_eq!(list.status, 200);
    assert_eq!(list.json()["traces"][0]["root"], "alive", "{}", list.text());
}

fn post(addr: SocketAddr, path: &str, mime: &str, extra: &str) -> String {
    format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {mime}\r\n{extra}")
}

#[tokio::test]
async fn a_gzip_bomb_over_http_is_413_and_the_viewer_lives() {
    let (viewer, _) = start().await;
    let addr = viewer.http_addr().unwrap();
    // 16 MiB of empty spans, 8 M of them, in about 16 KB.
    let bomb = gzip(&empty_items(8 << 20));
    assert!(bomb.len() < 100_000, "{}", bomb.len());
    let gzip_header = "Content-Encoding: gzip";
    for path in ["/v1/traces", "/v1/logs", "/v1/metrics"] {
        let answer = http(
            addr,
            &post(addr, path, "application/x-protobuf", gzip_header),
            &bomb,
        )
        .await;
        assert_eq!(answer.status, 413, "{path}: {}", answer.text());
        assert!(answer.text().contains("unzipped"), "{}", answer.text());
    }
    still_alive(&viewer).await;
    viewer.shutdown().await;
}

#[tokio::test]
async fn too_many_values_under_the_size_limit_are_413() {
    let (viewer, _) = start().await;
    let addr = viewer.http_addr().unwrap();
    // 2 MiB, well under the size limit: a million empty spans.
    let many = empty_items(1 << 20);
    let answer = http(
        addr,
        &post(addr, "/v1/traces", "application/x-protobuf", ""),
        &many,
    )
    .await;
    assert_eq!(answer.status, 413, "{}", answer.text());
    assert!(answer.text().contains("send smaller batches"));
    let answer = http(
        addr,
        &post(
            addr,
            "/v1/logs",
            "application/x-protobuf",
            "Content-Encoding: gzip",
        ),
        &gzip(&many),
    )
    .await;
    assert_eq!(answer.status, 413, "{}", answer.text());
    // The same in JSON: `{}` is an empty span.
    let spans = vec!["{}"; 1 << 20].join(",");
    let json = format!(r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{spans}]}}]}}]}}"#);
    let answer = http(
        addr,
        &post(addr, "/v1/traces", "application/json", ""),
        json.as_bytes(),
    )
    .await;
    assert_eq!(answer.status, 413, "{}", answer.text());
    assert_eq!(answer.json()["code"], 8, "RESOURCE_EXHAUSTED");
    still_alive(&viewer).await;
    viewer.shutdown().await;
}

#[tokio::test]
async fn bombs_over_grpc_are_resource_exhausted_and_the_viewer_lives() {
    let (viewer, _) = start().await;
    let addr = viewer.grpc_addr().unwrap();
    let name = addr.to_string();
    // Over the size limit once unzipped.
    let bomb = empty_items(8 << 20);
    for path in [TRACES, LOGS] {
        let status = grpc(addr, &name, path, bomb.clone(), true)
            .await
            .expect_err("a bomb");
        assert_eq!(status.code(), Code::ResourceExhausted, "{path}: {status}");
    }
    // Over the size limit as sent.
    let status = grpc(addr, &name, TRACES, empty_items(5 << 20), false)
        .await
        .expect_err("too large");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status}");
    // Under the size limit, over the values.
    for gzip in [false, true] {
        let status = grpc(addr, &name, TRACES, empty_items(1 << 20), gzip)
            .await
            .expect_err("too many values");
        assert_eq!(status.code(), Code::ResourceExhausted, "{status}");
        assert!(
            status.message().contains("send smaller batches"),
            "{status}"
        );
    }
    still_alive(&viewer).await;
    viewer.shutdown().await;
}

#[tokio::test]
async fn a_foreign_host_is_refused_on_every_listener() {
    let (viewer, _) = start().await;
    let ui = viewer.ui_addr().unwrap();
    let port = ui.port();
    for host in [
        "evil.example",
        &format!("evil.example:{port}"),
        "127.0.0.1.nip.io",
    ] {
        let answer = http(
            ui,
            &format!("GET /api/traces HTTP/1.1\r\nHost: {host}"),
            b"",
        )
        .await;
        assert_eq!(answer.status, 403, "{host}: {}", answer.text());
        let answer = http(ui, &format!("GET / HTTP/1.1\r\nHost: {host}"), b"").await;
        assert_eq!(answer.status, 403, "{host}");
    }
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
        "localhost".to_owned(),
    ] {
        let answer = http(
            ui,
            &format!("GET /api/traces HTTP/1.1\r\nHost: {host}"),
            b"",
        )
        .await;
        assert_eq!(answer.status, 200, "{host}: {}", answer.text());
    }

    let otlp = viewer.http_addr().unwrap();
    let answer = http(
        otlp,
        "POST /v1/traces HTTP/1.1\r\nHost: evil.example\r\nContent-Type: application/x-protobuf",
        &one_span(),
    )
    .await;
    assert_eq!(answer.status, 403, "{}", answer.text());

    let addr = viewer.grpc_addr().unwrap();
    let status = grpc(addr, "evil.example:4317", TRACES, one_span(), false)
        .await
        .expect_err("a foreign authority");
    assert_eq!(status.code(), Code::PermissionDenied, "{status}");
    assert!(status.message().contains("evil.example"), "{status}");
    grpc(
        addr,
        &format!("localhost:{}", addr.port()),
        TRACES,
        one_span(),
        false,
    )
    .await
    .expect("localhost");
    viewer.shutdown().await;
}

#[tokio::test]
async fn a_write_from_a_foreign_origin_is_refused() {
    let (viewer, _) = start().await;
    let addr = viewer.http_addr().unwrap();
    for origin in ["http://evil.example", "https://evil.example:4318", "null"] {
        let answer = http(
            addr,
            &post(
                addr,
                "/v1/traces",
                "application/x-protobuf",
                &format!("Origin: {origin}"),
            ),
            &one_span(),
        )
        .await;
        assert_eq!(answer.status, 403, "{origin}: {}", answer.text());
    }
    let answer = http(
        addr,
        &post(
            addr,
            "/v1/traces",
            "application/x-protobuf",
            "Origin: http://localhost:16686",
        ),
        &one_span(),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    viewer.shutdown().await;
}
