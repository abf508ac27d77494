//! Where rendered events go: stdout (buffered, flushed when the engine goes quiet) or the
//! interactive editor's writer, plus the `--log` file. Also keeps the face's peer table.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

use futures_util::AsyncWriteExt;
use rustyline_async::SharedWriter;
use socklab_core::session::{Event, EventKind, PeerTable};
use tokio::sync::mpsc;

use crate::printer::{json_line, Printer, Rendered};

/// A big buffer: the hex view of a fast stream is many lines per read, and fewer, larger
/// writes to stdout are what keep it fast (hexyl does the same).
const STDOUT_BUF: usize = 256 * 1024;
/// Events handled before a flush even if more are waiting, so output never lags far.
const BATCH: usize = 256;

pub enum Sink {
    Stdout(BufWriter<io::Stdout>),
    Editor(SharedWriter),
}

impl Sink {
    pub fn stdout() -> Sink {
        Sink::Stdout(BufWriter::with_capacity(STDOUT_BUF, io::stdout()))
    }

    async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Sink::Stdout(w) => w.write_all(bytes),
            Sink::Editor(w) => AsyncWriteExt::write_all(w, bytes).await,
        }
    }

    async fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Stdout(w) => w.flush(),
            // The editor's writer hands over each complete line by itself, and every event
            // ends its output with a newline there; flushing it would hand over an empty
            // partial line, which the editor draws as a stray column on the next line.
            Sink::Editor(_) => Ok(()),
        }
    }
}

/// Open `--log FILE` for appending.
pub fn open_log(path: &Path) -> anyhow::Result<BufWriter<File>> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| {
            crate::UsageError(format!(
                "cannot open log file '{}': {e}; expected a writable path",
                path.display()
            ))
        })?;
    Ok(BufWriter::new(file))
}

/// Hooks the face wants called per event, for instance to advance a progress bar.
pub type Observer = Box<dyn FnMut(&Event) + Send>;

pub struct Output {
    pub printer: Printer,
    pub sink: Sink,
    pub log: Option<BufWriter<File>>,
    pub table: Arc<Mutex<PeerTable>>,
    pub observers: Vec<Observer>,
    /// How the last connection ended, for the exit status of a client.
    pub last_close: Option<(
        socklab_core::session::Peer,
        socklab_core::session::CloseReason,
    )>,
    /// An error event was seen (something not sent, a handshake refused): a one-shot
    /// `send` then exits 1.
    pub failed: bool,
    rendered: Rendered,
    log_buf: Vec<u8>,
}

/// How the pump ended.
#[derive(Debug, PartialEq, Eq)]
pub enum PumpEnd {
    /// The engine closed its event channel: the session is over.
    SessionEnded,
    /// Whoever reads our stdout went away (EPIPE).
    StdoutClosed,
}

impl Output {
    pub fn new(printer: Printer, sink: Sink, log: Option<BufWriter<File>>) -> Output {
        Output {
            printer,
            sink,
            log,
            table: Arc::new(Mutex::new(PeerTable::default())),
            observers: Vec::new(),
            last_close: None,
            failed: false,
            rendered: Rendered::default(),
            log_buf: Vec::new(),
        }
    }

    /// Render and write one event (not flushed).
    pub async fn event(&mut self, ev: &Event) -> io::Result<()> {
        if let Ok(mut t) = self.table.lock() {
            t.apply(ev);
        }
        match &ev.kind {
            EventKind::Closed { peer, reason, .. } => {
                self.last_close = Some((peer.clone(), reason.clone()));
            }
            EventKind::Error { .. } => self.failed = true,
            _ => {}
        }
        for obs in self.observers.iter_mut() {
            obs(ev);
        }
        if let Some(log) = self.log.as_mut() {
            self.log_buf.clear();
            json_line(ev, &mut self.log_buf);
            log.write_all(&self.log_buf)?;
        }
        self.rendered.out.clear();
        self.rendered.err.clear();
        self.printer.render(ev, &mut self.rendered);
        if !self.rendered.err.is_empty() {
            // Status and errors on stderr must not overtake data already queued on stdout.
            self.sink.flush().await?;
            io::stderr().write_all(&self.rendered.err)?;
        }
        if !self.rendered.out.is_empty() {
            let out = std::mem::take(&mut self.rendered.out);
            let res = self.sink.write(&out).await;
            self.rendered.out = out;
            res?;
        }
        Ok(())
    }

    /// A face-level error: red on the terminal, stderr when stdout carries data.
    pub async fn error(&mut self, text: &str) -> io::Result<()> {
        let ev = Event::now(EventKind::Error {
            peer: None,
            message: text.to_string(),
        });
        self.event(&ev).await?;
        self.flush().await
    }

    pub async fn flush(&mut self) -> io::Result<()> {
        if let Some(log) = self.log.as_mut() {
            log.flush()?;
        }
        self.sink.flush().await
    }

    /// Drain events until the session ends or stdout goes away, flushing whenever the
    /// engine goes quiet rather than per event.
    pub async fn pump(&mut self, events: &mut mpsc::Receiver<Event>) -> io::Result<PumpEnd> {
        while let Some(ev) = events.recv().await {
            if let Some(end) = self.handle(&ev).await? {
                return Ok(end);
            }
            for _ in 0..BATCH {
                match events.try_recv() {
                    Ok(ev) => {
                        if let Some(end) = self.handle(&ev).await? {
                            return Ok(end);
                        }
                    }
                    Err(_) => break,
                }
            }
            if let Some(end) = broken(self.flush().await)? {
                return Ok(end);
            }
        }
        let mut tail = Vec::new();
        self.printer.close_line(&mut tail);
        if !tail.is_empty() {
            let _ = self.sink.write(&tail).await;
        }
        broken(self.flush().await).map(|e| e.unwrap_or(PumpEnd::SessionEnded))
    }

    async fn handle(&mut self, ev: &Event) -> io::Result<Option<PumpEnd>> {
        broken(self.event(ev).await)
    }
}

/// EPIPE on stdout ends the face quietly (Unix convention); other errors stay errors.
fn broken(r: io::Result<()>) -> io::Result<Option<PumpEnd>> {
    match r {
        Ok(()) => Ok(None),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(Some(PumpEnd::StdoutClosed)),
        Err(e) => Err(e),
    }
}
