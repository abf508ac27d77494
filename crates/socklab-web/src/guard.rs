//! Who may use the page: a token, a Host check and an Origin check.
//!
//! Any web page the user visits can make the browser send requests to 127.0.0.1, so
//! loopback alone protects nothing. Three checks close the doors:
//! - The token: printed once in the URL; the first load trades it for an HttpOnly,
//!   SameSite=Strict cookie (so it leaves the address bar and history), and every request
//!   after needs that cookie or `Authorization: Bearer TOKEN`. Another site cannot read the
//!   token, and a SameSite=Strict cookie is not sent on its requests.
//! - The Host header (DNS rebinding): a hostile name that is made to resolve to 127.0.0.1
//!   would be same-origin with us, but its requests carry its own name in Host. Only the
//!   bound address and the loopback names are accepted.
//! - The Origin of the WebSocket upgrade: browsers do not apply the same-origin policy to
//!   WebSockets, so the upgrade must come from our own page's origin.
//!
//! No CORS headers are ever sent, so no other origin can read a response.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// The cookie the token moves to after the first load, named with the port: cookies are
/// kept per host, not per port, so two `socklab web` on one machine need two names.
pub fn cookie_name(port: u16) -> String {
    format!("socklab_token_{port}")
}

/// 32 random bytes from the OS, as 64 hex digits: too many to guess, plain enough to paste.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    pub fn random() -> Result<Token, crate::Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| crate::Error::Random(e.to_string()))?;
        Ok(Token(socklab_core::codec::hex::encode_hex(&bytes)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Compared in constant time, so response timing says nothing about how much of a
    /// guess was right.
    pub fn matches(&self, other: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), other.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(..)")
    }
}

/// The checks, for one bound address.
#[derive(Debug)]
pub struct Guard {
    token: Token,
    bound: SocketAddr,
    /// Host header values accepted, lowercase.
    hosts: Vec<String>,
}

impl Guard {
    pub fn new(token: Token, bound: SocketAddr) -> Guard {
        let port = bound.port();
        let mut hosts = vec![
            bound.to_string(),
            format!("localhost:{port}"),
            format!("127.0.0.1:{port}"),
            format!("[::1]:{port}"),
        ];
        hosts.dedup();
        Guard {
            token,
            bound,
            hosts,
        }
    }

    pub fn token(&self) -> &Token {
        &self.token
    }

    /// The host:port to put in the printed URL.
    pub fn url_host(&self) -> String {
        let port = self.bound.port();
        match self.bound.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => format!("127.0.0.1:{port}"),
            IpAddr::V6(ip) if ip.is_unspecified() => format!("[::1]:{port}"),
            _ => self.bound.to_string(),
        }
    }

    /// The bound address, a loopback name, or, when bound to every interface, any address
    /// written as an IP literal: DNS rebinding needs a name, and an IP literal in Host
    /// means the user typed this machine's address.
    pub fn host_allowed(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        if self.hosts.contains(&host) {
            return true;
        }
        if self.bound.ip().is_unspecified() {
            if let Ok(addr) = host.parse::<SocketAddr>() {
                return addr.port() == self.bound.port();
            }
        }
        false
    }

    /// The cookie or the bearer header carries the token.
    pub fn authorized(&self, headers: &HeaderMap) -> bool {
        let bearer = headers
            .get_all(header::AUTHORIZATION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.strip_prefix("Bearer "))
            .any(|t| self.token.matches(t.trim()));
        let name = cookie_name(self.bound.port());
        bearer || cookie_tokens(headers, &name).any(|t| self.token.matches(t))
    }

    /// The WebSocket upgrade comes from our own page: Origin is `http://` and the Host the
    /// request was sent to (already checked). A missing Origin is refused too: every browser
    /// sends one on a WebSocket, and a non-browser client can send it as well.
    pub fn origin_allowed(&self, headers: &HeaderMap) -> bool {
        let (Some(origin), Some(host)) = (
            headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
            headers.get(header::HOST).and_then(|v| v.to_str().ok()),
        ) else {
            return false;
        };
        origin.eq_ignore_ascii_case(&format!("http://{}", host.trim()))
    }
}

fn cookie_tokens<'a>(headers: &'a HeaderMap, name: &'a str) -> impl Iterator<Item = &'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(move |kv| kv.trim().strip_prefix(name)?.strip_prefix('='))
}

fn token_param(query: &str) -> Option<&str> {
    query.split('&').find_map(|kv| kv.strip_prefix("token="))
}

/// A refusal with a one-line reason a person can act on.
pub fn refuse(status: StatusCode, why: &str) -> Response {
    (status, format!("socklab web: {why}\n")).into_response()
}

/// The middleware in front of every route: Host first (a rebinding page learns nothing,
/// not even whether its token guess was right), then the token.
pub async fn check(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let guard = &state.guard;
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let mut resp = if !guard.host_allowed(host) {
        refuse(
            StatusCode::FORBIDDEN,
            &format!(
                "Host '{host}' is not this server; expected {} or localhost:{}",
                guard.url_host(),
                guard.bound.port()
            ),
        )
    } else if let Some(given) = (req.uri().path() == "/")
        .then(|| req.uri().query().and_then(token_param))
        .flatten()
    {
        if guard.token.matches(given) {
            // 303 to the bare page: the token leaves the address bar and the history.
            let cookie = format!(
                "{}={}; HttpOnly; SameSite=Strict; Path=/",
                cookie_name(guard.bound.port()),
                guard.token.as_str()
            );
            let mut r = StatusCode::SEE_OTHER.into_response();
            r.headers_mut()
                .insert(header::LOCATION, HeaderValue::from_static("/"));
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        } else {
            refuse(
                StatusCode::UNAUTHORIZED,
                "wrong token; expected the one in the URL socklab web printed",
            )
        }
    } else if guard.authorized(req.headers()) {
        next.run(req).await
    } else {
        refuse(
            StatusCode::UNAUTHORIZED,
            "this needs the token; open the URL socklab web printed (http://…/?token=…)",
        )
    };
    let h = resp.headers_mut();
    // Nothing here may be framed by another page or cached with its token-bearing state.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; connect-src 'self'; frame-ancestors 'none'"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(bound: &str) -> Guard {
        Guard::new(Token("ab".repeat(32)), bound.parse().unwrap())
    }

    #[test]
    fn hosts_are_the_bound_address_and_loopback_names() {
        let g = guard("127.0.0.1:8080");
        assert!(g.host_allowed("127.0.0.1:8080"));
        assert!(g.host_allowed("LOCALHOST:8080"));
        assert!(g.host_allowed("[::1]:8080"));
        assert!(!g.host_allowed("evil.example:8080"));
        assert!(!g.host_allowed("localhost:8081"));
        assert!(!g.host_allowed("10.0.0.1:8080"));
        let any = guard("0.0.0.0:8080");
        assert!(any.host_allowed("10.0.0.1:8080"));
        assert!(!any.host_allowed("rebind.example:8080"));
    }

    #[test]
    fn token_from_cookie_or_bearer() {
        let g = guard("127.0.0.1:1");
        let tok = "ab".repeat(32);
        let mut h = HeaderMap::new();
        assert!(!g.authorized(&h));
        h.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("a=b; socklab_token_1={tok}")).unwrap(),
        );
        assert!(g.authorized(&h));
        // Another instance's cookie (port 10) is not ours, even with the right token.
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("socklab_token_10={tok}")).unwrap(),
        );
        assert!(!g.authorized(&h));
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {tok}")).unwrap(),
        );
        assert!(g.authorized(&h));
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("socklab_token_1=ab"),
        );
        assert!(!g.authorized(&h));
    }

    #[test]
    fn token_is_64_hex_digits_and_fresh() {
        let a = Token::random().unwrap();
        let b = Token::random().unwrap();
        assert_eq!(a.as_str().len(), 64);
        assert!(a.as_str().bytes().all(|c| c.is_ascii_hexdigit()));
        assert!(!a.matches(b.as_str()));
    }
}
