//! A connected byte stream of any transport (TCP, Unix, TLS), split into halves the
//! session's reader and writer tasks own. The engine and the peer tasks see only this type,
//! so a new stream transport is one more variant here and nothing else.

use std::io;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use bytes::{BufMut, Bytes, BytesMut};
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
    pub async fn read<B: ReadBuf>(&mut self, buf: &mut B, want: usize) -> io::Result<usize> {
        macro_rules! ready_then_read {
            ($s:expr) => {
                loop {
                    $s.readable().await?;
                    buf.make_room(want);
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
                buf.make_room(want);
                s.read_buf(buf).await
            }
        }
    }
}

/// A buffer a read fills: room for `n` more bytes is made first.
pub trait ReadBuf: BufMut {
    fn make_room(&mut self, n: usize);
}

impl ReadBuf for BytesMut {
    fn make_room(&mut self, n: usize) {
        self.reserve(n);
    }
}

/// A `Vec` is the bulk path's buffer ([`Chunks`]): an empty one takes a buffer from the
/// pool when it makes room, which a read of a plain socket does only once the socket is
/// readable, so a connection that waits holds no buffer (TLS reads through its own).
impl ReadBuf for Vec<u8> {
    fn make_room(&mut self, n: usize) {
        if self.capacity() == 0 {
            if let Some(reused) = POOL.lock().ok().and_then(|mut p| p.pop()) {
                *self = reused;
                self.clear();
            }
        }
        self.reserve(n);
    }
}

/// Read buffers of bulk streams, handed back when the last user of a chunk drops it. The
/// binary keeps each large buffer in a mapping of its own (bounded memory, see its
/// `memory.rs`), so a fresh 512 KiB buffer costs a page fault per 4 KiB as the kernel fills
/// it: a third of the hex view's time. A reused one is already mapped. One pool for every
/// connection, and small: a buffer is taken only when data is there to read (an idle
/// client holds none), and the pool keeps at most `POOL_MAX`.
static POOL: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
const POOL_MAX: usize = 8;

fn give_back(v: Vec<u8>) {
    if v.capacity() == 0 {
        return;
    }
    if let Ok(mut pool) = POOL.lock() {
        if pool.len() < POOL_MAX {
            pool.push(v);
        }
    }
}

/// A chunk's bytes in a pooled buffer, returned to the pool when the chunk is dropped.
struct Pooled(Vec<u8>);

impl AsRef<[u8]> for Pooled {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        give_back(std::mem::take(&mut self.0));
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
        if self.want == self.max {
            return self.next_pooled().await;
        }
        let n = self.rd.read(&mut self.buf, self.want).await?;
        if n == 0 {
            return Ok(None);
        }
        if n >= self.want {
            self.want = (self.want * 2).min(self.max);
        }
        Ok(Some(self.buf.split().freeze()))
    }

    /// A bulk stream's chunk, read into a pooled buffer. A short read is copied out (into
    /// a small allocation) and the buffer goes straight back: a chunk never holds a buffer
    /// more than four times its size.
    async fn next_pooled(&mut self) -> io::Result<Option<Bytes>> {
        let mut v = Vec::new();
        let n = match self.rd.read(&mut v, self.max).await {
            Ok(n) => n,
            Err(e) => {
                give_back(v);
                return Err(e);
            }
        };
        if n == 0 {
            give_back(v);
            return Ok(None);
        }
        if n < self.max / 4 {
            let chunk = Bytes::copy_from_slice(&v);
            give_back(v);
            return Ok(Some(chunk));
        }
        Ok(Some(Bytes::from_owner(Pooled(v))))
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    /// 8 MiB over loopback through `Chunks`: the reads grow into the pooled bulk path, and
    /// the chunks, held to the end (as a slow view holds them), are the bytes sent, in order.
    #[tokio::test]
    async fn bulk_chunks_are_the_bytes_sent() {
        let data: Vec<u8> = (0..8u32 << 20).map(|i| (i % 251) as u8).collect();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let sent = data.clone();
        let writer = tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(&sent).await.unwrap();
        });
        let (socket, _) = listener.accept().await.unwrap();
        let (rd, _wr) = Stream::Tcp(socket).into_split();
        let mut chunks = Chunks::new(rd, 1024, 64 * 1024);
        let mut held = Vec::new();
        while let Some(c) = chunks.next().await.unwrap() {
            held.push(c);
        }
        writer.await.unwrap();
        assert!(held.iter().any(|c| c.len() > 1024), "the reads grew");
        assert_eq!(held.concat(), data);
        // Handed back as they are dropped (nextest runs each test in a process of its own,
        // so this pool is this test's).
        drop(held);
        assert!(!POOL.lock().unwrap().is_empty(), "the buffers came back");
    }
}
