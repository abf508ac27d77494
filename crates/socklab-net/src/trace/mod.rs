//! `socklab trace`: what happens when you open a web page, phase by phase and timed.
//!
//! A page load is a chain of steps that a browser hides: the name is resolved (DNS), a TCP
//! connection is made to one of the addresses found, TLS is negotiated for https, the
//! request goes out, the server thinks, the first byte of the answer arrives, then the
//! body. Each step is timed on its own, which is why this uses hyper's connection-level
//! client rather than a complete client such as reqwest: resolving, connecting and the TLS
//! handshake are done here, and only the HTTP exchange is handed to hyper.
//!
//! Redirects are shown, not silently followed: a hop is one request and its answer, and
//! with `follow` each redirect becomes another fully traced hop (a new connection each
//! time, so every hop shows its own DNS, connect and TLS).
//!
//! A trace that stops at some phase (the name does not resolve, the connection is
//! refused, the certificate is not trusted, a timeout) is still a report: the phases that
//! were done are in it, and [`TraceReport::error`] says which phase failed and why. An
//! HTTP error status (404, 500) is an answer, not a failure of the trace.

mod head;
mod hop;
mod io;

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Serialize;
use tokio::io::AsyncWrite;

pub use hyper::http::{HeaderName, HeaderValue, Method};
pub use socklab_core::transport::tls::{CertInfo, TlsClientOptions};
pub use url::Url;

use crate::error::{Error, Result};

/// Sent by default, so a server's logs show what made the request.
pub const USER_AGENT: &str = concat!("socklab/", env!("CARGO_PKG_VERSION"));

/// Where the body of the final answer goes (a file, stdout); the bodies of redirects
/// that are followed are counted but go nowhere.
pub type BodySink<'a> = &'a mut (dyn AsyncWrite + Unpin + Send);

/// One `-H` header. `value: None` leaves out a header trace would send by default
/// (`-H 'User-Agent:'`, as curl does).
#[derive(Debug, Clone)]
pub struct Header {
    pub name: HeaderName,
    pub value: Option<HeaderValue>,
}

/// What to trace; build it with [`TraceRequest::get`] and the `parse_*` functions, which
/// turn what a person typed into these types or a usage error.
#[derive(Debug, Clone)]
pub struct TraceRequest {
    pub url: Url,
    pub method: Method,
    /// Added to (or replacing, by name) Host, User-Agent, Accept, and for a body
    /// Content-Type and Content-Length.
    pub headers: Vec<Header>,
    pub body: Option<Bytes>,
    /// Follow redirects (each one a traced hop).
    pub follow: bool,
    /// How many redirects may be followed before the trace stops with an error.
    pub max_redirs: u32,
    /// The longest any one phase may take: DNS, TCP connect, TLS handshake, the request
    /// with the wait for the response head, and the body.
    pub timeout: Duration,
    /// The longest the whole trace (every hop) may take.
    pub max_time: Option<Duration>,
    /// Trust for https. `alpn` is ignored: trace offers http/1.1 only, which it speaks.
    pub tls: TlsClientOptions,
}

impl TraceRequest {
    /// A GET of `url` with the defaults: no redirects followed (10 at most with
    /// `follow`), 10 seconds per phase.
    pub fn get(url: Url) -> TraceRequest {
        TraceRequest {
            url,
            method: Method::GET,
            headers: Vec::new(),
            body: None,
            follow: false,
            max_redirs: 10,
            timeout: Duration::from_secs(10),
            max_time: None,
            tls: TlsClientOptions::default(),
        }
    }
}

/// Parses a URL as a person types it. A missing scheme, another scheme than http or
/// https, user names in the URL and anything url cannot parse are usage errors. Host
/// names are converted to their ASCII form (IDNA), the way a browser resolves them.
pub fn parse_url(input: &str) -> Result<Url> {
    let text = input.trim();
    let Some((scheme, _)) = text.split_once("://") else {
        let before = text.split(':').next().unwrap_or_default();
        if before.eq_ignore_ascii_case("http") || before.eq_ignore_ascii_case("https") {
            return Err(bad_url(text, "expected '://' after the scheme"));
        }
        return Err(Error::NoScheme {
            input: text.to_string(),
        });
    };
    if scheme.is_empty() {
        return Err(bad_url(text, "there is no scheme before '://'"));
    }
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        let word = scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
        if !word {
            return Err(bad_url(text, &format!("'{scheme}' is not a scheme")));
        }
        return Err(Error::UnsupportedScheme {
            input: text.to_string(),
            scheme: scheme.to_string(),
        });
    }
    let url = Url::parse(text).map_err(|e| bad_url(text, &e.to_string()))?;
    check_url(&url).map_err(|reason| bad_url(text, &reason))?;
    Ok(url)
}

fn bad_url(input: &str, reason: &str) -> Error {
    Error::BadUrl {
        input: input.to_string(),
        reason: reason.to_string(),
    }
}

/// What trace needs of a parsed URL, for the one typed and for every redirect target.
fn check_url(url: &Url) -> std::result::Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "it is a {}:// URL, and trace speaks http:// and https:// only",
            url.scheme()
        ));
    }
    if url.host().is_none() {
        return Err("there is no host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "trace does not send a user name or password from the URL; leave them out and use -H 'Authorization: ...'"
                .into(),
        );
    }
    hop::target(url).map(|_| ())
}

/// Parses `-H 'Name: value'`. `Name:` (nothing after the colon) leaves out a header
/// trace sends by default; `Name;` sends it empty (both as curl).
pub fn parse_header(input: &str) -> Result<Header> {
    let bad = |reason: String| Error::BadHeader {
        input: input.to_string(),
        reason,
    };
    let (name, value) = match input.split_once(':') {
        Some((name, value)) => (name, Some(value.trim())),
        None => match input.trim_end().strip_suffix(';') {
            Some(name) => (name, Some("")),
            None => return Err(bad("there is no ':' between the name and the value".into())),
        },
    };
    if name.is_empty() {
        return Err(bad("the name before ':' is empty".into()));
    }
    let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        bad(format!(
            "'{name}' is not a header name (letters, digits and !#$%&'*+-.^_`|~, no spaces)"
        ))
    })?;
    // "Name:" removes; "Name;" sends an empty value.
    let value =
        match value {
            Some("") if input.contains(':') => None,
            Some(v) => Some(HeaderValue::from_bytes(v.as_bytes()).map_err(|_| {
                bad("the value holds a control character such as a line break".into())
            })?),
            None => None,
        };
    Ok(Header { name, value })
}

/// Parses `-X METHOD`. Any token is a method in HTTP, so `PURGE` or `PROPFIND` go as
/// typed (case included, as methods are case-sensitive).
pub fn parse_method(input: &str) -> Result<Method> {
    let bad = |reason: &str| Error::BadMethod {
        input: input.to_string(),
        reason: reason.to_string(),
    };
    if input.is_empty() {
        return Err(bad("it is empty"));
    }
    Method::from_bytes(input.as_bytes()).map_err(|_| {
        bad("a method is one word of letters, digits and !#$%&'*+-.^_`|~ (no spaces or '/')")
    })
}

// ---------------------------------------------------------------------------------------
// The report

/// The steps of one hop, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Dns,
    Connect,
    Tls,
    Request,
    Response,
    Body,
    Redirect,
}

/// Which phase failed, and why in plain words (the message starts with the phase:
/// "TCP connect to 127.0.0.1:80: refused").
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub phase: Phase,
    pub message: String,
}

impl Failure {
    fn new(phase: Phase, message: impl Into<String>) -> Failure {
        Failure {
            phase,
            message: message.into(),
        }
    }
}

/// Milliseconds spent in each phase of a hop. The phases follow one another, so they add
/// up to `total_ms`; a phase that did not happen (DNS for an IP address, TLS for http,
/// everything after a failure) is `None`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Phases {
    pub dns_ms: Option<f64>,
    pub connect_ms: Option<f64>,
    pub tls_ms: Option<f64>,
    /// Writing the request (head and body) to the connection.
    pub request_ms: Option<f64>,
    /// From the request sent to the first byte of the answer: the server's think time
    /// plus one round trip.
    pub ttfb_ms: Option<f64>,
    /// From the first byte of the answer to the last byte of the body.
    pub transfer_ms: Option<f64>,
    pub total_ms: f64,
}

/// A TCP connect to one address that failed before another address was tried.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectAttempt {
    pub address: SocketAddr,
    pub error: String,
    pub ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TlsReport {
    /// "TLSv1.3" or "TLSv1.2".
    pub version: String,
    pub cipher: String,
    pub alpn: Option<String>,
    /// The server name sent (none for an IP address).
    pub sni: Option<String>,
    pub certificate: Option<CertInfo>,
}

/// The request head as it went out on the wire.
#[derive(Debug, Clone, Serialize)]
pub struct RequestHead {
    pub method: String,
    pub target: String,
    pub version: String,
    pub headers: Vec<(String, String)>,
    pub body_bytes: u64,
}

/// The response head as it came in: header names in the server's case, in its order.
#[derive(Debug, Clone, Serialize)]
pub struct ResponseHead {
    pub status: u16,
    pub reason: String,
    pub version: String,
    pub headers: Vec<(String, String)>,
}

/// One request and its answer.
#[derive(Debug, Clone, Serialize)]
pub struct Hop {
    pub url: String,
    /// As resolved: the ASCII (IDNA) form of a name, or the address.
    pub host: String,
    pub port: u16,
    /// Every address DNS gave, in the order they are tried.
    pub addresses: Vec<IpAddr>,
    /// The address connected to.
    pub address: Option<SocketAddr>,
    pub failed_connects: Vec<ConnectAttempt>,
    pub phases: Phases,
    pub tls: Option<TlsReport>,
    pub request: Option<RequestHead>,
    pub response: Option<ResponseHead>,
    /// Body bytes after any chunked framing is removed (content encodings are not
    /// decoded: this is what was sent).
    pub body_bytes: u64,
    /// Where a redirect points, resolved against this hop's URL.
    pub location: Option<String>,
    /// On the wire in each direction, heads included (above TLS).
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

impl Hop {
    fn new(url: &Url) -> Hop {
        Hop {
            url: url.to_string(),
            host: url
                .host_str()
                .unwrap_or_default()
                .trim_matches(['[', ']'])
                .to_string(),
            port: url.port_or_known_default().unwrap_or(80),
            addresses: Vec::new(),
            address: None,
            failed_connects: Vec::new(),
            phases: Phases::default(),
            tls: None,
            request: None,
            response: None,
            body_bytes: 0,
            location: None,
            bytes_sent: 0,
            bytes_received: 0,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TraceReport {
    pub url: String,
    pub hops: Vec<Hop>,
    /// Redirects followed.
    pub redirects: u32,
    /// The status of the last answer, if there was one.
    pub status: Option<u16>,
    pub total_ms: f64,
    pub error: Option<Failure>,
}

impl TraceReport {
    /// The failure as an error for the command line (exit status 1), naming the hop when
    /// there was more than one.
    pub fn failure(&self) -> Option<Error> {
        let f = self.error.as_ref()?;
        Some(Error::Trace(match self.hops.last() {
            Some(hop) if self.hops.len() > 1 => {
                format!("hop {} ({}): {}", self.hops.len(), hop.url, f.message)
            }
            _ => f.message.clone(),
        }))
    }
}

/// 301, 302, 303, 307 and 308 point elsewhere with a Location; 300 and 304 do not.
pub fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

fn ms(d: Duration) -> f64 {
    d.as_micros() as f64 / 1000.0
}

/// Traces `req`, following redirects when asked, and writes the final answer's body to
/// `sink` if one is given. The error is for TLS options that cannot work (a CA file that
/// is not one: a usage error); everything that goes wrong on the network is in the report.
pub async fn trace(req: &TraceRequest, mut sink: Option<BodySink<'_>>) -> Result<TraceReport> {
    let mut ctx = hop::Ctx::new(req)?;
    let started = Instant::now();
    let mut report = TraceReport {
        url: req.url.to_string(),
        hops: Vec::new(),
        redirects: 0,
        status: None,
        total_ms: 0.0,
        error: None,
    };
    let mut url = req.url.clone();
    let mut method = req.method.clone();
    let mut body = req.body.clone();
    let mut headers = req.headers.clone();
    let will_follow =
        |status: u16, has_location: bool| req.follow && is_redirect(status) && has_location;
    loop {
        let plan = hop::Plan {
            url: &url,
            method: &method,
            headers: &headers,
            body: body.as_ref(),
            same_host: same_origin(&url, &req.url),
        };
        let mut hop = Hop::new(&url);
        let t0 = Instant::now();
        let result = hop::run(
            &mut ctx,
            &plan,
            &mut hop,
            sink.as_mut().map(|s| &mut **s as BodySink<'_>),
            &will_follow,
        )
        .await;
        hop.phases.total_ms = ms(t0.elapsed());
        let status = hop.response.as_ref().map(|r| r.status);
        let location = hop.location.clone();
        report.hops.push(hop);
        if let Err(f) = result {
            report.error = Some(f);
            break;
        }
        report.status = status;
        let (Some(status), Some(location)) = (status, location) else {
            break;
        };
        if !will_follow(status, true) {
            break;
        }
        let next = match Url::parse(&location)
            .map_err(|e| e.to_string())
            .and_then(|u| check_url(&u).map(|_| u))
        {
            Ok(next) => next,
            Err(reason) => {
                report.error = Some(Failure::new(
                    Phase::Redirect,
                    format!("following the redirect to '{location}': {reason}"),
                ));
                break;
            }
        };
        if report.redirects >= req.max_redirs {
            report.error = Some(Failure::new(
                Phase::Redirect,
                format!(
                    "following redirects: stopped after {} (--max-redirs {}); the next would go to {next}",
                    report.redirects, req.max_redirs
                ),
            ));
            break;
        }
        report.redirects += 1;
        // As browsers do: 303 turns into a GET, and so does a POST answered with 301 or
        // 302; 307 and 308 repeat the request as it was, body included.
        let to_get = (status == 303 && method != Method::HEAD)
            || (matches!(status, 301 | 302) && method == Method::POST);
        if to_get {
            method = Method::GET;
            body = None;
            headers.retain(|h| !h.name.as_str().starts_with("content-"));
        }
        // Credentials are for the origin they were typed for, not wherever it redirects.
        if !same_origin(&next, &url) {
            headers.retain(|h| {
                !matches!(
                    h.name.as_str(),
                    "authorization" | "cookie" | "proxy-authorization"
                )
            });
        }
        url = next;
    }
    report.total_ms = ms(started.elapsed());
    Ok(report)
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(r: Result<impl std::fmt::Debug>) -> String {
        match r {
            Ok(v) => panic!("expected a usage error, got {v:?}"),
            Err(e) => {
                assert!(e.is_usage(), "{e:?}");
                e.to_string()
            }
        }
    }

    #[test]
    fn urls_people_type() {
        let u = parse_url("http://localhost:8080/a b?q=1#frag").unwrap();
        assert_eq!(hop::target(&u).unwrap(), "/a%20b?q=1");
        assert_eq!(u.port(), Some(8080));
        let u = parse_url(" HTTPS://Example.COM ").unwrap();
        assert_eq!(u.as_str(), "https://example.com/");
        let u = parse_url("http://例子.测试/").unwrap();
        assert_eq!(u.host_str(), Some("xn--fsqu00a.xn--0zwm56d"));
        let u = parse_url("http://[::1]:81/").unwrap();
        assert_eq!(Hop::new(&u).host, "::1");
    }

    #[test]
    fn bad_urls_say_what_was_expected() {
        let msg = usage(parse_url("example.com/x"));
        assert!(
            msg.contains("has no scheme; expected http://example.com/x or https://example.com/x"),
            "{msg}"
        );
        assert!(usage(parse_url("localhost:8080")).contains("expected http://localhost:8080"));
        let msg = usage(parse_url("ftp://example.com/"));
        assert!(msg.contains("unsupported scheme 'ftp'"), "{msg}");
        for (input, reason) in [
            ("http://", "empty host"),
            ("http://host:99999/", "invalid port number"),
            ("http://[::1/", "invalid IPv6 address"),
            ("http:/x", "expected '://'"),
            ("://x", "no scheme before"),
            ("a b://x", "is not a scheme"),
            ("http://u:p@host/", "user name or password"),
        ] {
            let msg = usage(parse_url(input));
            assert!(msg.contains(reason), "{input}: {msg}");
            assert!(msg.contains("bad URL"), "{input}: {msg}");
        }
    }

    #[test]
    fn headers_and_methods() {
        let h = parse_header("X-Thing:  a b ").unwrap();
        assert_eq!(h.name.as_str(), "x-thing");
        assert_eq!(h.value.unwrap(), "a b");
        assert!(parse_header("User-Agent:").unwrap().value.is_none());
        assert_eq!(parse_header("X-Empty;").unwrap().value.unwrap(), "");
        assert!(usage(parse_header("NoColon")).contains("no ':'"));
        assert!(usage(parse_header(": v")).contains("name before ':' is empty"));
        assert!(usage(parse_header("Bad Name: v")).contains("not a header name"));
        assert!(usage(parse_header("X: a\r\nY: b")).contains("control character"));
        assert_eq!(parse_method("PROPFIND").unwrap().as_str(), "PROPFIND");
        assert!(usage(parse_method("")).contains("empty"));
        assert!(usage(parse_method("GET /")).contains("one word"));
    }
}
