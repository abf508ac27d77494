//! Decisions derived from the flags and the environment (ripgrep's "high args"): which view,
//! whether this is an interactive session or a pipe.

use std::io::IsTerminal;

use socklab_core::codec::frame::FrameSpec;
use socklab_core::endpoint::{Endpoint, Host, Scheme};
use socklab_core::transport::udp::{max_payload, UdpOptions};

use std::sync::Arc;

use socklab_core::codec::checksum::Checksum;
use socklab_core::codec::InputOptions;
use socklab_core::session::reply::parse_rules;
use socklab_core::session::{AccessPolicy, Replies, Rule};

use crate::cli::{AccessArgs, DataArgs, ReplyArgs, TlsClientArgs, TlsServerArgs, UdpArgs};
use crate::printer::{PrintOptions, Role, Show, Style};
use crate::UsageError;

#[derive(Debug, Clone, Copy)]
pub struct Terminals {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
}

impl Terminals {
    pub fn detect() -> Terminals {
        Terminals {
            stdin: std::io::stdin().is_terminal(),
            stdout: std::io::stdout().is_terminal(),
            stderr: std::io::stderr().is_terminal(),
        }
    }

    /// The line editor needs a terminal on both ends.
    pub fn interactive(&self) -> bool {
        self.stdin && self.stdout
    }
}

/// `--show`, or its default: text on a terminal, raw when piped.
pub fn show(d: &DataArgs, t: &Terminals) -> Show {
    d.show
        .unwrap_or(if t.stdout { Show::Text } else { Show::Raw })
}

/// The raw pipe bypasses the event bus, so it applies only when nothing asks for events:
/// no view, no JSON, no log, no transformation of stdin.
pub fn raw_pipe(d: &DataArgs, t: &Terminals) -> bool {
    !t.stdin
        && !t.stdout
        && show(d, t) == Show::Raw
        && !d.json
        && d.log.is_none()
        && !d.hex
        && d.eol.is_none()
        && d.checksum.is_none()
        && d.frame.is_none()
        && d.file.is_none()
        && d.repeat.is_none()
        && !d.timestamps
}

pub fn print_options(d: &DataArgs, t: &Terminals, role: Role) -> PrintOptions {
    let show = show(d, t);
    PrintOptions {
        show,
        json: d.json,
        timestamps: d.timestamps,
        style: if d.json {
            Style::plain()
        } else {
            Style::for_stdout()
        },
        role,
        show_sent: show != Show::Raw,
        framed: d.frame.as_ref().is_some_and(|f| *f != FrameSpec::Raw),
        whole_lines: t.interactive(),
        verbose: d.verbose,
    }
}

/// Options that belong to one transport are refused on the others, before anything is
/// opened: a user who typed `--broadcast` for a TCP endpoint has a wrong idea worth hearing.
pub fn check_transport_flags(
    ep: &Endpoint,
    udp: &UdpArgs,
    tls: Option<&'static str>,
) -> Result<(), UsageError> {
    let scheme = ep.scheme();
    let udp_flag = [
        (udp.broadcast, "--broadcast"),
        (udp.ttl.is_some(), "--ttl"),
        (udp.multicast_loop, "--multicast-loop"),
        (udp.iface.is_some(), "--iface"),
    ]
    .into_iter()
    .find_map(|(set, name)| set.then_some(name));
    if let (Some(flag), false) = (udp_flag, scheme == Scheme::Udp) {
        return Err(UsageError(format!(
            "{flag} applies only to udp:// endpoints, and '{ep}' is {}; expected udp://HOST:PORT",
            scheme.name()
        )));
    }
    if let (Some(flag), false) = (tls, scheme == Scheme::Tls) {
        return Err(UsageError(format!(
            "{flag} applies only to tls:// endpoints, and '{ep}' is {}; expected tls://HOST:PORT",
            scheme.name()
        )));
    }
    Ok(())
}

pub fn udp_options(u: &UdpArgs) -> UdpOptions {
    UdpOptions {
        broadcast: u.broadcast,
        ttl: u.ttl,
        multicast_loop: u.multicast_loop,
        iface: u.iface.clone(),
    }
}

/// The first TLS client flag given, if any.
pub fn tls_client_flag(t: &TlsClientArgs) -> Option<&'static str> {
    [
        (t.ca.is_some(), "--ca"),
        (t.insecure, "--insecure"),
        (t.sni.is_some(), "--sni"),
        (!t.alpn.is_empty(), "--alpn"),
        (t.pin.is_some(), "--pin"),
    ]
    .into_iter()
    .find_map(|(set, name)| set.then_some(name))
}

/// The first TLS server flag given, if any.
pub fn tls_server_flag(t: &TlsServerArgs) -> Option<&'static str> {
    [
        (t.cert.is_some(), "--cert"),
        (t.key.is_some(), "--key"),
        (!t.alpn.is_empty(), "--alpn"),
    ]
    .into_iter()
    .find_map(|(set, name)| set.then_some(name))
}

/// The largest datagram an endpoint takes, checked before sending so an oversized one is a
/// usage error and not a half-done send. A name may resolve to IPv4, so it gets IPv4's limit.
pub fn datagram_limit(ep: &Endpoint) -> Option<usize> {
    match ep {
        Endpoint::Net {
            scheme: Scheme::Udp,
            addr,
        } => Some(match addr.host {
            Host::Ip(ip) => max_payload(&std::net::SocketAddr::new(ip, addr.port)),
            _ => max_payload(&std::net::SocketAddr::from(([0, 0, 0, 0], 0))),
        }),
        _ => None,
    }
}

/// Refuse a datagram too large for the endpoint, naming the limit.
pub fn check_datagram(ep: &Endpoint, len: usize, what: &str) -> Result<(), UsageError> {
    match datagram_limit(ep) {
        Some(max) if len > max => Err(UsageError(format!(
            "{what} is {len} bytes, larger than the UDP limit of {max} bytes per datagram; expected at most {max} bytes (split it, or use TCP)"
        ))),
        _ => Ok(()),
    }
}

/// Whether anything will read the decoded text of data events: the text views, JSON and
/// the log do; hex and raw views do not, and skipping the decoding is what keeps them fast.
pub fn needs_text(d: &DataArgs, t: &Terminals) -> bool {
    d.json || d.log.is_some() || matches!(show(d, t), Show::Text | Show::Both)
}

/// `--frame`, and with it `--checksum` as a check on what is received: only a frame has
/// bounds that say where its checksum is.
pub fn framing(d: &DataArgs) -> (Option<FrameSpec>, Option<Checksum>) {
    (d.frame.clone(), d.frame.as_ref().and(d.checksum))
}

/// The `--reply` and `--rules` rules, all parsed before anything is opened.
pub fn replies(r: &ReplyArgs, opts: &InputOptions) -> anyhow::Result<Option<Arc<Replies>>> {
    if r.is_empty() {
        return Ok(None);
    }
    let mut rules = Vec::new();
    for arg in &r.replies {
        rules.push(Rule::parse_arg(arg, opts)?);
    }
    if let Some(path) = &r.rules {
        let text = std::fs::read_to_string(path).map_err(|source| socklab_core::Error::File {
            path: path.display().to_string(),
            source,
        })?;
        rules.extend(parse_rules(&text, &path.display().to_string(), opts)?);
    }
    Ok(Some(Arc::new(Replies::new(rules, opts.encoding))))
}

/// The access rules of `--allow`/`--deny`, refused on a socket file rather than ignored: a
/// user who asked for a range must not believe it protects a socket it cannot apply to.
pub fn access_policy(a: &AccessArgs, listen: &Endpoint) -> Result<AccessPolicy, UsageError> {
    let policy = AccessPolicy::new(a.allow.clone(), a.deny.clone());
    if let (false, Endpoint::Path { scheme, .. }) = (policy.is_open(), listen) {
        let flag = if a.allow.is_empty() {
            "--deny"
        } else {
            "--allow"
        };
        return Err(UsageError(format!(
            "{flag} applies only to IP endpoints (tcp, udp, tls), and '{listen}' is {}: its clients have no IP address to check (the socket file's permissions decide who may connect); expected HOST:PORT, udp:// or tls://",
            scheme.name()
        )));
    }
    Ok(policy)
}
