//! ICMP echo over a socket of our own rather than surge-ping: it is a few dozen lines,
//! and surge-ping would bring pnet's packet macros for them. socket2 opens the socket and
//! tokio drives it as a `UdpSocket` (as surge-ping does): `send` and `recv` are the same
//! system calls on any datagram or raw socket, and this needs no unsafe registration.
//!
//! What the kernel does for us: on an unprivileged (`SOCK_DGRAM`) ICMP socket it replaces
//! the identifier with the socket's own, computes the checksum and delivers only the
//! replies to that identifier; for IPv6 it computes the checksum on raw sockets as well
//! (RFC 3542). What it does not: a raw IPv4 socket hands us the IP header and every ICMP
//! packet the host receives (our own echo requests included, on loopback), so a reply is
//! matched by type, identifier, sequence and a per-socket token in the payload.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use tokio::net::UdpSocket;
use tokio::time::Instant;

use super::IcmpSocket;
use crate::{Error, Result};

/// ping's default: 56 bytes of data, 64 with the ICMP header.
const PAYLOAD: usize = 56;
const HEADER: usize = 8;

const ECHO_REQUEST_V4: u8 = 8;
const ECHO_REPLY_V4: u8 = 0;
const ECHO_REQUEST_V6: u8 = 128;
const ECHO_REPLY_V6: u8 = 129;

pub(super) struct Echo {
    socket: UdpSocket,
    kind: IcmpSocket,
    v6: bool,
    ident: u16,
    /// Marks our requests among every ICMP packet a raw socket sees (another ping of the
    /// same host, with an identifier that happens to match, would not carry it).
    token: [u8; 8],
}

impl Echo {
    pub(super) fn open(addr: IpAddr) -> Result<Echo> {
        let v6 = addr.is_ipv6();
        let (domain, protocol) = if v6 {
            (Domain::IPV6, Protocol::ICMPV6)
        } else {
            (Domain::IPV4, Protocol::ICMPV4)
        };
        let (socket, kind) = match Socket::new(domain, Type::DGRAM, Some(protocol)) {
            Ok(s) => (s, IcmpSocket::Unprivileged),
            Err(e) if denied(&e) => match Socket::new(domain, Type::RAW, Some(protocol)) {
                Ok(s) => (s, IcmpSocket::Raw),
                Err(e) if denied(&e) => {
                    return Err(Error::IcmpNotAllowed {
                        range: ping_group_range(),
                    })
                }
                Err(e) => return Err(net("cannot open a raw ICMP socket", &e)),
            },
            Err(e) => return Err(net("cannot open an ICMP socket", &e)),
        };
        // Connected, so that the kernel sends to and accepts from this address only.
        socket
            .connect(&SockAddr::from(SocketAddr::new(addr, 0)))
            .map_err(|e| net(&format!("cannot send ICMP to {addr}"), &e))?;
        socket
            .set_nonblocking(true)
            .map_err(|e| net("cannot set up the ICMP socket", &e))?;
        let socket = UdpSocket::from_std(socket.into())
            .map_err(|e| net("cannot set up the ICMP socket", &e))?;
        let seed = seed();
        Ok(Echo {
            socket,
            kind,
            v6,
            ident: (seed >> 48) as u16,
            token: seed.to_be_bytes(),
        })
    }

    pub(super) fn kind(&self) -> IcmpSocket {
        self.kind
    }

    /// Sends one echo request and waits up to `timeout` for its reply: the round-trip
    /// time, `None` on timeout, or the error the kernel reported (an ICMP "unreachable"
    /// comes back as an error on the socket).
    pub(super) async fn once(&self, seq: u16, timeout: Duration) -> io::Result<Option<Duration>> {
        let packet = self.request(seq);
        let started = Instant::now();
        let deadline = started + timeout;
        match tokio::time::timeout_at(deadline, self.socket.send(&packet)).await {
            Err(_) => return Ok(None),
            Ok(r) => r?,
        };
        // Large enough for an IPv4 header with options, the ICMP header and our payload;
        // anything longer is not our reply.
        let mut buf = [0u8; 60 + HEADER + PAYLOAD + 64];
        let reply = tokio::time::timeout_at(deadline, async {
            loop {
                let n = self.socket.recv(&mut buf).await?;
                if self.is_reply(&buf[..n], seq) {
                    return Ok(started.elapsed());
                }
            }
        });
        match reply.await {
            Err(_) => Ok(None),
            Ok(r) => r.map(Some),
        }
    }

    fn request(&self, seq: u16) -> Vec<u8> {
        let mut p = Vec::with_capacity(HEADER + PAYLOAD);
        p.push(if self.v6 {
            ECHO_REQUEST_V6
        } else {
            ECHO_REQUEST_V4
        });
        p.push(0); // code
        p.extend_from_slice(&[0, 0]); // checksum, below
        p.extend_from_slice(&self.ident.to_be_bytes());
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&self.token);
        // The rest as ping fills it: counting bytes, easy to spot in a capture.
        p.extend((0..PAYLOAD - self.token.len()).map(|i| (i + 0x10) as u8));
        if !self.v6 {
            // ICMPv6's checksum covers a pseudo-header with the source address, which only
            // the kernel knows; it always fills it in. ICMPv4's is ours on a raw socket.
            let sum = checksum(&p);
            p[2..4].copy_from_slice(&sum.to_be_bytes());
        }
        p
    }

    fn is_reply(&self, packet: &[u8], seq: u16) -> bool {
        let icmp = if !self.v6 && self.kind == IcmpSocket::Raw {
            // A raw IPv4 socket receives the IP header too.
            let Some(first) = packet.first() else {
                return false;
            };
            if first >> 4 != 4 {
                return false;
            }
            match packet.get(usize::from(first & 0x0f) * 4..) {
                Some(rest) => rest,
                None => return false,
            }
        } else {
            packet
        };
        if icmp.len() < HEADER + self.token.len() {
            return false;
        }
        let reply = if self.v6 {
            ECHO_REPLY_V6
        } else {
            ECHO_REPLY_V4
        };
        // An unprivileged socket's identifier is the kernel's, not ours, and the kernel
        // has already matched it.
        let ident_ok =
            self.kind == IcmpSocket::Unprivileged || icmp[4..6] == self.ident.to_be_bytes();
        icmp[0] == reply
            && icmp[1] == 0
            && ident_ok
            && icmp[6..8] == seq.to_be_bytes()
            && icmp[HEADER..HEADER + self.token.len()] == self.token
    }
}

/// EACCES is what an unprivileged ICMP socket gets outside ping_group_range; EPERM is a
/// raw socket without CAP_NET_RAW.
fn denied(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::PermissionDenied || matches!(e.raw_os_error(), Some(1 | 13))
}

/// The current range, for the message; the kernel's default "1 0" allows no group.
fn ping_group_range() -> String {
    std::fs::read_to_string("/proc/sys/net/ipv4/ping_group_range")
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn net(context: &str, e: &io::Error) -> Error {
    Error::Net {
        context: context.to_string(),
        reason: crate::host::io_words(e),
    }
}

/// Different for each socket of a process and across processes: the clock's nanoseconds
/// mixed with the pid and a counter (no random-number crate needed for this).
fn seed() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut x = nanos
        ^ (u64::from(std::process::id()) << 32)
        ^ COUNTER.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed);
    // splitmix64's finaliser spreads the bits.
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of
/// the 16-bit words.
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for chunk in data.chunks(2) {
        let word = match chunk {
            [a, b] => u16::from_be_bytes([*a, *b]),
            [a] => u16::from_be_bytes([*a, 0]),
            _ => 0,
        };
        sum += u32::from(word);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_of_rfc1071_example() {
        // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (one's complement).
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum(&data), !0xddf2);
        // A packet with its checksum filled in sums to zero.
        let mut p = data.to_vec();
        p.extend_from_slice(&checksum(&data).to_be_bytes());
        assert_eq!(checksum(&p), 0);
        // Odd lengths pad with a zero byte.
        assert_eq!(checksum(&[0xab]), !0xab00);
    }

    #[test]
    fn seeds_differ() {
        assert_ne!(seed(), seed());
    }
}
