//! A stream wrapper that notes when the request went out and when the answer began.
//!
//! hyper's `send_request` covers writing the request, the server's think time and reading
//! the response head in one future, so the only place to tell them apart is the stream
//! itself. The wrapper sits above TLS, so what it sees is HTTP: it also keeps the first
//! bytes each way, which is how the request is shown exactly as sent and the response
//! head exactly as received (header names in their case, the reason phrase as written).

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Enough for any sane request or response head; the bytes beyond are counted, not kept.
pub const CAPTURE: usize = 64 * 1024;

#[derive(Debug, Default)]
pub struct Marks {
    /// The last write before the first byte of the answer: the request has gone out.
    pub last_write: Option<Instant>,
    pub first_read: Option<Instant>,
    /// The first [`CAPTURE`] bytes written (the request head and the start of its body).
    pub written: Vec<u8>,
    /// The first [`CAPTURE`] bytes read (the response head, any 1xx before it, and the
    /// start of the body).
    pub read: Vec<u8>,
    pub bytes_read: u64,
    pub bytes_written: u64,
}

/// Shared between the wrapper (inside hyper's connection task) and the hop that reads it.
#[derive(Debug, Clone, Default)]
pub struct Shared(Arc<Mutex<Marks>>);

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, Marks> {
        // A panic while holding this lock would only leave marks half-updated, which is
        // still good enough to print; so a poisoned lock is used as it is.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub struct Timed<T> {
    inner: T,
    marks: Shared,
}

impl<T> Timed<T> {
    pub fn new(inner: T, marks: Shared) -> Timed<T> {
        Timed { inner, marks }
    }
}

fn keep(into: &mut Vec<u8>, bytes: &[u8]) {
    let room = CAPTURE.saturating_sub(into.len());
    into.extend_from_slice(&bytes[..bytes.len().min(room)]);
}

impl<T: AsyncRead + Unpin> AsyncRead for Timed<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            let got = &buf.filled()[before..];
            if !got.is_empty() {
                let mut m = self.marks.lock();
                m.first_read.get_or_insert_with(Instant::now);
                m.bytes_read += got.len() as u64;
                keep(&mut m.read, got);
            }
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Timed<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if let Poll::Ready(Ok(n)) = polled {
            let mut m = self.marks.lock();
            if m.first_read.is_none() {
                m.last_write = Some(Instant::now());
            }
            m.bytes_written += n as u64;
            keep(&mut m.written, &data[..n]);
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = polled {
            let mut m = self.marks.lock();
            if m.first_read.is_none() {
                m.last_write = Some(Instant::now());
            }
            m.bytes_written += n as u64;
            let mut left = n;
            for b in bufs {
                if left == 0 {
                    break;
                }
                let take = left.min(b.len());
                keep(&mut m.written, &b[..take]);
                left -= take;
            }
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
