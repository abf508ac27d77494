//! Putting data into a session: prepared items (with `--repeat`), files in chunks, and
//! stdin when it is not a terminal.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use indicatif::{ProgressBar, ProgressStyle};
use socklab_core::session::{Command, Event, EventKind, Target};
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

use socklab_core::codec::message::Message;

use crate::input::InputSpec;
use crate::UsageError;

/// File and stdin chunks: large enough to keep the socket busy, small enough that the
/// progress bar moves.
pub const CHUNK: usize = 64 * 1024;

/// A file to send, checked before anything is connected or sent.
#[derive(Debug, Clone)]
pub struct FileToSend {
    pub path: PathBuf,
    pub size: u64,
    /// Bytes per send: large for streams, the packet size for datagrams (each is one).
    pub chunk: usize,
}

impl FileToSend {
    pub fn check(path: &Path) -> Result<FileToSend, UsageError> {
        let meta = std::fs::metadata(path).map_err(|e| {
            UsageError(format!(
                "cannot read '{}': {e}; expected an existing, readable file for --file",
                path.display()
            ))
        })?;
        if meta.is_dir() {
            return Err(UsageError(format!(
                "'{}' is a directory; expected a file for --file",
                path.display()
            )));
        }
        std::fs::File::open(path).map_err(|e| {
            UsageError(format!(
                "cannot read '{}': {e}; expected a readable file for --file",
                path.display()
            ))
        })?;
        Ok(FileToSend {
            path: path.to_path_buf(),
            size: meta.len(),
            chunk: CHUNK,
        })
    }
}

/// How many rounds `--repeat` asks for: `None` once, `Some(0)` until stopped, `Some(n)` n.
fn more_rounds(repeat: Option<u64>, done: u64) -> bool {
    match repeat {
        Some(0) => true,
        Some(n) => done < n,
        None => false,
    }
}

/// Send `items` once, or `repeat` times (0 = until stopped), with `interval` between rounds.
/// Each round expands the messages' placeholders afresh, `{counter}` being the round from 1.
pub async fn rounds(
    commands: &mpsc::Sender<Command>,
    to: Target,
    items: &[Message],
    repeat: Option<u64>,
    interval: Duration,
) -> anyhow::Result<()> {
    let mut done = 0u64;
    loop {
        for item in items {
            let cmd = Command::Send {
                to: to.clone(),
                bytes: Bytes::from(item.render(done + 1)?),
            };
            if commands.send(cmd).await.is_err() {
                return Ok(());
            }
        }
        done += 1;
        if !more_rounds(repeat, done) {
            return Ok(());
        }
        tokio::time::sleep(interval).await;
    }
}

/// Send a file once or `repeat` times, like [`rounds`].
pub async fn file_rounds(
    commands: &mpsc::Sender<Command>,
    to: Target,
    f: &FileToSend,
    repeat: Option<u64>,
    interval: Duration,
) -> anyhow::Result<()> {
    let mut done = 0u64;
    loop {
        file(commands, to.clone(), f).await?;
        done += 1;
        if !more_rounds(repeat, done) {
            return Ok(());
        }
        tokio::time::sleep(interval).await;
    }
}

/// Stream a file into the session in chunks; the command queue's bound keeps at most a few
/// chunks in memory whatever the file's size.
pub async fn file(
    commands: &mpsc::Sender<Command>,
    to: Target,
    f: &FileToSend,
) -> anyhow::Result<()> {
    let mut file = tokio::fs::File::open(&f.path)
        .await
        .map_err(|e| UsageError(format!("cannot read '{}': {e}", f.path.display())))?;
    loop {
        let mut buf = Vec::with_capacity(f.chunk);
        let n = (&mut file)
            .take(f.chunk as u64)
            .read_to_end(&mut buf)
            .await
            .map_err(|e| anyhow::anyhow!("reading '{}': {e}", f.path.display()))?;
        if n == 0 {
            return Ok(());
        }
        let cmd = Command::SendPieces {
            to: to.clone(),
            bytes: Bytes::from(buf),
            size: f.chunk,
            file: true,
        };
        if commands.send(cmd).await.is_err() {
            return Ok(());
        }
    }
}

/// A progress bar on stderr for a file transfer, advanced by the session's `Sent` events.
/// Hidden when stderr is not a terminal (indicatif checks).
pub fn progress(total: u64) -> (ProgressBar, impl FnMut(&Event) + Send) {
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(
        "{bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style);
    }
    let seen = Arc::new(AtomicU64::new(0));
    let b = bar.clone();
    let observe = move |ev: &Event| {
        if let EventKind::Sent { data, .. } = &ev.kind {
            let n = seen.fetch_add(data.len as u64, Ordering::Relaxed) + data.len as u64;
            b.set_position(n.min(total));
            if n >= total {
                b.finish_and_clear();
            }
        }
    };
    (bar, observe)
}

/// Forward stdin (not a terminal) into the session: raw chunks as they come, like netcat,
/// unless `--hex` or `--eol` asks for lines. At EOF, optionally half-close.
pub async fn stdin(
    commands: mpsc::Sender<Command>,
    to: Target,
    spec: InputSpec,
    by_lines: bool,
    chunk: usize,
    shutdown_at_eof: bool,
    errors: mpsc::UnboundedSender<String>,
) {
    let mut stdin = tokio::io::stdin();
    if by_lines {
        use tokio::io::AsyncBufReadExt;
        let mut lines = tokio::io::BufReader::new(stdin).lines();
        loop {
            match lines.next_line().await {
                Ok(Some(line)) => {
                    let line = line.strip_suffix('\r').unwrap_or(&line);
                    match spec.encode(line) {
                        Ok(bytes) => {
                            let cmd = Command::Send {
                                to: to.clone(),
                                bytes: Bytes::from(bytes),
                            };
                            if commands.send(cmd).await.is_err() {
                                return;
                            }
                        }
                        // A bad line is reported and skipped whole; the session goes on.
                        Err(e) => {
                            let _ = errors.send(format!("not sent: {e}"));
                        }
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = errors.send(format!("reading stdin: {e}"));
                    break;
                }
            }
        }
    } else {
        loop {
            // Whatever one read returns goes out at once: a pipe fed by hand must not wait
            // for a full chunk.
            // For datagrams `chunk` is the packet size: what a read returns is cut into
            // datagrams of that size. Reads stay large either way: each one is a trip to
            // tokio's blocking pool, far dearer than a datagram.
            let mut buf = bytes::BytesMut::with_capacity(CHUNK.max(chunk));
            match stdin.read_buf(&mut buf).await {
                Ok(0) => break,
                Ok(_) => {
                    let cmd = Command::SendPieces {
                        to: to.clone(),
                        bytes: buf.freeze(),
                        size: chunk,
                        file: false,
                    };
                    if commands.send(cmd).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = errors.send(format!("reading stdin: {e}"));
                    break;
                }
            }
        }
    }
    if shutdown_at_eof {
        let _ = commands.send(Command::ShutdownWrite(to)).await;
    }
}
