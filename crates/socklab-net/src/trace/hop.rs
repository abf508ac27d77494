//! One hop: resolve, connect, TLS, then one HTTP/1.1 exchange over hyper's connection
//! client, each phase timed and bounded by its own deadline.

use std::io as stdio;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, Uri, Version};
use hyper_util::rt::TokioIo;
use socklab_core::error::humanize;
use socklab_core::transport::tls;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout_at;
use url::{Position, Url};

use super::io::{Shared, Timed};
use super::{
    head, ms, BodySink, ConnectAttempt, Failure, Header, Hop, Phase, RequestHead, ResponseHead,
    TlsReport, TraceRequest, USER_AGENT,
};
use crate::error::Result;

/// What stays the same across hops: the request's options, the TLS configuration (built
/// once, when first needed) and the deadline of `max_time`.
pub struct Ctx<'a> {
    req: &'a TraceRequest,
    tls: Option<std::result::Result<Arc<rustls::ClientConfig>, String>>,
    overall: Option<Instant>,
}

impl<'a> Ctx<'a> {
    /// With `--ca`, `--pin` or `--insecure` the configuration is built now, so a CA file
    /// that is not one is a usage error before anything is sent. Without them it waits
    /// for the first https hop: a machine without system roots can still trace http.
    pub fn new(req: &'a TraceRequest) -> Result<Ctx<'a>> {
        let tls = if req.tls.ca.is_some() || req.tls.pin.is_some() || req.tls.insecure {
            Some(Ok(tls::client_config(&options(req, true))?))
        } else {
            None
        };
        Ok(Ctx {
            req,
            tls,
            overall: req.max_time.map(|d| Instant::now() + d),
        })
    }

    fn config(&mut self) -> std::result::Result<Arc<rustls::ClientConfig>, String> {
        let req = self.req;
        self.tls
            .get_or_insert_with(|| {
                tls::client_config(&options(req, true)).map_err(|e| match e {
                    socklab_core::Error::TlsConfig { reason } => reason,
                    e => e.to_string(),
                })
            })
            .clone()
    }

    /// When the phase starting now must end, and how to say it timed out.
    fn deadline(&self) -> (Instant, Limit) {
        let phase = Instant::now() + self.req.timeout;
        match (self.overall, self.req.max_time) {
            (Some(at), Some(max)) if at < phase => (at, Limit::Overall(max)),
            _ => (phase, Limit::Phase(self.req.timeout)),
        }
    }
}

#[derive(Clone, Copy)]
enum Limit {
    Phase(Duration),
    Overall(Duration),
}

impl Limit {
    fn timed_out(self) -> String {
        match self {
            Limit::Phase(d) => format!("timed out after {}", humanize(d)),
            Limit::Overall(d) => format!("timed out: --max-time {} reached", humanize(d)),
        }
    }
}

/// The TLS options of a hop: ALPN is always http/1.1 alone, since that is all trace
/// speaks; `--sni` is for the host it was typed for, not for other hosts redirected to.
fn options(req: &TraceRequest, same_host: bool) -> tls::TlsClientOptions {
    let mut opts = req.tls.clone();
    opts.alpn = vec!["http/1.1".into()];
    if !same_host {
        opts.sni = None;
    }
    opts
}

pub struct Plan<'a> {
    pub url: &'a Url,
    pub method: &'a Method,
    pub headers: &'a [Header],
    pub body: Option<&'a Bytes>,
    /// Same scheme, host and port as the URL typed: a custom Host header and `--sni`
    /// apply only there (as in curl).
    pub same_host: bool,
}

/// The request-target: path and query, without the fragment, which never leaves the
/// browser either.
pub fn target(url: &Url) -> std::result::Result<String, String> {
    let t = &url[Position::BeforePath..Position::AfterQuery];
    let t = if t.is_empty() { "/" } else { t };
    t.parse::<Uri>()
        .map(|_| t.to_string())
        .map_err(|_| format!("the path and query '{t}' cannot be sent as a request target"))
}

pub async fn run(
    ctx: &mut Ctx<'_>,
    plan: &Plan<'_>,
    hop: &mut Hop,
    sink: Option<BodySink<'_>>,
    will_follow: &dyn Fn(u16, bool) -> bool,
) -> std::result::Result<(), Failure> {
    let url = plan.url;
    let port = hop.port;

    // DNS
    let t0 = Instant::now();
    let addrs: Vec<SocketAddr> = match url.host() {
        Some(url::Host::Domain(name)) => {
            let (deadline, limit) = ctx.deadline();
            let found = timeout_at(deadline.into(), tokio::net::lookup_host((name, port))).await;
            hop.phases.dns_ms = Some(ms(t0.elapsed()));
            let fail = |why: String| {
                Failure::new(Phase::Dns, format!("DNS: cannot resolve '{name}': {why}"))
            };
            let mut addrs: Vec<SocketAddr> = match found {
                Err(_) => return Err(fail(limit.timed_out())),
                Ok(Err(e)) => return Err(fail(resolve_reason(&e))),
                Ok(Ok(it)) => it.collect(),
            };
            let mut seen = Vec::new();
            addrs.retain(|a| {
                let new = !seen.contains(a);
                seen.push(*a);
                new
            });
            if addrs.is_empty() {
                return Err(fail("no address found".into()));
            }
            addrs
        }
        Some(url::Host::Ipv4(ip)) => vec![SocketAddr::from((ip, port))],
        Some(url::Host::Ipv6(ip)) => vec![SocketAddr::from((ip, port))],
        None => return Err(Failure::new(Phase::Dns, "DNS: the URL has no host")),
    };
    hop.addresses = addrs.iter().map(SocketAddr::ip).collect();

    // TCP connect: each address in the order DNS gave them, until one answers.
    let t1 = Instant::now();
    let (deadline, limit) = ctx.deadline();
    let mut tcp = None;
    for addr in &addrs {
        let at = Instant::now();
        match timeout_at(deadline.into(), TcpStream::connect(addr)).await {
            Ok(Ok(s)) => {
                hop.address = Some(*addr);
                tcp = Some(s);
                break;
            }
            Ok(Err(e)) => hop.failed_connects.push(ConnectAttempt {
                address: *addr,
                error: io_reason(&e),
                ms: ms(at.elapsed()),
            }),
            Err(_) => {
                hop.failed_connects.push(ConnectAttempt {
                    address: *addr,
                    error: limit.timed_out(),
                    ms: ms(at.elapsed()),
                });
                break;
            }
        }
    }
    hop.phases.connect_ms = Some(ms(t1.elapsed()));
    let Some(tcp) = tcp else {
        let message = match hop.failed_connects.as_slice() {
            [one] => format!("TCP connect to {}: {}", one.address, one.error),
            all => format!(
                "TCP connect to {} port {port}: {}",
                hop.host,
                all.iter()
                    .map(|a| format!("{} {}", a.address, a.error))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        };
        return Err(Failure::new(Phase::Connect, message));
    };
    // The request goes out in one write; no reason to let Nagle hold back a body's tail.
    let _ = tcp.set_nodelay(true);

    if url.scheme() != "https" {
        return exchange(ctx, plan, hop, tcp, sink, will_follow).await;
    }

    // TLS
    let t2 = Instant::now();
    let tls_failed = |hop: &mut Hop, message: String| {
        hop.phases.tls_ms = Some(ms(t2.elapsed()));
        Err(Failure::new(Phase::Tls, message))
    };
    let config = match ctx.config() {
        Ok(c) => c,
        Err(reason) => return tls_failed(hop, format!("TLS handshake: {reason}")),
    };
    let opts = options(ctx.req, plan.same_host);
    let host = url.host_str().unwrap_or_default();
    let (deadline, limit) = ctx.deadline();
    let peer = hop.address.map_or_else(String::new, |a| a.to_string());
    let (stream, info) =
        match timeout_at(deadline.into(), tls::connect(tcp, host, config, &opts)).await {
            Err(_) => {
                return tls_failed(
                    hop,
                    format!("TLS handshake with {peer}: {}", limit.timed_out()),
                )
            }
            Ok(Err(socklab_core::Error::TlsHandshake { target, reason, .. })) => {
                // A server that wants HTTP/2 only refuses an offer of http/1.1 alone.
                let hint = if reason.contains("ALPN") {
                    "; trace offers http/1.1 only, and this server seems to want HTTP/2"
                } else {
                    ""
                };
                return tls_failed(hop, format!("TLS handshake with {target}: {reason}{hint}"));
            }
            Ok(Err(e)) => return tls_failed(hop, format!("TLS handshake: {e}")),
            Ok(Ok(done)) => done,
        };
    hop.phases.tls_ms = Some(ms(t2.elapsed()));
    hop.tls = Some(TlsReport {
        version: info.protocol,
        cipher: info.cipher,
        alpn: info.alpn,
        sni: info.sni,
        certificate: info.peer_cert,
    });
    exchange(ctx, plan, hop, stream, sink, will_follow).await
}

/// Aborts hyper's connection task when the hop is over, however it ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn exchange<S>(
    ctx: &mut Ctx<'_>,
    plan: &Plan<'_>,
    hop: &mut Hop,
    stream: S,
    sink: Option<BodySink<'_>>,
    will_follow: &dyn Fn(u16, bool) -> bool,
) -> std::result::Result<(), Failure>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let marks = Shared::default();
    let t3 = Instant::now();
    let (request, shown) = build_request(plan);
    hop.request = Some(shown);
    // Title case on the wire (Host, User-Agent) as curl and browsers send it; hyper would
    // send lowercase names otherwise, which servers accept but people do not expect.
    let handshake = hyper::client::conn::http1::Builder::new()
        .title_case_headers(true)
        .handshake(TokioIo::new(Timed::new(stream, marks.clone())))
        .await;
    let (mut sender, conn) = match handshake {
        Ok(pair) => pair,
        Err(e) => {
            return Err(Failure::new(
                Phase::Request,
                format!("sending the request: {}", hyper_reason(&e, &marks)),
            ))
        }
    };
    let _conn = AbortOnDrop(tokio::spawn(async move {
        // Its errors reach `send_request` and the body as well; they are reported there.
        let _ = conn.await;
    }));

    let (deadline, limit) = ctx.deadline();
    let answer = timeout_at(deadline.into(), sender.send_request(request)).await;
    let (last_write, first_read, bytes_read) = {
        let m = marks.lock();
        if let Some(sent) = sent_head(&m.written, plan.body.map_or(0, |b| b.len() as u64)) {
            hop.request = Some(sent);
        }
        (m.last_write, m.first_read, m.bytes_read)
    };
    // The request is out at its last write, unless the server answered before that (an
    // early 413, say), which ends the request phase too.
    let sent = match (last_write, first_read) {
        (Some(w), Some(f)) => w.min(f),
        (Some(w), None) => w,
        _ => t3,
    };
    hop.phases.request_ms = Some(ms(sent.saturating_duration_since(t3)));
    let wire = |hop: &mut Hop| {
        let m = marks.lock();
        hop.bytes_sent = m.bytes_written;
        hop.bytes_received = m.bytes_read;
    };
    let response = match answer {
        Err(_) => {
            wire(hop);
            let (phase, what) = match (last_write, first_read) {
                (None, _) => (Phase::Request, "sending the request".to_string()),
                (Some(_), None) => (Phase::Response, "waiting for the response".to_string()),
                (Some(_), Some(_)) => (
                    Phase::Response,
                    format!("reading the response head ({bytes_read} bytes so far)"),
                ),
            };
            if first_read.is_none() {
                hop.phases.ttfb_ms = Some(ms(sent.elapsed()));
            }
            return Err(Failure::new(
                phase,
                format!("{what}: {}", limit.timed_out()),
            ));
        }
        Ok(Err(e)) => {
            wire(hop);
            let phase = if last_write.is_none() {
                "sending the request"
            } else {
                "waiting for the response"
            };
            // A TLS server hangs up on a plain HTTP request, or resets it.
            let hint = if bytes_read == 0 && plan.url.scheme() == "http" {
                "; if this port speaks TLS, use https://"
            } else {
                ""
            };
            return Err(Failure::new(
                Phase::Response,
                format!("{phase}: {}{hint}", hyper_reason(&e, &marks)),
            ));
        }
        Ok(Ok(r)) => r,
    };
    let first = first_read.unwrap_or_else(Instant::now);
    hop.phases.ttfb_ms = Some(ms(first.saturating_duration_since(sent)));

    hop.response = Some(received_head(&response, &marks));
    let status = response.status().as_u16();
    hop.location = response
        .headers()
        .get(header::LOCATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .map(|raw| match plan.url.join(&raw) {
            Ok(resolved) => resolved.to_string(),
            Err(_) => raw,
        });
    let mut sink = if will_follow(status, hop.location.is_some()) {
        None
    } else {
        sink
    };
    let expected = response
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());

    // Body
    let mut body = response.into_body();
    let (deadline, limit) = ctx.deadline();
    let so_far = |n: u64| match expected {
        Some(total) => format!("{n} of {total} bytes received"),
        None => format!("{n} bytes received"),
    };
    let result = loop {
        match timeout_at(deadline.into(), body.frame()).await {
            Err(_) => {
                break Err(Failure::new(
                    Phase::Body,
                    format!(
                        "reading the body: {} ({})",
                        limit.timed_out(),
                        so_far(hop.body_bytes)
                    ),
                ))
            }
            Ok(None) => break Ok(()),
            Ok(Some(Err(e))) => {
                break Err(Failure::new(
                    Phase::Body,
                    format!(
                        "reading the body: {} ({})",
                        hyper_reason(&e, &marks),
                        so_far(hop.body_bytes)
                    ),
                ))
            }
            Ok(Some(Ok(frame))) => {
                let Some(data) = frame.data_ref() else {
                    continue;
                };
                hop.body_bytes += data.len() as u64;
                if let Some(out) = sink.as_mut() {
                    if let Err(e) = out.write_all(data).await {
                        break Err(Failure::new(Phase::Body, format!("writing the body: {e}")));
                    }
                }
            }
        }
    };
    let result = match (result, sink) {
        (Ok(()), Some(out)) => out
            .flush()
            .await
            .map_err(|e| Failure::new(Phase::Body, format!("writing the body: {e}"))),
        (result, _) => result,
    };
    hop.phases.transfer_ms = Some(ms(first.elapsed()));
    wire(hop);
    result
}

/// The request and the head it is expected to produce, shown in case the bytes on the
/// wire cannot be read back (a head over the capture limit, or a failure before it went).
fn build_request(plan: &Plan<'_>) -> (Request<Full<Bytes>>, RequestHead) {
    let url = plan.url;
    let mut host = url.host_str().unwrap_or_default().to_string();
    if let Some(port) = url.port() {
        host = format!("{host}:{port}");
    }
    let mut headers: Vec<(HeaderName, HeaderValue)> = Vec::new();
    let mut add = |name: HeaderName, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.push((name, v));
        }
    };
    add(header::HOST, &host);
    add(header::USER_AGENT, USER_AGENT);
    add(header::ACCEPT, "*/*");
    if let Some(body) = plan.body {
        // What curl -d sends, so a form handler reads the body as it would from curl.
        add(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        add(header::CONTENT_LENGTH, &body.len().to_string());
    }
    let mut replaced: Vec<HeaderName> = Vec::new();
    for h in plan.headers {
        if h.name == header::HOST && !plan.same_host {
            continue;
        }
        let defaults = [
            header::HOST,
            header::USER_AGENT,
            header::ACCEPT,
            header::CONTENT_TYPE,
            header::CONTENT_LENGTH,
        ];
        let is_default = defaults.contains(&h.name);
        match &h.value {
            None => headers.retain(|(n, _)| *n != h.name),
            // The first -H of a default's name takes its place; later ones are added.
            Some(v) if is_default && !replaced.contains(&h.name) => {
                replaced.push(h.name.clone());
                match headers.iter().position(|(n, _)| *n == h.name) {
                    Some(i) => headers[i].1 = v.clone(),
                    None => headers.push((h.name.clone(), v.clone())),
                }
            }
            Some(v) => headers.push((h.name.clone(), v.clone())),
        }
    }
    // Unreachable in practice: the target was checked when the URL was parsed.
    let target = target(url).unwrap_or_else(|_| "/".to_string());
    let body = plan.body.cloned().unwrap_or_default();
    let shown = RequestHead {
        method: plan.method.to_string(),
        target: target.clone(),
        version: "HTTP/1.1".into(),
        headers: headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body_bytes: body.len() as u64,
    };
    let mut request = Request::new(Full::new(body));
    *request.method_mut() = plan.method.clone();
    *request.version_mut() = Version::HTTP_11;
    *request.uri_mut() = target.parse().unwrap_or_default();
    for (name, value) in headers {
        request.headers_mut().append(name, value);
    }
    (request, shown)
}

/// The request head read back from what was written.
fn sent_head(written: &[u8], body_bytes: u64) -> Option<RequestHead> {
    let (head, _) = head::split(written)?;
    let (start, headers) = head::lines(head);
    let mut parts = start.splitn(3, ' ');
    Some(RequestHead {
        method: parts.next()?.to_string(),
        target: parts.next()?.to_string(),
        version: parts.next()?.to_string(),
        headers,
        body_bytes,
    })
}

/// The response head as received; hyper's reading of it when the bytes cannot be read
/// back (a head over the capture limit).
fn received_head<B>(response: &Response<B>, marks: &Shared) -> ResponseHead {
    let status = response.status().as_u16();
    let raw = head::final_response(&marks.lock().read);
    if let Some((start, headers)) = raw {
        let mut parts = start.splitn(3, ' ');
        let version = parts.next().unwrap_or_default().to_string();
        let code = parts.next().and_then(|c| c.parse::<u16>().ok());
        if code == Some(status) {
            return ResponseHead {
                status,
                reason: parts.next().unwrap_or_default().to_string(),
                version,
                headers,
            };
        }
    }
    let reason = response
        .extensions()
        .get::<hyper::ext::ReasonPhrase>()
        .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned())
        .or_else(|| response.status().canonical_reason().map(str::to_string))
        .unwrap_or_default();
    ResponseHead {
        status,
        reason,
        version: format!("{:?}", response.version()),
        headers: response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
    }
}

/// getaddrinfo's message without its generic prefix.
fn resolve_reason(e: &stdio::Error) -> String {
    let text = e.to_string();
    let text = text
        .strip_prefix("failed to lookup address information: ")
        .unwrap_or(&text);
    let mut s = text.to_string();
    if let Some(first) = s.get_mut(..1) {
        first.make_ascii_lowercase();
    }
    s
}

/// Socket errors in the words the seed uses.
fn io_reason(e: &stdio::Error) -> String {
    use stdio::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => "refused (nothing is listening there)".into(),
        K::ConnectionReset => "reset by the server".into(),
        K::ConnectionAborted => "aborted".into(),
        K::TimedOut => "timed out".into(),
        K::HostUnreachable => "host unreachable".into(),
        K::NetworkUnreachable => "network unreachable".into(),
        K::AddrNotAvailable => "the address is not available here".into(),
        K::BrokenPipe => "the server closed the connection while we were still sending".into(),
        K::UnexpectedEof => "the server closed the connection".into(),
        _ => e.to_string(),
    }
}

/// hyper's errors, with what the bytes received say about them.
fn hyper_reason(e: &hyper::Error, marks: &Shared) -> String {
    let m = marks.lock();
    if e.is_parse() {
        if let [0x15 | 0x16, 0x03, ..] = m.read.as_slice() {
            return "the server answered in TLS; use https://".into();
        }
        let start: String = String::from_utf8_lossy(&m.read[..m.read.len().min(32)])
            .chars()
            .map(|c| if c.is_control() { '.' } else { c })
            .collect();
        return format!("the answer is not HTTP/1.x ({e}); it began with '{start}'");
    }
    if e.is_incomplete_message() {
        return if m.bytes_read == 0 {
            "the server closed the connection without answering".into()
        } else {
            "the server closed the connection before the end of the message".into()
        };
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<stdio::Error>() {
            return io_reason(io);
        }
        source = s.source();
    }
    e.to_string()
}
