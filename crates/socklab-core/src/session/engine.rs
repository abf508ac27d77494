//! The session engine: owns the sockets, takes [`Command`]s, emits [`Event`]s.
//!
//! A client session resolves, connects (happy eyeballs) and then runs one peer, `#1`. A
//! server session takes listeners that the caller bound (so tests bind port 0, as
//! mini-redis does) and runs a peer per accepted client. Both end when the face sends
//! `Quit` or drops its command sender; a client session also ends when its peer closes, a
//! `--once` server when its one client leaves.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::command::{Command, Target};
use super::event::{CloseReason, Event, EventKind, Peer, PeerId};
use super::peer::{self, Ended, PeerCmd, PeerHandle, PeerSetup};
use crate::codec::Encoding;
use crate::endpoint::HostPort;
use crate::error::{Error, Result};
use crate::transport::tcp::{self, ConnectOptions};

/// Events queued between the engine and a face. Small on purpose: a slow face applies
/// backpressure all the way to the peers' TCP windows instead of buffering.
const EVENT_QUEUE: usize = 256;
const COMMAND_QUEUE: usize = 64;
/// Accepted sockets waiting for the session task.
const ACCEPT_QUEUE: usize = 64;
/// On quit, how long a peer's queued data may take to go out before the connection is cut.
const DRAIN_LIMIT: Duration = Duration::from_secs(2);
/// After an accept error such as EMFILE, wait before trying again instead of spinning.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// How a session treats data and clients.
#[derive(Debug, Clone, Default)]
pub struct SessionConfig {
    /// For decoding the `text` of data events; sending takes bytes already encoded.
    pub encoding: Encoding,
    /// Server: write every received chunk back to its sender.
    pub echo: bool,
    /// Server: take one client, stop listening, end when it leaves (like `nc -l`).
    pub once: bool,
    /// Server: turn away clients beyond this many at once.
    pub max_clients: Option<usize>,
    /// Leave `text` empty in data events: for faces that show only hex or raw bytes,
    /// decoding would be work nobody reads.
    pub skip_text: bool,
}

/// A running session, as a face holds it.
pub struct Session {
    pub commands: mpsc::Sender<Command>,
    pub events: mpsc::Receiver<Event>,
    /// Resolves when the session has ended: `Err` for a failure that should make the
    /// program exit non-zero (the resolve or connect failed).
    pub done: JoinHandle<Result<()>>,
}

/// Resolve and connect, reporting each step. Shared by the client session and the raw pipe,
/// so both show and fail the same way.
pub async fn open_tcp(
    target: &HostPort,
    opts: &ConnectOptions,
    report: &mut (dyn FnMut(EventKind) + Send),
) -> Result<TcpStream> {
    let work = async {
        let addrs = if let crate::endpoint::Host::Name(host) = &target.host {
            report(EventKind::Resolving { host: host.clone() });
            let addrs = tcp::resolve(target).await?;
            report(EventKind::Resolved {
                host: host.clone(),
                addrs: addrs.clone(),
            });
            addrs
        } else {
            tcp::resolve(target).await?
        };
        tcp::connect(&addrs, opts, report).await
    };
    match opts.timeout {
        Some(after) => {
            tokio::time::timeout(after, work)
                .await
                .map_err(|_| Error::ConnectTimeout {
                    target: target.to_string(),
                    after,
                })?
        }
        None => work.await,
    }
}

impl Session {
    /// Start a client session to `target`.
    pub fn connect(target: HostPort, opts: ConnectOptions, cfg: SessionConfig) -> Session {
        let (commands, cmd_rx) = mpsc::channel(COMMAND_QUEUE);
        let (ev_tx, events) = mpsc::channel(EVENT_QUEUE);
        let done = tokio::spawn(async move {
            let (report_tx, mut report_rx) = mpsc::unbounded_channel();
            let mut report = move |kind: EventKind| {
                let _ = report_tx.send(Event::now(kind));
            };
            let forward = {
                let ev_tx = ev_tx.clone();
                tokio::spawn(async move {
                    while let Some(ev) = report_rx.recv().await {
                        if ev_tx.send(ev).await.is_err() {
                            break;
                        }
                    }
                })
            };
            let opened = open_tcp(&target, &opts, &mut report).await;
            drop(report);
            // Every step is shown before the outcome.
            let _ = forward.await;
            let stream = opened?;
            let mut engine = Engine::new(cfg, ev_tx);
            engine.add_peer(stream).await;
            engine.run(cmd_rx, None, true).await;
            Ok(())
        });
        Session {
            commands,
            events,
            done,
        }
    }

    /// Start a server session on listeners the caller bound.
    pub fn serve(listeners: Vec<TcpListener>, cfg: SessionConfig) -> Session {
        let (commands, cmd_rx) = mpsc::channel(COMMAND_QUEUE);
        let (ev_tx, events) = mpsc::channel(EVENT_QUEUE);
        let done = tokio::spawn(async move {
            let (acc_tx, acc_rx) = mpsc::channel(ACCEPT_QUEUE);
            let mut bound = Vec::new();
            let mut acceptors = Vec::new();
            for l in listeners {
                let addr = l
                    .local_addr()
                    .map_err(|e| Error::io("reading the listening address", e))?;
                bound.push(addr);
                acceptors.push(tokio::spawn(accept_loop(l, acc_tx.clone(), ev_tx.clone())));
            }
            drop(acc_tx);
            for addr in &bound {
                let _ = ev_tx
                    .send(Event::now(EventKind::Listening { addr: *addr }))
                    .await;
            }
            let reachable: Vec<SocketAddr> = bound
                .iter()
                .flat_map(|a| tcp::reachable_addrs(*a))
                .collect();
            if bound.iter().any(|a| a.ip().is_unspecified()) && !reachable.is_empty() {
                let _ = ev_tx
                    .send(Event::now(EventKind::Reachable { addrs: reachable }))
                    .await;
            }
            let mut engine = Engine::new(cfg, ev_tx);
            engine.acceptors = acceptors;
            engine.run(cmd_rx, Some(acc_rx), false).await;
            Ok(())
        });
        Session {
            commands,
            events,
            done,
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    tx: mpsc::Sender<(TcpStream, SocketAddr)>,
    events: mpsc::Sender<Event>,
) {
    loop {
        match listener.accept().await {
            Ok(pair) => {
                if tx.send(pair).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                // Out of file descriptors and the like: say so, back off, keep serving.
                let message = format!("accept failed: {e}; retrying");
                let _ = events
                    .send(Event::now(EventKind::Error {
                        peer: None,
                        message,
                    }))
                    .await;
                tokio::time::sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
}

struct Engine {
    cfg: SessionConfig,
    events: mpsc::Sender<Event>,
    peers: BTreeMap<PeerId, PeerHandle>,
    next_id: PeerId,
    ended_tx: mpsc::UnboundedSender<Ended>,
    ended_rx: mpsc::UnboundedReceiver<Ended>,
    acceptors: Vec<JoinHandle<()>>,
    served: u64,
}

impl Engine {
    fn new(cfg: SessionConfig, events: mpsc::Sender<Event>) -> Engine {
        let (ended_tx, ended_rx) = mpsc::unbounded_channel();
        Engine {
            cfg,
            events,
            peers: BTreeMap::new(),
            next_id: 1,
            ended_tx,
            ended_rx,
            acceptors: Vec::new(),
            served: 0,
        }
    }

    async fn emit(&self, kind: EventKind) {
        let _ = self.events.send(Event::now(kind)).await;
    }

    async fn add_peer(&mut self, stream: TcpStream) {
        // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d; show them as IPv4.
        let canonical = |a: SocketAddr| SocketAddr::new(a.ip().to_canonical(), a.port());
        let (addr, local) = match (stream.peer_addr(), stream.local_addr()) {
            (Ok(a), Ok(l)) => (canonical(a), canonical(l)),
            // The peer vanished between accept and now; nothing to serve.
            _ => return,
        };
        let _ = stream.set_nodelay(true);
        let id = self.next_id;
        self.next_id += 1;
        self.served += 1;
        let peer = Peer { id, addr };
        self.emit(EventKind::Connected { peer, local }).await;
        let handle = peer::spawn(
            stream,
            PeerSetup {
                peer,
                encoding: (!self.cfg.skip_text).then_some(self.cfg.encoding),
                echo: self.cfg.echo,
                events: self.events.clone(),
                ended: self.ended_tx.clone(),
            },
        );
        self.peers.insert(id, handle);
    }

    fn stop_accepting(&mut self) {
        for a in self.acceptors.drain(..) {
            a.abort();
        }
    }

    async fn run(
        &mut self,
        mut commands: mpsc::Receiver<Command>,
        mut accepted: Option<mpsc::Receiver<(TcpStream, SocketAddr)>>,
        client: bool,
    ) {
        loop {
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    None | Some(Command::Quit) => break,
                    Some(cmd) => self.command(cmd).await,
                },
                Some((stream, addr)) = async {
                    match accepted.as_mut() {
                        Some(rx) => rx.recv().await,
                        None => std::future::pending().await,
                    }
                } => {
                    if let Some(max) = self.cfg.max_clients {
                        if self.peers.len() >= max {
                            drop(stream);
                            let reason = format!("max clients ({max}) reached");
                            self.emit(EventKind::Rejected { addr, reason }).await;
                            continue;
                        }
                    }
                    self.add_peer(stream).await;
                    if self.cfg.once {
                        self.stop_accepting();
                        accepted = None;
                    }
                },
                Some(Ended { id, reason }) = self.ended_rx.recv() => {
                    if let Some(handle) = self.peers.remove(&id) {
                        // The reader is done; dropping our sender lets the writer finish
                        // what is queued and close.
                        if !matches!(reason, CloseReason::PeerClosed) {
                            handle.abort();
                        }
                        let ev = handle.closed_event(reason);
                        let _ = self.events.send(ev).await;
                    }
                    if client || (self.cfg.once && self.served > 0 && self.peers.is_empty()) {
                        break;
                    }
                },
            }
        }
        self.stop_accepting();
        for (_, handle) in std::mem::take(&mut self.peers) {
            let closed = handle.drain(DRAIN_LIMIT).await;
            let _ = self.events.send(closed).await;
        }
    }

    fn targets(&self, to: Target) -> std::result::Result<Vec<PeerId>, String> {
        match to {
            Target::All => Ok(self.peers.keys().copied().collect()),
            Target::Peer(id) if self.peers.contains_key(&id) => Ok(vec![id]),
            Target::Peer(id) => Err(format!("no client #{id}; /list shows who is connected")),
        }
    }

    async fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Send { to, bytes } => match self.targets(to) {
                Ok(ids) if ids.is_empty() => {
                    self.emit(EventKind::Error {
                        peer: None,
                        message: "not sent: no client is connected".into(),
                    })
                    .await;
                }
                Ok(ids) => {
                    for id in ids {
                        if let Some(p) = self.peers.get(&id) {
                            let _ = p.tx.send(PeerCmd::Data(bytes.clone())).await;
                        }
                    }
                }
                Err(message) => {
                    self.emit(EventKind::Error {
                        peer: None,
                        message,
                    })
                    .await
                }
            },
            Command::ShutdownWrite(to) => {
                if let Ok(ids) = self.targets(to) {
                    for id in ids {
                        if let Some(p) = self.peers.get(&id) {
                            let _ = p.tx.send(PeerCmd::ShutdownWrite).await;
                        }
                    }
                }
            }
            Command::Kick(id) => match self.peers.remove(&id) {
                Some(handle) => {
                    handle.abort();
                    let ev = handle.closed_event(CloseReason::Kicked);
                    let _ = self.events.send(ev).await;
                }
                None => {
                    let message = format!("no client #{id}; /list shows who is connected");
                    self.emit(EventKind::Error {
                        peer: None,
                        message,
                    })
                    .await;
                }
            },
            Command::Quit => {}
        }
    }
}
