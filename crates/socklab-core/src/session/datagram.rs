//! The engine for datagram transports (UDP, unixgram): the same commands and events as the
//! stream engine, over one socket and no connections.
//!
//! Each datagram is one event, never merged with the next or cut (a datagram larger than
//! the receive buffer is reported as truncated with its real size). A server gives each new
//! sender an id with its first datagram, as a stream server does with each client, and
//! answers the last sender by default. A datagram peer never says it is done, so a client
//! whose face has nothing more to send ends after [`SessionConfig::linger`] of silence.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use bytes::Bytes;
use rustix::net::{RecvFlags, SendFlags, SocketAddrAny, SocketAddrUnix};
use tokio::io::Interest;
use tokio::net::{UdpSocket, UnixDatagram};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::command::{Command, Target};
use super::engine::{announce_reachable, SessionConfig};
use super::event::{Addr, CloseReason, Data, Direction, Event, EventKind, Peer, PeerId, Scheme};
use super::reply::Reply;

/// Receive buffer: larger than any UDP payload (65,527 bytes over IPv6), so only a unixgram
/// datagram can be larger, and that is then reported as truncated, not silently cut.
pub const RECV_BUFFER: usize = 64 * 1024;
/// Senders turned away (`--max-clients`, `--once`) are reported once each; remember this
/// many so a flood of new addresses cannot grow memory.
const REJECTED_MEMORY: usize = 4096;
/// Sources refused by `--allow`/`--deny` are reported once per IP address (a client
/// retrying from new ports is still one refusal). When this many are remembered the
/// memory starts over: a flood of new addresses costs log lines, never unbounded memory,
/// and a refusal is never silently left out of the log for good.
const REFUSED_MEMORY: usize = 4096;
/// `--idle-timeout` over UDP: how often silent senders are looked for, as a part of the
/// timeout (a sender is forgotten between 1 and 1.25 timeouts after its last datagram),
/// within bounds that keep a short timeout precise and a long one cheap.
const IDLE_SWEEPS: u32 = 4;
const IDLE_SWEEP_MIN: Duration = Duration::from_millis(10);
const IDLE_SWEEP_MAX: Duration = Duration::from_secs(1);

/// A datagram socket of either family.
pub(crate) enum Socket {
    Udp(UdpSocket),
    Unix(UnixDatagram),
}

/// Where a datagram goes: the socket address in the form `sendto(2)` takes.
#[derive(Debug, Clone)]
pub(crate) enum To {
    Ip(SocketAddr),
    Unix(SocketAddrUnix),
}

/// A client's destination, peer #1.
pub(crate) struct Dest {
    addr: Addr,
    /// `None` when the socket is connected to it (send(2) then goes there and only its
    /// datagrams arrive); broadcast and multicast destinations are not connected, because
    /// the answers come from other (unicast) addresses.
    to: Option<To>,
}

impl Dest {
    pub fn connected(addr: Addr) -> Dest {
        Dest { addr, to: None }
    }

    pub fn unconnected(to: SocketAddr) -> Dest {
        Dest {
            addr: Addr::canonical(to),
            to: Some(To::Ip(to)),
        }
    }
}

impl Socket {
    fn scheme(&self) -> Scheme {
        match self {
            Socket::Udp(_) => Scheme::Udp,
            Socket::Unix(_) => Scheme::UnixGram,
        }
    }

    fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Socket::Udp(s) => s.as_fd(),
            Socket::Unix(s) => s.as_fd(),
        }
    }

    fn local(&self) -> Addr {
        match self {
            Socket::Udp(s) => s
                .local_addr()
                .map(Addr::canonical)
                .unwrap_or_else(|_| Addr::unnamed()),
            Socket::Unix(s) => s
                .local_addr()
                .map(|a| Addr::from_std_unix(&a.into()))
                .unwrap_or_else(|_| Addr::unnamed()),
        }
    }

    async fn io<R>(&self, interest: Interest, f: impl FnMut() -> io::Result<R>) -> io::Result<R> {
        match self {
            Socket::Udp(s) => s.async_io(interest, f).await,
            Socket::Unix(s) => s.async_io(interest, f).await,
        }
    }

    /// One datagram: (bytes kept, its real size, who sent it). MSG_TRUNC makes the kernel
    /// return the real size even when the buffer was smaller.
    async fn recv(&self, buf: &mut [u8]) -> io::Result<(usize, usize, Option<(Addr, To)>)> {
        if let Socket::Udp(s) = self {
            // udp::recv also wakes on the error queue, where an ICMP port unreachable lands.
            let d = crate::transport::udp::recv(s, buf).await?;
            return Ok((d.n, d.len, Some((Addr::canonical(d.from), To::Ip(d.from)))));
        }
        let fd = self.fd();
        let (n, len, from) = self
            .io(Interest::READABLE, || {
                rustix::net::recvfrom(fd, &mut *buf, RecvFlags::TRUNC).map_err(io::Error::from)
            })
            .await?;
        Ok((n, len, from.and_then(sender)))
    }

    async fn send(&self, bytes: &[u8], to: Option<&To>) -> io::Result<usize> {
        let fd = self.fd();
        self.io(Interest::WRITABLE, || {
            let sent = match to {
                None => rustix::net::send(fd, bytes, SendFlags::empty()),
                Some(To::Ip(a)) => rustix::net::sendto(fd, bytes, SendFlags::empty(), a),
                Some(To::Unix(a)) => rustix::net::sendto(fd, bytes, SendFlags::empty(), a),
            };
            sent.map_err(io::Error::from)
        })
        .await
    }
}

fn sender(any: SocketAddrAny) -> Option<(Addr, To)> {
    if let Ok(ip) = SocketAddr::try_from(any.clone()) {
        let canonical = SocketAddr::new(ip.ip().to_canonical(), ip.port());
        return Some((Addr::Ip(canonical), To::Ip(ip)));
    }
    let unix = SocketAddrUnix::try_from(any).ok()?;
    Some((Addr::from_rustix_unix(&unix), To::Unix(unix)))
}

/// What the user typed after `/to`, as a place to send to.
fn parse_to(text: &str, scheme: Scheme) -> Option<(Addr, To)> {
    match scheme {
        Scheme::Udp => {
            let a: SocketAddr = text.strip_prefix("udp://").unwrap_or(text).parse().ok()?;
            Some((Addr::canonical(a), To::Ip(a)))
        }
        _ => {
            let name = text.strip_prefix("unixgram:").unwrap_or(text);
            let unix = match name.strip_prefix('@') {
                Some(n) => SocketAddrUnix::new_abstract_name(n.as_bytes()).ok()?,
                None => SocketAddrUnix::new(name).ok()?,
            };
            Some((Addr::from_rustix_unix(&unix), To::Unix(unix)))
        }
    }
}

/// Put a send error in the user's words: UDP's wording (broadcast, size, routes) lives
/// with the UDP transport; a refusal ends a client and is worded by [`refused`].
fn explain(e: &io::Error, dest: &Addr, to: Option<&To>) -> String {
    match (to, dest) {
        _ if e.kind() == io::ErrorKind::ConnectionRefused => refused(dest),
        (Some(To::Ip(a)), _) | (None, Addr::Ip(a)) => {
            crate::transport::udp::explain_send_error(e, a)
        }
        _ => format!("not sent to {dest}: {e}"),
    }
}

fn refused(dest: &Addr) -> String {
    match dest {
        Addr::Ip(_) => {
            format!("nobody is listening at {dest} (the host answered ICMP port unreachable)")
        }
        Addr::Unix(_) => format!("nobody is listening at {dest} (connection refused)"),
    }
}

struct DPeer {
    peer: Peer,
    /// `None`: the connected destination.
    to: Option<To>,
    bytes_in: u64,
    bytes_out: u64,
    announced: bool,
    /// When a datagram last went either way: what `--idle-timeout` measures.
    last_active: Instant,
}

struct Engine {
    cfg: SessionConfig,
    events: mpsc::Sender<Event>,
    scheme: Scheme,
    local: Addr,
    client: bool,
    peers: BTreeMap<PeerId, DPeer>,
    by_addr: HashMap<Addr, PeerId>,
    rejected: HashSet<Addr>,
    /// Source addresses refused by the access policy and already reported.
    refused: HashSet<IpAddr>,
    next_id: PeerId,
    last: Option<PeerId>,
    served: u64,
    /// Auto-replies with a delay, when their time has come.
    delayed_tx: mpsc::UnboundedSender<(PeerId, Bytes)>,
    delayed_rx: Option<mpsc::UnboundedReceiver<(PeerId, Bytes)>>,
}

/// Whether the session goes on after a step.
#[derive(PartialEq)]
enum Flow {
    Go,
    Stop,
}

/// A client session: peer #1 is the destination.
pub(crate) async fn run_client(
    sock: Socket,
    dest: Dest,
    cfg: SessionConfig,
    events: mpsc::Sender<Event>,
    commands: mpsc::Receiver<Command>,
) {
    let mut engine = Engine::new(&sock, cfg, events, true);
    engine.add(dest.addr, dest.to).await;
    engine.run(&sock, commands).await;
}

/// A server session on a bound socket.
pub(crate) async fn run_server(
    sock: Socket,
    cfg: SessionConfig,
    events: mpsc::Sender<Event>,
    commands: mpsc::Receiver<Command>,
) {
    let mut engine = Engine::new(&sock, cfg, events, false);
    let local = engine.local.clone();
    engine
        .emit(EventKind::Listening {
            addr: local.clone(),
            transport: engine.scheme,
        })
        .await;
    announce_reachable(&[local], &engine.events).await;
    engine.run(&sock, commands).await;
}

impl Engine {
    fn new(sock: &Socket, cfg: SessionConfig, events: mpsc::Sender<Event>, client: bool) -> Engine {
        let (delayed_tx, delayed_rx) = mpsc::unbounded_channel();
        Engine {
            delayed_tx,
            delayed_rx: Some(delayed_rx),
            cfg,
            events,
            scheme: sock.scheme(),
            local: sock.local(),
            client,
            peers: BTreeMap::new(),
            by_addr: HashMap::new(),
            rejected: HashSet::new(),
            refused: HashSet::new(),
            next_id: 1,
            last: None,
            served: 0,
        }
    }

    async fn emit(&self, kind: EventKind) {
        let _ = self.events.send(Event::now(kind)).await;
    }

    async fn error(&self, peer: Option<PeerId>, message: String) {
        self.emit(EventKind::Error { peer, message }).await;
    }

    /// A new peer: the destination of a client, or a new sender (or `/to` address).
    async fn add(&mut self, addr: Addr, to: Option<To>) -> PeerId {
        let id = self.next_id;
        self.next_id += 1;
        self.served += 1;
        let peer = Peer {
            id,
            addr: addr.clone(),
        };
        self.emit(EventKind::Connected {
            peer: peer.clone(),
            local: self.local.clone(),
            transport: self.scheme,
            cred: None,
        })
        .await;
        self.by_addr.insert(addr, id);
        self.peers.insert(
            id,
            DPeer {
                peer,
                to,
                bytes_in: 0,
                bytes_out: 0,
                announced: !matches!(self.cfg.encoding, crate::codec::Encoding::Auto),
                last_active: Instant::now(),
            },
        );
        id
    }

    fn closed(&self, p: &DPeer, reason: CloseReason) -> EventKind {
        EventKind::Closed {
            peer: p.peer.clone(),
            reason,
            bytes_in: p.bytes_in,
            bytes_out: p.bytes_out,
        }
    }

    async fn run(&mut self, sock: &Socket, mut commands: mpsc::Receiver<Command>) {
        let mut buf = vec![0u8; RECV_BUFFER];
        let mut linger_until: Option<Instant> = None;
        let mut delayed = self.delayed_rx.take();
        let idle_limit = self.cfg.idle_timeout.filter(|_| !self.client);
        let mut sweeps = idle_limit.map(|limit| {
            let every = (limit / IDLE_SWEEPS).clamp(IDLE_SWEEP_MIN, IDLE_SWEEP_MAX);
            let mut t = tokio::time::interval(every);
            t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            t
        });
        let end = loop {
            let linger = async {
                match linger_until {
                    Some(t) => tokio::time::sleep_until(t).await,
                    None => std::future::pending().await,
                }
            };
            let sweep = async {
                match sweeps.as_mut() {
                    Some(t) => t.tick().await,
                    None => std::future::pending().await,
                }
            };
            let due = async {
                match delayed.as_mut() {
                    Some(rx) => rx.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                Some((id, bytes)) = due => {
                    if self.send_to(sock, id, bytes, false).await == Flow::Stop {
                        break CloseReason::Local;
                    }
                }
                _ = sweep => {
                    if let Some(limit) = idle_limit {
                        self.forget_idle(limit).await;
                    }
                }
                cmd = commands.recv() => match cmd {
                    None | Some(Command::Quit) => break CloseReason::Local,
                    Some(Command::ShutdownWrite(_)) => {
                        if self.client {
                            linger_until = Some(Instant::now() + self.cfg.linger);
                        }
                    }
                    Some(cmd) => {
                        if self.command(sock, cmd).await == Flow::Stop {
                            break CloseReason::Local;
                        }
                    }
                },
                got = sock.recv(&mut buf) => match got {
                    Ok((n, len, from)) => {
                        if linger_until.is_some() {
                            linger_until = Some(Instant::now() + self.cfg.linger);
                        }
                        if self.datagram(sock, &buf[..n], len, from).await == Flow::Stop {
                            break CloseReason::Local;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::ConnectionRefused && self.client => {
                        let dest = self.peers.get(&1).map(|p| p.peer.addr.clone());
                        break CloseReason::Error(refused(&dest.unwrap_or_else(Addr::unnamed)));
                    }
                    // A server's unconnected socket can hear of an earlier send's ICMP error;
                    // it concerns one datagram, not the session.
                    Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                        self.error(None, format!("an earlier datagram was refused: {e}")).await;
                    }
                    Err(e) => {
                        self.error(None, format!("receiving failed: {e}")).await;
                        break CloseReason::Error(e.to_string());
                    }
                },
                _ = linger => break CloseReason::Local,
            }
        };
        for p in std::mem::take(&mut self.peers).into_values() {
            // The client's destination carries the reason; senders of a server just end.
            let reason = if self.client && p.peer.id == 1 {
                end.clone()
            } else {
                CloseReason::Local
            };
            let ev = self.closed(&p, reason);
            self.emit(ev).await;
        }
    }

    fn decode(&self, bytes: &[u8]) -> (String, Option<&'static str>) {
        let mut text = String::new();
        if self.cfg.skip_text {
            return (text, None);
        }
        // Each datagram is a whole message: decoded on its own, nothing held back.
        let mut d = self.cfg.encoding.decoder();
        d.decode(bytes, &mut text);
        d.finish(&mut text);
        (text, d.detected())
    }

    /// Forget the senders silent for `limit`: they get a `Closed` event, and a datagram
    /// from them later makes them a new peer.
    async fn forget_idle(&mut self, limit: Duration) {
        let now = Instant::now();
        let idle: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| now.duration_since(p.last_active) >= limit)
            .map(|(id, _)| *id)
            .collect();
        for id in idle {
            if let Some(p) = self.peers.remove(&id) {
                self.by_addr.remove(&p.peer.addr);
                let ev = self.closed(&p, CloseReason::IdleTimeout);
                self.emit(ev).await;
            }
        }
    }

    /// Whether a datagram from `from` is dropped by the access policy; the first one from
    /// each source IP is reported with why.
    async fn refused(&mut self, from: &Option<(Addr, To)>) -> bool {
        if self.client || self.cfg.access.is_open() {
            return false;
        }
        let Some(ip) = from.as_ref().and_then(|(a, _)| a.ip()).map(|a| a.ip()) else {
            return false;
        };
        let Some(reason) = self.cfg.access.refusal(ip) else {
            return false;
        };
        if self.refused.len() >= REFUSED_MEMORY {
            self.refused.clear();
        }
        if self.refused.insert(ip) {
            if let Some((addr, _)) = from {
                let addr = addr.clone();
                self.emit(EventKind::Rejected { addr, reason }).await;
            }
        }
        true
    }

    async fn datagram(
        &mut self,
        sock: &Socket,
        bytes: &[u8],
        len: usize,
        from: Option<(Addr, To)>,
    ) -> Flow {
        // Checked before anything else, so a refused source never becomes a peer, even one
        // the user addressed with `/to`.
        if self.refused(&from).await {
            return Flow::Go;
        }
        // A connected client hears only its destination, whatever name the kernel gives it.
        let connected = self.client && self.peers.get(&1).is_some_and(|p| p.to.is_none());
        let found = if connected {
            Some(1)
        } else {
            from.as_ref()
                .and_then(|(a, _)| self.by_addr.get(a).copied())
        };
        let id = match (found, from) {
            (Some(id), _) => id,
            (None, Some((addr, to))) => {
                if let Some(reason) = self.turn_away() {
                    if self.rejected.len() < REJECTED_MEMORY && self.rejected.insert(addr.clone()) {
                        self.emit(EventKind::Rejected { addr, reason }).await;
                    }
                    return Flow::Go;
                }
                self.add(addr, Some(to)).await
            }
            // An unnamed unixgram sender can be shown but never answered.
            (None, None) => match self.by_addr.get(&Addr::unnamed()) {
                Some(id) => *id,
                None => self.add(Addr::unnamed(), None).await,
            },
        };
        if !self.client {
            self.last = Some(id);
        }
        let (text, detected) = self.decode(bytes);
        let bytes = Bytes::copy_from_slice(bytes);
        let Some(p) = self.peers.get_mut(&id) else {
            return Flow::Go;
        };
        p.bytes_in += bytes.len() as u64;
        p.last_active = Instant::now();
        let peer = p.peer.clone();
        let announce = match detected {
            Some(name) if !p.announced => {
                p.announced = true;
                Some(name)
            }
            _ => None,
        };
        if let Some(encoding) = announce {
            self.emit(EventKind::Detected {
                peer: peer.clone(),
                direction: Direction::Received,
                encoding,
            })
            .await;
        }
        let mut data = Data::new(bytes.clone(), text);
        data.truncated = (len > bytes.len()).then_some(len);
        // A datagram is already one message: `--frame` does not cut it, but says that its
        // bounds are the message's, so a trailing checksum can be checked.
        if let (Some(c), Some(frame)) = (&self.cfg.verify, &self.cfg.frame) {
            data.checksum = Some(c.verify(frame.payload(&bytes)));
        }
        if self
            .events
            .send(Event::now(EventKind::Received { peer, data }))
            .await
            .is_err()
        {
            return Flow::Stop;
        }
        if self.cfg.echo && self.send_to(sock, id, bytes.clone(), false).await == Flow::Stop {
            return Flow::Stop;
        }
        let Some(replies) = self.cfg.replies.clone() else {
            return Flow::Go;
        };
        match replies.answer(&bytes) {
            None => Flow::Go,
            Some(Ok(Reply { bytes, delay: None })) => self.send_to(sock, id, bytes, false).await,
            Some(Ok(Reply {
                bytes,
                delay: Some(delay),
            })) => {
                // Answered later by the run loop, which meanwhile goes on reading.
                let tx = self.delayed_tx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let _ = tx.send((id, bytes));
                });
                Flow::Go
            }
            Some(Err(e)) => {
                self.error(Some(id), format!("no auto-reply sent: {e}"))
                    .await;
                Flow::Go
            }
        }
    }

    /// Why a new sender is not served, if it is not.
    fn turn_away(&self) -> Option<String> {
        if self.client {
            return None;
        }
        if self.cfg.once && self.served > 0 {
            return Some("--once: serving only the first sender".into());
        }
        match self.cfg.max_clients {
            Some(max) if self.peers.len() >= max => Some(format!("max clients ({max}) reached")),
            _ => None,
        }
    }

    async fn targets(&mut self, to: Target) -> Result<Vec<PeerId>, String> {
        let none = || {
            "not sent: no one has sent a datagram yet; use /to ADDR to choose a receiver"
                .to_string()
        };
        match to {
            Target::Default if self.client => Ok(vec![1]),
            Target::Default => self
                .last
                .filter(|id| self.peers.contains_key(id))
                .map(|id| vec![id])
                .ok_or_else(none),
            Target::All if self.peers.is_empty() => Err(none()),
            Target::All => Ok(self.peers.keys().copied().collect()),
            Target::Peer(id) if self.peers.contains_key(&id) => Ok(vec![id]),
            Target::Peer(id) => Err(format!("no peer #{id}; /list shows who has sent")),
            Target::Addr(text) => {
                if let Some((_, id)) = self.by_addr.iter().find(|(a, _)| a.to_string() == text) {
                    return Ok(vec![*id]);
                }
                match parse_to(&text, self.scheme) {
                    Some((addr, to)) => match self.by_addr.get(&addr) {
                        Some(id) => Ok(vec![*id]),
                        None => Ok(vec![self.add(addr, Some(to)).await]),
                    },
                    None => Err(format!(
                        "'{text}' is no peer id and no address; expected an id from /list or {}",
                        if self.scheme == Scheme::Udp {
                            "IP:PORT"
                        } else {
                            "a socket path or @name"
                        }
                    )),
                }
            }
        }
    }

    async fn command(&mut self, sock: &Socket, cmd: Command) -> Flow {
        match cmd {
            // A Send is one datagram: a single piece, the whole of it.
            Command::Send { to, bytes } => {
                let size = bytes.len();
                self.send_pieces(sock, to, bytes, size, false).await
            }
            Command::SendPieces {
                to,
                bytes,
                size,
                file,
            } => self.send_pieces(sock, to, bytes, size, file).await,
            Command::Kick(id) => {
                match self.peers.remove(&id) {
                    Some(p) => {
                        self.by_addr.remove(&p.peer.addr);
                        let ev = self.closed(&p, CloseReason::Kicked);
                        self.emit(ev).await;
                        if self.client {
                            return Flow::Stop;
                        }
                    }
                    None => {
                        self.error(None, format!("no peer #{id}; /list shows who has sent"))
                            .await
                    }
                }
                Flow::Go
            }
            Command::ShutdownWrite(_) | Command::Quit => Flow::Go,
        }
    }

    /// `bytes` as datagrams of at most `size` bytes to each target.
    async fn send_pieces(
        &mut self,
        sock: &Socket,
        to: Target,
        bytes: Bytes,
        size: usize,
        file: bool,
    ) -> Flow {
        let ids = match self.targets(to).await {
            Ok(ids) => ids,
            Err(message) => {
                self.error(None, message).await;
                return Flow::Go;
            }
        };
        for id in ids {
            let mut rest = bytes.clone();
            // An empty Send is one empty datagram, which UDP allows.
            loop {
                let piece = rest.split_to(size.max(1).min(rest.len()));
                if self.send_to(sock, id, piece, file).await == Flow::Stop {
                    return Flow::Stop;
                }
                if rest.is_empty() {
                    break;
                }
            }
        }
        Flow::Go
    }

    /// One datagram to one peer; the `Sent` event follows a successful send (this task is
    /// also the only reader, so no answer can be shown ahead of it).
    async fn send_to(&mut self, sock: &Socket, id: PeerId, bytes: Bytes, file: bool) -> Flow {
        let Some(p) = self.peers.get(&id) else {
            return Flow::Go;
        };
        let (addr, to) = (p.peer.addr.clone(), p.to.clone());
        let dest = match (&to, &addr) {
            (Some(To::Ip(a)), _) | (None, Addr::Ip(a)) => Some(*a),
            _ => None,
        };
        if let Some(dest) = dest {
            if let Err(e) = crate::transport::udp::check_size(bytes.len(), &dest) {
                self.error(Some(id), format!("not sent: {e}")).await;
                return Flow::Go;
            }
        }
        match sock.send(&bytes, to.as_ref()).await {
            Ok(_) => {
                let (text, _) = self.decode(&bytes);
                if let Some(p) = self.peers.get_mut(&id) {
                    p.bytes_out += bytes.len() as u64;
                    p.last_active = Instant::now();
                }
                let data = Data {
                    file,
                    ..Data::new(bytes, text)
                };
                let peer = Peer { id, addr };
                self.emit(EventKind::Sent { peer, data }).await;
                Flow::Go
            }
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused && self.client => {
                if let Some(p) = self.peers.remove(&id) {
                    let ev = self.closed(&p, CloseReason::Error(refused(&addr)));
                    self.emit(ev).await;
                }
                Flow::Stop
            }
            Err(e) => {
                self.error(Some(id), explain(&e, &addr, to.as_ref())).await;
                Flow::Go
            }
        }
    }
}
