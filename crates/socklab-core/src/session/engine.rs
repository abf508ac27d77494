//! The session engine: owns the sockets, takes [`Command`]s, emits [`Event`]s.
//!
//! A client session opens its endpoint (for TCP: resolve, then happy eyeballs) and then runs
//! one peer, `#1`. A server session takes a [`Listener`] that the caller bound (so tests bind
//! port 0, as mini-redis does) and runs a peer per accepted client. Both end when the face
//! sends `Quit` or drops its command sender; a client session also ends when its peer
//! closes, a `--once` server when its one client leaves.
//!
//! Stream transports (TCP, Unix, TLS) share this file's engine; datagram transports (UDP,
//! unixgram) have their own in `datagram.rs`, with the same commands and events.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::net::{TcpListener, TcpStream, UnixListener};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::access::AccessPolicy;
use super::command::{Command, Target};
use super::datagram;
use super::event::{Addr, CloseReason, Event, EventKind, Peer, PeerId};
use super::peer::{self, Ended, PeerCmd, PeerHandle, PeerSetup};
use super::reply::Replies;
use crate::codec::checksum::Checksum;
use crate::codec::frame::FrameSpec;
use crate::codec::Encoding;
use crate::endpoint::{Endpoint, HostPort, Scheme};
use crate::error::{Error, Result};
use crate::transport::stream::Stream;
use crate::transport::tcp;
use crate::transport::tls::{self, TlsServer};
use crate::transport::udp;
use crate::transport::unix::{self, UnixName};
use crate::transport::{ConnectOptions, Listener};

/// Events queued between the engine and a face. Small on purpose: a slow face applies
/// backpressure all the way to the peers' TCP windows instead of buffering. A read is up
/// to 512 KiB (and its text as much again), so 64 bounds what waits here to about 64 MiB.
pub(crate) const EVENT_QUEUE: usize = 64;
pub(crate) const COMMAND_QUEUE: usize = 64;
/// Accepted sockets waiting for the session task.
pub(crate) const ACCEPT_QUEUE: usize = 64;
/// On quit, how long a peer's queued data may take to go out before the connection is cut.
const DRAIN_LIMIT: Duration = Duration::from_secs(2);
/// A client that connects to a TLS server but does not finish the handshake in this time is
/// dropped, so silent clients cannot pile up.
const HANDSHAKE_LIMIT: Duration = Duration::from_secs(10);
/// After an accept error such as EMFILE, wait before trying again instead of spinning.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// How a session treats data and clients.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// For decoding the `text` of data events; sending takes bytes already encoded.
    pub encoding: Encoding,
    /// Server: write every received chunk back to its sender.
    pub echo: bool,
    /// Server: what a client sends goes to every other client (`--broker`, ncat's chat).
    pub broker: bool,
    /// Server: take one client, stop listening, end when it leaves (like `nc -l`).
    pub once: bool,
    /// Server: turn away clients beyond this many at once.
    pub max_clients: Option<usize>,
    /// Leave `text` empty in data events: for faces that show only hex or raw bytes,
    /// decoding would be work nobody reads.
    pub skip_text: bool,
    /// Stream client: when the peer closes first, stay until our own sending side is shut
    /// down (a pipe whose stdin is not finished yet still sends all of it).
    pub finish_sending: bool,
    /// Datagram client: after the face is done sending (`ShutdownWrite`, e.g. stdin ended),
    /// how long to wait in silence for more datagrams before the session ends. A datagram
    /// peer never says it is done, so silence is the only end there is.
    pub linger: Duration,
    /// Server: who may connect (or, over UDP, whose datagrams are heard). Checked at
    /// accept, before a TLS handshake, so a refused client costs no more than the accept.
    pub access: AccessPolicy,
    /// Server: close a client after this long without data in either direction (a
    /// datagram server forgets the sender instead). Idle clients otherwise stay forever:
    /// TCP itself never gives up on a silent but open connection.
    pub idle_timeout: Option<Duration>,
    /// `--frame`: received stream data is cut into these messages, one event each. A
    /// datagram is already one message and is never cut.
    pub frame: Option<FrameSpec>,
    /// With `frame`: check each received message's trailing checksum.
    pub verify: Option<Checksum>,
    /// `--reply`/`--rules`: answer received messages that match.
    pub replies: Option<Arc<Replies>>,
    /// Stream client (`--reconnect`): when the peer goes away or a connect attempt fails,
    /// try again after this long, doubling up to [`RECONNECT_MAX`], until it connects.
    pub reconnect: Option<Duration>,
}

/// The longest pause between reconnect attempts: a server down for an hour is retried
/// twice a minute, not once an hour, and a restart is noticed within half a minute.
pub const RECONNECT_MAX: Duration = Duration::from_secs(30);

impl Default for SessionConfig {
    fn default() -> SessionConfig {
        SessionConfig {
            encoding: Encoding::default(),
            echo: false,
            broker: false,
            once: false,
            max_clients: None,
            skip_text: false,
            finish_sending: false,
            linger: Duration::from_secs(1),
            access: AccessPolicy::default(),
            idle_timeout: None,
            frame: None,
            verify: None,
            replies: None,
            reconnect: None,
        }
    }
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

/// [`open`], each step (resolve, every address tried) passed on as an event as it
/// happens, all of them before the outcome.
async fn open_shown(
    target: &Endpoint,
    opts: &ConnectOptions,
    ev_tx: &mpsc::Sender<Event>,
) -> Result<Opened> {
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
    let opened = open(target, opts, &mut report).await;
    drop(report);
    let _ = forward.await;
    opened
}

impl Session {
    /// Start a client session to `target`.
    pub fn connect(target: Endpoint, opts: ConnectOptions, cfg: SessionConfig) -> Session {
        let (commands, mut cmd_rx) = mpsc::channel(COMMAND_QUEUE);
        let (ev_tx, events) = mpsc::channel(EVENT_QUEUE);
        let done = tokio::spawn(async move {
            let opened = open_shown(&target, &opts, &ev_tx).await;
            if let Some(first) = cfg.reconnect {
                return reconnecting(target, opts, cfg, first, opened, ev_tx, cmd_rx).await;
            }
            match opened? {
                Opened::Stream(stream) => {
                    let mut engine = Engine::new(cfg, ev_tx);
                    engine.add_peer(stream).await;
                    engine.run(&mut cmd_rx, None, true).await;
                }
                Opened::Datagram(sock, dest) => {
                    datagram::run_client(sock, dest, cfg, ev_tx, cmd_rx).await;
                }
            }
            Ok(())
        });
        Session {
            commands,
            events,
            done,
        }
    }

    /// Start a server session on a listener the caller bound.
    pub fn serve(listener: Listener, cfg: SessionConfig) -> Session {
        let (commands, mut cmd_rx) = mpsc::channel(COMMAND_QUEUE);
        let (ev_tx, events) = mpsc::channel(EVENT_QUEUE);
        let done = tokio::spawn(async move {
            let listener = match listener {
                Listener::Udp(sock) => {
                    let sock = datagram::Socket::Udp(sock);
                    datagram::run_server(sock, cfg, ev_tx, cmd_rx).await;
                    return Ok(());
                }
                // A stream listener's access is checked in `start_accepting`.
                Listener::UnixGram(_) if !cfg.access.is_open() => {
                    return Err(unix_access_unsupported());
                }
                Listener::UnixGram(b) => {
                    if let Some(message) = b.notice {
                        let _ = ev_tx.send(Event::now(EventKind::Notice { message })).await;
                    }
                    let _cleanup = b.cleanup;
                    let sock = datagram::Socket::Unix(b.socket);
                    datagram::run_server(sock, cfg, ev_tx, cmd_rx).await;
                    return Ok(());
                }
                stream => stream,
            };
            // Held until the session ends: dropping it removes a Unix socket file.
            let Accepting {
                clients,
                tasks,
                cleanup: _cleanup,
            } = start_accepting(listener, &cfg.access, &ev_tx).await?;
            let mut engine = Engine::new(cfg, ev_tx);
            engine.acceptors = tasks;
            engine.run(&mut cmd_rx, Some(clients), false).await;
            Ok(())
        });
        Session {
            commands,
            events,
            done,
        }
    }
}

fn unix_access_unsupported() -> Error {
    Error::Unsupported {
        what: "--allow/--deny on a Unix socket: its clients have no IP address to check (the socket file's permissions decide who may connect)".into(),
    }
}

/// A stream listener, accepting: the clients that passed the access rules arrive on
/// `clients`. Dropping `cleanup` removes a Unix socket file; the tasks end when aborted.
pub(crate) struct Accepting {
    pub clients: mpsc::Receiver<Stream>,
    pub tasks: Vec<JoinHandle<()>>,
    pub cleanup: Option<unix::Cleanup>,
}

/// Everything a stream server does before its own loop, the same for `listen` and the
/// relay: the certificate of a TLS listener, the notice of a stale socket file replaced,
/// one accept task per bound socket (access rules applied at accept), then `listening`
/// for each address and, bound to every interface, the addresses clients can use.
pub(crate) async fn start_accepting(
    listener: Listener,
    access: &AccessPolicy,
    ev_tx: &mpsc::Sender<Event>,
) -> Result<Accepting> {
    let transport = listener.scheme();
    let (acceptors, bound, cleanup) = match listener {
        Listener::Tcp(ls) => {
            let (a, b) = tcp_acceptors(ls, Acceptor::Tcp)?;
            (a, b, None)
        }
        Listener::Tls(ls, server) => {
            let cert = EventKind::Certificate {
                cert: server.cert.clone(),
                generated: server.generated,
            };
            let _ = ev_tx.send(Event::now(cert)).await;
            let (a, b) = tcp_acceptors(ls, |l| Acceptor::Tls(l, server.clone()))?;
            (a, b, None)
        }
        Listener::Unix(b) => {
            if !access.is_open() {
                return Err(unix_access_unsupported());
            }
            let addr = b
                .socket
                .local_addr()
                .map(|a| Addr::from_std_unix(&a.into()))
                .map_err(|e| Error::io("reading the listening address", e))?;
            if let Some(message) = b.notice {
                let _ = ev_tx.send(Event::now(EventKind::Notice { message })).await;
            }
            (vec![Acceptor::Unix(b.socket)], vec![addr], b.cleanup)
        }
        Listener::Udp(_) | Listener::UnixGram(_) => {
            return Err(Error::Unsupported {
                what: "accepting clients on a datagram socket".into(),
            })
        }
    };
    let (acc_tx, clients) = mpsc::channel(ACCEPT_QUEUE);
    let access = Arc::new(access.clone());
    let tasks = acceptors
        .into_iter()
        .map(|a| {
            tokio::spawn(accept_loop(
                a,
                access.clone(),
                acc_tx.clone(),
                ev_tx.clone(),
            ))
        })
        .collect();
    for addr in &bound {
        let listening = EventKind::Listening {
            addr: addr.clone(),
            transport,
        };
        let _ = ev_tx.send(Event::now(listening)).await;
    }
    announce_reachable(&bound, ev_tx).await;
    Ok(Accepting {
        clients,
        tasks,
        cleanup,
    })
}

/// The acceptors of TCP-based listeners (plain or TLS) and the addresses they are bound to.
fn tcp_acceptors(
    listeners: Vec<TcpListener>,
    acceptor: impl Fn(TcpListener) -> Acceptor,
) -> Result<(Vec<Acceptor>, Vec<Addr>)> {
    let mut bound = Vec::new();
    let mut acceptors = Vec::new();
    for l in listeners {
        let addr = l
            .local_addr()
            .map_err(|e| Error::io("reading the listening address", e))?;
        bound.push(Addr::canonical(addr));
        acceptors.push(acceptor(l));
    }
    Ok((acceptors, bound))
}

/// A server bound to every interface says which addresses clients can use.
pub(crate) async fn announce_reachable(bound: &[Addr], ev_tx: &mpsc::Sender<Event>) {
    let ips: Vec<SocketAddr> = bound.iter().filter_map(Addr::ip).collect();
    let reachable: Vec<SocketAddr> = ips.iter().flat_map(|a| tcp::reachable_addrs(*a)).collect();
    if ips.iter().any(|a| a.ip().is_unspecified()) && !reachable.is_empty() {
        let _ = ev_tx
            .send(Event::now(EventKind::Reachable { addrs: reachable }))
            .await;
    }
}

/// What a client session opened.
enum Opened {
    Stream(Stream),
    Datagram(datagram::Socket, datagram::Dest),
}

/// Open any endpoint as a client, reporting each step.
async fn open(
    target: &Endpoint,
    opts: &ConnectOptions,
    report: &mut (dyn FnMut(EventKind) + Send),
) -> Result<Opened> {
    match target {
        Endpoint::Net {
            scheme: Scheme::Tcp,
            addr,
        } => Ok(Opened::Stream(Stream::Tcp(
            open_tcp(addr, opts, report).await?,
        ))),
        Endpoint::Path {
            scheme: Scheme::Unix,
            path,
        } => Ok(Opened::Stream(Stream::Unix(unix::connect(
            &UnixName::parse(path)?,
        )?))),
        Endpoint::Path { path, .. } => {
            let name = UnixName::parse(path)?;
            let sock = unix::connect_datagram(&name)?;
            Ok(Opened::Datagram(
                datagram::Socket::Unix(sock),
                datagram::Dest::connected(Addr::unix(path.as_str())),
            ))
        }
        Endpoint::Net {
            scheme: Scheme::Tls,
            addr,
        } => {
            // A bad CA file or pin is the user's to fix: say so before touching the network.
            let config = tls::client_config(&opts.tls)?;
            if opts.tls.insecure {
                report(EventKind::Warning {
                    message: "--insecure: the server's certificate is NOT verified; anyone on the path can read and change this connection".into(),
                });
            }
            let tcp = open_tcp(addr, opts, report).await?;
            let host = addr.host.to_string();
            let shake = tls::connect(tcp, &host, config, &opts.tls);
            let (stream, info) = match opts.timeout {
                Some(after) => tokio::time::timeout(after, shake).await.map_err(|_| {
                    Error::TlsHandshake {
                        target: addr.to_string(),
                        reason: format!("no answer within {}", crate::error::humanize(after)),
                        rejected: false,
                    }
                })??,
                None => shake.await?,
            };
            Ok(Opened::Stream(Stream::Tls(
                Box::new(tokio_rustls::TlsStream::Client(stream)),
                Box::new(info),
            )))
        }
        Endpoint::Net {
            scheme: Scheme::Udp,
            addr,
        } => {
            let dest = match &addr.host {
                crate::endpoint::Host::Name(host) => {
                    report(EventKind::Resolving { host: host.clone() });
                    let addrs = tcp::resolve(addr).await?;
                    report(EventKind::Resolved {
                        host: host.clone(),
                        addrs: addrs.clone(),
                    });
                    // A datagram cannot race several addresses the way a connect can: the
                    // first answer the resolver prefers is the one.
                    addrs[0]
                }
                _ => tcp::resolve(addr).await?[0],
            };
            let sock = udp::open(dest, opts.bind, &opts.udp).await?;
            let dest = if udp::is_group_or_broadcast(&dest) {
                datagram::Dest::unconnected(dest)
            } else {
                datagram::Dest::connected(Addr::canonical(dest))
            };
            Ok(Opened::Datagram(datagram::Socket::Udp(sock), dest))
        }
        Endpoint::Net { scheme, .. } => Err(Error::Unsupported {
            what: format!("connecting to {}:// with a host and port", scheme.name()),
        }),
    }
}

/// Open a stream endpoint (TCP, Unix) for the raw pipe, reporting each step as a session
/// would, so both show and fail the same way.
pub async fn open_stream(
    target: &Endpoint,
    opts: &ConnectOptions,
    report: &mut (dyn FnMut(EventKind) + Send),
) -> Result<Stream> {
    match open(target, opts, report).await? {
        Opened::Stream(s) => Ok(s),
        Opened::Datagram(..) => Err(Error::Unsupported {
            what: format!("a byte-stream pipe over {target}"),
        }),
    }
}

/// A listening socket of a stream transport.
pub(crate) enum Acceptor {
    Tcp(TcpListener),
    Tls(TcpListener, std::sync::Arc<TlsServer>),
    Unix(UnixListener),
}

/// What an acceptor got: a stream ready to serve (with the client's IP address, for the
/// access check), or a TCP connection whose TLS handshake still has to happen (on its own
/// task, so a slow client never holds up the others).
enum Accepted {
    Ready(Stream, Option<SocketAddr>),
    Handshake(TcpStream, SocketAddr, std::sync::Arc<TlsServer>),
}

impl Accepted {
    fn ip(&self) -> Option<SocketAddr> {
        match self {
            Accepted::Ready(_, a) => *a,
            Accepted::Handshake(_, a, _) => Some(*a),
        }
    }
}

impl Acceptor {
    async fn accept(&self) -> std::io::Result<Accepted> {
        match self {
            Acceptor::Tcp(l) => l
                .accept()
                .await
                .map(|(s, a)| Accepted::Ready(Stream::Tcp(s), Some(a))),
            Acceptor::Tls(l, server) => l
                .accept()
                .await
                .map(|(s, a)| Accepted::Handshake(s, a, server.clone())),
            Acceptor::Unix(l) => l
                .accept()
                .await
                .map(|(s, _)| Accepted::Ready(Stream::Unix(s), None)),
        }
    }
}

/// Finish a TLS handshake and pass the stream on; a failure is reported and the session goes
/// on (a browser that distrusts the certificate must not stop the server).
async fn handshake(
    tcp: TcpStream,
    addr: SocketAddr,
    server: std::sync::Arc<TlsServer>,
    tx: mpsc::Sender<Stream>,
    events: mpsc::Sender<Event>,
) {
    let addr = SocketAddr::new(addr.ip().to_canonical(), addr.port());
    let outcome = tokio::time::timeout(HANDSHAKE_LIMIT, tls::accept(tcp, &server, addr)).await;
    let message = match outcome {
        Ok(Ok((stream, info))) => {
            let stream = Stream::Tls(
                Box::new(tokio_rustls::TlsStream::Server(stream)),
                Box::new(info),
            );
            let _ = tx.send(stream).await;
            return;
        }
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!(
            "TLS handshake with {addr} failed: no handshake within {}",
            crate::error::humanize(HANDSHAKE_LIMIT)
        ),
    };
    let _ = events
        .send(Event::now(EventKind::Error {
            peer: None,
            message,
        }))
        .await;
}

async fn accept_loop(
    listener: Acceptor,
    access: std::sync::Arc<AccessPolicy>,
    tx: mpsc::Sender<Stream>,
    events: mpsc::Sender<Event>,
) {
    loop {
        let accepted = listener.accept().await;
        if let Ok(got) = &accepted {
            let refusal = got
                .ip()
                .and_then(|a| access.refusal(a.ip()).map(|r| (a, r)));
            if let Some((addr, reason)) = refusal {
                // Closed at once, unread: nothing the client sent is ever shown.
                drop(accepted);
                let addr = Addr::canonical(addr);
                let _ = events
                    .send(Event::now(EventKind::Rejected { addr, reason }))
                    .await;
                continue;
            }
        }
        match accepted {
            Ok(Accepted::Ready(stream, _)) => {
                if tx.send(stream).await.is_err() {
                    return;
                }
            }
            Ok(Accepted::Handshake(tcp, addr, server)) => {
                tokio::spawn(handshake(tcp, addr, server, tx.clone(), events.clone()));
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
    /// `--broker`: the clients that hear each other.
    hub: Option<std::sync::Arc<super::broker::Hub>>,
    /// A reconnecting client: the bytes (in, out) of its earlier connections.
    counted: (u64, u64),
    /// The face asked for a half-close (stdin ended). Noted when asked rather than when the
    /// writer has done it: a quick peer can answer our end of stream with its close before
    /// the writer's report arrives, and that close must still count as the one we asked for.
    shutdown_asked: bool,
}

/// Why [`Engine::run`] returned.
enum RunEnd {
    /// The face quit, or the session is otherwise over.
    Quit,
    /// A client's one connection ended; `ours` when we had shut down our sending side
    /// first (stdin ended, `/eof`): the end the user asked for, not the peer going away.
    Gone {
        reason: CloseReason,
        ours: bool,
        counted: (u64, u64),
    },
}

impl Engine {
    fn new(cfg: SessionConfig, events: mpsc::Sender<Event>) -> Engine {
        let (ended_tx, ended_rx) = mpsc::unbounded_channel();
        let hub = cfg.broker.then(Default::default);
        Engine {
            cfg,
            events,
            peers: BTreeMap::new(),
            next_id: 1,
            ended_tx,
            ended_rx,
            acceptors: Vec::new(),
            served: 0,
            hub,
            counted: (0, 0),
            shutdown_asked: false,
        }
    }

    async fn emit(&self, kind: EventKind) {
        let _ = self.events.send(Event::now(kind)).await;
    }

    async fn add_peer(&mut self, stream: Stream) {
        let Some(info) = stream.info() else { return };
        stream.set_nodelay();
        let id = self.next_id;
        self.next_id += 1;
        self.served += 1;
        let peer = Peer {
            id,
            addr: info.peer,
        };
        self.emit(EventKind::Connected {
            peer: peer.clone(),
            local: info.local,
            transport: info.transport,
            cred: info.cred,
        })
        .await;
        if let Some(tls) = info.tls {
            self.emit(EventKind::Secured {
                peer: peer.clone(),
                tls,
            })
            .await;
        }
        let handle = peer::spawn(
            stream,
            PeerSetup {
                peer,
                encoding: (!self.cfg.skip_text).then_some(self.cfg.encoding),
                echo: self.cfg.echo,
                broker: self.hub.clone(),
                frame: self.cfg.frame.clone(),
                verify: self.cfg.verify,
                replies: self.cfg.replies.clone(),
                idle_timeout: self.cfg.idle_timeout,
                events: self.events.clone(),
                ended: self.ended_tx.clone(),
                counted: self.counted,
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
        commands: &mut mpsc::Receiver<Command>,
        mut accepted: Option<mpsc::Receiver<Stream>>,
        client: bool,
    ) -> RunEnd {
        let mut end = RunEnd::Quit;
        loop {
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    None | Some(Command::Quit) => break,
                    Some(cmd) => self.command(cmd).await,
                },
                Some(stream) = async {
                    match accepted.as_mut() {
                        Some(rx) => rx.recv().await,
                        None => std::future::pending().await,
                    }
                } => {
                    if let Some(max) = self.cfg.max_clients {
                        if self.peers.len() >= max {
                            let addr = stream.info().map(|i| i.peer).unwrap_or_else(Addr::unnamed);
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
                Some(Ended { id, reason, write_shut }) = self.ended_rx.recv() => {
                    let clean = matches!(
                        reason,
                        CloseReason::PeerClosed | CloseReason::PeerClosedWithoutNotify
                    );
                    let Some(handle) = self.peers.get_mut(&id) else { continue };
                    // A pipe's peer may close first (a receiver that half-closes at once):
                    // what stdin still holds must go out before the session ends.
                    let (reason, go_on) = if write_shut {
                        handle.write_shut = true;
                        match handle.read_done.clone() {
                            Some(r) => (r, false),
                            None => (reason, true),
                        }
                    } else if clean && client && self.cfg.finish_sending && !handle.write_shut {
                        handle.read_done = Some(reason.clone());
                        (reason, true)
                    } else {
                        (reason, false)
                    };
                    if go_on {
                        continue;
                    }
                    if let Some(handle) = self.peers.remove(&id) {
                        let ours = handle.write_shut || self.shutdown_asked;
                        // The reader is done; dropping our sender lets the writer finish
                        // what is queued and close.
                        let clean = matches!(
                            reason,
                            CloseReason::PeerClosed | CloseReason::PeerClosedWithoutNotify
                        );
                        let ev = if clean {
                            handle.settled_closed_event(reason).await
                        } else {
                            handle.abort();
                            handle.closed_event(reason)
                        };
                        if let (true, EventKind::Closed { reason, bytes_in, bytes_out, .. }) =
                            (client, &ev.kind)
                        {
                            end = RunEnd::Gone {
                                reason: reason.clone(),
                                ours,
                                counted: (*bytes_in, *bytes_out),
                            };
                        }
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
        end
    }

    fn targets(&self, to: &Target) -> std::result::Result<Vec<PeerId>, String> {
        match to {
            Target::All | Target::Default => Ok(self.peers.keys().copied().collect()),
            Target::Peer(id) if self.peers.contains_key(id) => Ok(vec![*id]),
            Target::Peer(id) => Err(format!("no client #{id}; /list shows who is connected")),
            Target::Addr(a) => match self
                .peers
                .iter()
                .find(|(_, p)| p.peer.addr.to_string() == *a)
            {
                Some((id, _)) => Ok(vec![*id]),
                None => Err(format!("no client at {a}; /list shows who is connected")),
            },
        }
    }

    /// Queue `bytes` to each target's writer, in command order.
    async fn send(&mut self, to: Target, bytes: Bytes, file: bool) {
        match self.targets(&to) {
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
                        let bytes = bytes.clone();
                        let _ = p.tx.send(PeerCmd::Data { bytes, file }).await;
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
        }
    }

    async fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Send { to, bytes } => self.send(to, bytes, false).await,
            Command::SendPieces {
                to, bytes, file, ..
            } => self.send(to, bytes, file).await,
            Command::ShutdownWrite(to) => {
                self.shutdown_asked = true;
                if let Ok(ids) = self.targets(&to) {
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

/// `--reconnect`: a client session that outlives its connections. When the peer goes
/// away or an attempt fails, it waits (doubling from `first` up to [`RECONNECT_MAX`]) and
/// connects again, as the same peer `#1` with its byte counts carried on, until the face
/// ends it: quit, or our own half-close (stdin ended) followed by the peer's close.
async fn reconnecting(
    target: Endpoint,
    opts: ConnectOptions,
    cfg: SessionConfig,
    first: Duration,
    mut opened: Result<Opened>,
    ev_tx: mpsc::Sender<Event>,
    mut cmd_rx: mpsc::Receiver<Command>,
) -> Result<()> {
    let mut engine = Engine::new(cfg, ev_tx.clone());
    let mut attempt: u32 = 0;
    let mut delay = first;
    // The failed attempt we are waiting to retry: if the face ends the session before a
    // connection is back, that failure is the session's outcome (exit 1, not 0).
    let mut failed: Option<Error>;
    loop {
        let reason = match opened {
            // A bad CA file or socket path will not fix itself by waiting, nor will a
            // certificate we refused.
            Err(e) if e.is_usage() || e.is_lasting() => return Err(e),
            Err(e) => {
                let reason = e.to_string();
                failed = Some(e);
                reason
            }
            Ok(Opened::Datagram(..)) => {
                return Err(Error::Unsupported {
                    what: "--reconnect over a datagram transport: it has no connection to lose"
                        .into(),
                })
            }
            Ok(Opened::Stream(stream)) => {
                attempt = 0;
                delay = first;
                failed = None;
                // The same peer, whichever connection carries it.
                engine.next_id = 1;
                engine.add_peer(stream).await;
                match engine.run(&mut cmd_rx, None, true).await {
                    RunEnd::Quit | RunEnd::Gone { ours: true, .. } => return Ok(()),
                    RunEnd::Gone {
                        reason, counted, ..
                    } => {
                        engine.counted = counted;
                        reason.describe()
                    }
                }
            }
        };
        attempt = attempt.saturating_add(1);
        let _ = ev_tx
            .send(Event::now(EventKind::Reconnecting {
                attempt,
                delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                reason,
            }))
            .await;
        let slept = tokio::select! {
            _ = tokio::time::sleep(delay) => true,
            _ = until_quit(&mut cmd_rx, &ev_tx) => false,
        };
        if !slept {
            return failed.map_or(Ok(()), Err);
        }
        delay = (delay * 2).min(RECONNECT_MAX);
        let attempted = tokio::select! {
            o = open_shown(&target, &opts, &ev_tx) => Some(o),
            _ = until_quit(&mut cmd_rx, &ev_tx) => None,
        };
        match attempted {
            Some(o) => opened = o,
            None => return failed.map_or(Ok(()), Err),
        }
    }
}

/// While no connection is up: returns when the face ends the session (quit, or its own
/// half-close: there is nothing more to send, so nothing to reconnect for). Data sent
/// meanwhile is refused with an error event rather than held for a peer that may never
/// come back.
async fn until_quit(commands: &mut mpsc::Receiver<Command>, events: &mpsc::Sender<Event>) {
    loop {
        match commands.recv().await {
            None | Some(Command::Quit) | Some(Command::ShutdownWrite(_)) => return,
            Some(Command::Send { .. } | Command::SendPieces { .. }) => {
                let _ = events
                    .send(Event::now(EventKind::Error {
                        peer: None,
                        message: "not sent: not connected (reconnecting)".into(),
                    }))
                    .await;
            }
            Some(Command::Kick(_)) => {}
        }
    }
}
