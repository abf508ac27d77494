//! The sessions of the web UI. They belong to the server process, not to a WebSocket: a
//! page that reloads or loses its socket finds them still running, with counters that
//! never stopped counting, because the counters are folded here from every event whether
//! or not a page is listening.
//!
//! Every message for the pages goes through one broadcast channel. It is bounded: a page
//! that reads too slowly misses messages (and is told how many), while the sessions and
//! their counters never wait for a browser.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::json;
use socklab_core::codec::{encode_input, Encoding, InputOptions};
use socklab_core::endpoint::Endpoint;
use socklab_core::session::{
    format_time, Addr, Command, Event, EventKind, PeerId, PeerTable, Session, SessionConfig,
    Target, TimeFormat,
};
use socklab_core::transport::tls::{client_config, Fingerprint, TlsClientOptions};
use socklab_core::transport::{self, ConnectOptions, ListenOptions};
use tokio::sync::{broadcast, mpsc};

/// Messages kept for a page that is behind. A received chunk is at most 64 KiB (about
/// 200 KB as JSON with hex and text), so this bounds the backlog at a few tens of MB in the
/// worst case and a few hundred KB in the usual one.
const BACKLOG: usize = 256;

/// How long a client session may take to resolve, connect (and shake hands, for TLS).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// A reconnecting client's first pause; it doubles up to the core's limit (30s).
const RECONNECT_FIRST: Duration = Duration::from_secs(1);

/// Events go to the pages in frames, at most one per session per FRAME: a fast stream
/// becomes ~20 messages a second instead of thousands, and the session itself never waits.
const FRAME: Duration = Duration::from_millis(50);

/// Data a frame carries at most (bytes of payload, about 3x that as JSON). Beyond it the
/// frame says how many events and bytes it skipped; the counters it carries stay exact.
const FRAME_BYTES: usize = 256 << 10;

/// Events of any kind a frame carries at most (a storm of connects is skipped the same way).
const FRAME_EVENTS: usize = 512;
/// The least of a large read worth showing cut, when a frame has less room left than that.
const MIN_PIECE: usize = 16 << 10;

/// Keep the first `keep` bytes of a read, and the text that fits in as many bytes (cut at a
/// character); `truncated` says how big it was.
fn cut(data: &mut socklab_core::session::Data, keep: usize) {
    let real = data.truncated.unwrap_or(data.len);
    data.bytes = data.bytes.slice(..keep.min(data.bytes.len()));
    let mut end = keep.min(data.text.len());
    while !data.text.is_char_boundary(end) {
        end -= 1;
    }
    data.text.truncate(end);
    data.len = data.bytes.len();
    data.truncated = Some(real);
}

/// What a session tab is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    TcpClient,
    TcpServer,
    UdpClient,
    UdpServer,
    TlsClient,
    TlsServer,
    UnixClient,
    UnixServer,
}

impl Mode {
    pub fn is_server(self) -> bool {
        matches!(
            self,
            Mode::TcpServer | Mode::UdpServer | Mode::TlsServer | Mode::UnixServer
        )
    }

    /// A client over a connection (tcp, tls, unix): one that can reconnect.
    pub fn is_stream_client(self) -> bool {
        matches!(self, Mode::TcpClient | Mode::TlsClient | Mode::UnixClient)
    }

    /// The endpoint text for an address typed in the settings row: the mode says the
    /// transport, so the user types only `127.0.0.1:7788` or a path.
    fn endpoint(self, address: &str) -> String {
        let prefix = match self {
            Mode::TcpClient | Mode::TcpServer => "",
            Mode::UdpClient | Mode::UdpServer => "udp://",
            Mode::TlsClient | Mode::TlsServer => "tls://",
            Mode::UnixClient | Mode::UnixServer => "unix:",
        };
        if address.starts_with(prefix) {
            address.to_string()
        } else {
            format!("{prefix}{address}")
        }
    }
}

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Connecting,
    Connected,
    Listening,
    Closed,
}

/// The line ending added to sent text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Eol {
    #[default]
    None,
    Lf,
    Crlf,
    Cr,
}

impl Eol {
    fn as_str(self) -> &'static str {
        match self {
            Eol::None => "",
            Eol::Lf => "\n",
            Eol::Crlf => "\r\n",
            Eol::Cr => "\r",
        }
    }
}

/// Whom a send goes to: `"all"`, a peer id, several peer ids, or a peer's address.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum To {
    Peer(PeerId),
    Peers(Vec<PeerId>),
    Name(String),
}

impl To {
    fn targets(&self) -> Vec<Target> {
        match self {
            To::Peer(id) => vec![Target::Peer(*id)],
            To::Peers(ids) => ids.iter().map(|id| Target::Peer(*id)).collect(),
            To::Name(s) if s == "all" => vec![Target::All],
            To::Name(s) if s.is_empty() || s == "default" => vec![Target::Default],
            To::Name(s) => vec![Target::Addr(s.clone())],
        }
    }
}

struct Entry {
    /// Which open this is: a pump of an earlier session with the same id leaves it alone.
    generation: u64,
    mode: Mode,
    address: String,
    encoding: Encoding,
    trust: Option<Trust>,
    reconnect: bool,
    state: State,
    local: Option<Addr>,
    /// For a server on every interface: the addresses clients can use to reach it.
    reachable: Vec<String>,
    table: PeerTable,
    commands: mpsc::Sender<Command>,
    /// Close was asked: forget the session once it has ended.
    closing: bool,
}

/// A session as a page needs it to draw its tab after a reload.
#[derive(Debug, Serialize)]
pub struct Snapshot {
    pub sid: String,
    pub mode: Mode,
    pub address: String,
    pub encoding: &'static str,
    /// A TLS client's trust, as opened: a page that reloads shows it again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<Trust>,
    /// Opened to reconnect when the peer goes away.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub reconnect: bool,
    pub state: State,
    pub local: Option<Addr>,
    pub reachable: Vec<String>,
    #[serde(flatten)]
    pub stats: Stats,
}

/// The counters of a session and of each peer it has now. Every frame carries them, so a
/// page that skipped events (or missed messages) still shows exact numbers.
#[derive(Debug, Serialize)]
pub struct Stats {
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub chunks_in: u64,
    pub chunks_out: u64,
    pub served: u64,
    pub peers: Vec<PeerSnapshot>,
}

#[derive(Debug, Serialize)]
pub struct PeerSnapshot {
    pub peer: PeerId,
    pub addr: Addr,
    pub since: String,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

impl Entry {
    fn snapshot(&self, sid: &str) -> Snapshot {
        Snapshot {
            sid: sid.to_string(),
            mode: self.mode,
            address: self.address.clone(),
            encoding: self.encoding.name(),
            tls: self.trust.clone(),
            reconnect: self.reconnect,
            state: self.state,
            local: self.local.clone(),
            reachable: self.reachable.clone(),
            stats: self.stats(),
        }
    }

    fn stats(&self) -> Stats {
        let t = &self.table;
        Stats {
            bytes_in: t.totals.bytes_in,
            bytes_out: t.totals.bytes_out,
            chunks_in: t.totals.chunks_in,
            chunks_out: t.totals.chunks_out,
            served: t.served,
            peers: t
                .peers
                .iter()
                .map(|(id, p)| PeerSnapshot {
                    peer: *id,
                    addr: p.addr.clone(),
                    since: format_time(&p.since, TimeFormat::Rfc3339).to_string(),
                    bytes_in: p.counts.bytes_in,
                    bytes_out: p.counts.bytes_out,
                })
                .collect(),
        }
    }
}

/// Events waiting for the next frame of one session.
#[derive(Default)]
struct Frame {
    events: Vec<Event>,
    bytes: usize,
    skipped_events: u64,
    skipped_bytes: u64,
}

impl Frame {
    fn add(&mut self, mut ev: Event) {
        let len = match &ev.kind {
            EventKind::Received { data, .. } | EventKind::Sent { data, .. } => data.len,
            _ => 0,
        };
        let room = FRAME_BYTES - self.bytes;
        if self.events.len() >= FRAME_EVENTS || (len > room && room < MIN_PIECE) {
            self.skipped_events += 1;
            self.skipped_bytes += len as u64;
            return;
        }
        if len > room {
            // A read larger than the frame's room (a fast stream reads up to 512 KiB at a
            // time) is shown cut, not skipped whole: a page under a fast stream still sees
            // what the data looks like. `truncated` keeps its real size; the rest counts as
            // skipped bytes.
            if let EventKind::Received { data, .. } | EventKind::Sent { data, .. } = &mut ev.kind {
                cut(data, room);
            }
            self.skipped_bytes += (len - room) as u64;
        }
        self.bytes += len.min(room);
        self.events.push(ev);
    }

    fn is_empty(&self) -> bool {
        self.events.is_empty() && self.skipped_events == 0
    }
}

struct Inner {
    sessions: BTreeMap<String, Entry>,
    next_generation: u64,
}

/// Every session, and the channel their messages go out on.
pub struct Hub {
    inner: Mutex<Inner>,
    out: broadcast::Sender<Arc<str>>,
}

/// What an open asks for.
#[derive(Debug, Deserialize)]
pub struct OpenRequest {
    pub sid: String,
    pub mode: Mode,
    pub address: String,
    #[serde(default)]
    pub encoding: Option<String>,
    /// How a TLS client trusts its server; absent: the system roots.
    #[serde(default)]
    pub tls: Option<Trust>,
    /// A tcp, tls or unix client connects again when the peer goes away or cannot be
    /// reached, as the CLI's `--reconnect` (after 1s, doubling up to 30s), as the same
    /// peer with its counters carried on.
    #[serde(default)]
    pub reconnect: bool,
}

/// How a TLS client session trusts its server: the CLI's `--pin`, `--ca`, `--insecure` and
/// `--sni`. A device on the bench has a self-signed certificate, which the system roots
/// never trust: pinning its fingerprint is the safe way past that.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trust {
    /// SHA-256 of the server's certificate, `AB:CD:...` (colons optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<String>,
    /// PEM file of CA certificates to trust instead of the system roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<std::path::PathBuf>,
    /// Accept any certificate.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure: bool,
    /// Name to send and to check the certificate against, instead of the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
}

impl Trust {
    /// The core's options, or what is wrong with them (before anything connects).
    fn options(&self) -> Result<TlsClientOptions, String> {
        let pin = match self.pin.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(p) => Some(p.parse::<Fingerprint>().map_err(|e| format!("pin: {e}"))?),
        };
        let opts = TlsClientOptions {
            ca: self.ca.clone().filter(|p| !p.as_os_str().is_empty()),
            insecure: self.insecure,
            sni: self.sni.clone().filter(|s| !s.trim().is_empty()),
            alpn: Vec::new(),
            pin,
        };
        // A CA file that cannot be read is said now, in the tab, not after a connect.
        client_config(&opts).map_err(|e| e.to_string())?;
        Ok(opts)
    }
}

/// What a send asks for.
#[derive(Debug, Deserialize)]
pub struct SendRequest {
    pub sid: String,
    #[serde(default)]
    pub to: Option<To>,
    pub data: String,
    #[serde(default)]
    pub hex: bool,
    #[serde(default)]
    pub eol: Eol,
    /// A piece of a file the page is sending: its `sent` events are marked `file`, and the
    /// page shows one line for the file instead of each piece.
    #[serde(default)]
    pub file: bool,
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new()
    }
}

impl Hub {
    pub fn new() -> Hub {
        let (out, _) = broadcast::channel(BACKLOG);
        Hub {
            inner: Mutex::new(Inner {
                sessions: BTreeMap::new(),
                next_generation: 0,
            }),
            out,
        }
    }

    /// A poisoned lock only means a thread panicked while holding it; the map is still
    /// whole (every change is a single insert, remove or field update), so go on with it.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn publish(&self, msg: serde_json::Value) {
        // No page listening is not an error: the counters are kept anyway.
        let _ = self.out.send(Arc::from(msg.to_string()));
    }

    /// A page's view from now on: the sessions as they are, and every message after. Both
    /// under the lock that every event takes, so an event is either in the snapshot or in
    /// the stream, never in both or neither, and counters stay exact across a reconnect.
    pub fn subscribe(&self) -> (broadcast::Receiver<Arc<str>>, Vec<Snapshot>) {
        let inner = self.lock();
        let rx = self.out.subscribe();
        let snaps = inner
            .sessions
            .iter()
            .map(|(sid, e)| e.snapshot(sid))
            .collect();
        (rx, snaps)
    }

    pub fn snapshots(&self) -> Vec<Snapshot> {
        self.lock()
            .sessions
            .iter()
            .map(|(sid, e)| e.snapshot(sid))
            .collect()
    }

    /// Connect or listen. Errors are for the page to show in the tab; nothing else changes.
    pub async fn open(self: &Arc<Self>, req: OpenRequest) -> Result<(), String> {
        let sid = req.sid.trim().to_string();
        if sid.is_empty() || sid.len() > 64 {
            return Err("a session id must be 1 to 64 characters".into());
        }
        if self
            .lock()
            .sessions
            .get(&sid)
            .is_some_and(|e| e.state != State::Closed)
        {
            return Err(format!("session {sid} is already open; close it first"));
        }
        let label = req.encoding.as_deref().unwrap_or("utf-8");
        let encoding = Encoding::from_label(label).map_err(|e| e.to_string())?;
        let address = req.address.trim().to_string();
        let text = req.mode.endpoint(&address);
        let trust = match (&req.tls, req.mode) {
            (None, _) => None,
            (Some(t), Mode::TlsClient) => Some((t.clone(), t.options()?)),
            (Some(_), _) => {
                return Err(
                    "tls trust options (pin, ca, insecure, sni) are for a tls-client session"
                        .into(),
                )
            }
        };
        if req.reconnect && !req.mode.is_stream_client() {
            return Err(
                "reconnect is for a tcp, tls or unix client session; a server keeps listening, and a datagram client has no connection to lose"
                    .into(),
            );
        }
        let cfg = SessionConfig {
            encoding,
            reconnect: req.reconnect.then_some(RECONNECT_FIRST),
            ..SessionConfig::default()
        };
        let (session, state) = if req.mode.is_server() {
            let ep = Endpoint::parse_listen(&text).map_err(|e| e.to_string())?;
            let listener = transport::listen(&ep, &ListenOptions::default())
                .await
                .map_err(|e| e.to_string())?;
            (Session::serve(listener, cfg), State::Listening)
        } else {
            let ep = Endpoint::parse_connect(&text).map_err(|e| e.to_string())?;
            let opts = ConnectOptions {
                timeout: Some(CONNECT_TIMEOUT),
                tls: trust.as_ref().map(|(_, o)| o.clone()).unwrap_or_default(),
                ..ConnectOptions::default()
            };
            (Session::connect(ep, opts, cfg), State::Connecting)
        };
        let Session {
            commands,
            events,
            done,
        } = session;
        let generation = {
            let mut inner = self.lock();
            inner.next_generation += 1;
            let generation = inner.next_generation;
            let entry = Entry {
                generation,
                mode: req.mode,
                address,
                encoding,
                trust: trust.map(|(t, _)| t),
                reconnect: req.reconnect,
                state,
                local: None,
                reachable: Vec::new(),
                table: PeerTable::default(),
                commands,
                closing: false,
            };
            let snap = entry.snapshot(&sid);
            inner.sessions.insert(sid.clone(), entry);
            self.publish(json!({ "sid": sid, "session": snap }));
            generation
        };
        let hub = Arc::clone(self);
        tokio::spawn(async move { hub.pump(sid, generation, events, done).await });
        Ok(())
    }

    /// Fold a session's events into its counters and pass them on in frames, until it
    /// ends. This loop never waits for a page: the session runs at the network's speed.
    async fn pump(
        &self,
        sid: String,
        generation: u64,
        mut events: mpsc::Receiver<Event>,
        done: tokio::task::JoinHandle<socklab_core::Result<()>>,
    ) {
        let mut frame = Frame::default();
        let mut last = Instant::now();
        loop {
            let due = last + FRAME;
            tokio::select! {
                ev = events.recv() => {
                    let Some(ev) = ev else { break };
                    let changed = self.fold(&sid, generation, &ev);
                    frame.add(ev);
                    if let Some(state) = changed {
                        // A change of state goes out at once, after the events before it.
                        self.flush(&sid, generation, &mut frame);
                        self.set_state(&sid, generation, state);
                        last = Instant::now();
                    } else if Instant::now() >= due {
                        self.flush(&sid, generation, &mut frame);
                        last = Instant::now();
                    }
                }
                () = tokio::time::sleep_until(due), if !frame.is_empty() => {
                    self.flush(&sid, generation, &mut frame);
                    last = Instant::now();
                }
            }
        }
        self.flush(&sid, generation, &mut frame);
        let failure = match done.await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(e) => Some(format!("the session stopped unexpectedly: {e}")),
        };
        if let Some(f) = failure {
            if current(&mut self.lock(), &sid, generation).is_some() {
                self.publish(json!({ "sid": sid, "error": f }));
            }
        }
        self.set_state(&sid, generation, State::Closed);
        let mut inner = self.lock();
        if current(&mut inner, &sid, generation).is_some_and(|e| e.closing) {
            inner.sessions.remove(&sid);
            self.publish(json!({ "sid": sid, "removed": true }));
        }
    }

    /// Count one event; the session's new state, if the event changed it.
    fn fold(&self, sid: &str, generation: u64, ev: &Event) -> Option<State> {
        let mut inner = self.lock();
        let entry = current(&mut inner, sid, generation)?;
        entry.table.apply(ev);
        let state = match &ev.kind {
            EventKind::Listening { addr, .. } => {
                entry.local = Some(addr.clone());
                Some(State::Listening)
            }
            EventKind::Reachable { addrs } => {
                entry.reachable = addrs.iter().map(ToString::to_string).collect();
                None
            }
            EventKind::Connected { local, .. } if !entry.mode.is_server() => {
                entry.local = Some(local.clone());
                Some(State::Connected)
            }
            // Between the connections of a reconnecting client.
            EventKind::Reconnecting { .. } => Some(State::Connecting),
            _ => None,
        };
        state.filter(|s| *s != entry.state)
    }

    /// Send the waiting events, what was skipped, and the counters as they are now.
    fn flush(&self, sid: &str, generation: u64, frame: &mut Frame) {
        if frame.is_empty() {
            return;
        }
        let frame = std::mem::take(frame);
        let mut inner = self.lock();
        let Some(entry) = current(&mut inner, sid, generation) else {
            return;
        };
        let mut msg = json!({ "sid": sid, "events": frame.events, "stats": entry.stats() });
        if frame.skipped_events > 0 {
            msg["skipped"] =
                json!({ "events": frame.skipped_events, "bytes": frame.skipped_bytes });
        }
        self.publish(msg);
    }

    fn set_state(&self, sid: &str, generation: u64, state: State) {
        let mut inner = self.lock();
        if let Some(entry) = current(&mut inner, sid, generation) {
            entry.state = state;
            self.publish(json!({ "sid": sid, "state": state }));
        }
    }

    /// The bytes of a send box, validated whole before anything is queued: a bad hex digit
    /// or escape sends nothing. Queued at once, or refused as busy when the queue is full.
    pub fn send(&self, req: SendRequest) -> Result<(), String> {
        let (commands, sends) = self.prepare(req)?;
        // Check first that every send fits, so a send to several is not cut half-way.
        if commands.capacity() < sends.len() {
            return Err("busy: the send queue is full; try again when it has drained".into());
        }
        sends.into_iter().try_for_each(|c| command(&commands, c))
    }

    /// The same, waiting for room in the session's queue: how a page sends a file piece by
    /// piece at the speed the peer takes it. The number of bytes queued.
    pub async fn send_waiting(&self, req: SendRequest) -> Result<usize, String> {
        let (commands, sends) = self.prepare(req)?;
        let mut queued = 0;
        for c in sends {
            if let Command::Send { bytes, .. } | Command::SendPieces { bytes, .. } = &c {
                queued = bytes.len();
            }
            commands
                .send(c)
                .await
                .map_err(|_| "the session has ended".to_string())?;
        }
        Ok(queued)
    }

    fn prepare(&self, req: SendRequest) -> Result<(mpsc::Sender<Command>, Vec<Command>), String> {
        let (encoding, commands, mode) = self.running(&req.sid)?;
        let opts = InputOptions {
            hex: req.hex,
            escapes: true,
            encoding,
        };
        let mut bytes = encode_input(&req.data, &opts).map_err(|e| e.to_string())?;
        // Hex is every byte, exactly: no line ending is added to it.
        if !req.hex && req.eol != Eol::None {
            bytes.extend(
                encoding
                    .encode(req.eol.as_str())
                    .map_err(|e| e.to_string())?,
            );
        }
        if bytes.is_empty() {
            return Err("nothing to send".into());
        }
        let targets = match (&req.to, mode.is_server()) {
            (Some(to), true) => to.targets(),
            _ => vec![Target::Default],
        };
        if targets.is_empty() {
            return Err("no client chosen to send to".into());
        }
        let bytes = Bytes::from(bytes);
        let sends = targets
            .into_iter()
            .map(|to| match req.file {
                // One piece, whole: a datagram session sends it as one datagram, as a Send.
                true => Command::SendPieces {
                    to,
                    size: bytes.len(),
                    bytes: bytes.clone(),
                    file: true,
                },
                false => Command::Send {
                    to,
                    bytes: bytes.clone(),
                },
            })
            .collect();
        Ok((commands, sends))
    }

    pub fn kick(&self, sid: &str, peer: PeerId) -> Result<(), String> {
        let (_, commands, _) = self.running(sid)?;
        command(&commands, Command::Kick(peer))
    }

    /// Ask a running session to end, and forget it once it has; an ended one is forgotten
    /// at once.
    pub fn close(&self, sid: &str) -> Result<(), String> {
        let mut inner = self.lock();
        let Some(entry) = inner.sessions.get_mut(sid) else {
            return Err(format!("no session {sid}"));
        };
        if entry.state == State::Closed {
            inner.sessions.remove(sid);
            self.publish(json!({ "sid": sid, "removed": true }));
        } else {
            entry.closing = true;
            // A full queue still ends: Quit waits its turn behind the sends.
            let commands = entry.commands.clone();
            tokio::spawn(async move {
                let _ = commands.send(Command::Quit).await;
            });
        }
        Ok(())
    }

    fn running(&self, sid: &str) -> Result<(Encoding, mpsc::Sender<Command>, Mode), String> {
        let inner = self.lock();
        match inner.sessions.get(sid) {
            None => Err(format!("no session {sid}; open it first")),
            Some(e) if e.state == State::Closed => {
                Err(format!("session {sid} is closed; open it again"))
            }
            Some(e) => Ok((e.encoding, e.commands.clone(), e.mode)),
        }
    }
}

/// The session `sid` if it is still the one opened as `generation`: a pump of an earlier
/// session with the same id leaves a newer one alone.
fn current<'a>(inner: &'a mut Inner, sid: &str, generation: u64) -> Option<&'a mut Entry> {
    inner
        .sessions
        .get_mut(sid)
        .filter(|e| e.generation == generation)
}

fn command(commands: &mpsc::Sender<Command>, c: Command) -> Result<(), String> {
    commands.try_send(c).map_err(|e| match e {
        mpsc::error::TrySendError::Full(_) => {
            "busy: the send queue is full; try again when it has drained".to_string()
        }
        mpsc::error::TrySendError::Closed(_) => "the session has ended".to_string(),
    })
}
