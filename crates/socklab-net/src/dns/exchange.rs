//! One question to one server, over UDP or TCP, as dig sends it: a connected UDP socket
//! (so the kernel drops datagrams from anyone else), or a TCP stream with the two-byte
//! length prefix of RFC 1035 4.2.2; a truncated UDP answer is asked again over TCP.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType};
use hickory_proto::rr::{Name, RecordType};
use socklab_core::error::humanize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{timeout_at, Instant};

use super::Protocol;

/// A query on the wire, and what a reply must carry to be its answer.
pub(crate) struct Request {
    pub bytes: Vec<u8>,
    pub id: u16,
    pub name: Name,
    pub rtype: RecordType,
}

/// A server's answer.
pub(crate) struct Reply {
    pub message: Message,
    /// From the first byte sent to the answer, the UDP try included when it was truncated.
    pub elapsed: Duration,
    pub protocol: Protocol,
    /// The UDP answer had the TC bit, so this one came over TCP.
    pub truncated_udp: bool,
}

/// Why one server gave no usable answer; its text names the server.
#[derive(Debug)]
pub(crate) enum Failure {
    Timeout {
        server: SocketAddr,
        protocol: Protocol,
        after: Duration,
        /// Datagrams that came from the server but did not answer this question.
        ignored: usize,
    },
    /// ECONNREFUSED on a connected UDP socket: the host said (ICMP port unreachable) that
    /// nothing listens on that port.
    Unreachable {
        server: SocketAddr,
    },
    Connect {
        server: SocketAddr,
        source: io::Error,
    },
    Io {
        server: SocketAddr,
        protocol: Protocol,
        source: io::Error,
    },
    Closed {
        server: SocketAddr,
    },
    Malformed {
        server: SocketAddr,
        protocol: Protocol,
        reason: String,
    },
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Timeout {
                server,
                protocol,
                after,
                ignored,
            } => {
                write!(
                    f,
                    "no answer from {server} ({protocol}) within {}",
                    humanize(*after)
                )?;
                if *ignored > 0 {
                    write!(f, " ({ignored} replies did not match the question)")?;
                }
                Ok(())
            }
            Failure::Unreachable { server } => write!(
                f,
                "nothing answers DNS at {server} (udp): the host says the port is closed"
            ),
            Failure::Connect { server, source } => {
                write!(f, "cannot connect to {server} (tcp): {}", io_reason(source))
            }
            Failure::Io {
                server,
                protocol,
                source,
            } => write!(f, "talking to {server} ({protocol}): {}", io_reason(source)),
            Failure::Closed { server } => {
                write!(f, "{server} (tcp) closed the connection without answering")
            }
            Failure::Malformed {
                server,
                protocol,
                reason,
            } => write!(
                f,
                "{server} ({protocol}) sent a reply that is not valid DNS: {reason}"
            ),
        }
    }
}

/// "connection refused" rather than "Connection refused (os error 111)".
fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".into(),
        io::ErrorKind::ConnectionReset => "connection reset".into(),
        io::ErrorKind::TimedOut => "timed out".into(),
        _ => {
            let text = e.to_string();
            match text.split_once(" (os error") {
                Some((short, _)) => short.to_lowercase(),
                None => text,
            }
        }
    }
}

/// Asks `server`, waiting up to `timeout` for each transport tried.
pub(crate) async fn ask(
    server: SocketAddr,
    request: &Request,
    protocol: Protocol,
    timeout: Duration,
) -> Result<Reply, Failure> {
    let start = std::time::Instant::now();
    let (message, protocol, truncated_udp) = match protocol {
        Protocol::Tcp => (tcp(server, request, timeout).await?, Protocol::Tcp, false),
        Protocol::Udp => {
            let message = udp(server, request, timeout).await?;
            if message.metadata.truncation {
                (tcp(server, request, timeout).await?, Protocol::Tcp, true)
            } else {
                (message, Protocol::Udp, false)
            }
        }
    };
    Ok(Reply {
        message,
        elapsed: start.elapsed(),
        protocol,
        truncated_udp,
    })
}

/// The answer to `request`, or why not. A reply that does not match (another id, another
/// question) is not an answer: over UDP it may be a late reply to an earlier query, so keep
/// waiting; over TCP the stream carries nothing else, so it is an error.
fn check(request: &Request, message: &Message) -> Result<(), String> {
    if message.metadata.id != request.id {
        return Err(format!(
            "the reply has id {} but the query had {}",
            message.metadata.id, request.id
        ));
    }
    if message.metadata.message_type != MessageType::Response {
        return Err("the reply is a query, not a response".into());
    }
    // Servers may leave the question out of some errors (FORMERR); when it is there it
    // must be ours. Names compare without regard to case, as DNS does.
    if let Some(q) = message.queries.first() {
        if q.name() != &request.name || q.query_type() != request.rtype {
            return Err(format!(
                "the reply is for {} {}, not {} {}",
                q.name(),
                q.query_type(),
                request.name,
                request.rtype
            ));
        }
    }
    Ok(())
}

/// The largest UDP payload: a reply cut short by a small buffer would be misread as
/// malformed, and the server may send up to what the query's EDNS said (or more).
const UDP_BUFFER: usize = 65_535;

async fn udp(server: SocketAddr, request: &Request, timeout: Duration) -> Result<Message, Failure> {
    let io = |source| Failure::Io {
        server,
        protocol: Protocol::Udp,
        source,
    };
    let local: SocketAddr = if server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local).await.map_err(io)?;
    socket.connect(server).await.map_err(io)?;
    let deadline = Instant::now() + timeout;
    socket.send(&request.bytes).await.map_err(io)?;
    let mut buf = vec![0u8; UDP_BUFFER];
    let mut ignored = 0;
    loop {
        let n = match timeout_at(deadline, socket.recv(&mut buf)).await {
            Err(_) => {
                return Err(Failure::Timeout {
                    server,
                    protocol: Protocol::Udp,
                    after: timeout,
                    ignored,
                })
            }
            Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => {
                return Err(Failure::Unreachable { server })
            }
            Ok(Err(e)) => return Err(io(e)),
            Ok(Ok(n)) => n,
        };
        let reply = &buf[..n];
        // A datagram with our id that does not parse is the server's answer gone wrong
        // (waiting on would only end in a timeout that hides why); one with another id may
        // be a late answer to an earlier query, so it is skipped.
        let ours = reply.len() >= 2 && u16::from_be_bytes([reply[0], reply[1]]) == request.id;
        match Message::from_vec(reply) {
            Ok(message) if check(request, &message).is_ok() => return Ok(message),
            Err(e) if ours => {
                return Err(Failure::Malformed {
                    server,
                    protocol: Protocol::Udp,
                    reason: e.to_string(),
                })
            }
            _ => ignored += 1,
        }
    }
}

async fn tcp(server: SocketAddr, request: &Request, timeout: Duration) -> Result<Message, Failure> {
    let deadline = Instant::now() + timeout;
    let timed_out = || Failure::Timeout {
        server,
        protocol: Protocol::Tcp,
        after: timeout,
        ignored: 0,
    };
    let mut stream = match timeout_at(deadline, TcpStream::connect(server)).await {
        Err(_) => return Err(timed_out()),
        Ok(Err(source)) => return Err(Failure::Connect { server, source }),
        Ok(Ok(stream)) => stream,
    };
    // A query holds one question with a name of at most 255 bytes, far below 64 KiB.
    let len = u16::try_from(request.bytes.len()).map_err(|_| Failure::Malformed {
        server,
        protocol: Protocol::Tcp,
        reason: "the query is too long".into(),
    })?;
    let mut framed = Vec::with_capacity(request.bytes.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(&request.bytes);
    let exchange = async {
        stream.write_all(&framed).await?;
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).await?;
        let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut body).await?;
        Ok::<_, io::Error>(body)
    };
    let body = match timeout_at(deadline, exchange).await {
        Err(_) => return Err(timed_out()),
        Ok(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => {
            return Err(Failure::Closed { server })
        }
        Ok(Err(source)) => {
            return Err(Failure::Io {
                server,
                protocol: Protocol::Tcp,
                source,
            })
        }
        Ok(Ok(body)) => body,
    };
    let malformed = |reason| Failure::Malformed {
        server,
        protocol: Protocol::Tcp,
        reason,
    };
    let message = Message::from_vec(&body).map_err(|e| malformed(e.to_string()))?;
    check(request, &message).map_err(malformed)?;
    Ok(message)
}
