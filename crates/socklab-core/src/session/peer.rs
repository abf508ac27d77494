//! One connection inside a session: a reader task and a writer task over the two halves of
//! the socket. Reading and writing run apart so that a peer which does not read can never
//! stop us from reading what it sends (the classic both-sides-writing deadlock).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinHandle};

use super::broker::{Hub, Inbox, Lag, BACKLOG_LIMIT};
use super::event::{CloseReason, Data, Direction, Event, EventKind, Peer};
use super::reply::{Replies, Reply};
use crate::codec::checksum::Checksum;
use crate::codec::frame::{FrameSpec, Framer};
use crate::codec::{Encoding, StreamDecoder};
use crate::transport::stream::{Chunks, ReadHalf, Stream, WriteHalf};

/// First read size per connection. The buffer is taken only once the socket is readable,
/// so an idle client costs no buffer at all (a broker holds thousands).
const READ_MIN: usize = 16 * 1024;
/// Reads grow while they come back full, up to this: a fast stream then moves in few, large
/// events, which is what keeps the hex view and the log fast.
const READ_MAX: usize = 512 * 1024;
/// Chunks queued per writer. With the socket buffer in front, a client that stops reading
/// stalls its sender only after this many chunks: the memory bound of one slow peer.
const WRITE_QUEUE: usize = 64;

#[derive(Debug)]
pub(crate) enum PeerCmd {
    /// Bytes to write; `file` marks a piece of a file in its `Sent` event.
    Data {
        bytes: Bytes,
        file: bool,
    },
    ShutdownWrite,
}

/// A connection ended on its own; the session emits the `Closed` event.
#[derive(Debug)]
pub(crate) struct Ended {
    pub id: u64,
    pub reason: CloseReason,
    /// Only our sending side is done (a half-close went out); the connection lives on.
    pub write_shut: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub bytes_in: AtomicU64,
    pub bytes_out: AtomicU64,
    /// Held by the writer from a write until its bytes are counted. A peer can answer
    /// what we wrote and hang up before the writer's next instruction runs; the session
    /// takes this before it reports the final counts, so they include what was answered.
    writing: tokio::sync::Mutex<()>,
    /// When data last went either way, in [`now_ms`]: what `--idle-timeout` measures.
    last_active: AtomicU64,
}

impl Counters {
    fn touch(&self) {
        self.last_active.store(now_ms(), Ordering::Relaxed);
    }
}

/// Milliseconds on a monotonic clock, as a number an atomic can hold: the reader and the
/// writer both mark activity without sharing a lock.
fn now_ms() -> u64 {
    static BASE: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let base = *BASE.get_or_init(std::time::Instant::now);
    u64::try_from(base.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// How long a closing connection's counts wait for a write in progress: a peer that
/// closed cleanly either took the bytes already or makes the write fail at once.
const SETTLE: std::time::Duration = std::time::Duration::from_millis(200);

/// The session's grip on one connection.
pub(crate) struct PeerHandle {
    pub peer: Peer,
    pub tx: mpsc::Sender<PeerCmd>,
    pub counters: Arc<Counters>,
    /// The peer has closed its side, and the session waits for ours to finish (a pipe
    /// still sending stdin): how it closed.
    pub read_done: Option<CloseReason>,
    /// Our sending side has been shut down.
    pub write_shut: bool,
    reader: AbortHandle,
    writer: JoinHandle<()>,
    /// The `--idle-timeout` watch, if there is one; it ends with the connection.
    idle: Option<AbortHandle>,
    /// The broker this connection is a member of, which it leaves when it ends.
    hub: Option<Arc<Hub>>,
}

impl Drop for PeerHandle {
    fn drop(&mut self) {
        if let Some(idle) = &self.idle {
            idle.abort();
        }
        if let Some(hub) = &self.hub {
            hub.leave(self.peer.id);
        }
    }
}

impl PeerHandle {
    /// Stop both tasks now; the socket closes when they are dropped.
    pub fn abort(&self) {
        self.reader.abort();
        self.writer.abort();
        if let Some(idle) = &self.idle {
            idle.abort();
        }
    }

    /// Close politely: stop reading, let the writer send what is queued (bounded by
    /// `within`, for a peer that no longer reads), then close, and say so. What a face asked
    /// to send before it quit is not thrown away.
    pub async fn drain(mut self, within: std::time::Duration) -> Event {
        self.reader.abort();
        // Dropping the last sender ends the writer's queue: it writes what is left, then exits.
        let (closed, _) = mpsc::channel(1);
        drop(std::mem::replace(&mut self.tx, closed));
        if tokio::time::timeout(within, &mut self.writer)
            .await
            .is_err()
        {
            self.writer.abort();
        }
        self.closed_event(CloseReason::Local)
    }

    /// The `Closed` event once a write in progress has been counted (bounded by `SETTLE`,
    /// for a peer that stopped reading).
    pub async fn settled_closed_event(&self, reason: CloseReason) -> Event {
        let _ = tokio::time::timeout(SETTLE, self.counters.writing.lock()).await;
        self.closed_event(reason)
    }

    pub fn closed_event(&self, reason: CloseReason) -> Event {
        Event::now(EventKind::Closed {
            peer: self.peer.clone(),
            reason,
            bytes_in: self.counters.bytes_in.load(Ordering::Relaxed),
            bytes_out: self.counters.bytes_out.load(Ordering::Relaxed),
        })
    }
}

pub(crate) struct PeerSetup {
    pub peer: Peer,
    /// `None` when no face wants the text: a hex-only view then skips decoding entirely.
    pub encoding: Option<Encoding>,
    pub echo: bool,
    /// `--broker`: what this connection sends goes to the hub's other members, and what
    /// they send comes to it.
    pub broker: Option<Arc<Hub>>,
    pub frame: Option<FrameSpec>,
    pub verify: Option<Checksum>,
    pub replies: Option<Arc<Replies>>,
    /// Close the connection after this long with no data either way.
    pub idle_timeout: Option<std::time::Duration>,
    pub events: mpsc::Sender<Event>,
    pub ended: mpsc::UnboundedSender<Ended>,
    /// Bytes (in, out) that earlier connections of this peer counted: a client that
    /// reconnects (`--reconnect`) keeps one tally for the whole session.
    pub counted: (u64, u64),
}

pub(crate) fn spawn(stream: Stream, setup: PeerSetup) -> PeerHandle {
    let PeerSetup {
        peer,
        encoding,
        echo,
        broker,
        frame,
        verify,
        replies,
        idle_timeout,
        events,
        ended,
        counted,
    } = setup;
    let inbox = broker.as_ref().map(|hub| hub.join(peer.id));
    let (rd, wr) = stream.into_split();
    let (tx, rx) = mpsc::channel(WRITE_QUEUE);
    let counters = Arc::new(Counters::default());
    counters.bytes_in.store(counted.0, Ordering::Relaxed);
    counters.bytes_out.store(counted.1, Ordering::Relaxed);
    counters.touch();
    let idle = idle_timeout.map(|limit| {
        tokio::spawn(idle_watch(peer.id, counters.clone(), limit, ended.clone())).abort_handle()
    });
    let replies = replies.filter(|r| !r.is_empty());
    let reader = Reader {
        peer: peer.clone(),
        decoder: encoding.map(|e| e.decoder()),
        encoding,
        announced: !matches!(encoding, Some(Encoding::Auto)),
        framer: frame.as_ref().and_then(FrameSpec::framer),
        frame,
        verify,
        tx: (echo || replies.is_some()).then(|| tx.clone()),
        replies,
        echo,
        broker: broker.clone(),
        events: events.clone(),
    };
    let reader =
        tokio::spawn(read_loop(rd, reader, ended.clone(), counters.clone())).abort_handle();
    let writer = tokio::spawn(write_loop(
        wr,
        Queues { rx, inbox },
        peer.clone(),
        encoding,
        events,
        ended,
        counters.clone(),
    ));
    PeerHandle {
        peer,
        tx,
        counters,
        read_done: None,
        write_shut: false,
        reader,
        writer,
        idle,
        hub: broker,
    }
}

/// Report the connection as ended once nothing has gone either way for `limit`. It sleeps
/// until the earliest moment that could be true, looks again, and sleeps on if data moved
/// meanwhile: no timer is reset per read or write.
async fn idle_watch(
    id: u64,
    counters: Arc<Counters>,
    limit: std::time::Duration,
    ended: mpsc::UnboundedSender<Ended>,
) {
    let limit_ms = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX);
    loop {
        let quiet = now_ms().saturating_sub(counters.last_active.load(Ordering::Relaxed));
        if quiet >= limit_ms {
            let _ = ended.send(Ended {
                id,
                reason: CloseReason::IdleTimeout,
                write_shut: false,
            });
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(limit_ms - quiet)).await;
    }
}

pub(crate) fn reason_of(e: &std::io::Error) -> CloseReason {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionReset | ConnectionAborted | BrokenPipe => CloseReason::Reset,
        // rustls reports a TCP close without close_notify as UnexpectedEof.
        UnexpectedEof => CloseReason::PeerClosedWithoutNotify,
        _ => CloseReason::Error(e.to_string()),
    }
}

/// What the reader does with each received message besides reporting it.
struct Reader {
    peer: Peer,
    decoder: Option<StreamDecoder>,
    encoding: Option<Encoding>,
    /// Only `auto` has something to announce; a fixed encoding was chosen by the user.
    announced: bool,
    frame: Option<FrameSpec>,
    framer: Option<Framer>,
    verify: Option<Checksum>,
    replies: Option<Arc<Replies>>,
    /// Our own writer, for echoes and replies.
    tx: Option<mpsc::Sender<PeerCmd>>,
    echo: bool,
    /// `--broker`: the other clients, who get each read as it came.
    broker: Option<Arc<Hub>>,
    events: mpsc::Sender<Event>,
}

impl Reader {
    /// One read: echoed as it came, then reported (and answered) message by message.
    /// False when the face is gone.
    async fn read(&mut self, bytes: Bytes) -> bool {
        if let (true, Some(echo)) = (self.echo, &self.tx) {
            // Awaiting here is the backpressure: an echo client that does not read
            // its echoes stops being read from.
            let _ = echo
                .send(PeerCmd::Data {
                    bytes: bytes.clone(),
                    file: false,
                })
                .await;
        }
        if let Some(hub) = &self.broker {
            for lag in hub.fan_out(self.peer.id, &bytes) {
                if let Lag::Dropping { to } = lag {
                    let message = format!(
                        "client #{to} is not reading: what the others send is dropped for it until it catches up (over {} MiB waiting)",
                        BACKLOG_LIMIT >> 20
                    );
                    let _ = self
                        .events
                        .send(Event::now(EventKind::Warning { message }))
                        .await;
                }
            }
        }
        let Some(framer) = self.framer.as_mut() else {
            return self.message(bytes, false).await;
        };
        let mut frames = Vec::new();
        framer.push(&bytes, &mut frames);
        for f in frames {
            if !self.message(f.bytes, f.partial).await {
                return false;
            }
        }
        true
    }

    /// The stream ended: a frame still held comes out, marked partial.
    async fn finish(&mut self) {
        if let Some(f) = self.framer.as_mut().and_then(Framer::finish) {
            self.message(f.bytes, true).await;
        }
    }

    async fn message(&mut self, bytes: Bytes, partial: bool) -> bool {
        let mut text = String::new();
        let mut detected = None;
        if let (Some(d), true) = (self.decoder.as_mut(), self.framer.is_none()) {
            d.decode(&bytes, &mut text);
            detected = d.detected();
        } else if let Some(e) = self.encoding {
            // A frame is a whole message, decoded on its own as a datagram is: a binary
            // frame's last byte must not hold back text into the next frame's event.
            let mut d = e.decoder();
            d.decode(&bytes, &mut text);
            d.finish(&mut text);
            detected = d.detected();
        }
        if !self.announced {
            if let Some(name) = detected {
                self.announced = true;
                let ev = EventKind::Detected {
                    peer: self.peer.clone(),
                    direction: Direction::Received,
                    encoding: name,
                };
                if self.events.send(Event::now(ev)).await.is_err() {
                    return false;
                }
            }
        }
        let mut data = Data::new(bytes.clone(), text);
        data.partial = partial;
        if let (Some(c), Some(frame), false) = (&self.verify, &self.frame, partial) {
            data.checksum = Some(c.verify(frame.payload(&bytes)));
        }
        // A face that cannot keep up makes this wait, which stops reading, which
        // lets TCP flow control slow the peer: memory stays bounded.
        let ev = EventKind::Received {
            peer: self.peer.clone(),
            data,
        };
        if self.events.send(Event::now(ev)).await.is_err() {
            return false;
        }
        // A partial frame is no message to answer.
        if !partial {
            self.reply(&bytes).await;
        }
        true
    }

    async fn reply(&self, message: &[u8]) {
        let (Some(replies), Some(tx)) = (&self.replies, &self.tx) else {
            return;
        };
        match replies.answer(message) {
            None => {}
            Some(Ok(Reply { bytes, delay: None })) => {
                let _ = tx.send(PeerCmd::Data { bytes, file: false }).await;
            }
            Some(Ok(Reply {
                bytes,
                delay: Some(delay),
            })) => {
                // A weak handle: a reply waiting for its time does not keep a closed
                // connection's writer alive.
                let tx = tx.downgrade();
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    if let Some(tx) = tx.upgrade() {
                        let _ = tx.send(PeerCmd::Data { bytes, file: false }).await;
                    }
                });
            }
            Some(Err(e)) => {
                let ev = EventKind::Error {
                    peer: Some(self.peer.id),
                    message: format!("no auto-reply sent: {e}"),
                };
                let _ = self.events.send(Event::now(ev)).await;
            }
        }
    }
}

/// Reads at least this big are followed by a yield (see `read_loop`).
const YIELD_AFTER: usize = 64 * 1024;

async fn read_loop(
    rd: ReadHalf,
    mut reader: Reader,
    ended: mpsc::UnboundedSender<Ended>,
    counters: Arc<Counters>,
) {
    let mut chunks = Chunks::new(rd, READ_MIN, READ_MAX);
    let reason = loop {
        match chunks.next().await {
            Ok(None) => break CloseReason::PeerClosed,
            Ok(Some(bytes)) => {
                let n = bytes.len();
                counters.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
                counters.touch();
                if !reader.read(bytes).await {
                    break CloseReason::Local;
                }
                if n >= YIELD_AFTER {
                    // A big chunk took a while to decode; let the other tasks (and the
                    // socket driver) run before the next, as the relay's view does.
                    tokio::task::yield_now().await;
                }
            }
            Err(e) => break reason_of(&e),
        }
    };
    reader.finish().await;
    let Reader {
        peer,
        mut decoder,
        announced,
        events,
        ..
    } = reader;
    // Text the decoder still holds (a cut character, or `auto` text waiting for enough
    // bytes to guess from) is shown now, in an event whose bytes were all reported before.
    let mut tail = String::new();
    if let Some(d) = decoder.as_mut() {
        d.finish(&mut tail);
    }
    if !announced {
        if let Some(name) = decoder.as_ref().and_then(|d| d.detected()) {
            let ev = EventKind::Detected {
                peer: peer.clone(),
                direction: Direction::Received,
                encoding: name,
            };
            let _ = events.send(Event::now(ev)).await;
        }
    }
    if !tail.is_empty() {
        let data = Data::new(Bytes::new(), tail);
        let _ = events
            .send(Event::now(EventKind::Received {
                peer: peer.clone(),
                data,
            }))
            .await;
    }
    let _ = ended.send(Ended {
        id: peer.id,
        reason,
        write_shut: false,
    });
}

/// What the writer does next: the session's instruction, or a broker's share.
enum Next {
    Cmd(Option<PeerCmd>),
    Shared(Bytes),
}

/// What a writer takes its work from: the session's instructions and, for a broker's
/// member, the other clients' data.
struct Queues {
    rx: mpsc::Receiver<PeerCmd>,
    inbox: Option<Inbox>,
}

async fn write_loop(
    mut wr: WriteHalf,
    Queues { mut rx, mut inbox }: Queues,
    peer: Peer,
    encoding: Option<Encoding>,
    events: mpsc::Sender<Event>,
    ended: mpsc::UnboundedSender<Ended>,
    counters: Arc<Counters>,
) {
    let mut decoder = encoding.map(|e| e.decoder());
    let mut shut = false;
    loop {
        let next = match inbox.as_mut() {
            None => Next::Cmd(rx.recv().await),
            Some(inbox) => tokio::select! {
                cmd = rx.recv() => Next::Cmd(cmd),
                Some(bytes) = inbox.recv() => Next::Shared(bytes),
            },
        };
        let cmd = match next {
            Next::Cmd(Some(cmd)) => cmd,
            Next::Cmd(None) => break,
            Next::Shared(bytes) => {
                // Another client's data: counted, not shown again as sent (the console saw
                // it arrive once; 10,000 copies of it would bury everything else).
                if !shut {
                    if let Err(e) = write_counted(&mut wr, &bytes, &counters).await {
                        let _ = ended.send(Ended {
                            id: peer.id,
                            reason: reason_of(&e),
                            write_shut: false,
                        });
                        return;
                    }
                }
                let caught_up = inbox.as_ref().and_then(|inbox| inbox.written(&bytes));
                if let Some(Lag::CaughtUp { dropped }) = caught_up {
                    let message = format!(
                        "client #{} reads again; {dropped} bytes from the others were dropped for it",
                        peer.id
                    );
                    let _ = events.send(Event::now(EventKind::Notice { message })).await;
                }
                continue;
            }
        };
        match cmd {
            PeerCmd::Data { .. } if shut => {
                let message = "not sent: the sending side is already shut down (half-closed)";
                let ev = EventKind::Error {
                    peer: Some(peer.id),
                    message: message.into(),
                };
                let _ = events.send(Event::now(ev)).await;
            }
            PeerCmd::Data { bytes, file } => {
                // The event goes out before the write: a fast peer's answer can then never
                // be shown ahead of what it answers. A failed write follows as `Closed`.
                let mut text = String::new();
                if let Some(d) = decoder.as_mut() {
                    d.decode(&bytes, &mut text);
                }
                let data = Data {
                    file,
                    ..Data::new(bytes.clone(), text)
                };
                let _ = events
                    .send(Event::now(EventKind::Sent {
                        peer: peer.clone(),
                        data,
                    }))
                    .await;
                if let Err(e) = write_counted(&mut wr, &bytes, &counters).await {
                    let _ = ended.send(Ended {
                        id: peer.id,
                        reason: reason_of(&e),
                        write_shut: false,
                    });
                    return;
                }
            }
            PeerCmd::ShutdownWrite if shut => {}
            PeerCmd::ShutdownWrite => {
                shut = true;
                if let Err(e) = wr.shutdown().await {
                    let _ = ended.send(Ended {
                        id: peer.id,
                        reason: reason_of(&e),
                        write_shut: false,
                    });
                    return;
                }
                let _ = events
                    .send(Event::now(EventKind::HalfClosed { peer: peer.clone() }))
                    .await;
                let _ = ended.send(Ended {
                    id: peer.id,
                    reason: CloseReason::Local,
                    write_shut: true,
                });
            }
        }
    }
    // Closing politely matters for TLS: shutdown sends close_notify, without which the
    // peer cannot tell our end from a cut connection. For plain sockets it is the FIN that
    // dropping the socket would send anyway.
    if !shut {
        let _ = wr.shutdown().await;
    }
}

/// Write `bytes` and count them. The lock is held from the write to the count: a close
/// that races the write waits for it (see [`Counters::writing`]).
async fn write_counted(
    wr: &mut WriteHalf,
    bytes: &[u8],
    counters: &Counters,
) -> std::io::Result<()> {
    let _writing = counters.writing.lock().await;
    wr.write_all(bytes).await?;
    counters
        .bytes_out
        .fetch_add(bytes.len() as u64, Ordering::Relaxed);
    counters.touch();
    Ok(())
}
