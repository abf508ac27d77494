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

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::json;
use socklab_core::codec::{encode_input, Encoding, InputOptions};
use socklab_core::endpoint::Endpoint;
use socklab_core::session::{
    format_time, Addr, Command, Event, EventKind, PeerId, PeerTable, Session, SessionConfig,
    Target, TimeFormat,
};
use socklab_core::transport::{self, ConnectOptions, ListenOptions};
use tokio::sync::{broadcast, mpsc};

/// Messages kept for a page that is behind. A received chunk is at most 64 KiB (about
/// 200 KB as JSON with hex and text), so this bounds the backlog at a few tens of MB in the
/// worst case and a few hundred KB in the usual one.
const BACKLOG: usize = 256;

/// How long a client session may take to resolve, connect (and shake hands, for TLS).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

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

/// Whom a send goes to: `"all"`, a peer id, or a peer's address.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum To {
    Peer(PeerId),
    Name(String),
}

impl To {
    fn target(&self) -> Target {
        match self {
            To::Peer(id) => Target::Peer(*id),
            To::Name(s) if s == "all" => Target::All,
            To::Name(s) if s.is_empty() || s == "default" => Target::Default,
            To::Name(s) => Target::Addr(s.clone()),
        }
    }
}

struct Entry {
    /// Which open this is: a pump of an earlier session with the same id leaves it alone.
    generation: u64,
    mode: Mode,
    address: String,
    encoding: Encoding,
    state: State,
    local: Option<Addr>,
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
    pub state: State,
    pub local: Option<Addr>,
    pub bytes_in: u64,
    pub bytes_out: u64,
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
            state: self.state,
            local: self.local.clone(),
            bytes_in: self.table.totals.bytes_in,
            bytes_out: self.table.totals.bytes_out,
            served: self.table.served,
            peers: self
                .table
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
        let cfg = SessionConfig {
            encoding,
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
                state,
                local: None,
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

    /// Fold a session's events into its counters and pass them on, until it ends.
    async fn pump(
        &self,
        sid: String,
        generation: u64,
        mut events: mpsc::Receiver<Event>,
        done: tokio::task::JoinHandle<socklab_core::Result<()>>,
    ) {
        while let Some(ev) = events.recv().await {
            let mut inner = self.lock();
            let Some(entry) = inner
                .sessions
                .get_mut(&sid)
                .filter(|e| e.generation == generation)
            else {
                continue;
            };
            entry.table.apply(&ev);
            let state = match &ev.kind {
                EventKind::Listening { addr, .. } => {
                    entry.local = Some(addr.clone());
                    Some(State::Listening)
                }
                EventKind::Connected { local, .. } if !entry.mode.is_server() => {
                    entry.local = Some(local.clone());
                    Some(State::Connected)
                }
                _ => None,
            };
            self.publish(json!({ "sid": sid, "event": ev }));
            if let Some(state) = state.filter(|s| *s != entry.state) {
                entry.state = state;
                self.publish(json!({ "sid": sid, "state": state }));
            }
        }
        let failure = match done.await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(e) => Some(format!("the session stopped unexpectedly: {e}")),
        };
        let mut inner = self.lock();
        let Some(entry) = inner
            .sessions
            .get_mut(&sid)
            .filter(|e| e.generation == generation)
        else {
            return;
        };
        if let Some(f) = failure {
            self.publish(json!({ "sid": sid, "error": f }));
        }
        entry.state = State::Closed;
        self.publish(json!({ "sid": sid, "state": State::Closed }));
        if entry.closing {
            inner.sessions.remove(&sid);
            self.publish(json!({ "sid": sid, "removed": true }));
        }
    }

    /// The bytes of a send box, validated whole before anything is queued: a bad hex digit
    /// or escape sends nothing.
    pub fn send(&self, req: SendRequest) -> Result<(), String> {
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
        let to = match (&req.to, mode.is_server()) {
            (Some(to), true) => to.target(),
            _ => Target::Default,
        };
        command(
            &commands,
            Command::Send {
                to,
                bytes: Bytes::from(bytes),
            },
        )
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

fn command(commands: &mpsc::Sender<Command>, c: Command) -> Result<(), String> {
    commands.try_send(c).map_err(|e| match e {
        mpsc::error::TrySendError::Full(_) => {
            "busy: the send queue is full; try again when it has drained".to_string()
        }
        mpsc::error::TrySendError::Closed(_) => "the session has ended".to_string(),
    })
}
