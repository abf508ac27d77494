//! The raw pipe: stdin to a connected socket and the socket to stdout, as fast as the kernel
//! allows. This is the one path that bypasses the event bus (see the design): people use
//! `socklab connect` in pipelines for bulk data, so it copies in the kernel where it can.
//!
//! Per direction, the fastest available way is chosen once:
//! - one end is a pipe: `splice(2)` straight between the pipe and the other end;
//! - a regular file into a socket: `sendfile(2)`;
//! - neither end a pipe (socket to file, socket to /dev/null): `splice(2)` through a pipe
//!   pair of our own;
//! - anything splice refuses (a terminal, some character devices): plain read/write with a
//!   large buffer.
//!
//! Each direction runs on its own blocking thread: two threads are cheaper than an async
//! runtime here, and `tokio::io::stdin` could not be cancelled anyway.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::FileType;
use rustix::io::Errno;
use rustix::pipe::SpliceFlags;

/// Bytes asked of one splice/sendfile call. Large calls amortize the syscall; the kernel
/// moves what fits (a pipe holds what its size allows).
const CHUNK: usize = 1 << 20;
/// Pipe size asked for with F_SETPIPE_SZ: 1 MiB is the default `pipe-max-size` for
/// unprivileged processes, and 16x the default 64 KiB means 16x fewer wakeups.
const PIPE_SIZE: usize = 1 << 20;
/// Buffer of the read/write fallback.
const FALLBACK_BUF: usize = 256 * 1024;

/// How the pipe behaves at the ends of the stream.
#[derive(Debug, Clone, Copy)]
pub struct PipeOptions {
    /// On stdin EOF, shut down the socket's write side so the peer sees end of stream
    /// (netcat's `-N`, ncat's default). Off with `--no-shutdown`.
    pub shutdown_on_eof: bool,
}

/// How the pipe ended.
#[derive(Debug)]
pub struct PipeOutcome {
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// The reader of our stdout went away (EPIPE); by Unix convention that is not an error.
    pub stdout_closed: bool,
}

/// Run the pipe until both directions are done: stdin has ended (and, unless told not to,
/// our sending side is shut down) and the peer has closed its side. stdin EOF alone does not
/// end it: the peer may still answer after our half-close.
///
/// `socket` is any connected stream socket (TCP or Unix): splice and sendfile work on both.
pub fn run(socket: OwnedFd, opts: PipeOptions) -> io::Result<PipeOutcome> {
    rustix::io::ioctl_fionbio(&socket, false)?;
    let stream = socket;
    let writer = stream.try_clone()?;
    let upload = std::thread::Builder::new()
        .name("pipe-stdin".into())
        .spawn(move || -> io::Result<u64> {
            let stdin = io::stdin();
            let n = copy(stdin.as_fd(), writer.as_fd())?;
            if opts.shutdown_on_eof {
                // NotConnected means the peer is already gone; the download side reports it.
                match rustix::net::shutdown(&writer, rustix::net::Shutdown::Write) {
                    Err(e) if e != Errno::NOTCONN => return Err(e.into()),
                    _ => {}
                }
            }
            Ok(n)
        })?;
    let stdout = io::stdout();
    let down = copy(stream.as_fd(), stdout.as_fd());
    let (bytes_in, stdout_closed) = match down {
        Ok(n) => (n, false),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => (0, true),
        Err(e) => return Err(e),
    };
    // The peer has finished sending; we go on sending until stdin ends too, so a peer that
    // half-closed early (a receiver whose own stdin was empty) still gets every byte. One
    // that closed entirely makes the next write fail, which ends the upload. OpenBSD nc -l
    // stops here instead and can cut a transfer short; we never do. If our stdout is gone,
    // there is no one left to report to, so stop at once.
    let bytes_out = if stdout_closed {
        0
    } else {
        match upload.join() {
            Ok(Ok(n)) => n,
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(io::Error::other("the stdin thread panicked")),
        }
    };
    Ok(PipeOutcome {
        bytes_in,
        bytes_out,
        stdout_closed,
    })
}

fn file_type(fd: BorrowedFd<'_>) -> Option<FileType> {
    rustix::fs::fstat(fd)
        .ok()
        .map(|st| FileType::from_raw_mode(st.st_mode))
}

/// Copy everything from `src` to `dst` until EOF, the fastest way the two ends allow.
pub fn copy(src: BorrowedFd<'_>, dst: BorrowedFd<'_>) -> io::Result<u64> {
    let mut total = 0u64;
    copy_counted(src, dst, &mut total).map(|()| total)
}

/// [`copy`], counting into `total` as it goes, so a caller still knows how much went
/// through when the copy ends in an error (the relay reports it for a reset connection).
pub fn copy_counted(src: BorrowedFd<'_>, dst: BorrowedFd<'_>, total: &mut u64) -> io::Result<()> {
    let (s, d) = (file_type(src), file_type(dst));
    for fd in [src, dst] {
        if file_type(fd) == Some(FileType::Fifo) {
            // Best effort: a bigger pipe means fewer wakeups; the default still works.
            let _ = rustix::pipe::fcntl_setpipe_size(fd, PIPE_SIZE);
        }
    }
    let attempt = if s == Some(FileType::Fifo) || d == Some(FileType::Fifo) {
        splice_direct(src, dst, total)
    } else if s == Some(FileType::RegularFile) && d == Some(FileType::Socket) {
        sendfile_all(src, dst, total)
    } else {
        splice_via_pipe(src, dst, total)
    };
    match attempt {
        Ok(()) => Ok(()),
        // The kernel cannot splice these ends (EINVAL): go on with read/write from where
        // the zero-copy path stopped.
        Err(Stop::Fallback) => read_write(src, dst, total),
        Err(Stop::Fail(e)) => Err(e),
    }
}

/// Why a zero-copy loop stopped early. `Fallback` means "try another way"; `Fail` is a real
/// error (a reset) that must not be retried with read/write.
enum Stop {
    Fallback,
    Fail(io::Error),
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Stop {
        Stop::Fail(e)
    }
}

impl From<Errno> for Stop {
    fn from(e: Errno) -> Stop {
        Stop::Fail(e.into())
    }
}

type Step = Result<(), Stop>;

fn wait(fd: BorrowedFd<'_>, readable: bool) -> io::Result<()> {
    use rustix::event::{poll, PollFd, PollFlags};
    let flags = if readable {
        PollFlags::IN
    } else {
        PollFlags::OUT
    };
    let mut fds = [PollFd::new(&fd, flags)];
    poll(&mut fds, None)?;
    Ok(())
}

fn splice_direct(src: BorrowedFd<'_>, dst: BorrowedFd<'_>, total: &mut u64) -> Step {
    let flags = SpliceFlags::MOVE | SpliceFlags::MORE;
    loop {
        match rustix::pipe::splice(src, None, dst, None, CHUNK, flags) {
            Ok(0) => return Ok(()),
            Ok(n) => *total += n as u64,
            Err(Errno::INTR) => {}
            Err(Errno::AGAIN) => {
                // Either end may be non-blocking (an inherited O_NONBLOCK): wait for both.
                wait_both(src, dst)?;
            }
            Err(Errno::INVAL) if *total == 0 => return Err(Stop::Fallback),
            Err(e) => return Err(e.into()),
        }
    }
}

fn wait_both(src: BorrowedFd<'_>, dst: BorrowedFd<'_>) -> io::Result<()> {
    wait(src, true)?;
    wait(dst, false)
}

fn sendfile_all(src: BorrowedFd<'_>, dst: BorrowedFd<'_>, total: &mut u64) -> Step {
    loop {
        match rustix::fs::sendfile(dst, src, None, CHUNK) {
            Ok(0) => return Ok(()),
            Ok(n) => *total += n as u64,
            Err(Errno::INTR) => {}
            Err(Errno::AGAIN) => wait(dst, false)?,
            Err(Errno::INVAL) | Err(Errno::NOSYS) if *total == 0 => return Err(Stop::Fallback),
            Err(e) => return Err(e.into()),
        }
    }
}

fn splice_via_pipe(src: BorrowedFd<'_>, dst: BorrowedFd<'_>, total: &mut u64) -> Step {
    let (r, w): (OwnedFd, OwnedFd) = rustix::pipe::pipe().map_err(|_| Stop::Fallback)?;
    let _ = rustix::pipe::fcntl_setpipe_size(&w, PIPE_SIZE);
    let flags = SpliceFlags::MOVE | SpliceFlags::MORE;
    loop {
        let mut n = match rustix::pipe::splice(src, None, &w, None, CHUNK, flags) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(Errno::INTR) => continue,
            Err(Errno::AGAIN) => {
                wait(src, true)?;
                continue;
            }
            Err(Errno::INVAL) if *total == 0 => return Err(Stop::Fallback),
            Err(e) => return Err(e.into()),
        };
        // Drain what the pipe holds; bytes parked in our own pipe must never be lost, so
        // from here on a refusal is a hard error, not a fallback.
        while n > 0 {
            match rustix::pipe::splice(&r, None, dst, None, n, flags) {
                Ok(0) => return Err(Errno::PIPE.into()),
                Ok(m) => {
                    n -= m;
                    *total += m as u64;
                }
                Err(Errno::INTR) => {}
                Err(Errno::AGAIN) => wait(dst, false)?,
                Err(Errno::INVAL) if *total == 0 => {
                    // Nothing reached dst yet: hand the parked bytes to read/write.
                    return park_then_fallback(&r, dst, n, total);
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// dst refused splice after we had already moved `n` bytes into our pipe: write those out
/// with plain writes, then let the caller fall back for the rest.
fn park_then_fallback(r: &OwnedFd, dst: BorrowedFd<'_>, mut n: usize, total: &mut u64) -> Step {
    let mut buf = vec![0u8; n.min(FALLBACK_BUF)];
    while n > 0 {
        let want = n.min(buf.len());
        let got = match rustix::io::read(r, &mut buf[..want]) {
            Ok(g) => g,
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        };
        write_all(dst, &buf[..got])?;
        n -= got;
        *total += got as u64;
    }
    Err(Stop::Fallback)
}

fn read_write(src: BorrowedFd<'_>, dst: BorrowedFd<'_>, total: &mut u64) -> io::Result<()> {
    let mut buf = vec![0u8; FALLBACK_BUF];
    loop {
        let n = match rustix::io::read(src, &mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(Errno::INTR) => continue,
            Err(Errno::AGAIN) => {
                wait(src, true)?;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        write_all(dst, &buf[..n])?;
        *total += n as u64;
    }
}

fn write_all(dst: BorrowedFd<'_>, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match rustix::io::write(dst, buf) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => buf = &buf[n..],
            Err(Errno::INTR) => {}
            Err(Errno::AGAIN) => wait(dst, false)?,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
