//! What a session tells its face. One type for every face: the line printer, `--json`,
//! `--log`, and later the TUI and the web socket all consume and serialize these.
//!
//! Like ripgrep's JSON printer, the serialized form never loses a byte: data events carry
//! the exact bytes as hex beside the decoded text.

use std::net::SocketAddr;

use bytes::Bytes;
use serde::{Serialize, Serializer};

pub use crate::addr::Addr;
pub use crate::codec::checksum::Verified;
use crate::codec::hex::encode_hex;
pub use crate::endpoint::Scheme;
pub use crate::transport::tls::{CertInfo, HandshakeInfo};

/// A peer's id within a session: `#1`, `#2`, ... in the order they connected.
pub type PeerId = u64;

/// One thing that happened, and when.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    #[serde(serialize_with = "local_time")]
    pub time: jiff::Timestamp,
    #[serde(flatten)]
    pub kind: EventKind,
}

impl Event {
    pub fn now(kind: EventKind) -> Event {
        Event {
            time: jiff::Timestamp::now(),
            kind,
        }
    }
}

/// Which way bytes went, seen from socklab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Received,
    Sent,
    /// Relay: from the client on to the target.
    ToTarget,
    /// Relay: from the target back to the client.
    ToClient,
}

/// The peer an event is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Peer {
    #[serde(rename = "peer")]
    pub id: PeerId,
    #[serde(rename = "addr")]
    pub addr: Addr,
}

/// Who is at the other end of a Unix stream socket, as the kernel saw it at connect time
/// (SO_PEERCRED).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Cred {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    pub uid: u32,
    pub gid: u32,
}

/// Bytes that went over the wire, and how they read as text in the session's encoding.
#[derive(Debug, Clone, Serialize)]
pub struct Data {
    pub len: usize,
    #[serde(rename = "hex", serialize_with = "as_hex")]
    pub bytes: Bytes,
    /// Decoded with the streaming decoder of this peer and direction: a character cut by a
    /// read boundary is held back and appears whole in the next event's text. A datagram is
    /// decoded on its own: it is a whole message.
    pub text: String,
    /// A received datagram larger than the receive buffer: its real size. Only `len` bytes
    /// of it were kept, and the face says so instead of showing a silently cut message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated: Option<usize>,
    /// `--frame`: not a whole frame (held when the stream ended, or a piece of a frame too
    /// large to hold).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
    /// `--frame` with `--checksum`: the received frame's trailing checksum, checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum: Option<Verified>,
    /// Sent: a piece of a file being sent (see `Command::SendPieces`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub file: bool,
}

impl Data {
    pub fn new(bytes: Bytes, text: String) -> Data {
        Data {
            len: bytes.len(),
            bytes,
            text,
            truncated: None,
            partial: false,
            checksum: None,
            file: false,
        }
    }
}

/// Why a connection ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// The peer closed its side (read returned end of stream).
    PeerClosed,
    /// A TLS peer closed the connection without a close_notify alert first. Common and
    /// harmless for protocols that frame their own data, so not a failure; but shown,
    /// because for others it can mean the data was cut short.
    PeerClosedWithoutNotify,
    /// The peer reset the connection.
    Reset,
    /// Kicked from the console.
    Kicked,
    /// `--idle-timeout`: nothing went either way for that long, so the server closed the
    /// connection (a datagram server forgets the peer).
    IdleTimeout,
    /// We closed it (quit, or the session ended).
    Local,
    /// Any other failure, as text.
    Error(String),
}

impl CloseReason {
    pub fn describe(&self) -> String {
        match self {
            CloseReason::PeerClosed => "closed by peer".into(),
            CloseReason::PeerClosedWithoutNotify => {
                "closed by peer (without TLS close_notify)".into()
            }
            CloseReason::Reset => "connection reset by peer".into(),
            CloseReason::Kicked => "kicked".into(),
            CloseReason::IdleTimeout => "closed: idle timeout (no data either way)".into(),
            CloseReason::Local => "closed".into(),
            CloseReason::Error(e) => e.clone(),
        }
    }
}

/// The kinds of events; serialized with an `"event"` tag in snake_case.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// Looking up a name through the system resolver.
    Resolving { host: String },
    /// The addresses a name resolved to, in the order they will be tried.
    Resolved {
        host: String,
        addrs: Vec<SocketAddr>,
    },
    /// A connection attempt started (happy eyeballs may run several).
    Connecting { addr: SocketAddr },
    /// One attempt failed; others may still succeed.
    ConnectFailed { addr: SocketAddr, reason: String },
    /// `--reconnect`: the connection is gone (or an attempt failed), and the next attempt
    /// starts after `delay_ms`; `attempt` counts from 1 since the last good connection.
    Reconnecting {
        attempt: u32,
        delay_ms: u64,
        reason: String,
    },
    /// A server socket is ready.
    Listening { addr: Addr, transport: Scheme },
    /// Where clients can reach a server that listens on every interface.
    Reachable { addrs: Vec<SocketAddr> },
    /// A connection is up: as a client, to the server; as a server, a new client.
    ///
    /// Datagram transports have no connection: a client is "connected" once its socket is
    /// set to the destination, and a server sees a new peer with its first datagram.
    Connected {
        #[serde(flatten)]
        peer: Peer,
        local: Addr,
        transport: Scheme,
        /// Unix stream clients: the peer process, where the OS tells.
        #[serde(skip_serializing_if = "Option::is_none")]
        cred: Option<Cred>,
    },
    /// A server turned a client away.
    Rejected { addr: Addr, reason: String },
    /// Bytes arrived from a peer.
    Received {
        #[serde(flatten)]
        peer: Peer,
        #[serde(flatten)]
        data: Data,
    },
    /// Bytes were written to a peer.
    Sent {
        #[serde(flatten)]
        peer: Peer,
        #[serde(flatten)]
        data: Data,
    },
    /// `auto` encoding settled on an encoding for one peer and direction.
    Detected {
        #[serde(flatten)]
        peer: Peer,
        direction: Direction,
        encoding: &'static str,
    },
    /// We shut down our sending side (the peer sees end of stream, can still answer).
    HalfClosed {
        #[serde(flatten)]
        peer: Peer,
    },
    /// A connection ended.
    Closed {
        #[serde(flatten)]
        peer: Peer,
        reason: CloseReason,
        bytes_in: u64,
        bytes_out: u64,
    },
    /// Relay: this client's connection to the target is up (a datagram relay: its own
    /// socket to the target, from `local`).
    Upstream {
        #[serde(flatten)]
        peer: Peer,
        target: Addr,
        local: Addr,
        transport: Scheme,
    },
    /// Relay: bytes forwarded one way, `to_target` or `to_client`. Shown after they were
    /// read and before they were written, so an answer never shows ahead of its request.
    Relayed {
        #[serde(flatten)]
        peer: Peer,
        direction: Direction,
        #[serde(flatten)]
        data: Data,
    },
    /// Relay: the view fell behind and these bytes were forwarded without being shown (the
    /// forwarder never waits for the display unless `--sync-view` asks it to).
    NotShown {
        #[serde(flatten)]
        peer: Peer,
        direction: Direction,
        bytes: u64,
        chunks: u64,
    },
    /// Relay `--drop`: a datagram thrown away on purpose; `total` counts the ones dropped
    /// so far in this direction, so the count stays right even if some of these events
    /// are not shown.
    Dropped {
        #[serde(flatten)]
        peer: Peer,
        direction: Direction,
        len: usize,
        total: u64,
    },
    /// A TLS handshake completed: what was agreed, and (client side) the certificate the
    /// server proved itself with.
    Secured {
        #[serde(flatten)]
        peer: Peer,
        #[serde(flatten)]
        tls: HandshakeInfo,
    },
    /// The certificate a TLS server presents; `generated` when it was made at start, so a
    /// client can pin its fingerprint.
    Certificate {
        #[serde(flatten)]
        cert: CertInfo,
        generated: bool,
    },
    /// Something the user should know that is not a failure (a stale socket file removed).
    Notice { message: String },
    /// Something the user must not miss, though the session goes on (`--insecure`).
    Warning { message: String },
    /// `--script`: a step ran. `index` counts from 1 of `total`; `line` is where the step
    /// is in the file; `ms` how long it took (an expect: until it matched or gave up).
    Step {
        index: usize,
        total: usize,
        line: usize,
        kind: crate::script::StepKind,
        /// The step's argument as written.
        text: String,
        ok: bool,
        ms: u64,
        /// A send: the bytes it sent.
        #[serde(skip_serializing_if = "Option::is_none")]
        len: Option<usize>,
        /// An expect that matched: the match, as text.
        #[serde(skip_serializing_if = "Option::is_none")]
        matched: Option<String>,
        /// A step that failed: why, and what had been received instead (escaped).
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        received: Option<String>,
    },
    /// Something failed that the user should see; the session may go on.
    Error {
        #[serde(skip_serializing_if = "Option::is_none")]
        peer: Option<PeerId>,
        message: String,
    },
}

fn as_hex<S: Serializer>(bytes: &Bytes, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&encode_hex(bytes))
}

fn local_time<S: Serializer>(t: &jiff::Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&format_time(t, TimeFormat::Rfc3339))
}

/// How a timestamp reads.
#[derive(Debug, Clone, Copy)]
pub enum TimeFormat {
    /// `2026-11-25T13:45:01.123+08:00`, for JSON and logs.
    Rfc3339,
    /// `13:45:01.123`, for `-t` on a terminal.
    Clock,
}

/// Local time with milliseconds. jiff reads the system zone once and caches it, and, unlike
/// `time`'s `now_local`, works in a multi-threaded program.
pub fn format_time(t: &jiff::Timestamp, format: TimeFormat) -> impl std::fmt::Display {
    let zoned = t.to_zoned_datetime(jiff::tz::TimeZone::system());
    let spec = match format {
        TimeFormat::Rfc3339 => "%Y-%m-%dT%H:%M:%S%.3f%:z",
        TimeFormat::Clock => "%H:%M:%S%.3f",
    };
    zoned.strftime(spec).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn received_serializes_flat_with_hex_and_text() {
        let ev = Event::now(EventKind::Received {
            peer: Peer {
                id: 2,
                addr: Addr::Ip("127.0.0.1:40000".parse().unwrap()),
            },
            data: Data::new(Bytes::from_static(b"hi\n"), "hi\n".into()),
        });
        let v: serde_json::Value = serde_json::to_value(&ev).unwrap();
        assert_eq!(v["event"], "received");
        assert_eq!(v["peer"], 2);
        assert_eq!(v["addr"], "127.0.0.1:40000");
        assert_eq!(v["len"], 3);
        assert_eq!(v["hex"], "68690a");
        assert_eq!(v["text"], "hi\n");
        assert!(v["time"].as_str().unwrap().contains('T'));
    }

    #[test]
    fn closed_reason_is_snake_case() {
        let ev = Event::now(EventKind::Closed {
            peer: Peer {
                id: 1,
                addr: Addr::Ip("[::1]:7".parse().unwrap()),
            },
            reason: CloseReason::PeerClosed,
            bytes_in: 5,
            bytes_out: 6,
        });
        let v: serde_json::Value = serde_json::to_value(&ev).unwrap();
        assert_eq!(v["event"], "closed");
        assert_eq!(v["reason"], "peer_closed");
        assert_eq!(v["addr"], "[::1]:7");
    }

    #[test]
    fn idle_timeout_serializes_like_the_other_reasons() {
        let v = serde_json::to_value(CloseReason::IdleTimeout).unwrap();
        assert_eq!(v, "idle_timeout");
    }
}
