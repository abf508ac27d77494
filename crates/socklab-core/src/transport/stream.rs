//! A connected byte stream of any transport (TCP, Unix, TLS), split into halves the
//! session's reader and writer tasks own. The engine and the peer tasks see only this type,
//! so a new stream transport is one more variant here and nothing else.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWrite};
use tokio::net::{tcp, unix, TcpStream, UnixStream};
use tokio_rustls::TlsStream;

use super::tls::HandshakeInfo;
use crate::addr::Addr;
use crate::endpoint::Scheme;
use crate::session::Cred;

/// A connected stream, before it is split.
pub enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
    /// Client or server side, with what the handshake settled.
    Tls(Box<TlsStream<TcpStream>>, Box<HandshakeInfo>),
}

/// What a session says about a new connection.
pub struct StreamInfo {
    pub peer: Addr,
    pub local: Addr,
    pub transport: Scheme,
    pub cred: Option<Cred>,
    pub tls: Option<HandshakeInfo>,
}

impl Stream {
    /// Addresses and credentials, or `None` when the peer is already gone (it can vanish
    /// between accept and now; there is then nothing to serve).
    pub fn info(&self) -> Option<StreamInfo> {
        match self {
            Stream::Tcp(s) => Some(StreamInfo {
                peer: Addr::canonical(s.peer_addr().ok()?),
                local: Addr::canonical(s.local_addr().ok()?),
                transport: Scheme::Tcp,
                cred: None,
                tls: None,
            }),
            Stream::Tls(s, info) => {
                let tcp = s.get_ref().0;
                Some(StreamInfo {
                    peer: Addr::canonical(tcp.peer_addr().ok()?),
                    local: Addr::canonical(tcp.local_addr().ok()?),
                    transport: Scheme::Tls,
                    cred: None,
                    tls: Some((**info).clone()),
                })
            }
            Stream::Unix(s) => {
                let peer = s.peer_addr().ok()?;
                let local = s.local_addr().ok()?;
                let cred = s.peer_cred().ok().map(|c| Cred {
                    pid: c.pid(),
                    uid: c.uid(),
                    gid: c.gid(),
                });
                Some(StreamInfo {
                    peer: Addr::from_std_unix(&peer.into()),
                    local: Addr::from_std_unix(&local.into()),
                    transport: Scheme::Unix,
                    cred,
                    tls: None,
                })
            }
        }
    }

    /// Interactive data should go out at once, not wait for Nagle.
    pub fn set_nodelay(&self) {
        match self {
            Stream::Tcp(s) => drop(s.set_nodelay(true)),
            Stream::Tls(s, _) => drop(s.get_ref().0.set_nodelay(true)),
            Stream::Unix(_) => {}
        }
    }

    /// The socket itself, for the raw pipe's splice(2) (which needs a plain socket).
    pub fn into_fd(self) -> io::Result<std::os::fd::OwnedFd> {
        match self {
            Stream::Tcp(s) => Ok(s.into_std()?.into()),
            Stream::Unix(s) => Ok(s.into_std()?.into()),
            Stream::Tls(..) => Err(io::Error::other(
                "a TLS stream cannot be spliced: its bytes must be decrypted",
            )),
        }
    }

    pub fn into_split(self) -> (ReadHalf, WriteHalf) {
        match self {
            Stream::Tcp(s) => {
                let (r, w) = s.into_split();
                (ReadHalf::Tcp(r), WriteHalf::Tcp(w))
            }
            Stream::Unix(s) => {
                let (r, w) = s.into_split();
                (ReadHalf::Unix(r), WriteHalf::Unix(w))
            }
            Stream::Tls(s, _) => {
                let (r, w) = tokio::io::split(*s);
                (ReadHalf::Tls(r), WriteHalf::Tls(w))
            }
        }
    }
}

/// The reading half.
pub enum ReadHalf {
    Tcp(tcp::OwnedReadHalf),
    Unix(unix::OwnedReadHalf),
    Tls(tokio::io::ReadHalf<TlsStream<TcpStream>>),
}

impl ReadHalf {
    /// Read what is there into `buf`, reserving `want` bytes first. For plain sockets the
    /// buffer is reserved only once the socket is readable, so an idle peer costs no buffer
    /// (a server may hold thousands). `Ok(0)` is end of stream.
    pub async fn read(&mut self, buf: &mut BytesMut, want: usize) -> io::Result<usize> {
        macro_rules! ready_then_read {
            ($s:expr) => {
                loop {
                    $s.readable().await?;
                    buf.reserve(want);
                    match $s.try_read_buf(buf) {
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                        other => return other,
                    }
                }
            };
        }
        match self {
            ReadHalf::Tcp(s) => ready_then_read!(s),
            ReadHalf::Unix(s) => ready_then_read!(s),
            // Socket readiness says nothing about whether a whole record has arrived, so
            // TLS reads through its own buffer.
            ReadHalf::Tls(s) => {
                buf.reserve(want);
                s.read_buf(buf).await
            }
        }
    }
}

/// A reading half as a sequence of chunks whose reads grow: the first asks for `min`
/// bytes, and each read that comes back full doubles the next, up to `max`. A trickle
/// costs small buffers; a bulk stream moves in few large chunks (few syscalls, few
/// events). Each chunk is its own `Bytes`, handed on without a copy.
pub struct Chunks {
    rd: ReadHalf,
    buf: BytesMut,
    want: usize,
    max: usize,
}

impl Chunks {
    pub fn new(rd: ReadHalf, min: usize, max: usize) -> Chunks {
        Chunks {
            rd,
            buf: BytesMut::new(),
            want: min,
            max,
        }
    }

    /// The next chunk, or `None` at the end of the stream.
    pub async fn next(&mut self) -> io::Result<Option<Bytes>> {
        let n = self.rd.read(&mut self.buf, self.want).await?;
        if n == 0 {
            return Ok(None);
        }
        if n >= self.want {
            self.want = (self.want * 2).min(self.max);
        }
        Ok(Some(self.buf.split().freeze()))
    }
}

/// The writing half; `shutdown` half-closes (TLS: close_notify, then the TCP write side).
pub enum WriteHalf {
    Tcp(tcp::OwnedWriteHalf),
    Unix(unix::OwnedWriteHalf),
    Tls(tokio::io::WriteHalf<TlsStream<TcpStream>>),
}

macro_rules! delegate_write {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            WriteHalf::Tcp($s) => $e,
            WriteHalf::Unix($s) => $e,
            WriteHalf::Tls($s) => $e,
        }
    };
}

impl AsyncWrite for WriteHalf {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        delegate_write!(self, s => Pin::new(s).poll_write(cx, b))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate_write!(self, s => Pin::new(s).poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate_write!(self, s => Pin::new(s).poll_shutdown(cx))
    }
}
