//! `socklab trace`: parses its arguments, asks socklab-net for the report, prints it.
//!
//! The report goes to stdout: each hop's connection details, the request as sent (`> `)
//! and the response head as received (`< `) like `curl -v`, then the phases as a small
//! waterfall. The body is not printed unless asked (`--body`, or `-o FILE`), because the
//! point of a trace is the timing and the heads, and a page of HTML would bury them.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::pin::Pin;
use std::process::ExitCode;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use clap::Args;
use socklab_core::transport::tls::{Fingerprint, TlsClientOptions};
use socklab_net::trace::{self, Hop, Phase, TraceReport, TraceRequest};
use tokio::io::AsyncWrite;

use crate::cli::parse_duration;
use crate::printer::style::{self, Style};
use crate::report;
use crate::UsageError;

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  socklab trace https://example.com/
  socklab trace -L http://example.com/old-page       follow redirects, each hop traced
  socklab trace -X PUT -H 'Content-Type: application/json' -d '{\"a\":1}' http://127.0.0.1:8080/api
  socklab trace --ca ca.pem https://localhost:8443/
  socklab trace --json http://127.0.0.1:8080/ | jq .hops[0].phases

An HTTP error status (404, 500) is an answer, not a failure: exit 0 unless --fail.")]
pub struct TraceArgs {
    /// The page: http://HOST[:PORT][/PATH] or https://...
    #[arg(value_name = "URL")]
    pub url: String,
    /// Request method (default GET, or POST with -d)
    #[arg(short = 'X', long = "request", value_name = "METHOD")]
    pub method: Option<String>,
    /// Extra header, 'Name: value' (repeatable); 'Name:' leaves out a default header
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Request body: text, @FILE or @- for stdin (repeatable, joined with '&' as curl)
    #[arg(short = 'd', long = "data", value_name = "DATA")]
    pub data: Vec<String>,
    /// Send HEAD instead of GET: the heads only
    #[arg(short = 'I', long, conflicts_with_all = ["method", "data"])]
    pub head: bool,
    /// Follow redirects, tracing each hop
    #[arg(short = 'L', long = "location")]
    pub follow: bool,
    /// With -L, how many redirects to follow before giving up
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_redirs: u32,
    /// The longest each phase may take (DNS, connect, TLS, request and response head, body)
    #[arg(long, value_name = "DUR", default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// The longest the whole trace may take, every hop included
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub max_time: Option<Duration>,
    /// https: do not verify the server's certificate
    #[arg(short = 'k', long)]
    pub insecure: bool,
    /// https: trust the CA certificates in this PEM file instead of the system's
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// https: accept exactly the certificate with this SHA-256 fingerprint
    #[arg(long, value_name = "SHA256")]
    pub pin: Option<String>,
    /// https: server name to send and verify (default: the URL's host)
    #[arg(long, value_name = "NAME")]
    pub sni: Option<String>,
    /// Write the body of the final answer to FILE
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print the body of the final answer after the trace (up to 1 MiB)
    #[arg(long, conflicts_with_all = ["output", "json"])]
    pub body: bool,
    /// Exit 1 when the final answer is an HTTP error (400 and above)
    #[arg(short = 'f', long)]
    pub fail: bool,
    /// One JSON document on stdout (see the README for the fields)
    #[arg(long)]
    pub json: bool,
}

/// `--body` keeps at most this much; the rest is counted. A trace is for looking at, and
/// a large download belongs in `-o FILE`.
const BODY_SHOWN: usize = 1 << 20;

pub async fn run(args: TraceArgs) -> anyhow::Result<ExitCode> {
    let req = request(&args)?;
    let mut file = match &args.output {
        Some(path) => Some(tokio::fs::File::create(path).await.map_err(|e| {
            UsageError(format!(
                "cannot write '{}': {e}; expected a file that can be created (-o FILE)",
                path.display()
            ))
        })?),
        None => None,
    };
    let mut kept = Capped::default();
    let sink: Option<trace::BodySink<'_>> = match (&mut file, args.body) {
        (Some(f), _) => Some(f),
        (None, true) => Some(&mut kept),
        (None, false) => None,
    };
    let report = trace::trace(&req, sink).await?;

    if args.json {
        report::print_json(&report)?;
    } else {
        let style = Style::for_stdout();
        report::print(&render(&report, &args, style))?;
        if args.body && report.error.is_none() {
            print_body(&kept)?;
        }
    }
    if let Some(err) = report.failure() {
        return Err(err.into());
    }
    if let (true, Some(hop)) = (args.fail, report.hops.last()) {
        if let Some(r) = hop.response.as_ref().filter(|r| r.status >= 400) {
            return Err(socklab_net::Error::HttpStatus {
                status: format!("{} {}", r.status, r.reason),
            }
            .into());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn request(args: &TraceArgs) -> anyhow::Result<TraceRequest> {
    let mut req = TraceRequest::get(trace::parse_url(&args.url)?);
    for h in &args.headers {
        req.headers.push(trace::parse_header(h)?);
    }
    req.body = data(&args.data)?;
    req.method = match (&args.method, args.head, &req.body) {
        (Some(m), _, _) => trace::parse_method(m)?,
        (None, true, _) => trace::Method::HEAD,
        (None, false, Some(_)) => trace::Method::POST,
        (None, false, None) => trace::Method::GET,
    };
    for (name, d) in [
        ("--timeout", Some(args.timeout)),
        ("--max-time", args.max_time),
    ] {
        if d == Some(Duration::ZERO) {
            return Err(UsageError(format!(
                "{name} 0 would stop every trace at once; expected a duration above zero such as 500ms or 5s"
            ))
            .into());
        }
    }
    req.timeout = args.timeout;
    req.max_time = args.max_time;
    req.follow = args.follow;
    req.max_redirs = args.max_redirs;
    req.tls = TlsClientOptions {
        ca: args.ca.clone(),
        insecure: args.insecure,
        sni: args.sni.clone(),
        alpn: Vec::new(),
        pin: match &args.pin {
            Some(p) => Some(p.parse::<Fingerprint>()?),
            None => None,
        },
    };
    Ok(req)
}

/// `-d` as curl reads it: text as typed, `@FILE` or `@-` read whole (unlike curl, newlines
/// are kept, as `--data-binary` would), several joined with '&'.
fn data(parts: &[String]) -> anyhow::Result<Option<Bytes>> {
    if parts.is_empty() {
        return Ok(None);
    }
    let mut body = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            body.push(b'&');
        }
        match part.strip_prefix('@') {
            Some("-") => {
                std::io::stdin().read_to_end(&mut body).map_err(|source| {
                    socklab_core::Error::File {
                        path: "stdin".into(),
                        source,
                    }
                })?;
            }
            Some(path) => {
                let bytes = std::fs::read(path).map_err(|source| socklab_core::Error::File {
                    path: path.to_string(),
                    source,
                })?;
                body.extend_from_slice(&bytes);
            }
            None => body.extend_from_slice(part.as_bytes()),
        }
    }
    Ok(Some(Bytes::from(body)))
}

/// The first [`BODY_SHOWN`] bytes of the body, and how many there were in all.
#[derive(Default)]
struct Capped {
    kept: Vec<u8>,
    total: u64,
}

impl AsyncWrite for Capped {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let room = BODY_SHOWN.saturating_sub(self.kept.len());
        self.kept.extend_from_slice(&data[..data.len().min(room)]);
        self.total += data.len() as u64;
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The body after a blank line, as it came; on a terminal, binary bytes are not let
/// loose (they can reprogram it), as curl refuses too.
fn print_body(body: &Capped) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(b"\n")?;
    let terminal = std::io::stdout().is_terminal();
    if terminal && std::str::from_utf8(&body.kept).is_err() {
        writeln!(
            out,
            "({} bytes of binary body not shown on a terminal; use -o FILE)",
            body.total
        )?;
    } else {
        out.write_all(&body.kept)?;
        if body.total > body.kept.len() as u64 {
            writeln!(
                out,
                "\n... {} more bytes not shown; use -o FILE for the whole body",
                body.total - body.kept.len() as u64
            )?;
        }
    }
    out.flush()?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The readable form

/// Columns of the waterfall bar: enough to tell phases apart on an 80-column terminal.
const BAR: usize = 40;

fn render(report: &TraceReport, args: &TraceArgs, style: Style) -> String {
    let mut out = Vec::new();
    let n = report.hops.len();
    for (i, hop) in report.hops.iter().enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        let last = i + 1 == n;
        let failed = if last {
            report.error.as_ref().map(|f| f.phase)
        } else {
            None
        };
        render_hop(&mut out, hop, i, n, failed, style);
        if let Some(location) = &hop.location {
            let status = hop.response.as_ref().map_or(0, |r| r.status);
            if trace::is_redirect(status) {
                let note = if !last {
                    String::new()
                } else if args.follow {
                    " (not followed)".to_string()
                } else {
                    " (not followed; -L follows redirects)".to_string()
                };
                line(
                    &mut out,
                    style,
                    style::PEER,
                    &format!("→ redirect to {location}{note}"),
                );
            }
        }
    }
    if n > 1 || report.redirects > 0 {
        out.push(b'\n');
        let status = match (
            report.hops.last().and_then(|h| h.response.as_ref()),
            &report.error,
        ) {
            (_, Some(f)) => format!("failed ({})", phase_name(f.phase)),
            (Some(r), None) => format!("{} {}", r.status, r.reason),
            (None, None) => "no answer".to_string(),
        };
        let summary = format!(
            "{status} after {} redirect{} followed: {n} hops in {}",
            report.redirects,
            if report.redirects == 1 { "" } else { "s" },
            duration(report.total_ms)
        );
        out.extend_from_slice(summary.as_bytes());
        out.push(b'\n');
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Dns => "DNS",
        Phase::Connect => "TCP connect",
        Phase::Tls => "TLS handshake",
        Phase::Request => "sending the request",
        Phase::Response => "waiting for the response",
        Phase::Body => "reading the body",
        Phase::Redirect => "following the redirect",
    }
}

fn line(out: &mut Vec<u8>, style: Style, code: &str, text: &str) {
    style.paint(out, code, text);
    out.push(b'\n');
}

fn render_hop(
    out: &mut Vec<u8>,
    hop: &Hop,
    index: usize,
    hops: usize,
    failed: Option<Phase>,
    style: Style,
) {
    let method = hop.request.as_ref().map_or("GET", |r| r.method.as_str());
    let title = if hops > 1 {
        format!("hop {}: {method} {}", index + 1, hop.url)
    } else {
        format!("{method} {}", hop.url)
    };
    line(out, style, "1", &title);

    let mut info = report::Table::default();
    if !hop.addresses.is_empty() {
        let found = hop
            .addresses
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let resolved = if hop.phases.dns_ms.is_some() {
            format!("{} → {found}", hop.host)
        } else {
            format!("{found} (an address: no lookup)")
        };
        info.row(["DNS", &resolved]);
    }
    for attempt in &hop.failed_connects {
        info.row([
            "connect".to_string(),
            format!("{}: {}", attempt.address, attempt.error),
        ]);
    }
    if let Some(addr) = hop.address {
        info.row(["connected".to_string(), format!("to {addr}")]);
    }
    if let Some(tls) = &hop.tls {
        let mut what = format!("{}, {}", tls.version, tls.cipher);
        match &tls.alpn {
            Some(p) => what.push_str(&format!(", ALPN {p}")),
            None => what.push_str(", no ALPN"),
        }
        if let Some(sni) = &tls.sni {
            what.push_str(&format!(", SNI {sni}"));
        }
        info.row(["TLS", &what]);
        if let Some(cert) = &tls.certificate {
            info.row(["certificate", &cert.subject]);
            let issuer = if cert.self_signed {
                format!("{} (self-signed)", cert.issuer)
            } else {
                cert.issuer.clone()
            };
            info.row(["  issuer", &issuer]);
            info.row([
                "  valid".to_string(),
                format!("{} → {}", cert.not_before, cert.not_after),
            ]);
            if !cert.names.is_empty() {
                info.row(["  names", &cert.names.join(", ")]);
            }
            info.row(["  sha256".to_string(), cert.sha256.to_string()]);
        }
    }
    for l in info.render(Style::plain()).lines() {
        out.extend_from_slice(b"  ");
        style.paint(out, style::STATUS, l);
        out.push(b'\n');
    }

    if let Some(req) = &hop.request {
        if hop.phases.request_ms.is_some() {
            let start = format!("> {} {} {}", req.method, req.target, req.version);
            line(out, style, style::SENT, &start);
            for (name, value) in &req.headers {
                line(out, style, style::SENT, &format!("> {name}: {value}"));
            }
            line(out, style, style::SENT, ">");
            if req.body_bytes > 0 {
                line(
                    out,
                    style,
                    style::STATUS,
                    &format!("  and {} of body", bytes(req.body_bytes)),
                );
            }
        }
    }
    if let Some(resp) = &hop.response {
        let start = format!("< {} {} {}", resp.version, resp.status, resp.reason);
        line(out, style, style::RECEIVED, start.trim_end());
        for (name, value) in &resp.headers {
            line(out, style, style::RECEIVED, &format!("< {name}: {value}"));
        }
        line(out, style, style::RECEIVED, "<");
        let done = if failed == Some(Phase::Body) {
            "so far"
        } else {
            "in all"
        };
        line(
            out,
            style,
            style::STATUS,
            &format!("  body: {} {done}", bytes(hop.body_bytes)),
        );
    }
    out.push(b'\n');
    waterfall(out, hop, failed, style);
}

/// One row per phase: its duration and a bar placed where it happened in the hop, scaled
/// to the hop's total, as browsers' network panels draw it.
fn waterfall(out: &mut Vec<u8>, hop: &Hop, failed: Option<Phase>, style: Style) {
    let p = &hop.phases;
    let rows = [
        ("DNS", p.dns_ms, Phase::Dns),
        ("TCP connect", p.connect_ms, Phase::Connect),
        ("TLS handshake", p.tls_ms, Phase::Tls),
        ("request sent", p.request_ms, Phase::Request),
        ("waiting (TTFB)", p.ttfb_ms, Phase::Response),
        ("body transfer", p.transfer_ms, Phase::Body),
    ];
    let total = p.total_ms.max(f64::MIN_POSITIVE);
    let col = |ms: f64| ((ms / total) * BAR as f64).round().min(BAR as f64) as usize;
    let mut start = 0.0;
    for (label, ms, phase) in rows {
        let Some(ms) = ms else { continue };
        let (from, to) = (col(start), col(start + ms));
        start += ms;
        let bar = if to > from {
            "█".repeat(to - from)
        } else {
            "▏".to_string()
        };
        out.extend_from_slice(
            format!("  {label:<15}{:>10}  {}", duration(ms), " ".repeat(from)).as_bytes(),
        );
        style.paint(out, style::PEER, &bar);
        if failed == Some(phase) {
            out.extend_from_slice(b"  ");
            style.paint(out, style::ERROR, "✗ failed here");
        }
        out.push(b'\n');
    }
    out.extend_from_slice(format!("  {:<15}{:>10}\n", "total", duration(p.total_ms)).as_bytes());
}

fn duration(ms: f64) -> String {
    if ms < 1.0 {
        format!("{ms:.3} ms")
    } else if ms < 1000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

fn bytes(n: u64) -> String {
    match n {
        1 => "1 byte".into(),
        n if n < 10 * 1024 => format!("{n} bytes"),
        n if n < 10 * 1024 * 1024 => format!("{n} bytes ({:.1} KiB)", n as f64 / 1024.0),
        n => format!("{n} bytes ({:.1} MiB)", n as f64 / (1024.0 * 1024.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes_read_well() {
        assert_eq!(duration(0.4123), "0.412 ms");
        assert_eq!(duration(12.34), "12.3 ms");
        assert_eq!(duration(2500.0), "2.50 s");
        assert_eq!(bytes(1), "1 byte");
        assert_eq!(bytes(20_480), "20480 bytes (20.0 KiB)");
    }
}
