//! The UI's state and every decision that does not need a terminal: what a key does, what
//! an event changes, what a send turns into. Rendering only reads it.

use bytes::Bytes;
use socklab_core::codec::{encode_input, Encoding, InputOptions};
use socklab_core::session::{Command, Direction, Event, EventKind, PeerId, Target};
use tui_input::Input;

use crate::i18n::{t, Key, Lang};
use crate::scrollback::{Entry, EntryKind, Scrollback};
use crate::settings::{Preset, Settings};

/// Lines kept in the send box's history.
const SEND_HISTORY: usize = 100;

/// Client or server. UDP, Unix and TLS are reached by a scheme in the address
/// (`udp://host:port`), as on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Client,
    Server,
}

/// Where the session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Idle,
    Connecting,
    Connected,
    Listening,
    Closed,
}

/// How the received pane shows data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Text,
    Hex,
    /// The text, then the hex of the same bytes.
    Both,
}

impl View {
    /// F3: text → hex → both → text.
    pub fn next(self) -> View {
        match self {
            View::Text => View::Hex,
            View::Hex => View::Both,
            View::Both => View::Text,
        }
    }
}

/// The line end added to each text send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eol {
    None,
    Lf,
    CrLf,
    Cr,
}

impl Eol {
    pub fn bytes(self) -> &'static [u8] {
        match self {
            Eol::None => b"",
            Eol::Lf => b"\n",
            Eol::CrLf => b"\r\n",
            Eol::Cr => b"\r",
        }
    }

    pub fn next(self) -> Eol {
        match self {
            Eol::None => Eol::Lf,
            Eol::Lf => Eol::CrLf,
            Eol::CrLf => Eol::Cr,
            Eol::Cr => Eol::None,
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Eol::None => t(lang, Key::EolNone),
            Eol::Lf => "LF",
            Eol::CrLf => "CRLF",
            Eol::Cr => "CR",
        }
    }
}

/// Which part of the window takes the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Address,
    Send,
    Clients,
    Received,
}

/// Who a send goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendTarget {
    All,
    Peer(PeerId),
}

/// A connected peer and what went each way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerRow {
    pub id: PeerId,
    pub addr: String,
    pub since: jiff::Timestamp,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

/// A message in the status area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub error: bool,
    pub text: String,
}

/// Why the send box was not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    pub message: String,
    /// The byte offset in the input of the first bad character, to highlight it.
    pub at: Option<usize>,
}

/// Traffic totals and the rates over the last second.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub packets_in: u64,
    pub packets_out: u64,
    pub rate_in: u64,
    pub rate_out: u64,
    last_in: u64,
    last_out: u64,
}

impl Counters {
    /// Called once a second: rates are bytes since the last call.
    pub fn tick(&mut self) {
        self.rate_in = self.bytes_in - self.last_in;
        self.rate_out = self.bytes_out - self.last_out;
        self.last_in = self.bytes_in;
        self.last_out = self.bytes_out;
    }
}

/// The encodings F7 cycles through: what embedded devices and Chinese tools send.
pub const ENCODINGS: &[&str] = &["utf-8", "gbk", "gb18030", "big5", "shift_jis", "auto"];

/// Everything the window shows.
pub struct App {
    pub lang: Lang,
    pub mode: Mode,
    pub address: Input,
    pub encoding: Encoding,
    pub state: State,
    pub view: View,
    pub timestamps: bool,
    /// Entries scrolled up from the bottom; 0 follows new data.
    pub scroll: usize,
    pub paused: bool,
    pub history: Scrollback,
    pub send: Input,
    pub send_hex: bool,
    pub eol: Eol,
    pub peers: Vec<PeerRow>,
    pub target: SendTarget,
    /// The highlighted row of the clients list: 0 is "all", then one per peer.
    pub selected: usize,
    pub focus: Focus,
    pub status: Option<Status>,
    pub counters: Counters,
    pub help: bool,
    pub quit: bool,
    /// The clock for "connected for": set by the loop, fixed in tests.
    pub now: jiff::Timestamp,
    /// Set whenever something visible changed; the loop draws and clears it.
    pub dirty: bool,
    /// What is remembered between runs, with the presets.
    pub settings: Settings,
    /// The preset last loaded or saved, for Ctrl-P to go on from.
    pub preset: Option<String>,
    /// The preset name being typed (Ctrl-S), shown over the status bar.
    pub prompt: Option<Input>,
    /// Lines sent from the send box, oldest first, and where Up/Down is in them.
    pub sent_lines: Vec<String>,
    pub sent_pos: Option<usize>,
    /// This machine's addresses, shown in server mode so the user knows what to tell a
    /// device; filled by the loop, empty in tests unless set.
    pub local_addrs: Vec<String>,
    /// Where the settings are written; `None` when they must not be (no config directory,
    /// or a file that could not be read and is left as it is).
    pub settings_path: Option<std::path::PathBuf>,
}

/// What a key asks of the loop beyond changing state.
#[derive(Debug, Clone)]
pub enum Action {
    None,
    /// Open (connect or listen) with the current settings.
    Open,
    /// Close the session.
    Close,
    Command(Command),
    /// Write the settings file now (a preset was saved).
    SaveSettings,
}

impl App {
    pub fn new(lang: Lang, scrollback: usize) -> App {
        App {
            lang,
            mode: Mode::Client,
            address: Input::default(),
            encoding: Encoding::UTF8,
            state: State::Idle,
            view: View::Text,
            timestamps: false,
            scroll: 0,
            paused: false,
            history: Scrollback::new(scrollback),
            send: Input::default(),
            send_hex: false,
            eol: Eol::Lf,
            peers: Vec::new(),
            target: SendTarget::All,
            selected: 0,
            focus: Focus::Address,
            status: None,
            counters: Counters::default(),
            help: false,
            quit: false,
            now: jiff::Timestamp::now(),
            dirty: true,
            settings: Settings::default(),
            preset: None,
            prompt: None,
            sent_lines: Vec::new(),
            sent_pos: None,
            local_addrs: Vec::new(),
            settings_path: None,
        }
    }

    /// Write the settings file with the window as it is now. Returns the failure to show.
    pub fn save_settings(&self) -> Option<String> {
        let path = self.settings_path.as_ref()?;
        let mut s = self.settings.clone();
        s.remember(self);
        crate::settings::save(path, &s)
            .err()
            .map(|e| format!("{}: {e}", path.display()))
    }

    /// Ctrl-S: ask for a preset name, offering the current one.
    pub fn start_prompt(&mut self) {
        self.prompt = Some(Input::new(self.preset.clone().unwrap_or_default()));
        self.dirty = true;
    }

    /// Enter on the preset prompt: the panel saved under the typed name.
    pub fn finish_prompt(&mut self) -> Action {
        let Some(input) = self.prompt.take() else {
            return Action::None;
        };
        self.dirty = true;
        let name = input.value().trim().to_string();
        if name.is_empty() {
            return Action::None;
        }
        self.settings.presets.insert(name.clone(), Preset::of(self));
        self.info(format!("{} {name}", t(self.lang, Key::MsgPresetSaved)));
        self.preset = Some(name);
        Action::SaveSettings
    }

    /// Ctrl-P: the next preset into the panel, while closed.
    pub fn next_preset(&mut self) {
        if self.is_open() {
            self.error(t(self.lang, Key::ErrClosedWhileOpen));
            return;
        }
        let next = self
            .settings
            .next_preset(self.preset.as_deref())
            .map(|(n, p)| (n.clone(), p.clone()));
        match next {
            Some((name, p)) => {
                p.apply(self);
                self.info(format!("{} {name}", t(self.lang, Key::MsgPreset)));
                self.preset = Some(name);
            }
            None => self.info(t(self.lang, Key::NoPresets)),
        }
    }

    /// Up (`older`) or Down in the send box: walk the lines sent before.
    pub fn recall(&mut self, older: bool) {
        let n = self.sent_lines.len();
        if n == 0 {
            return;
        }
        let pos = match (self.sent_pos, older) {
            (None, true) => Some(n - 1),
            (None, false) => None,
            (Some(i), true) => Some(i.saturating_sub(1)),
            (Some(i), false) if i + 1 < n => Some(i + 1),
            (Some(_), false) => None,
        };
        self.sent_pos = pos;
        self.send = Input::new(pos.map(|i| self.sent_lines[i].clone()).unwrap_or_default());
        self.dirty = true;
    }

    pub fn is_open(&self) -> bool {
        matches!(
            self.state,
            State::Connecting | State::Connected | State::Listening
        )
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.status = Some(Status {
            error: true,
            text: text.into(),
        });
        self.dirty = true;
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.status = Some(Status {
            error: false,
            text: text.into(),
        });
        self.dirty = true;
    }

    fn log(&mut self, time: jiff::Timestamp, kind: EntryKind) {
        self.history.push(Entry { time, kind });
        if self.paused || self.scroll > 0 {
            // Keep the same entries in view while new ones arrive below.
            self.scroll = (self.scroll + 1).min(self.history.len().saturating_sub(1));
        }
        self.dirty = true;
    }

    /// What an event from the session changes.
    pub fn apply(&mut self, ev: &Event) {
        self.dirty = true;
        match &ev.kind {
            EventKind::Connecting { addr } => {
                self.state = State::Connecting;
                self.log(ev.time, EntryKind::Info(format!("-> {addr}")));
            }
            EventKind::ConnectFailed { addr, reason } => {
                let msg = format!("{} {addr}: {reason}", t(self.lang, Key::ErrConnect));
                self.log(ev.time, EntryKind::Error(msg.clone()));
                self.error(msg);
            }
            EventKind::Listening { addr, .. } => {
                self.state = State::Listening;
                let msg = format!("{} {addr}", t(self.lang, Key::Listening));
                self.log(ev.time, EntryKind::Info(msg.clone()));
                self.info(msg);
            }
            EventKind::Reachable { addrs } => {
                let list: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
                self.log(ev.time, EntryKind::Info(format!("= {}", list.join("  "))));
            }
            EventKind::Connected { peer, .. } => {
                if self.mode == Mode::Client {
                    self.state = State::Connected;
                    let msg = format!("{} {}", t(self.lang, Key::ConnectedTo), peer.addr);
                    self.info(msg);
                }
                self.peers.push(PeerRow {
                    id: peer.id,
                    addr: peer.addr.to_string(),
                    since: ev.time,
                    bytes_in: 0,
                    bytes_out: 0,
                });
                self.log(
                    ev.time,
                    EntryKind::Info(format!("#{} {} +", peer.id, peer.addr)),
                );
            }
            EventKind::Received { peer, data } | EventKind::Sent { peer, data } => {
                let dir = if matches!(ev.kind, EventKind::Received { .. }) {
                    Direction::Received
                } else {
                    Direction::Sent
                };
                let n = data.bytes.len() as u64;
                if let Some(row) = self.peers.iter_mut().find(|p| p.id == peer.id) {
                    match dir {
                        Direction::Received => row.bytes_in += n,
                        Direction::Sent => row.bytes_out += n,
                    }
                }
                match dir {
                    Direction::Received => {
                        self.counters.bytes_in += n;
                        self.counters.packets_in += 1;
                    }
                    Direction::Sent => {
                        self.counters.bytes_out += n;
                        self.counters.packets_out += 1;
                    }
                }
                self.log(
                    ev.time,
                    EntryKind::Data {
                        dir,
                        peer: peer.id,
                        bytes: data.bytes.clone(),
                        text: data.text.clone(),
                    },
                );
            }
            EventKind::Closed { peer, reason, .. } => {
                self.peers.retain(|p| p.id != peer.id);
                if self.target == SendTarget::Peer(peer.id) {
                    self.target = SendTarget::All;
                }
                self.selected = self.selected.min(self.peers.len());
                let msg = format!("#{} {} - {}", peer.id, peer.addr, reason.describe());
                self.log(ev.time, EntryKind::Info(msg.clone()));
                if self.mode == Mode::Client {
                    self.state = State::Closed;
                    self.info(msg);
                }
            }
            EventKind::Rejected { addr, reason } => {
                self.log(ev.time, EntryKind::Error(format!("{addr}: {reason}")));
            }
            EventKind::Notice { message } => self.log(ev.time, EntryKind::Info(message.clone())),
            EventKind::Warning { message } | EventKind::Error { message, .. } => {
                self.log(ev.time, EntryKind::Error(message.clone()));
                self.error(message.clone());
            }
            EventKind::Resolving { .. }
            | EventKind::Resolved { .. }
            | EventKind::Detected { .. }
            | EventKind::HalfClosed { .. }
            | EventKind::Secured { .. }
            | EventKind::Certificate { .. } => {}
        }
    }

    /// The session ended (its event stream closed), with the reason it failed if it did.
    pub fn ended(&mut self, failure: Option<String>) {
        self.state = State::Closed;
        self.peers.clear();
        self.target = SendTarget::All;
        self.selected = 0;
        match failure {
            Some(e) => {
                self.log(jiff::Timestamp::now(), EntryKind::Error(e.clone()));
                self.error(e);
            }
            None => {
                if self.status.as_ref().is_none_or(|s| !s.error) {
                    self.info(t(self.lang, Key::MsgClosed));
                }
            }
        }
    }

    /// The bytes the send box stands for, or why it cannot be sent.
    pub fn parse_send(&self) -> Result<Vec<u8>, SendError> {
        parse_send(self.send.value(), self.send_hex, self.encoding, self.eol)
    }

    /// The session's name for the current target.
    pub fn session_target(&self) -> Target {
        match (self.mode, self.target) {
            (Mode::Client, _) => Target::Default,
            (Mode::Server, SendTarget::All) => Target::All,
            (Mode::Server, SendTarget::Peer(id)) => Target::Peer(id),
        }
    }

    /// Enter in the send box: the send command, or an error shown and nothing sent.
    pub fn submit(&mut self) -> Action {
        if !self.is_open() {
            self.error(t(self.lang, Key::ErrNotOpen));
            return Action::None;
        }
        if self.mode == Mode::Server && self.peers.is_empty() {
            self.error(t(self.lang, Key::NoClient));
            return Action::None;
        }
        match self.parse_send() {
            Ok(bytes) => {
                let line = self.send.value().to_string();
                if self.sent_lines.last() != Some(&line) {
                    self.sent_lines.push(line);
                    if self.sent_lines.len() > SEND_HISTORY {
                        self.sent_lines.remove(0);
                    }
                }
                self.sent_pos = None;
                self.send.reset();
                self.status = None;
                self.scroll = 0;
                self.paused = false;
                self.dirty = true;
                Action::Command(Command::Send {
                    to: self.session_target(),
                    bytes: Bytes::from(bytes),
                })
            }
            Err(e) => {
                let msg = if self.send_hex {
                    format!("{}: {}", t(self.lang, Key::ErrBadHex), e.message)
                } else {
                    e.message
                };
                self.error(msg);
                Action::None
            }
        }
    }

    /// Up/Down in the clients list; row 0 is "all".
    pub fn select(&mut self, delta: isize) {
        let rows = self.peers.len() + 1;
        self.selected = (self.selected as isize + delta).rem_euclid(rows as isize) as usize;
        self.dirty = true;
    }

    /// Enter in the clients list: the highlighted row becomes the send target.
    pub fn choose_target(&mut self) {
        self.target = match self.selected {
            0 => SendTarget::All,
            n => match self.peers.get(n - 1) {
                Some(p) => SendTarget::Peer(p.id),
                None => SendTarget::All,
            },
        };
        self.dirty = true;
    }

    /// The kick command for the highlighted client, if a client is highlighted.
    pub fn kick_selected(&mut self) -> Action {
        match self.selected.checked_sub(1).and_then(|i| self.peers.get(i)) {
            Some(p) => {
                let id = p.id;
                self.info(format!("{} #{id}", t(self.lang, Key::MsgKicked)));
                Action::Command(Command::Kick(id))
            }
            None => Action::None,
        }
    }

    pub fn next_focus(&mut self, back: bool) {
        let mut order = vec![Focus::Address, Focus::Send];
        if self.mode == Mode::Server {
            order.push(Focus::Clients);
        }
        order.push(Focus::Received);
        let i = order.iter().position(|f| *f == self.focus).unwrap_or(0);
        let n = order.len();
        self.focus = order[if back { (i + n - 1) % n } else { (i + 1) % n }];
        self.dirty = true;
    }

    pub fn cycle_encoding(&mut self) {
        if self.is_open() {
            self.error(t(self.lang, Key::ErrClosedWhileOpen));
            return;
        }
        let now = self.encoding.name();
        let i = ENCODINGS
            .iter()
            .position(|e| Encoding::from_label(e).map(|x| x.name()).ok() == Some(now))
            .map_or(0, |i| (i + 1) % ENCODINGS.len());
        if let Ok(e) = Encoding::from_label(ENCODINGS[i]) {
            self.encoding = e;
        }
        self.dirty = true;
    }

    pub fn toggle_mode(&mut self) {
        if self.is_open() {
            self.error(t(self.lang, Key::ErrClosedWhileOpen));
            return;
        }
        self.mode = match self.mode {
            Mode::Client => Mode::Server,
            Mode::Server => Mode::Client,
        };
        if self.focus == Focus::Clients {
            self.focus = Focus::Received;
        }
        self.dirty = true;
    }

    pub fn scroll_by(&mut self, delta: isize) {
        let max = self.history.len().saturating_sub(1) as isize;
        self.scroll = (self.scroll as isize + delta).clamp(0, max) as usize;
        self.dirty = true;
    }
}

/// The bytes of a send box: hex, or text with escapes in `encoding` followed by the line
/// end. A line end is not added to hex: hex is every byte, exactly.
pub fn parse_send(
    input: &str,
    hex: bool,
    encoding: Encoding,
    eol: Eol,
) -> Result<Vec<u8>, SendError> {
    let opts = InputOptions {
        hex,
        escapes: true,
        encoding,
    };
    match encode_input(input, &opts) {
        Ok(mut bytes) => {
            if !hex {
                bytes.extend_from_slice(eol.bytes());
            }
            Ok(bytes)
        }
        Err(e) => Err(SendError {
            message: e.to_string(),
            at: if hex { bad_hex_at(input) } else { None },
        }),
    }
}

/// Where hex input goes wrong, by the rules of `parse_hex`: the first character that is not
/// a digit or a separator, or else the last digit of a group with an odd number of digits
/// (or a bare `0x`).
pub fn bad_hex_at(input: &str) -> Option<usize> {
    let is_sep = |c: char| c.is_ascii_whitespace() || matches!(c, ',' | ';' | ':' | '-');
    let mut group_start: Option<usize> = None;
    let mut digits = 0usize;
    let mut last = 0usize;
    let mut chars = input.char_indices().peekable();
    let close = |start: Option<usize>, digits: usize, last: usize| -> Option<usize> {
        match start {
            Some(s) if digits == 0 || digits % 2 == 1 => Some(if digits == 0 { s } else { last }),
            _ => None,
        }
    };
    while let Some((i, c)) = chars.next() {
        if is_sep(c) {
            if let Some(at) = close(group_start, digits, last) {
                return Some(at);
            }
            group_start = None;
            digits = 0;
            continue;
        }
        if group_start.is_none() {
            group_start = Some(i);
            if c == '0' && matches!(chars.peek(), Some((_, 'x' | 'X'))) {
                chars.next();
                continue;
            }
        }
        if c.is_ascii_hexdigit() {
            digits += 1;
            last = i;
        } else {
            return Some(i);
        }
    }
    close(group_start, digits, last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use socklab_core::session::{Addr, CloseReason, Data, Peer, Scheme};

    fn peer(id: PeerId, port: u16) -> Peer {
        Peer {
            id,
            addr: Addr::Ip(format!("127.0.0.1:{port}").parse().unwrap()),
        }
    }

    fn connected(id: PeerId, port: u16) -> Event {
        Event::now(EventKind::Connected {
            peer: peer(id, port),
            local: Addr::Ip("127.0.0.1:7".parse().unwrap()),
            transport: Scheme::Tcp,
            cred: None,
        })
    }

    fn received(id: PeerId, port: u16, b: &'static [u8]) -> Event {
        Event::now(EventKind::Received {
            peer: peer(id, port),
            data: Data::new(Bytes::from_static(b), String::from_utf8_lossy(b).into()),
        })
    }

    #[test]
    fn up_and_down_walk_the_lines_sent_and_bad_ones_are_not_kept() {
        let mut app = App::new(Lang::En, 100);
        app.state = State::Connected;
        for line in ["one", "two", "two", "three"] {
            app.send = Input::new(line.into());
            assert!(matches!(app.submit(), Action::Command(_)));
        }
        app.send_hex = true;
        app.send = Input::new("zz".into());
        assert!(matches!(app.submit(), Action::None), "bad hex is not sent");
        app.send_hex = false;
        assert_eq!(
            app.sent_lines,
            ["one", "two", "three"],
            "repeats once, bad hex never"
        );
        let mut seen = Vec::new();
        for _ in 0..4 {
            app.recall(true);
            seen.push(app.send.value().to_string());
        }
        assert_eq!(seen, ["three", "two", "one", "one"]);
        app.recall(false);
        app.recall(false);
        assert_eq!(app.send.value(), "three");
        app.recall(false);
        assert_eq!(app.send.value(), "", "past the newest is an empty box");
    }

    #[test]
    fn a_preset_is_saved_under_the_typed_name_and_loaded_only_when_closed() {
        let mut app = App::new(Lang::En, 100);
        app.address = Input::new("10.0.0.7:502".into());
        app.eol = Eol::CrLf;
        app.start_prompt();
        app.prompt = Some(Input::new("  modbus  ".into()));
        assert!(matches!(app.finish_prompt(), Action::SaveSettings));
        assert_eq!(app.preset.as_deref(), Some("modbus"));
        app.address = Input::new("elsewhere:1".into());
        app.start_prompt();
        app.prompt = Some(Input::new("   ".into()));
        assert!(
            matches!(app.finish_prompt(), Action::None),
            "no name, no preset"
        );
        app.state = State::Connected;
        app.next_preset();
        assert_eq!(app.address.value(), "elsewhere:1", "not while open");
        assert!(app.status.as_ref().is_some_and(|s| s.error));
        app.state = State::Closed;
        app.next_preset();
        assert_eq!(app.address.value(), "10.0.0.7:502");
        assert_eq!(app.eol, Eol::CrLf);
    }

    fn server() -> App {
        let mut app = App::new(Lang::En, 100);
        app.mode = Mode::Server;
        app.state = State::Listening;
        for (id, port) in [(1, 4001), (2, 4002), (3, 4003)] {
            app.apply(&connected(id, port));
        }
        app
    }

    #[test]
    fn text_gets_escapes_and_the_line_end() {
        let gbk = Encoding::from_label("gbk").unwrap();
        assert_eq!(
            parse_send("hi\\r", false, Encoding::UTF8, Eol::CrLf).unwrap(),
            b"hi\r\r\n"
        );
        assert_eq!(
            parse_send("中", false, gbk, Eol::None).unwrap(),
            [0xd6, 0xd0]
        );
        assert_eq!(
            parse_send("\\x00\\xff", false, Encoding::UTF8, Eol::Lf).unwrap(),
            [0, 0xff, b'\n']
        );
    }

    #[test]
    fn hex_is_exact_bytes_without_a_line_end() {
        assert_eq!(
            parse_send("01 03 0x00,ff", true, Encoding::UTF8, Eol::CrLf).unwrap(),
            [1, 3, 0, 0xff]
        );
    }

    #[test]
    fn bad_hex_is_an_error_with_the_position_of_the_bad_byte() {
        for (input, at) in [
            ("01 0g 03", 4),
            ("01 2 03", 3),
            ("0102 abc", 7),
            ("zz", 0),
            ("01 0x", 3),
            ("48 65 6c 中", 9),
        ] {
            let e = parse_send(input, true, Encoding::UTF8, Eol::Lf).unwrap_err();
            assert_eq!(e.at, Some(at), "{input}: {e:?}");
            assert!(e.message.contains("hex"), "{}", e.message);
        }
        for good in ["", "0x48 0X65", "48:65-6c;0a", "48656c"] {
            assert_eq!(bad_hex_at(good), None, "{good}");
            assert!(
                parse_send(good, true, Encoding::UTF8, Eol::Lf).is_ok(),
                "{good}"
            );
        }
    }

    #[test]
    fn bad_escape_is_an_error_and_nothing_is_sent() {
        let mut app = App::new(Lang::En, 100);
        app.state = State::Connected;
        app.send = Input::new("ab\\q".into());
        assert!(matches!(app.submit(), Action::None));
        assert!(app.status.as_ref().unwrap().error);
        assert_eq!(app.send.value(), "ab\\q", "the input is kept to fix");
    }

    #[test]
    fn bad_hex_in_the_box_is_not_sent_and_says_so() {
        let mut app = App::new(Lang::Zh, 100);
        app.state = State::Connected;
        app.send_hex = true;
        app.send = Input::new("01 0z".into());
        assert!(matches!(app.submit(), Action::None));
        let s = app.status.clone().unwrap();
        assert!(s.error && s.text.starts_with("十六进制无效"), "{s:?}");
    }

    #[test]
    fn a_client_sends_to_its_server_and_clears_the_box() {
        let mut app = App::new(Lang::En, 100);
        app.state = State::Connected;
        app.send = Input::new("ping".into());
        match app.submit() {
            Action::Command(Command::Send { to, bytes }) => {
                assert_eq!(to, Target::Default);
                assert_eq!(&bytes[..], b"ping\n");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(app.send.value(), "");
    }

    #[test]
    fn sending_while_closed_is_refused() {
        let mut app = App::new(Lang::En, 100);
        app.send = Input::new("x".into());
        assert!(matches!(app.submit(), Action::None));
        assert_eq!(app.status.unwrap().text, t(Lang::En, Key::ErrNotOpen));
    }

    #[test]
    fn target_selection_in_a_server() {
        let mut app = server();
        assert_eq!(app.session_target(), Target::All);
        app.select(2);
        app.choose_target();
        assert_eq!(app.target, SendTarget::Peer(2));
        assert_eq!(app.session_target(), Target::Peer(2));
        app.select(-3);
        assert_eq!(app.selected, 3, "up from the top wraps to the last client");
        app.select(1);
        app.choose_target();
        assert_eq!(app.session_target(), Target::All);
        // A chosen client that leaves sends the target back to all.
        app.select(1);
        app.choose_target();
        assert_eq!(app.target, SendTarget::Peer(1));
        app.apply(&Event::now(EventKind::Closed {
            peer: peer(1, 4001),
            reason: CloseReason::PeerClosed,
            bytes_in: 0,
            bytes_out: 0,
        }));
        assert_eq!(app.target, SendTarget::All);
        assert_eq!(app.peers.len(), 2);
    }

    #[test]
    fn kick_takes_the_highlighted_client_only() {
        let mut app = server();
        assert!(
            matches!(app.kick_selected(), Action::None),
            "row 0 is all, not a client"
        );
        app.select(3);
        match app.kick_selected() {
            Action::Command(Command::Kick(3)) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bytes_are_counted_per_client_and_in_total() {
        let mut app = server();
        app.apply(&received(2, 4002, b"hello"));
        app.apply(&received(2, 4002, b"!"));
        app.apply(&received(3, 4003, b"abc"));
        let p2 = app.peers.iter().find(|p| p.id == 2).unwrap();
        assert_eq!((p2.bytes_in, p2.bytes_out), (6, 0));
        assert_eq!(app.counters.bytes_in, 9);
        assert_eq!(app.counters.packets_in, 3);
        app.counters.tick();
        assert_eq!(app.counters.rate_in, 9);
        app.counters.tick();
        assert_eq!(app.counters.rate_in, 0);
    }

    #[test]
    fn a_paused_view_stays_on_the_same_entries() {
        let mut app = App::new(Lang::En, 100);
        app.apply(&received(1, 4001, b"a"));
        app.paused = true;
        app.apply(&received(1, 4001, b"b"));
        app.apply(&received(1, 4001, b"c"));
        assert_eq!(app.scroll, 2);
    }

    #[test]
    fn mode_and_encoding_do_not_change_while_open() {
        let mut app = App::new(Lang::En, 100);
        app.cycle_encoding();
        assert_eq!(app.encoding, Encoding::from_label("gbk").unwrap());
        app.state = State::Connected;
        app.toggle_mode();
        app.cycle_encoding();
        assert_eq!(app.mode, Mode::Client);
        assert_eq!(app.encoding, Encoding::from_label("gbk").unwrap());
        assert!(app.status.unwrap().error);
    }
}
