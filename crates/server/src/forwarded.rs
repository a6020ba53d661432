//! Behind a reverse proxy (`--trusted-proxy`): who the client is, and the
//! scheme and host it asked for. The proxy's `X-Forwarded-For/Proto/Host`
//! are believed only from a listed proxy; from anyone else they are removed
//! before any handler runs, so a header that reaches a handler can be
//! trusted and nobody can pick their own address for the sign-in limits.

use crate::state::AppState;
use axum::extract::connect_info::ConnectInfo;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderName};
use std::net::{IpAddr, SocketAddr};

const FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// The connection itself is TLS (`--tls-cert`): the scheme is https,
/// whatever a client claims.
#[derive(Debug, Clone, Copy)]
pub struct DirectTls;

/// The client's address as the trusted proxy saw it; read by `auth::peer_ip`.
#[derive(Debug, Clone, Copy)]
pub struct ForwardedClient(pub IpAddr);

/// Parses `--trusted-proxy` values: an address (`10.0.0.5`) or a network (`10.0.0.0/8`).
pub fn parse_proxy(s: &str) -> Result<ipnet::IpNet, String> {
    let s = s.trim();
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("`{s}` is neither an IP address nor a network like 10.0.0.0/8"))
}

fn trusted(proxies: &[ipnet::IpNet], ip: IpAddr) -> bool {
    proxies.iter().any(|n| n.contains(&ip))
}

/// The client behind the proxies: the right-most address of
/// `X-Forwarded-For` that is not itself a trusted proxy (each proxy appends
/// the address it was reached from, so the ones to the left could be forged).
fn client(proxies: &[ipnet::IpNet], headers: &HeaderMap) -> Option<IpAddr> {
    let hops: Vec<IpAddr> = headers
        .get_all(&FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .collect();
    hops.iter()
        .rev()
        .find(|ip| !trusted(proxies, **ip))
        .or(hops.first())
        .copied()
}

/// Keeps the forwarding headers of a trusted proxy (noting the client),
/// drops everyone else's. (A request mapper, not a middleware: nothing to
/// do after the answer, so no future of its own.)
pub fn normalise(state: &AppState, mut req: Request) -> Request {
    let proxies = &state.config.trusted_proxies;
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if peer.is_some_and(|p| trusted(proxies, p)) {
        if let Some(ip) = client(proxies, req.headers()) {
            req.extensions_mut().insert(ForwardedClient(ip));
        }
    } else {
        let h = req.headers_mut();
        for name in [FOR, PROTO, HOST, header::FORWARDED] {
            h.remove(name);
        }
    }
    if req.extensions().get::<DirectTls>().is_some() && !req.headers().contains_key(&PROTO) {
        req.headers_mut()
            .insert(PROTO, axum::http::HeaderValue::from_static("https"));
    }
    req
}

/// The scheme and host this request was made to, as the client saw them
/// (only a trusted proxy's headers survive `normalise`).
pub fn scheme_and_host(headers: &HeaderMap) -> (&'static str, Option<&str>) {
    let first = |name: &HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let scheme = match first(&PROTO) {
        Some(p) if p.eq_ignore_ascii_case("https") => "https",
        _ => "http",
    };
    let host = first(&HOST).or_else(|| headers.get(header::HOST).and_then(|h| h.to_str().ok()));
    (scheme, host)
}

/// The client reached us over HTTPS (through a trusted proxy).
pub fn is_https(headers: &HeaderMap) -> bool {
    scheme_and_host(headers).0 == "https"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<ipnet::IpNet> {
        list.iter().map(|s| parse_proxy(s).unwrap()).collect()
    }

    #[test]
    fn the_client_is_the_right_most_address_no_trusted_proxy_added() {
        let proxies = nets(&["10.0.0.0/8", "127.0.0.1"]);
        let mut h = HeaderMap::new();
        h.insert(FOR, "198.51.100.7, 203.0.113.9, 10.1.2.3".parse().unwrap());
        assert_eq!(
            client(&proxies, &h),
            "203.0.113.9".parse().ok(),
            "the forged left one is ignored"
        );
        h.insert(FOR, "10.1.2.3".parse().unwrap());
        assert_eq!(client(&proxies, &h), "10.1.2.3".parse().ok());
        h.insert(FOR, "not an address".parse().unwrap());
        assert_eq!(client(&proxies, &h), None);
        assert!(parse_proxy("10.0.0.0/33").is_err());
        assert!(parse_proxy("::1").is_ok());
    }
}
