//! The relay: accept clients on one endpoint and forward each to a target, showing both
//! directions.
//!
//! Forwarding never waits for the view. Each direction has its own copying task, which
//! reads, hands the view a shared copy of the chunk (a `Bytes` clone, no copy of the data)
//! through a small bounded queue with `try_send`, and writes. When the queue is full the
//! chunk is forwarded anyway and counted; the view then says how much it did not show
//! (`NotShown`). `--sync-view` makes the copier wait for the view instead, for when every
//! byte must be seen. With no view at all (only status lines), plain TCP and Unix streams
//! are spliced in the kernel, as the raw pipe does.
//!
//! Streams go to streams, datagrams to datagrams: a UDP relay gives each client source
//! address its own socket to the target (like socat's `UDP-LISTEN,fork`), so the target's
//! answers find their way back, and forgets a source after an idle time.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::AsyncWriteExt;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinHandle};
use tokio::time::Instant;

use super::access::AccessPolicy;
use super::command::Command;
use super::engine::{
    announce_reachable, open_stream, start_accepting, Accepting, Session, COMMAND_QUEUE,
    EVENT_QUEUE,
};
use super::event::{Addr, CloseReason, Data, Direction, Event, EventKind, Peer, PeerId, Scheme};
use super::peer::reason_of;
use crate::codec::Encoding;
use crate::endpoint::Endpoint;
use crate::error::{Error, Result};
use crate::transport::stream::{Chunks, ReadHalf, Stream, WriteHalf};
use crate::transport::{tcp, udp, ConnectOptions, Listener};

/// Chunks waiting for the view, per connection. Small: a view that lags this far behind
/// is better told "N bytes not shown" than fed a backlog, and the forwarder never waits.
const VIEW_QUEUE: usize = 64;
/// First read per direction; reads double while they come back full, up to `READ_MAX`.
const READ_MIN: usize = 16 * 1024;
/// Large reads mean few syscalls and few view events on a bulk transfer; 256 KiB is about
/// what a loopback socket buffer holds, so a read rarely gets less.
const READ_MAX: usize = 256 * 1024;
/// Chunks held by `--delay` per direction. Reading stops when it is full, so a fast
/// sender meets backpressure instead of filling memory.
const DELAY_QUEUE: usize = 1024;
/// A UDP source is forgotten (its socket to the target closed) after this long without
/// a datagram either way, unless `--idle-timeout` says otherwise.
pub const UDP_FORGET: Duration = Duration::from_secs(60);
/// Datagrams waiting for one UDP client's sender task.
const UDP_QUEUE: usize = 256;
/// Receive buffer for datagrams: larger than any UDP payload.
const UDP_BUFFER: usize = 64 * 1024;
/// A source refused by the access rules or `--max-clients` is reported once; this many
/// are remembered before the memory starts over.
const REFUSED_MEMORY: usize = 4096;

/// How a relay forwards and what it shows.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// For the `text` of `Relayed` events.
    pub encoding: Encoding,
    /// Leave `text` empty (a hex view reads no text).
    pub skip_text: bool,
    /// Make `Relayed` events at all. Without them only status events are sent, and plain
    /// TCP/Unix streams are spliced in the kernel.
    pub show_data: bool,
    /// The forwarder waits for the view instead of counting what it could not show.
    pub sync_view: bool,
    /// Hold every chunk or datagram this long before forwarding it (both directions).
    pub delay: Option<Duration>,
    /// UDP: drop this share (0-100) of datagrams, both directions.
    pub drop_percent: f64,
    pub access: AccessPolicy,
    /// Close a connection (forget a UDP source) after this long with no data either way.
    pub idle_timeout: Option<Duration>,
    pub max_clients: Option<usize>,
    /// How to reach the target.
    pub connect: ConnectOptions,
}

impl Default for RelayConfig {
    fn default() -> RelayConfig {
        RelayConfig {
            encoding: Encoding::default(),
            skip_text: false,
            show_data: true,
            sync_view: false,
            delay: None,
            drop_percent: 0.0,
            access: AccessPolicy::default(),
            idle_timeout: None,
            max_clients: None,
            connect: ConnectOptions::default(),
        }
    }
}

/// Why two endpoints cannot be relayed, before anything is opened: streams go to streams
/// and datagrams to datagrams (a datagram has no place in a byte stream without a framing
/// the user would have to choose).
pub fn check_pair(listen: &Endpoint, target: &Endpoint) -> Result<()> {
    let (l, t) = (listen.scheme(), target.scheme());
    if l == Scheme::UnixGram || t == Scheme::UnixGram {
        return Err(Error::Unsupported {
            what: "relaying unixgram: endpoints; expected tcp, tls, unix or udp endpoints".into(),
        });
    }
    if l.is_datagram() != t.is_datagram() {
        return Err(Error::Unsupported {
            what: format!(
                "relaying {} to {}: a relay forwards streams to streams and datagrams to datagrams; expected udp:// on both sides, or tcp, tls and unix endpoints on both",
                l.name(),
                t.name()
            ),
        });
    }
    Ok(())
}

/// Start a relay on a listener the caller bound, forwarding each client to `target`.
pub fn relay(listener: Listener, target: Endpoint, cfg: RelayConfig) -> Session {
    let (commands, cmd_rx) = mpsc::channel(COMMAND_QUEUE);
    let (ev_tx, events) = mpsc::channel(EVENT_QUEUE);
    let done = tokio::spawn(async move {
        if let Listener::Udp(sock) = listener {
            return run_datagram(sock, target, cfg, ev_tx, cmd_rx).await;
        }
        run_stream(listener, target, cfg, ev_tx, cmd_rx).await
    });
    Session {
        commands,
        events,
        done,
    }
}

/// Byte counts of one direction and when data last moved, shared by the copying task and
/// the session (which reports them when a connection is kicked or the relay quits).
#[derive(Debug, Default)]
struct Counts {
    to_target: AtomicU64,
    to_client: AtomicU64,
    last_active: AtomicU64,
}

impl Counts {
    fn add(&self, dir: Direction, n: usize) {
        let c = match dir {
            Direction::ToClient => &self.to_client,
            _ => &self.to_target,
        };
        c.fetch_add(n as u64, Ordering::Relaxed);
        self.touch();
    }

    fn touch(&self) {
        self.last_active.store(now_ms(), Ordering::Relaxed);
    }

    /// The `Closed` event: `bytes_in` is what the client sent on to the target,
    /// `bytes_out` what the target sent back to the client.
    fn closed(&self, peer: Peer, reason: CloseReason) -> Event {
        Event::now(EventKind::Closed {
            peer,
            reason,
            bytes_in: self.to_target.load(Ordering::Relaxed),
            bytes_out: self.to_client.load(Ordering::Relaxed),
        })
    }

    fn quiet_ms(&self) -> u64 {
        now_ms().saturating_sub(self.last_active.load(Ordering::Relaxed))
    }
}

/// Milliseconds on a monotonic clock, for idle checks from atomics.
fn now_ms() -> u64 {
    static BASE: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let base = *BASE.get_or_init(std::time::Instant::now);
    u64::try_from(base.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Aborts a task when dropped, so a connection that is kicked or ends takes its copying
/// and view tasks with it.
struct Guard<T>(JoinHandle<T>);

impl<T> Drop for Guard<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What the view gets from a copier.
struct Shown {
    dir: Direction,
    what: What,
    /// Chunks the copier could not queue just before this one (the queue was full).
    missed: Missed,
}

enum What {
    Data(Bytes),
    Dropped {
        len: usize,
        total: u64,
    },
    /// Only the `missed` count, at the end of a direction.
    Nothing,
}

#[derive(Debug, Default, Clone, Copy)]
struct Missed {
    bytes: u64,
    chunks: u64,
}

/// A copier's handle on the view.
#[derive(Clone)]
struct View {
    tx: mpsc::Sender<Shown>,
    sync: bool,
}

impl View {
    /// Hand the view a chunk without ever waiting for it (unless `--sync-view`): a full
    /// queue means the chunk is counted as not shown.
    async fn offer(&self, dir: Direction, what: What, missed: &mut Missed) {
        let item = Shown {
            dir,
            what,
            missed: *missed,
        };
        if self.sync {
            let _ = self.tx.send(item).await;
            *missed = Missed::default();
            return;
        }
        match self.tx.try_send(item) {
            Ok(()) => *missed = Missed::default(),
            Err(mpsc::error::TrySendError::Full(item)) => {
                if let What::Data(b) = &item.what {
                    missed.bytes += b.len() as u64;
                }
                missed.chunks += 1;
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    /// At the end of a direction, what was never shown is said (waiting, once).
    async fn finish(&self, dir: Direction, missed: Missed) {
        if missed.chunks > 0 {
            let item = Shown {
                dir,
                what: What::Nothing,
                missed,
            };
            let _ = self.tx.send(item).await;
        }
    }
}

/// The view's task for one connection: decodes text (here, not in the copier) and passes
/// events to the face, waiting on it as long as it takes.
async fn view_task(
    peer: Peer,
    mut rx: mpsc::Receiver<Shown>,
    events: mpsc::Sender<Event>,
    encoding: Option<Encoding>,
    datagram: bool,
) {
    let mut up = encoding.map(|e| e.decoder());
    let mut down = encoding.map(|e| e.decoder());
    while let Some(item) = rx.recv().await {
        let dec = if item.dir == Direction::ToClient {
            &mut down
        } else {
            &mut up
        };
        if item.missed.chunks > 0 {
            // The text stream has a gap: start decoding afresh rather than join a
            // character cut before the gap to bytes after it.
            *dec = encoding.map(|e| e.decoder());
            let ev = EventKind::NotShown {
                peer: peer.clone(),
                direction: item.dir,
                bytes: item.missed.bytes,
                chunks: item.missed.chunks,
            };
            if events.send(Event::now(ev)).await.is_err() {
                return;
            }
        }
        let ev = match item.what {
            What::Data(bytes) => {
                let mut text = String::new();
                if datagram {
                    // A datagram is a message of its own, decoded on its own.
                    if let Some(e) = encoding {
                        let mut d = e.decoder();
                        d.decode(&bytes, &mut text);
                        d.finish(&mut text);
                    }
                } else if let Some(d) = dec.as_mut() {
                    d.decode(&bytes, &mut text);
                }
                EventKind::Relayed {
                    peer: peer.clone(),
                    direction: item.dir,
                    data: Data::new(bytes, text),
                }
            }
            What::Dropped { len, total } => EventKind::Dropped {
                peer: peer.clone(),
                direction: item.dir,
                len,
                total,
            },
            What::Nothing => continue,
        };
        if events.send(Event::now(ev)).await.is_err() {
            return;
        }
        // Decoding is the slow part of a relay (all of it, in a debug build on a busy
        // machine). Without a yield per chunk this task could hold its worker, and with
        // it the socket driver, for a whole queue of chunks: the copiers then starved,
        // with data waiting in the kernel, until the view ran dry.
        tokio::task::yield_now().await;
    }
    // A character still held by a decoder (cut at the very end) is shown now.
    for (dir, dec) in [(Direction::ToTarget, up), (Direction::ToClient, down)] {
        let mut tail = String::new();
        if let Some(mut d) = dec {
            d.finish(&mut tail);
        }
        if !tail.is_empty() {
            let ev = EventKind::Relayed {
                peer: peer.clone(),
                direction: dir,
                data: Data::new(Bytes::new(), tail),
            };
            let _ = events.send(Event::now(ev)).await;
        }
    }
}

/// Everything a connection task needs, shared by all of them.
struct Shared {
    target: Endpoint,
    cfg: RelayConfig,
    events: mpsc::Sender<Event>,
}

/// A connection as the session holds it.
struct Conn {
    peer: Option<Peer>,
    counts: Arc<Counts>,
    task: AbortHandle,
}

async fn emit(events: &mpsc::Sender<Event>, kind: EventKind) {
    let _ = events.send(Event::now(kind)).await;
}

/// The answer to a command a relay cannot carry out: a kick of a client it does not have
/// (`kick`), or anything to send (a relay only forwards).
async fn refuse(events: &mpsc::Sender<Event>, kick: Option<PeerId>) {
    let message = match kick {
        Some(id) => format!("no client #{id}"),
        None => "a relay only forwards: it sends nothing of its own".into(),
    };
    emit(
        events,
        EventKind::Error {
            peer: None,
            message,
        },
    )
    .await;
}

async fn run_stream(
    listener: Listener,
    target: Endpoint,
    cfg: RelayConfig,
    ev_tx: mpsc::Sender<Event>,
    mut cmd_rx: mpsc::Receiver<Command>,
) -> Result<()> {
    // Held until the relay ends: dropping them stops accepting and removes a socket file.
    let Accepting {
        clients: mut acc_rx,
        tasks,
        cleanup: _cleanup,
    } = start_accepting(listener, &cfg.access, &ev_tx).await?;
    let _acceptors: Vec<Guard<()>> = tasks.into_iter().map(Guard).collect();
    let max_clients = cfg.max_clients;
    let shared = Arc::new(Shared {
        target,
        cfg,
        events: ev_tx.clone(),
    });
    let mut conns: BTreeMap<PeerId, Conn> = BTreeMap::new();
    let (ended_tx, mut ended_rx) = mpsc::unbounded_channel::<PeerId>();
    let mut next_id: PeerId = 1;
    loop {
        tokio::select! {
            cmd = cmd_rx.recv() => match cmd {
                None | Some(Command::Quit) => break,
                Some(Command::Kick(id)) => match conns.remove(&id) {
                    Some(c) => {
                        c.task.abort();
                        if let Some(peer) = c.peer {
                            let _ = ev_tx.send(c.counts.closed(peer, CloseReason::Kicked)).await;
                        }
                    }
                    None => refuse(&ev_tx, Some(id)).await,
                },
                Some(_) => refuse(&ev_tx, None).await,
            },
            Some(stream) = acc_rx.recv() => {
                if let Some(max) = max_clients {
                    if conns.len() >= max {
                        let addr = stream.info().map(|i| i.peer).unwrap_or_else(Addr::unnamed);
                        drop(stream);
                        let reason = format!("max clients ({max}) reached");
                        emit(&ev_tx, EventKind::Rejected { addr, reason }).await;
                        continue;
                    }
                }
                let id = next_id;
                next_id += 1;
                let counts = Arc::new(Counts::default());
                counts.touch();
                let peer = stream.info().map(|i| Peer { id, addr: i.peer });
                let task = tokio::spawn(stream_conn(
                    id,
                    stream,
                    shared.clone(),
                    counts.clone(),
                    ended_tx.clone(),
                ))
                .abort_handle();
                conns.insert(id, Conn { peer, counts, task });
            },
            Some(id) = ended_rx.recv() => {
                conns.remove(&id);
            },
        }
    }
    for (_, c) in std::mem::take(&mut conns) {
        c.task.abort();
        if let Some(peer) = c.peer {
            let _ = ev_tx.send(c.counts.closed(peer, CloseReason::Local)).await;
        }
    }
    Ok(())
}

/// Tells the session a connection is over when dropped, however its task ends.
struct Ended(PeerId, mpsc::UnboundedSender<PeerId>);

impl Drop for Ended {
    fn drop(&mut self) {
        let _ = self.1.send(self.0);
    }
}

async fn stream_conn(
    id: PeerId,
    client: Stream,
    sh: Arc<Shared>,
    counts: Arc<Counts>,
    ended: mpsc::UnboundedSender<PeerId>,
) {
    let _ended = Ended(id, ended);
    let events = &sh.events;
    let Some(info) = client.info() else { return };
    client.set_nodelay();
    let peer = Peer {
        id,
        addr: info.peer,
    };
    emit(
        events,
        EventKind::Connected {
            peer: peer.clone(),
            local: info.local,
            transport: info.transport,
            cred: info.cred,
        },
    )
    .await;
    if let Some(tls) = info.tls {
        emit(
            events,
            EventKind::Secured {
                peer: peer.clone(),
                tls,
            },
        )
        .await;
    }
    // Each client's own resolve and connect steps are not shown: the outcome is.
    let mut quiet = |_: EventKind| {};
    let upstream = match open_stream(&sh.target, &sh.cfg.connect, &mut quiet).await {
        Ok(s) => s,
        Err(e) => {
            // The client is closed (dropped with this task); the relay goes on.
            let reason = CloseReason::Error(format!("target {}: {e}", sh.target));
            let _ = events.send(counts.closed(peer, reason)).await;
            return;
        }
    };
    upstream.set_nodelay();
    if let Some(up) = upstream.info() {
        emit(
            events,
            EventKind::Upstream {
                peer: peer.clone(),
                target: up.peer,
                local: up.local,
                transport: up.transport,
            },
        )
        .await;
    }
    let plain = |s: &Stream| matches!(s, Stream::Tcp(_) | Stream::Unix(_));
    let splice = !sh.cfg.show_data
        && sh.cfg.delay.is_none()
        && sh.cfg.idle_timeout.is_none()
        && plain(&client)
        && plain(&upstream);
    let reason = if splice {
        splice_both(client, upstream, counts.clone()).await
    } else {
        copy_both(client, upstream, &peer, &sh, counts.clone()).await
    };
    let _ = events.send(counts.closed(peer, reason)).await;
}

/// Copy both ways in user space, with the view and `--delay`; the reason it ended.
async fn copy_both(
    client: Stream,
    upstream: Stream,
    peer: &Peer,
    sh: &Shared,
    counts: Arc<Counts>,
) -> CloseReason {
    let (crd, cwr) = client.into_split();
    let (urd, uwr) = upstream.into_split();
    let (view, viewer) = if sh.cfg.show_data {
        let (tx, rx) = mpsc::channel(VIEW_QUEUE);
        let encoding = (!sh.cfg.skip_text).then_some(sh.cfg.encoding);
        let task = tokio::spawn(view_task(
            peer.clone(),
            rx,
            sh.events.clone(),
            encoding,
            false,
        ));
        (
            Some(View {
                tx,
                sync: sh.cfg.sync_view,
            }),
            Some(Guard(task)),
        )
    } else {
        (None, None)
    };
    let delay = sh.cfg.delay;
    let mut up = Guard(tokio::spawn(forward(
        crd,
        uwr,
        Direction::ToTarget,
        counts.clone(),
        view.clone(),
        delay,
    )));
    let mut down = Guard(tokio::spawn(forward(
        urd,
        cwr,
        Direction::ToClient,
        counts.clone(),
        view,
        delay,
    )));
    let idle = idle_wait(counts.clone(), sh.cfg.idle_timeout);
    tokio::pin!(idle);
    let joined =
        |r: std::result::Result<std::result::Result<(), CloseReason>, tokio::task::JoinError>| {
            r.unwrap_or_else(|e| Err(CloseReason::Error(format!("the copying task failed: {e}"))))
        };
    // The first direction to fail ends both; a clean end of one (a half-close, passed on)
    // leaves the other running until it ends too.
    let reason = tokio::select! {
        r = &mut up.0 => match joined(r) {
            Err(reason) => reason,
            Ok(()) => tokio::select! {
                r = &mut down.0 => joined(r).err().unwrap_or(CloseReason::PeerClosed),
                _ = &mut idle => CloseReason::IdleTimeout,
            },
        },
        r = &mut down.0 => match joined(r) {
            Err(reason) => reason,
            Ok(()) => tokio::select! {
                r = &mut up.0 => joined(r).err().unwrap_or(CloseReason::PeerClosed),
                _ = &mut idle => CloseReason::IdleTimeout,
            },
        },
        _ = &mut idle => CloseReason::IdleTimeout,
    };
    drop((up, down));
    // Every chunk the copiers queued is shown before the connection is said to be closed.
    if let Some(mut v) = viewer {
        let _ = (&mut v.0).await;
    }
    reason
}

/// Resolves once nothing has moved either way for `limit`; never without a limit.
async fn idle_wait(counts: Arc<Counts>, limit: Option<Duration>) {
    let Some(limit) = limit else {
        return std::future::pending().await;
    };
    let limit_ms = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX);
    loop {
        let quiet = counts.quiet_ms();
        if quiet >= limit_ms {
            return;
        }
        tokio::time::sleep(Duration::from_millis(limit_ms - quiet)).await;
    }
}

/// One direction: read, offer the view a copy, write (now or after `--delay`). A clean
/// end of stream is passed on as a half-close; `Err` is why the connection must end.
async fn forward(
    rd: ReadHalf,
    mut wr: WriteHalf,
    dir: Direction,
    counts: Arc<Counts>,
    view: Option<View>,
    delay: Option<Duration>,
) -> std::result::Result<(), CloseReason> {
    let mut missed = Missed::default();
    let mut chunks = Chunks::new(rd, READ_MIN, READ_MAX);
    let Some(delay) = delay else {
        while let Some(bytes) = chunks.next().await.map_err(|e| reason_of(&e))? {
            // Shown before it is written: the answer to it can then never show first.
            if let Some(v) = &view {
                v.offer(dir, What::Data(bytes.clone()), &mut missed).await;
            }
            wr.write_all(&bytes).await.map_err(|e| reason_of(&e))?;
            counts.add(dir, bytes.len());
        }
        // The end of stream goes on first: a view that lags must not hold it back.
        let shut = wr.shutdown().await.map_err(|e| reason_of(&e));
        if let Some(v) = &view {
            v.finish(dir, missed).await;
        }
        return shut;
    };
    // With a delay, reading goes on while earlier chunks wait their time: the delay is
    // latency, as on a long line, not a cap on throughput.
    let (tx, mut rx) = mpsc::channel::<(Instant, Bytes)>(DELAY_QUEUE);
    let writer = async {
        while let Some((due, bytes)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            wr.write_all(&bytes).await.map_err(|e| reason_of(&e))?;
            counts.add(dir, bytes.len());
        }
        wr.shutdown().await.map_err(|e| reason_of(&e))
    };
    let reader = async {
        while let Some(bytes) = chunks.next().await.map_err(|e| reason_of(&e))? {
            if let Some(v) = &view {
                v.offer(dir, What::Data(bytes.clone()), &mut missed).await;
            }
            if tx.send((Instant::now() + delay, bytes)).await.is_err() {
                break;
            }
        }
        drop(tx);
        if let Some(v) = &view {
            v.finish(dir, missed).await;
        }
        Ok(())
    };
    tokio::try_join!(reader, writer).map(|_| ())
}

/// No view and plain sockets on both sides: splice(2) each way on its own thread, as the
/// raw pipe does, so the bytes never enter user space.
async fn splice_both(client: Stream, upstream: Stream, counts: Arc<Counts>) -> CloseReason {
    let fds = client.into_fd().and_then(|c| Ok((c, upstream.into_fd()?)));
    let (c, u) = match fds {
        Ok(pair) => pair,
        Err(e) => return CloseReason::Error(e.to_string()),
    };
    let one_way = |src: &OwnedFd, dst: &OwnedFd, dir: Direction, counts: Arc<Counts>| {
        let (src, dst) = (src.try_clone(), dst.try_clone());
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let (src, dst) = (src?, dst?);
            let mut total = 0u64;
            let res = crate::transport::pipe::copy_counted(src.as_fd(), dst.as_fd(), &mut total);
            counts.add(dir, total as usize);
            res?;
            // Pass the end of stream on; NotConnected means the other side is gone.
            match rustix::net::shutdown(&dst, rustix::net::Shutdown::Write) {
                Err(e) if e != rustix::io::Errno::NOTCONN => Err(e.into()),
                _ => Ok(()),
            }
        })
    };
    for fd in [&c, &u] {
        // The splice threads block; the sockets came from tokio in non-blocking mode.
        if let Err(e) = rustix::io::ioctl_fionbio(fd, false) {
            return CloseReason::Error(e.to_string());
        }
    }
    // Kicked or quit: this future is dropped, and the blocking threads must stop too.
    let _stop_threads = ShutOnDrop(&c, &u);
    let mut up = one_way(&c, &u, Direction::ToTarget, counts.clone());
    let mut down = one_way(&u, &c, Direction::ToClient, counts);
    let result = |r: std::result::Result<std::io::Result<()>, tokio::task::JoinError>| match r {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(reason_of(&e)),
        Err(e) => Some(CloseReason::Error(e.to_string())),
    };
    let stop = |c: &OwnedFd, u: &OwnedFd| {
        // A failure one way ends both: shutting both sockets down wakes the other thread.
        let _ = rustix::net::shutdown(c, rustix::net::Shutdown::Both);
        let _ = rustix::net::shutdown(u, rustix::net::Shutdown::Both);
    };
    let first = tokio::select! {
        r = &mut up => (result(r), true),
        r = &mut down => (result(r), false),
    };
    match first {
        (Some(reason), up_first) => {
            stop(&c, &u);
            let _ = if up_first { down.await } else { up.await };
            reason
        }
        (None, true) => result(down.await).unwrap_or(CloseReason::PeerClosed),
        (None, false) => result(up.await).unwrap_or(CloseReason::PeerClosed),
    }
}

/// Shuts both sockets down when dropped, which wakes threads blocked in splice on them.
struct ShutOnDrop<'a>(&'a OwnedFd, &'a OwnedFd);

impl Drop for ShutOnDrop<'_> {
    fn drop(&mut self) {
        let _ = rustix::net::shutdown(self.0, rustix::net::Shutdown::Both);
        let _ = rustix::net::shutdown(self.1, rustix::net::Shutdown::Both);
    }
}

/// A small, fast random source for `--drop`: xorshift seeded from the OS once. Not for
/// anything secret, only to pick which datagrams are lost.
struct Dice(u64);

impl Dice {
    fn new() -> Dice {
        let mut seed = [0u8; 8];
        let _ = getrandom::fill(&mut seed);
        Dice(u64::from_le_bytes(seed) | 1)
    }

    /// True with the probability `percent` / 100.
    fn roll(&mut self, percent: f64) -> bool {
        if percent <= 0.0 {
            return false;
        }
        if percent >= 100.0 {
            return true;
        }
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        // The top 53 bits as a fraction in [0, 1).
        let unit = (self.0 >> 11) as f64 / (1u64 << 53) as f64;
        unit * 100.0 < percent
    }
}

/// One UDP source as the relay holds it.
struct UdpClient {
    peer: Peer,
    counts: Arc<Counts>,
    /// Datagrams from the client on their way to the target.
    to_target: mpsc::Sender<Bytes>,
    _tasks: Vec<Guard<()>>,
}

async fn run_datagram(
    sock: UdpSocket,
    target: Endpoint,
    cfg: RelayConfig,
    ev_tx: mpsc::Sender<Event>,
    mut cmd_rx: mpsc::Receiver<Command>,
) -> Result<()> {
    let dest = match &target {
        Endpoint::Net { addr, .. } => {
            let addrs = tcp::resolve(addr).await?;
            // A datagram cannot race several addresses: the resolver's first choice it is.
            match addrs.first() {
                Some(a) => *a,
                None => {
                    return Err(Error::Resolve {
                        host: addr.host.to_string(),
                        reason: "no address".into(),
                    })
                }
            }
        }
        Endpoint::Path { .. } => {
            return Err(Error::Unsupported {
                what: "a UDP relay to a Unix socket".into(),
            })
        }
    };
    let local = sock
        .local_addr()
        .map_err(|e| Error::io("reading the listening address", e))?;
    let bound = vec![Addr::canonical(local)];
    emit(
        &ev_tx,
        EventKind::Listening {
            addr: bound[0].clone(),
            transport: Scheme::Udp,
        },
    )
    .await;
    announce_reachable(&bound, &ev_tx).await;
    let sock = Arc::new(sock);
    let forget = cfg.idle_timeout.unwrap_or(UDP_FORGET);
    let sweep_every = (forget / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
    let mut sweep = tokio::time::interval(sweep_every);
    let mut clients: HashMap<SocketAddr, UdpClient> = HashMap::new();
    let mut refused: std::collections::HashSet<std::net::IpAddr> = Default::default();
    let mut next_id: PeerId = 1;
    let mut buf = vec![0u8; UDP_BUFFER];
    let view_encoding = (!cfg.skip_text).then_some(cfg.encoding);
    loop {
        tokio::select! {
            cmd = cmd_rx.recv() => match cmd {
                None | Some(Command::Quit) => break,
                Some(Command::Kick(id)) => {
                    let from = clients.iter().find(|(_, c)| c.peer.id == id).map(|(a, _)| *a);
                    match from.and_then(|a| clients.remove(&a)) {
                        Some(c) => {
                            let _ = ev_tx.send(c.counts.closed(c.peer.clone(), CloseReason::Kicked)).await;
                        }
                        None => refuse(&ev_tx, Some(id)).await,
                    }
                }
                Some(_) => refuse(&ev_tx, None).await,
            },
            _ = sweep.tick() => {
                let limit = u64::try_from(forget.as_millis()).unwrap_or(u64::MAX);
                let idle: Vec<SocketAddr> = clients
                    .iter()
                    .filter(|(_, c)| c.counts.quiet_ms() >= limit)
                    .map(|(a, _)| *a)
                    .collect();
                for a in idle {
                    if let Some(c) = clients.remove(&a) {
                        let _ = ev_tx.send(c.counts.closed(c.peer.clone(), CloseReason::IdleTimeout)).await;
                    }
                }
            },
            got = udp::recv(&sock, &mut buf) => {
                let d = match got {
                    Ok(d) => d,
                    Err(e) => {
                        // An ICMP error from a client's address and the like: say so, go on.
                        emit(&ev_tx, EventKind::Error { peer: None, message: format!("receive failed: {e}") }).await;
                        continue;
                    }
                };
                let from = d.from;
                if !clients.contains_key(&from) {
                    let refusal = cfg.access.refusal(from.ip()).or_else(|| {
                        cfg.max_clients
                            .filter(|max| clients.len() >= *max)
                            .map(|max| format!("max clients ({max}) reached"))
                    });
                    if let Some(reason) = refusal {
                        if refused.len() >= REFUSED_MEMORY {
                            refused.clear();
                        }
                        if refused.insert(from.ip()) {
                            emit(&ev_tx, EventKind::Rejected { addr: Addr::canonical(from), reason }).await;
                        }
                        continue;
                    }
                    let id = next_id;
                    next_id += 1;
                    match udp_client(id, from, dest, &sock, &cfg, view_encoding, &ev_tx).await {
                        Ok(c) => { clients.insert(from, c); }
                        Err(e) => {
                            emit(&ev_tx, EventKind::Error { peer: Some(id), message: e.to_string() }).await;
                            continue;
                        }
                    }
                }
                let Some(c) = clients.get(&from) else { continue };
                c.counts.touch();
                let bytes = Bytes::copy_from_slice(&buf[..d.n]);
                if c.to_target.send(bytes).await.is_err() {
                    clients.remove(&from);
                }
                // The source's own tasks roll the dice for --drop, show and delay: this
                // loop only sorts datagrams by source.
            },
        }
    }
    for (_, c) in clients.drain() {
        let _ = ev_tx
            .send(c.counts.closed(c.peer.clone(), CloseReason::Local))
            .await;
    }
    Ok(())
}

/// A new UDP source: its socket to the target, and the tasks that carry its datagrams
/// each way.
async fn udp_client(
    id: PeerId,
    from: SocketAddr,
    dest: SocketAddr,
    listen: &Arc<UdpSocket>,
    cfg: &RelayConfig,
    encoding: Option<Encoding>,
    events: &mpsc::Sender<Event>,
) -> Result<UdpClient> {
    let peer = Peer {
        id,
        addr: Addr::canonical(from),
    };
    let up = Arc::new(udp::open(dest, None, &cfg.connect.udp).await?);
    let local = listen
        .local_addr()
        .map(Addr::canonical)
        .unwrap_or_else(|_| Addr::unnamed());
    emit(
        events,
        EventKind::Connected {
            peer: peer.clone(),
            local,
            transport: Scheme::Udp,
            cred: None,
        },
    )
    .await;
    let up_local = up
        .local_addr()
        .map(Addr::canonical)
        .unwrap_or_else(|_| Addr::unnamed());
    emit(
        events,
        EventKind::Upstream {
            peer: peer.clone(),
            target: Addr::canonical(dest),
            local: up_local,
            transport: Scheme::Udp,
        },
    )
    .await;
    let counts = Arc::new(Counts::default());
    counts.touch();
    let mut tasks = Vec::new();
    let view = if cfg.show_data {
        let (tx, rx) = mpsc::channel(VIEW_QUEUE);
        tasks.push(Guard(tokio::spawn(view_task(
            peer.clone(),
            rx,
            events.clone(),
            encoding,
            true,
        ))));
        Some(View {
            tx,
            sync: cfg.sync_view,
        })
    } else {
        None
    };
    let (to_target, rx) = mpsc::channel::<Bytes>(UDP_QUEUE);
    // Client to target: the session loop hands this source's datagrams over.
    {
        let up = up.clone();
        let send = move |b: Bytes| {
            let up = up.clone();
            async move { up.send(&b).await.map(|_| ()) }
        };
        let source = ChannelSource(rx);
        tasks.push(Guard(tokio::spawn(datagram_way(
            source,
            send,
            Direction::ToTarget,
            counts.clone(),
            view.clone(),
            cfg.clone(),
            peer.clone(),
            events.clone(),
        ))));
    }
    // Target to client: answers go out of the listening socket, so the client sees them
    // come from the address it sent to.
    {
        let listen = listen.clone();
        let send = move |b: Bytes| {
            let listen = listen.clone();
            async move { listen.send_to(&b, from).await.map(|_| ()) }
        };
        let source = SocketSource(up);
        tasks.push(Guard(tokio::spawn(datagram_way(
            source,
            send,
            Direction::ToClient,
            counts.clone(),
            view,
            cfg.clone(),
            peer.clone(),
            events.clone(),
        ))));
    }
    Ok(UdpClient {
        peer,
        counts,
        to_target,
        _tasks: tasks,
    })
}

/// Where one direction of a UDP client gets its datagrams.
trait DatagramSource: Send + 'static {
    /// The next datagram; `None` when there will be no more.
    fn next(&mut self) -> impl std::future::Future<Output = Option<std::io::Result<Bytes>>> + Send;
}

struct ChannelSource(mpsc::Receiver<Bytes>);

impl DatagramSource for ChannelSource {
    async fn next(&mut self) -> Option<std::io::Result<Bytes>> {
        self.0.recv().await.map(Ok)
    }
}

struct SocketSource(Arc<UdpSocket>);

impl DatagramSource for SocketSource {
    async fn next(&mut self) -> Option<std::io::Result<Bytes>> {
        let mut buf = vec![0u8; UDP_BUFFER];
        Some(
            udp::recv(&self.0, &mut buf)
                .await
                .map(|d| Bytes::copy_from_slice(&buf[..d.n])),
        )
    }
}

/// One direction of a UDP client: drop (`--drop`), show, delay (`--delay`), send.
#[allow(clippy::too_many_arguments)]
async fn datagram_way<S, F, Fut>(
    mut source: S,
    send: F,
    dir: Direction,
    counts: Arc<Counts>,
    view: Option<View>,
    cfg: RelayConfig,
    peer: Peer,
    events: mpsc::Sender<Event>,
) where
    S: DatagramSource,
    F: Fn(Bytes) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = std::io::Result<()>> + Send,
{
    let mut dice = Dice::new();
    let mut missed = Missed::default();
    let mut dropped = 0u64;
    let (tx, mut rx) = mpsc::channel::<(Instant, Bytes)>(DELAY_QUEUE);
    let delay = cfg.delay;
    let sender = async {
        while let Some((due, bytes)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            match send(bytes.clone()).await {
                Ok(()) => counts.add(dir, bytes.len()),
                Err(e) => {
                    let message = format!("{}: {e}", what_way(dir));
                    let _ = events
                        .send(Event::now(EventKind::Error {
                            peer: Some(peer.id),
                            message,
                        }))
                        .await;
                }
            }
        }
    };
    let receiver = async {
        while let Some(got) = source.next().await {
            let bytes = match got {
                Ok(b) => b,
                Err(e) => {
                    // The target's port is closed (ICMP port unreachable): say so, go on;
                    // a UDP target may come up later.
                    let message = format!("{}: {e}", what_way(dir));
                    let _ = events
                        .send(Event::now(EventKind::Error {
                            peer: Some(peer.id),
                            message,
                        }))
                        .await;
                    continue;
                }
            };
            counts.touch();
            if dice.roll(cfg.drop_percent) {
                dropped += 1;
                if let Some(v) = &view {
                    let what = What::Dropped {
                        len: bytes.len(),
                        total: dropped,
                    };
                    v.offer(dir, what, &mut missed).await;
                } else {
                    // No view: drops are status, not data, so they are still said.
                    let ev = EventKind::Dropped {
                        peer: peer.clone(),
                        direction: dir,
                        len: bytes.len(),
                        total: dropped,
                    };
                    let _ = events.send(Event::now(ev)).await;
                }
                continue;
            }
            if let Some(v) = &view {
                v.offer(dir, What::Data(bytes.clone()), &mut missed).await;
            }
            let due = Instant::now() + delay.unwrap_or_default();
            if tx.send((due, bytes)).await.is_err() {
                break;
            }
        }
        drop(tx);
        if let Some(v) = &view {
            v.finish(dir, missed).await;
        }
    };
    tokio::join!(receiver, sender);
}

fn what_way(dir: Direction) -> &'static str {
    match dir {
        Direction::ToClient => "to the client",
        _ => "to the target",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::{self, ListenOptions};

    /// What a face may ask of a relay that it cannot do: each is answered with an error
    /// event, and the relay goes on (it still quits when told).
    #[tokio::test]
    async fn a_kick_of_no_client_and_data_to_send_are_refused() {
        let listen = Endpoint::parse_listen("127.0.0.1:0").unwrap();
        let listener = transport::listen(&listen, &ListenOptions::default())
            .await
            .unwrap();
        let target = Endpoint::parse_connect("127.0.0.1:9").unwrap();
        let mut s = relay(listener, target, RelayConfig::default());
        let error = |ev: Event| match ev.kind {
            EventKind::Error { message, .. } => Some(message),
            _ => None,
        };
        s.commands.send(Command::Kick(99)).await.unwrap();
        let send = Command::Send {
            to: Default::default(),
            bytes: Bytes::from_static(b"x"),
        };
        s.commands.send(send).await.unwrap();
        let mut said = Vec::new();
        while said.len() < 2 {
            let ev = s.events.recv().await.expect("the relay goes on");
            said.extend(error(ev));
        }
        assert_eq!(said[0], "no client #99");
        assert!(said[1].contains("only forwards"), "{}", said[1]);
        s.commands.send(Command::Quit).await.unwrap();
        s.done.await.unwrap().unwrap();
    }
}
