//! Who may talk to the viewer: requests addressed to this machine by a
//! loopback name, and writes from no web page but a local one.
//!
//! Binding to 127.0.0.1 keeps other machines out, not other web pages: a
//! page on `evil.example` can make its own name resolve to 127.0.0.1 (DNS
//! rebinding) and read `/api/traces` as same-origin. The browser still
//! sends `Host: evil.example`, so every listener answers only a loopback
//! `Host` (`127.0.0.1`, `[::1]`, `localhost`, any port), or the address it
//! was explicitly bound to. A page cannot make a cross-site write look
//! local either: a `POST` whose `Origin` is not a loopback one is refused.
//! Exporters send no `Origin` at all.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The hosts a listener answers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hosts {
    /// The address the listener is bound to, when it is one a client can
    /// name (not loopback, not `0.0.0.0`): a service on another machine
    /// or a container addresses it so.
    bound: Option<IpAddr>,
}

impl Hosts {
    pub(crate) fn of(local: SocketAddr) -> Hosts {
        let ip = local.ip();
        Hosts {
            bound: (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip),
        }
    }

    /// Whether `host` (a `Host` header or an URI authority, with or
    /// without a port) names this listener.
    pub(crate) fn allow(&self, host: &str) -> bool {
        let name = strip_port(host);
        if name.eq_ignore_ascii_case("localhost") {
            return true;
        }
        let ip = name
            .strip_prefix('[')
            .and_then(|n| n.strip_suffix(']'))
            .unwrap_or(name)
            .parse::<IpAddr>();
        ip.is_ok_and(|ip| ip.is_loopback() || Some(ip) == self.bound)
    }

    /// Whether the host a request names is allowed: its `Host` header, or
    /// the authority of its URI (HTTP/2 sends `:authority` instead); the
    /// error says which host was refused.
    pub(crate) fn check(&self, uri: &Uri, headers: &HeaderMap) -> Result<(), String> {
        let host = match headers.get(header::HOST) {
            Some(value) => value.to_str().ok(),
            None => uri.authority().map(|a| a.as_str()),
        };
        match host {
            Some(host) if self.allow(host) => Ok(()),
            Some(host) => Err(format!(
                "host {host:?} is not this machine; traced-view answers 127.0.0.1, [::1] and localhost only"
            )),
            None => Err("the request names no host; send `Host: 127.0.0.1`".to_owned()),
        }
    }
}

/// `name:port`, `[v6]:port`, `name` or `[v6]` without the port.
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split_inclusive(']').next().unwrap_or(host);
    }
    match host.rsplit_once(':') {
        // A bare IPv6 address has more than one colon: no port.
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    }
}

/// Whether the `Origin` of a write is a page on this machine, or absent
/// (not a browser).
fn origin_allowed(hosts: &Hosts, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    // `Origin: null` (a sandboxed frame, a file) is not local either.
    host.is_some_and(|host| !host.contains('/') && hosts.allow(host))
}

/// The axum middleware: refuses a foreign `Host` on every request and a
/// foreign `Origin` on every write, with `403 Forbidden`.
pub(crate) async fn http(State(hosts): State<Hosts>, request: Request, next: Next) -> Response {
    if let Err(why) = hosts.check(request.uri(), request.headers()) {
        return (StatusCode::FORBIDDEN, why).into_response();
    }
    let write = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if write && !origin_allowed(&hosts, request.headers()) {
        return (
            StatusCode::FORBIDDEN,
            "a web page from another origin may not write to traced-view",
        )
            .into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_with_any_port() {
        let hosts = Hosts::of("127.0.0.1:4318".parse().unwrap());
        for host in [
            "127.0.0.1",
            "127.0.0.1:4318",
            "localhost",
            "LOCALHOST:80",
            "[::1]",
            "[::1]:16686",
            "::1",
            "127.0.0.2:1",
        ] {
            assert!(hosts.allow(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:4318",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
            "10.0.0.5:4318",
            "[::2]:80",
            "",
        ] {
            assert!(!hosts.allow(host), "{host}");
        }
    }

    #[test]
    fn an_explicit_address_is_its_own_name() {
        let hosts = Hosts::of("10.0.0.5:4318".parse().unwrap());
        assert!(hosts.allow("10.0.0.5:4318"));
        assert!(!hosts.allow("10.0.0.6:4318"));
        assert!(!Hosts::of("0.0.0.0:4318".parse().unwrap()).allow("10.0.0.5"));
    }

    #[test]
    fn origins() {
        let hosts = Hosts::of("127.0.0.1:4318".parse().unwrap());
        let with = |origin: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ORIGIN, origin.parse().unwrap());
            origin_allowed(&hosts, &headers)
        };
        assert!(origin_allowed(&hosts, &HeaderMap::new()));
        assert!(with("http://127.0.0.1:16686"));
        assert!(with("http://localhost:3000"));
        assert!(!with("http://evil.example"));
        assert!(!with("https://evil.example:443"));
        assert!(!with("null"));
    }
}
