//! The human-readable views: status lines, text, hexdump.

use std::fmt::Write as _;

use socklab_core::codec::{hexdump, text::push_visible};
use socklab_core::error::humanize;
use socklab_core::script::StepKind;
use socklab_core::session::{
    format_time, Data, Direction, Event, EventKind, Peer, Scheme, TimeFormat,
};

use super::style::{ERROR, PEER, RECEIVED, SENT, STATUS};
use super::{Printer, Role, Show};

fn stamp(p: &Printer, ev: &Event, out: &mut Vec<u8>) {
    if p.opts.timestamps {
        let t = format!("[{}] ", format_time(&ev.time, TimeFormat::Clock));
        p.opts.style.paint(out, STATUS, &t);
    }
}

/// `← ` or `#2 127.0.0.1:40000 ← `: who and which way, at the start of every data line.
fn prefix(p: &Printer, ev: &Event, peer: &Peer, dir: Direction, out: &mut Vec<u8>) {
    stamp(p, ev, out);
    if p.opts.role == Role::Server {
        let who = format!("#{} {} ", peer.id, peer.addr);
        p.opts.style.paint(out, PEER, &who);
    }
    let (arrow, code) = match dir {
        Direction::Received => ("← ", RECEIVED),
        Direction::Sent => ("→ ", SENT),
        Direction::ToTarget => ("c→t ", RECEIVED),
        Direction::ToClient => ("t→c ", SENT),
    };
    p.opts.style.paint(out, code, arrow);
}

/// `12 bytes`, or for a datagram cut by the receive buffer `1000 of 3000 bytes (truncated)`.
fn size(data: &Data) -> String {
    match data.truncated {
        Some(real) => format!(
            "{} of {real} bytes (truncated: larger than the receive buffer)",
            data.len
        ),
        None if data.partial => format!("{}, partial", bytes(data.len as u64)),
        None => bytes(data.len as u64),
    }
}

/// ` ✓ crc16-modbus`, or ` ✗ crc16-modbus: expected c5cd, got 0000`: a received frame's
/// checksum, checked (`--frame` with `--checksum`).
fn checksum_mark(p: &Printer, data: &Data, out: &mut Vec<u8>) {
    let Some(v) = &data.checksum else { return };
    if v.ok {
        p.opts
            .style
            .paint(out, RECEIVED, &format!(" ✓ {}", v.algorithm));
    } else {
        let got = if v.got.is_empty() { "nothing" } else { &v.got };
        p.opts.style.paint(
            out,
            ERROR,
            &format!(" ✗ {}: expected {}, got {got}", v.algorithm, v.expected),
        );
    }
}

pub(super) fn data(
    p: &mut Printer,
    ev: &Event,
    peer: &Peer,
    dir: Direction,
    data: &Data,
    offset: u64,
    out: &mut Vec<u8>,
) {
    // At the console, a file going out (`/file`, `--file`) is a line per piece with its
    // size, not its bytes: a firmware image would bury everything else. Pipes, logs and
    // `--json` keep every byte.
    if data.file && p.opts.whole_lines && p.opts.show != Show::Raw {
        p.close_line(out);
        prefix(p, ev, peer, dir, out);
        p.opts.style.paint(
            out,
            STATUS,
            &format!("{} of the file", bytes(data.len as u64)),
        );
        out.push(b'\n');
        return;
    }
    match p.opts.show {
        // A datagram is a message of its own: one line (or more), with its size, never
        // run together with the next one.
        // So is a frame (`--frame`).
        Show::Text if p.datagram || p.opts.framed => {
            p.close_line(out);
            prefix(p, ev, peer, dir, out);
            p.opts
                .style
                .paint(out, STATUS, &format!("[{}] ", size(data)));
            let mut shown = String::with_capacity(data.text.len() + 8);
            push_visible(&data.text, &mut shown);
            let shown = shown.strip_suffix('\n').unwrap_or(&shown);
            out.extend_from_slice(shown.replace('\n', "\n  ").as_bytes());
            checksum_mark(p, data, out);
            out.push(b'\n');
        }
        Show::Text => text_lines(p, ev, peer, dir, &data.text, out),
        Show::Hex | Show::Both => {
            p.close_line(out);
            prefix(p, ev, peer, dir, out);
            p.opts.style.paint(out, STATUS, &size(data));
            checksum_mark(p, data, out);
            out.push(b'\n');
            if p.opts.show == Show::Both && !data.text.is_empty() {
                let mut shown = String::with_capacity(data.text.len() + 8);
                push_visible(&data.text, &mut shown);
                for line in shown.trim_end_matches('\n').split('\n') {
                    out.extend_from_slice(b"  ");
                    out.extend_from_slice(line.as_bytes());
                    out.push(b'\n');
                }
            }
            hexdump::write_lines(out, offset, &data.bytes);
        }
        Show::Raw => {}
    }
}

/// Text view. A line stays open across events of the same stream until its newline comes,
/// so text dribbled one byte at a time reads as one line; another stream or a status line
/// ends it first.
fn text_lines(
    p: &mut Printer,
    ev: &Event,
    peer: &Peer,
    dir: Direction,
    text: &str,
    out: &mut Vec<u8>,
) {
    if text.is_empty() {
        return;
    }
    let key = (peer.id, dir);
    if p.open.is_some() && p.open != Some(key) {
        p.close_line(out);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    push_visible(text, &mut shown);
    let mut rest = shown.as_str();
    while !rest.is_empty() {
        if p.open.is_none() {
            prefix(p, ev, peer, dir, out);
            p.open = Some(key);
        }
        match rest.find('\n') {
            Some(i) => {
                out.extend_from_slice(&rest.as_bytes()[..i]);
                out.push(b'\n');
                p.open = None;
                rest = &rest[i + 1..];
            }
            None => {
                out.extend_from_slice(rest.as_bytes());
                rest = "";
            }
        }
    }
    if p.opts.whole_lines {
        p.close_line(out);
    }
}

/// A certificate as a person checks it: who, by whom, when, for which names, which one.
fn cert_lines(c: &socklab_core::session::CertInfo) -> String {
    let names = if c.names.is_empty() {
        String::new()
    } else {
        format!("\n  names: {}", c.names.join(", "))
    };
    format!(
        "subject {}; issuer {}{}\n  valid {} to {}{names}\n  SHA-256 {}",
        c.subject,
        c.issuer,
        if c.self_signed { " (self-signed)" } else { "" },
        c.not_before,
        c.not_after,
        c.sha256
    )
}

/// Which way a relay moved bytes, as the data lines show it.
fn way(dir: Direction) -> &'static str {
    match dir {
        Direction::ToClient | Direction::Sent => "t→c",
        Direction::ToTarget | Direction::Received => "c→t",
    }
}

fn bytes(n: u64) -> String {
    if n == 1 {
        "1 byte".into()
    } else {
        format!("{n} bytes")
    }
}

pub(super) fn status(p: &mut Printer, ev: &Event, out: &mut Vec<u8>) {
    let server = p.opts.role == Role::Server;
    let mut line = String::new();
    let mut code = STATUS;
    // write! to a String cannot fail.
    let _ = match &ev.kind {
        EventKind::Resolving { host } => write!(line, "resolving {host}"),
        EventKind::Resolved { host, addrs } => {
            let list: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
            write!(line, "{host} is {}", list.join(", "))
        }
        EventKind::Connecting { addr } => write!(line, "connecting to {addr}"),
        EventKind::Reconnecting {
            attempt,
            delay_ms,
            reason,
        } => write!(
            line,
            "{reason}; reconnecting in {} (attempt {attempt})",
            humanize(std::time::Duration::from_millis(*delay_ms))
        ),
        EventKind::ConnectFailed { addr, reason } => write!(line, "{addr}: {reason}"),
        EventKind::Listening { addr, transport } => {
            let which = match addr.ip() {
                Some(a) if a.ip().is_unspecified() && a.is_ipv6() => {
                    " (every interface, IPv4 and IPv6)"
                }
                Some(a) if a.ip().is_unspecified() => " (every interface, IPv4)",
                _ => "",
            };
            let kind = match transport {
                Scheme::Tcp | Scheme::Unix => String::new(),
                other => format!("{} ", other.name()),
            };
            write!(line, "listening on {kind}{addr}{which}")
        }
        EventKind::Reachable { addrs } => {
            let list: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
            write!(line, "clients can connect to {}", list.join("  "))
        }
        EventKind::Connected {
            peer,
            transport,
            local,
            ..
        } if server && transport.is_datagram() => {
            write!(line, "#{} {} new sender (to {local})", peer.id, peer.addr)
        }
        EventKind::Connected {
            peer, local, cred, ..
        } if server => {
            let who = match cred {
                Some(c) => match c.pid {
                    Some(pid) => format!(" pid {pid} uid {} gid {}", c.uid, c.gid),
                    None => format!(" uid {} gid {}", c.uid, c.gid),
                },
                None => String::new(),
            };
            write!(
                line,
                "#{} {} connected (to {local}){who}",
                peer.id, peer.addr
            )
        }
        EventKind::Connected {
            peer,
            local,
            transport,
            ..
        } if transport.is_datagram() => write!(
            line,
            "{} ready: datagrams to {} from {local}",
            transport.name(),
            peer.addr
        ),
        EventKind::Connected { peer, local, .. } => {
            write!(line, "connected to {} from {local}", peer.addr)
        }
        EventKind::Notice { message } => write!(line, "{message}"),
        EventKind::Warning { message } => {
            code = ERROR;
            write!(line, "warning: {message}")
        }
        EventKind::Secured { peer, tls } => {
            let who = if server {
                format!("#{} {} ", peer.id, peer.addr)
            } else {
                String::new()
            };
            let alpn = tls
                .alpn
                .as_deref()
                .map(|a| format!(", ALPN {a}"))
                .unwrap_or_default();
            let sni = match (&tls.sni, server) {
                (Some(n), true) => format!(", asked for {n}"),
                _ => String::new(),
            };
            let _ = write!(
                line,
                "{who}TLS established: {}, {}{alpn}{sni}",
                tls.protocol, tls.cipher
            );
            match &tls.peer_cert {
                Some(c) => write!(line, "\n  {}", cert_lines(c)),
                None => Ok(()),
            }
        }
        EventKind::Certificate { cert, generated } => {
            let how = if *generated {
                "a self-signed certificate made at start"
            } else {
                "certificate"
            };
            write!(
                line,
                "TLS {how}\n  {}\n  clients can pin it: --pin {}",
                cert_lines(cert),
                cert.sha256
            )
        }
        EventKind::Rejected { addr, reason } => write!(line, "refused {addr}: {reason}"),
        EventKind::Detected {
            peer,
            direction,
            encoding,
        } => {
            let arrow = if *direction == Direction::Received {
                "←"
            } else {
                "→"
            };
            if server {
                write!(line, "#{} {arrow} detected encoding {encoding}", peer.id)
            } else {
                write!(line, "{arrow} detected encoding {encoding}")
            }
        }
        EventKind::HalfClosed { peer } if server => write!(
            line,
            "#{} {}: sending side shut down (half-close)",
            peer.id, peer.addr
        ),
        EventKind::HalfClosed { .. } => write!(
            line,
            "sending side shut down (half-close); waiting for the peer to close"
        ),
        EventKind::Closed {
            peer,
            reason,
            bytes_in,
            bytes_out,
        } => {
            let who = if server {
                format!("#{} {} ", peer.id, peer.addr)
            } else {
                String::new()
            };
            if p.relay {
                write!(
                    line,
                    "{who}{} (client→target {}, target→client {})",
                    reason.describe(),
                    bytes(*bytes_in),
                    bytes(*bytes_out)
                )
            } else {
                write!(
                    line,
                    "{who}{} (received {}, sent {})",
                    reason.describe(),
                    bytes(*bytes_in),
                    bytes(*bytes_out)
                )
            }
        }
        EventKind::Upstream {
            peer,
            target,
            local,
            transport,
        } if transport.is_datagram() => write!(
            line,
            "#{} to target {target}: datagrams from {local}",
            peer.id
        ),
        EventKind::Upstream {
            peer,
            target,
            local,
            ..
        } => write!(
            line,
            "#{} connected to target {target} (from {local})",
            peer.id
        ),
        EventKind::NotShown {
            peer,
            direction,
            bytes: n,
            chunks,
        } => {
            code = ERROR;
            write!(
                line,
                "#{} {} {} not shown ({chunks} chunks; forwarded, but the view fell behind; --sync-view waits for it)",
                peer.id,
                way(*direction),
                bytes(*n)
            )
        }
        EventKind::Dropped {
            peer,
            direction,
            len,
            total,
        } => write!(
            line,
            "#{} {} dropped a datagram of {} (--drop; {total} so far this way)",
            peer.id,
            way(*direction),
            bytes(*len as u64)
        ),
        EventKind::Step {
            index,
            total,
            line: at,
            kind,
            text,
            ok,
            ms,
            len,
            reason,
            received,
            ..
        } => {
            let mut what = format!("step {index}/{total} {}", kind.name());
            if !text.is_empty() {
                let _ = write!(what, " \"{text}\"");
            }
            if *ok {
                match kind {
                    StepKind::Send => {
                        write!(line, "{what}: sent {}", bytes(len.unwrap_or(0) as u64))
                    }
                    StepKind::Expect => write!(line, "{what}: matched after {ms}ms"),
                    StepKind::Wait => write!(line, "{what}: waited"),
                    StepKind::Close => write!(line, "{what}: the peer closed after {ms}ms"),
                }
            } else {
                code = ERROR;
                write!(
                    line,
                    "{what} (line {at}) failed after {ms}ms: {}; received instead: \"{}\"",
                    reason.as_deref().unwrap_or("failed"),
                    received.as_deref().unwrap_or("")
                )
            }
        }
        EventKind::Error { peer, message } => {
            code = ERROR;
            match peer {
                Some(id) if server => write!(line, "#{id} {message}"),
                _ => write!(line, "{message}"),
            }
        }
        EventKind::Received { .. } | EventKind::Sent { .. } | EventKind::Relayed { .. } => Ok(()),
    };
    if line.is_empty() {
        return;
    }
    stamp(p, ev, out);
    let mark = if code == ERROR { "! " } else { "* " };
    p.opts.style.paint(out, code, mark);
    p.opts.style.paint(out, code, &line);
    out.push(b'\n');
}
