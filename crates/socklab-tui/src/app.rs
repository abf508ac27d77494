//! The UI's state and every decision that does not need a terminal: what a key does, what
//! an event changes, what a send turns into. Rendering only reads it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::Bytes;
use socklab_core::codec::{encode_input, Encoding, InputOptions};
use socklab_core::session::{Command, Direction, Event, EventKind, PeerId, Target};
use tui_input::Input;

use crate::i18n::{t, Key, Lang};
use crate::scrollback::{Entry, EntryKind, Scrollback};
use crate::search::Query;
use crate::settings::{Preset, Settings};

/// Lines kept in the send box's history.
const SEND_HISTORY: usize = 100;

/// Client or server; with the [`Transport`], the mode the panel opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Client,
    Server,
}

/// What the panel opens over. The address is typed without a scheme (`127.0.0.1:7788`, or a
/// path for Unix); one typed with a scheme (`udp://...`, as on the command line) picks the
/// transport itself when the panel opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Tcp,
    Udp,
    Tls,
    Unix,
    UnixGram,
}

impl Transport {
    /// The scheme put before the address to make an endpoint.
    pub fn prefix(self) -> &'static str {
        match self {
            Transport::Tcp => "",
            Transport::Udp => "udp://",
            Transport::Tls => "tls://",
            Transport::Unix => "unix:",
            Transport::UnixGram => "unixgram:",
        }
    }

    /// The name in the settings file.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
            Transport::Tls => "tls",
            Transport::Unix => "unix",
            Transport::UnixGram => "unixgram",
        }
    }

    pub fn from_name(s: &str) -> Option<Transport> {
        [
            Transport::Tcp,
            Transport::Udp,
            Transport::Tls,
            Transport::Unix,
            Transport::UnixGram,
        ]
        .into_iter()
        .find(|t| t.name() == s)
    }

    /// The transport named by a scheme at the start of `address`, and the rest of it.
    /// `unixgram:` is tried before `unix:`, which it starts with.
    pub fn split(address: &str) -> Option<(Transport, &str)> {
        const SCHEMES: [(&str, Transport); 5] = [
            ("tcp://", Transport::Tcp),
            ("udp://", Transport::Udp),
            ("tls://", Transport::Tls),
            ("unixgram:", Transport::UnixGram),
            ("unix:", Transport::Unix),
        ];
        SCHEMES.iter().find_map(|(p, t)| {
            let head = address.get(..p.len())?;
            head.eq_ignore_ascii_case(p)
                .then(|| (*t, &address[p.len()..]))
        })
    }

    pub fn is_datagram(self) -> bool {
        matches!(self, Transport::Udp | Transport::UnixGram)
    }
}

/// The modes F6 cycles through, in order.
pub const MODES: [(Transport, Mode); 10] = [
    (Transport::Tcp, Mode::Client),
    (Transport::Tcp, Mode::Server),
    (Transport::Udp, Mode::Client),
    (Transport::Udp, Mode::Server),
    (Transport::Tls, Mode::Client),
    (Transport::Tls, Mode::Server),
    (Transport::Unix, Mode::Client),
    (Transport::Unix, Mode::Server),
    (Transport::UnixGram, Mode::Client),
    (Transport::UnixGram, Mode::Server),
];

/// The label of a mode in the panel.
pub fn mode_label(lang: Lang, transport: Transport, mode: Mode) -> &'static str {
    let key = match (transport, mode) {
        (Transport::Tcp, Mode::Client) => Key::TcpClient,
        (Transport::Tcp, Mode::Server) => Key::TcpServer,
        (Transport::Udp, Mode::Client) => Key::UdpClient,
        (Transport::Udp, Mode::Server) => Key::UdpServer,
        (Transport::Tls, Mode::Client) => Key::TlsClient,
        (Transport::Tls, Mode::Server) => Key::TlsServer,
        (Transport::Unix, Mode::Client) => Key::UnixClient,
        (Transport::Unix, Mode::Server) => Key::UnixServer,
        (Transport::UnixGram, Mode::Client) => Key::UnixGramClient,
        (Transport::UnixGram, Mode::Server) => Key::UnixGramServer,
    };
    t(lang, key)
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

/// The send box sent again and again (Ctrl-R), every `interval`.
#[derive(Debug, Clone)]
pub struct Looping {
    pub bytes: Bytes,
    pub to: Target,
    /// Sends so far.
    pub count: u64,
    /// When the next send is due; a send that comes late pushes the next one back rather
    /// than catching up, so the loop never sends faster than its interval.
    pub next: Instant,
}

/// The default loop interval, and the bounds of what may be set.
pub const LOOP_DEFAULT: Duration = Duration::from_secs(1);
pub const LOOP_MIN: Duration = Duration::from_millis(10);
pub const LOOP_MAX: Duration = Duration::from_secs(24 * 3600);

/// What the prompt over the status bar asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    /// Ctrl-S: a name to save the panel under.
    Preset,
    /// Ctrl-T: the loop interval.
    Interval,
    /// Ctrl-O: a file to send.
    SendFile,
    /// `/`: text (or hex) to find in the received pane.
    Search,
    /// Ctrl-X: where to save the received pane.
    SaveLog,
}

/// A one-line question over the status bar.
#[derive(Debug, Clone)]
pub struct Prompt {
    pub kind: PromptKind,
    pub input: Input,
}

/// A file going out (Ctrl-O), for the gauge: `sent` counts the session's Sent events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSend {
    pub path: String,
    pub total: u64,
    pub sent: u64,
}

/// A search in the received pane: the query and the entries that match it, by number
/// (see [`Scrollback::number`]), oldest first.
#[derive(Debug, Clone)]
pub struct Search {
    pub query: Query,
    pub hits: Vec<u64>,
    /// The hit shown, an index into `hits`.
    pub current: Option<usize>,
}

/// The encodings F7 cycles through: what embedded devices and Chinese tools send.
pub const ENCODINGS: &[&str] = &["utf-8", "gbk", "gb18030", "big5", "shift_jis", "auto"];

/// Everything the window shows.
pub struct App {
    pub lang: Lang,
    pub mode: Mode,
    pub transport: Transport,
    /// TLS client: verify the server's certificate against the system roots (Ctrl-V turns
    /// it off, like `--insecure`; the session then warns in the log).
    pub tls_verify: bool,
    /// Ctrl-E: a TCP, TLS or Unix client connects again when the peer goes away or cannot
    /// be reached (the CLI's `--reconnect`: 1s, doubling up to 30s), the same session.
    pub reconnect: bool,
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
    /// Lines of the help scrolled off the top, when it is taller than the terminal.
    pub help_scroll: u16,
    /// A connect attempt failed and was logged (see [`App::ended`]).
    pub connect_failed: bool,
    pub quit: bool,
    /// The clock for "connected for": set by the loop, fixed in tests.
    pub now: jiff::Timestamp,
    /// Set whenever something visible changed; the loop draws and clears it.
    pub dirty: bool,
    /// What is remembered between runs, with the presets.
    pub settings: Settings,
    /// The preset last loaded or saved, for Ctrl-P to go on from.
    pub preset: Option<String>,
    /// A question being answered over the status bar (a preset name, a path ...).
    pub prompt: Option<Prompt>,
    /// How often the loop sends (Ctrl-T sets it; remembered).
    pub loop_interval: Duration,
    pub looping: Option<Looping>,
    /// The file being sent, for the gauge.
    pub file_send: Option<FileSend>,
    /// The last path typed at the file and save prompts, offered again.
    pub last_file: String,
    pub last_save: String,
    pub search: Option<Search>,
    /// Lines sent from the send box, oldest first, and where Up/Down is in them.
    pub sent_lines: Vec<String>,
    pub sent_pos: Option<usize>,
    /// This machine's addresses, shown in server mode so the user knows what to tell a
    /// device; filled by the loop, empty in tests unless set.
    pub local_addrs: Vec<String>,
    /// Where the settings are written; `None` when they must not be (no config directory,
    /// or a file that could not be read and is left as it is).
    pub settings_path: Option<std::path::PathBuf>,
    /// The terminal's size at the last frame, for the mouse to find what was clicked.
    pub screen: ratatui::layout::Rect,
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
    /// Check this file and send it in pieces, with a gauge.
    SendFile(PathBuf),
    /// Stop the file going out (what the session has queued still goes).
    CancelFile,
    /// Write the received pane, as viewed, to this file.
    SaveLog(PathBuf),
}

impl App {
    pub fn new(lang: Lang, scrollback: usize) -> App {
        App {
            lang,
            mode: Mode::Client,
            transport: Transport::Tcp,
            tls_verify: true,
            reconnect: false,
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
            help_scroll: 0,
            connect_failed: false,
            quit: false,
            now: jiff::Timestamp::now(),
            dirty: true,
            settings: Settings::default(),
            preset: None,
            prompt: None,
            loop_interval: LOOP_DEFAULT,
            looping: None,
            file_send: None,
            last_file: String::new(),
            last_save: String::new(),
            search: None,
            sent_lines: Vec::new(),
            sent_pos: None,
            local_addrs: Vec::new(),
            settings_path: None,
            screen: ratatui::layout::Rect::new(0, 0, 80, 24),
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
        let name = self.preset.clone().unwrap_or_default();
        self.ask(PromptKind::Preset, name);
    }

    /// Open the prompt for `kind`, offering `value`.
    pub fn ask(&mut self, kind: PromptKind, value: String) {
        self.prompt = Some(Prompt {
            kind,
            input: Input::new(value),
        });
        self.dirty = true;
    }

    /// Enter on the prompt: what the answer asks for.
    pub fn finish_prompt(&mut self) -> Action {
        let Some(prompt) = self.prompt.take() else {
            return Action::None;
        };
        self.dirty = true;
        let value = prompt.input.value().trim().to_string();
        if value.is_empty() {
            return Action::None;
        }
        match prompt.kind {
            PromptKind::Preset => {
                self.settings
                    .presets
                    .insert(value.clone(), Preset::of(self));
                self.info(format!("{} {value}", t(self.lang, Key::MsgPresetSaved)));
                self.preset = Some(value);
                Action::SaveSettings
            }
            PromptKind::Interval => {
                match parse_interval(&value) {
                    Ok(d) => {
                        self.loop_interval = d;
                        self.info(format!(
                            "{} {}",
                            t(self.lang, Key::MsgInterval),
                            show_interval(d)
                        ));
                    }
                    Err(e) => self.error(format!("{}: {e}", t(self.lang, Key::ErrInterval))),
                }
                Action::None
            }
            PromptKind::SendFile => {
                self.last_file = value.clone();
                Action::SendFile(PathBuf::from(value))
            }
            PromptKind::SaveLog => {
                self.last_save = value.clone();
                Action::SaveLog(PathBuf::from(value))
            }
            PromptKind::Search => {
                self.search_for(&value);
                Action::None
            }
        }
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

    /// Ctrl-J or Alt-Enter in the send box: a new line at the cursor.
    pub fn newline(&mut self) {
        let at = self.send.cursor();
        let mut v: String = self.send.value().chars().take(at).collect();
        v.push('\n');
        v.extend(self.send.value().chars().skip(at));
        self.send = Input::new(v).with_cursor(at + 1);
        self.sent_pos = None;
        self.dirty = true;
    }

    /// The send box's cursor as (line, column), both in characters.
    pub fn send_cursor(&self) -> (usize, usize) {
        cursor_line_col(self.send.value(), self.send.cursor())
    }

    /// Up (`up`) or Down in the send box: to the same column of the line above or below.
    /// False on the first (last) line, where the key recalls earlier lines instead.
    pub fn move_line(&mut self, up: bool) -> bool {
        let value = self.send.value();
        let lines: Vec<&str> = value.split('\n').collect();
        let (line, col) = self.send_cursor();
        let to = match up {
            true if line > 0 => line - 1,
            false if line + 1 < lines.len() => line + 1,
            _ => return false,
        };
        // Characters before line `to`, each line followed by its newline.
        let start: usize = lines[..to].iter().map(|l| l.chars().count() + 1).sum();
        let cursor = start + col.min(lines[to].chars().count());
        self.send = Input::new(value.to_string()).with_cursor(cursor);
        self.dirty = true;
        true
    }

    /// `/` answered: find `query` in the kept entries, as the pane shows them now, and go
    /// to the newest match.
    pub fn search_for(&mut self, query: &str) {
        let query = Query::new(query);
        let hits: Vec<u64> = self
            .history
            .iter()
            .enumerate()
            .filter(|(_, e)| query.matches(e, self.view))
            .map(|(i, _)| self.history.number(i))
            .collect();
        if hits.is_empty() {
            self.error(format!("{}: {}", t(self.lang, Key::NotFound), query.text));
            self.search = None;
            return;
        }
        let current = hits.len() - 1;
        self.search = Some(Search {
            query,
            hits,
            current: Some(current),
        });
        self.show_hit();
    }

    /// The view changed: the same query, matched as the pane now shows entries.
    pub fn research(&mut self) {
        if let Some(q) = self.search.as_ref().map(|s| s.query.text.clone()) {
            self.search_for(&q);
        }
    }

    /// `n` (`older`) or `N`: the next match up or down, wrapping around.
    pub fn search_step(&mut self, older: bool) {
        let Some(s) = self.search.as_mut() else {
            self.info(t(self.lang, Key::NoSearch));
            return;
        };
        // Hits that fell off the scrollback are forgotten.
        let first_kept = self.history.number(0);
        let before = s.hits.len();
        s.hits.retain(|n| *n >= first_kept);
        let gone = before - s.hits.len();
        if s.hits.is_empty() {
            self.search = None;
            self.error(t(self.lang, Key::NotFound));
            return;
        }
        let n = s.hits.len();
        let at = s
            .current
            .map_or(n - 1, |c| c.saturating_sub(gone).min(n - 1));
        s.current = Some(if older {
            (at + n - 1) % n
        } else {
            (at + 1) % n
        });
        self.show_hit();
    }

    /// Scroll so the current hit is the last entry on screen, and say which it is.
    fn show_hit(&mut self) {
        let Some(s) = &self.search else { return };
        let Some(number) = s.current.and_then(|c| s.hits.get(c)).copied() else {
            return;
        };
        let (which, of) = (s.current.unwrap_or(0) + 1, s.hits.len());
        if let Some(i) = self.history.index_of(number) {
            self.scroll = self.history.len() - 1 - i;
            self.paused = true;
        }
        let q = s.query.text.clone();
        self.info(format!("{} {q}: {which}/{of}", t(self.lang, Key::Found)));
    }

    /// The number of the entry the search is on, to mark it.
    pub fn current_hit(&self) -> Option<u64> {
        let s = self.search.as_ref()?;
        s.current.and_then(|c| s.hits.get(c)).copied()
    }

    /// A checked file starts going out: the gauge appears (an empty file sends nothing).
    pub fn start_file(&mut self, path: String, total: u64) -> bool {
        if total == 0 {
            self.info(format!("{} {path}", t(self.lang, Key::EmptyFile)));
            return false;
        }
        let msg = format!(
            "{} {path}: {total} {}",
            t(self.lang, Key::SendingFile),
            t(self.lang, Key::BytesWord)
        );
        self.log(jiff::Timestamp::now(), EntryKind::Info(msg));
        self.file_send = Some(FileSend {
            path,
            total,
            sent: 0,
        });
        self.dirty = true;
        true
    }

    /// The file could not be read, or the session went away: the gauge goes, with a note.
    pub fn file_stopped(&mut self, why: &str) {
        if let Some(f) = self.file_send.take() {
            let msg = format!(
                "{} {}: {}/{} ({why})",
                t(self.lang, Key::FileStopped),
                f.path,
                f.sent,
                f.total
            );
            self.log(jiff::Timestamp::now(), EntryKind::Error(msg.clone()));
            self.error(msg);
        }
    }

    /// Bytes went out while a file is going: the gauge moves, and at the total it is done.
    fn file_progress(&mut self, n: u64) {
        let Some(f) = self.file_send.as_mut() else {
            return;
        };
        f.sent = (f.sent + n).min(f.total);
        if f.sent >= f.total {
            let msg = format!(
                "{} {}: {} {}",
                t(self.lang, Key::FileSent),
                f.path,
                f.total,
                t(self.lang, Key::BytesWord)
            );
            self.file_send = None;
            self.log(jiff::Timestamp::now(), EntryKind::Info(msg.clone()));
            self.info(msg);
        }
    }

    /// Ctrl-R: start sending the send box every `loop_interval`, or stop. The first send
    /// is due at once; bad input starts nothing.
    pub fn toggle_loop(&mut self, now: Instant) {
        if let Some(l) = self.looping.take() {
            self.info(format!(
                "{} ({} {})",
                t(self.lang, Key::MsgLoopStopped),
                l.count,
                t(self.lang, Key::Sends)
            ));
            return;
        }
        if let Err(e) = self.can_send() {
            self.error(e);
            return;
        }
        match self.parse_send() {
            Ok(bytes) => {
                self.looping = Some(Looping {
                    bytes: Bytes::from(bytes),
                    to: self.session_target(),
                    count: 0,
                    next: now,
                });
                self.dirty = true;
            }
            Err(e) => self.send_failed(e),
        }
    }

    /// The loop's send if one is due at `now`.
    pub fn loop_tick(&mut self, now: Instant) -> Option<Command> {
        let interval = self.loop_interval;
        let l = self.looping.as_mut()?;
        if now < l.next {
            return None;
        }
        l.count += 1;
        l.next = now + interval;
        self.dirty = true;
        Some(Command::Send {
            to: l.to.clone(),
            bytes: l.bytes.clone(),
        })
    }

    /// When the loop wants to be woken, if it runs.
    pub fn loop_deadline(&self) -> Option<Instant> {
        self.looping.as_ref().map(|l| l.next)
    }

    /// The loop ends with the session or an error, and says so with its count.
    pub fn stop_loop(&mut self) {
        if let Some(l) = self.looping.take() {
            self.log(
                jiff::Timestamp::now(),
                EntryKind::Info(format!(
                    "{} ({} {})",
                    t(self.lang, Key::MsgLoopStopped),
                    l.count,
                    t(self.lang, Key::Sends)
                )),
            );
        }
    }

    /// Why nothing can be sent now, if so.
    fn can_send(&self) -> Result<(), &'static str> {
        if !self.is_open() {
            return Err(t(self.lang, Key::ErrNotOpen));
        }
        if self.mode == Mode::Server && self.peers.is_empty() {
            return Err(t(self.lang, Key::NoClient));
        }
        Ok(())
    }

    fn send_failed(&mut self, e: SendError) {
        let msg = if self.send_hex {
            format!("{}: {}", t(self.lang, Key::ErrBadHex), e.message)
        } else {
            e.message
        };
        self.error(msg);
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
        let entry = Entry { time, kind };
        if let Some(s) = self.search.as_mut() {
            if s.query.matches(&entry, self.view) {
                s.hits.push(self.history.number(self.history.len()));
            }
        }
        self.history.push(entry);
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
                self.connect_failed = true;
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
                        Direction::Received | Direction::ToTarget => row.bytes_in += n,
                        Direction::Sent | Direction::ToClient => row.bytes_out += n,
                    }
                }
                match dir {
                    Direction::Received | Direction::ToTarget => {
                        self.counters.bytes_in += n;
                        self.counters.packets_in += 1;
                    }
                    Direction::Sent | Direction::ToClient => {
                        self.counters.bytes_out += n;
                        self.counters.packets_out += 1;
                        if data.file {
                            self.file_progress(n);
                        }
                    }
                }
                // A file's pieces are the gauge and one line at each end, as in NetAssist,
                // not a log entry each.
                if data.file {
                    return;
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
                    self.stop_loop();
                }
            }
            EventKind::Reconnecting {
                attempt,
                delay_ms,
                reason,
            } => {
                self.state = State::Connecting;
                let msg = format!(
                    "{reason}; {} {}s (#{attempt})",
                    t(self.lang, Key::ReconnectingIn),
                    *delay_ms as f64 / 1000.0
                );
                self.log(ev.time, EntryKind::Info(msg.clone()));
                self.info(msg);
            }
            EventKind::Rejected { addr, reason } => {
                self.log(ev.time, EntryKind::Error(format!("{addr}: {reason}")));
            }
            EventKind::Notice { message } => self.log(ev.time, EntryKind::Info(message.clone())),
            EventKind::Warning { message } => {
                self.log(ev.time, EntryKind::Error(message.clone()));
                self.error(message.clone());
            }
            EventKind::Error { message, .. } => {
                self.log(ev.time, EntryKind::Error(message.clone()));
                self.error(message.clone());
                self.stop_loop();
            }
            EventKind::Certificate { cert, generated } => {
                let what = if *generated {
                    t(self.lang, Key::TlsGenerated)
                } else {
                    t(self.lang, Key::TlsLoaded)
                };
                let msg = format!(
                    "{what}: {} ({}); {} {}",
                    cert.subject,
                    cert.names.join(", "),
                    t(self.lang, Key::TlsPinHint),
                    cert.sha256
                );
                self.log(ev.time, EntryKind::Info(msg));
            }
            EventKind::Secured { peer, tls } => {
                let mut msg = format!(
                    "#{} {} {} {}",
                    peer.id,
                    t(self.lang, Key::TlsSecured),
                    tls.protocol,
                    tls.cipher
                );
                if let Some(c) = &tls.peer_cert {
                    msg.push_str(&format!("; {} sha256 {}", c.subject, c.sha256));
                }
                self.log(ev.time, EntryKind::Info(msg));
            }
            EventKind::Resolving { .. }
            | EventKind::Resolved { .. }
            | EventKind::Detected { .. }
            | EventKind::HalfClosed { .. }
            // `--script` runs are a command-line face's.
            | EventKind::Step { .. }
            // Relay events: the TUI does not run a relay.
            | EventKind::Upstream { .. }
            | EventKind::Relayed { .. }
            | EventKind::NotShown { .. }
            | EventKind::Dropped { .. } => {}
        }
    }

    /// The session ended (its event stream closed), with the reason it failed if it did.
    pub fn ended(&mut self, failure: Option<String>) {
        self.stop_loop();
        self.file_stopped(t(self.lang, Key::StateClosed));
        // A connect that never got through has had each failed attempt logged already:
        // the session's final error says the same, so it goes to the status bar only.
        let logged = self.state == State::Connecting && self.connect_failed;
        self.connect_failed = false;
        self.state = State::Closed;
        self.peers.clear();
        self.target = SendTarget::All;
        self.selected = 0;
        match failure {
            Some(mut e) => {
                // A certificate the system does not trust is the usual state of a test
                // server: say which key gets past it.
                if self.transport == Transport::Tls
                    && self.mode == Mode::Client
                    && self.tls_verify
                    && e.contains("certificate")
                {
                    e = format!("{e} {}", t(self.lang, Key::HintVerify));
                }
                if !logged {
                    self.log(jiff::Timestamp::now(), EntryKind::Error(e.clone()));
                }
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
        if let Err(e) = self.can_send() {
            self.error(e);
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
                self.send_failed(e);
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

    /// F6 (Shift-F6 back): the next mode, while closed.
    pub fn cycle_mode(&mut self, back: bool) {
        if self.is_open() {
            self.error(t(self.lang, Key::ErrClosedWhileOpen));
            return;
        }
        let n = MODES.len();
        let i = MODES
            .iter()
            .position(|m| *m == (self.transport, self.mode))
            .unwrap_or(0);
        (self.transport, self.mode) = MODES[if back { (i + n - 1) % n } else { (i + 1) % n }];
        if self.focus == Focus::Clients && self.mode == Mode::Client {
            self.focus = Focus::Received;
        }
        self.dirty = true;
    }

    /// Ctrl-E: reconnecting on or off, while closed.
    pub fn toggle_reconnect(&mut self) {
        if self.is_open() {
            self.error(t(self.lang, Key::ErrClosedWhileOpen));
            return;
        }
        self.reconnect = !self.reconnect;
        self.dirty = true;
    }

    /// A client over a connection: one that can reconnect.
    pub fn is_stream_client(&self) -> bool {
        self.mode == Mode::Client
            && matches!(
                self.transport,
                Transport::Tcp | Transport::Tls | Transport::Unix
            )
    }

    /// Ctrl-V: certificate verification of a TLS client on or off, while closed.
    pub fn toggle_verify(&mut self) {
        if self.is_open() {
            self.error(t(self.lang, Key::ErrClosedWhileOpen));
            return;
        }
        self.tls_verify = !self.tls_verify;
        self.dirty = true;
    }

    /// An address typed with a scheme (`udp://host:port`, from the command line or an old
    /// settings file) sets the transport and loses the scheme, so the panel shows the mode.
    pub fn adopt_scheme(&mut self) {
        let addr = self.address.value().trim().to_string();
        if let Some((tr, rest)) = Transport::split(&addr) {
            self.transport = tr;
            self.address = Input::new(rest.to_string());
            self.dirty = true;
        }
    }

    /// The endpoint text the panel stands for: the transport's scheme and the address.
    pub fn endpoint_text(&self) -> String {
        let addr = self.address.value().trim();
        match Transport::split(addr) {
            Some(_) => addr.to_string(),
            None => format!("{}{addr}", self.transport.prefix()),
        }
    }

    pub fn scroll_by(&mut self, delta: isize) {
        let max = self.history.len().saturating_sub(1) as isize;
        self.scroll = (self.scroll as isize + delta).clamp(0, max) as usize;
        self.dirty = true;
    }
}

/// A loop interval as typed: `500ms`, `2s`, `1.5s`, `1m`, or a bare number of
/// milliseconds; between [`LOOP_MIN`] and [`LOOP_MAX`].
pub fn parse_interval(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?}: expected a number with ms, s or m, like 500ms or 2s"))?;
    let secs = match unit.trim() {
        "" | "ms" => n / 1000.0,
        "s" => n,
        "m" | "min" => n * 60.0,
        u => return Err(format!("{u:?} is not a unit; expected ms, s or m")),
    };
    let d = Duration::try_from_secs_f64(secs).map_err(|e| format!("{s:?}: {e}"))?;
    if d < LOOP_MIN || d > LOOP_MAX {
        return Err(format!(
            "{s:?}: expected between {} and {}",
            show_interval(LOOP_MIN),
            show_interval(LOOP_MAX)
        ));
    }
    Ok(d)
}

/// An interval as `parse_interval` reads it back: `250ms`, `2s`, `1.5s`.
pub fn show_interval(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 || !ms.is_multiple_of(100) {
        format!("{ms}ms")
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// The (line, column) of character `cursor` in `text`, in characters.
pub fn cursor_line_col(text: &str, cursor: usize) -> (usize, usize) {
    let mut line = 0;
    let mut col = 0;
    for c in text.chars().take(cursor) {
        if c == '\n' {
            line += 1;
            col = 0;
        } else {
            col += 1;
        }
    }
    (line, col)
}

/// The bytes of a send box: hex, or text with escapes in `encoding` followed by the line
/// end. A line end is not added to hex: hex is every byte, exactly, and a new line in it
/// only separates bytes. In text, each line of the box ends with the line end (a plain LF
/// between lines when the line end is none: the user typed one).
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
    let fail = |e: socklab_core::Error| SendError {
        message: e.to_string(),
        at: if hex { bad_hex_at(input) } else { None },
    };
    if hex {
        return encode_input(input, &opts).map_err(fail);
    }
    let between: &[u8] = match eol {
        Eol::None => b"\n",
        e => e.bytes(),
    };
    let mut bytes = Vec::new();
    for (i, line) in input.split('\n').enumerate() {
        if i > 0 {
            bytes.extend_from_slice(between);
        }
        bytes.extend(encode_input(line, &opts).map_err(fail)?);
    }
    bytes.extend_from_slice(eol.bytes());
    Ok(bytes)
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
    use socklab_core::endpoint::Endpoint;
    use socklab_core::session::{Addr, CloseReason, Data, Peer, Scheme};

    #[test]
    fn f6_walks_every_mode_and_the_endpoint_follows() {
        let mut app = App::new(Lang::En, 10);
        app.address = Input::new("127.0.0.1:5000".into());
        let mut seen = Vec::new();
        for _ in 0..MODES.len() {
            seen.push((
                mode_label(Lang::En, app.transport, app.mode),
                app.endpoint_text(),
            ));
            app.cycle_mode(false);
        }
        assert_eq!(
            (app.transport, app.mode),
            (Transport::Tcp, Mode::Client),
            "it wraps"
        );
        assert_eq!(seen[0], ("TCP client", "127.0.0.1:5000".to_string()));
        assert_eq!(seen[1], ("TCP server", "127.0.0.1:5000".to_string()));
        assert_eq!(seen[2], ("UDP client", "udp://127.0.0.1:5000".to_string()));
        assert_eq!(seen[3], ("UDP server", "udp://127.0.0.1:5000".to_string()));
        assert_eq!(seen[4], ("TLS client", "tls://127.0.0.1:5000".to_string()));
        assert_eq!(seen[5], ("TLS server", "tls://127.0.0.1:5000".to_string()));
        app.cycle_mode(true);
        assert_eq!(
            (app.transport, app.mode),
            (Transport::UnixGram, Mode::Server)
        );
        app.address = Input::new("/tmp/s.sock".into());
        assert_eq!(app.endpoint_text(), "unixgram:/tmp/s.sock");
        let ep = Endpoint::parse_listen(&app.endpoint_text()).expect("a unixgram endpoint");
        assert!(ep.scheme().is_datagram());
        (app.transport, app.mode) = (Transport::Udp, Mode::Client);
        app.address = Input::new("127.0.0.1:5000".into());
        let ep = Endpoint::parse_connect(&app.endpoint_text()).expect("a udp endpoint");
        assert_eq!(ep.scheme(), Scheme::Udp);
    }

    #[test]
    fn a_scheme_typed_in_the_address_picks_the_transport() {
        let mut app = App::new(Lang::En, 10);
        app.address = Input::new("  TLS://localhost:8443 ".into());
        assert_eq!(app.endpoint_text(), "TLS://localhost:8443", "typed wins");
        app.adopt_scheme();
        assert_eq!(app.transport, Transport::Tls);
        assert_eq!(app.address.value(), "localhost:8443");
        app.address = Input::new("unixgram:/tmp/g".into());
        app.adopt_scheme();
        assert_eq!(app.transport, Transport::UnixGram, "not unix:");
        assert_eq!(app.address.value(), "/tmp/g");
        app.address = Input::new("127.0.0.1:1".into());
        app.adopt_scheme();
        assert_eq!(app.transport, Transport::UnixGram, "no scheme, no change");
        assert_eq!(Transport::split("udp:/"), None);
        assert_eq!(Transport::split("中文"), None, "not cut inside a character");
    }

    #[test]
    fn verify_is_on_by_default_and_changes_only_when_closed() {
        let mut app = App::new(Lang::En, 10);
        assert!(app.tls_verify);
        app.toggle_verify();
        assert!(!app.tls_verify);
        app.state = State::Connecting;
        app.toggle_verify();
        assert!(!app.tls_verify);
    }

    #[test]
    fn reconnect_is_off_by_default_changes_only_when_closed_and_is_for_stream_clients() {
        let mut app = App::new(Lang::En, 10);
        assert!(!app.reconnect);
        app.toggle_reconnect();
        assert!(app.reconnect);
        app.state = State::Connected;
        app.toggle_reconnect();
        assert!(app.reconnect, "not while open");
        for (transport, mode, stream_client) in [
            (Transport::Tcp, Mode::Client, true),
            (Transport::Tls, Mode::Client, true),
            (Transport::Unix, Mode::Client, true),
            (Transport::Udp, Mode::Client, false),
            (Transport::UnixGram, Mode::Client, false),
            (Transport::Tcp, Mode::Server, false),
        ] {
            (app.transport, app.mode) = (transport, mode);
            assert_eq!(
                app.is_stream_client(),
                stream_client,
                "{transport:?} {mode:?}"
            );
        }
    }

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
    fn the_send_box_takes_several_lines_and_up_down_move_between_them() {
        let mut app = App::new(Lang::En, 100);
        app.state = State::Connected;
        app.sent_lines = vec!["earlier".into()];
        app.send = Input::new("GET / HTTP/1.0".into());
        app.newline();
        for c in "Host: x".chars() {
            app.send.handle(tui_input::InputRequest::InsertChar(c));
        }
        app.newline();
        assert_eq!(app.send.value(), "GET / HTTP/1.0\nHost: x\n");
        assert_eq!(app.send_cursor(), (2, 0));
        assert!(app.move_line(true));
        assert_eq!(app.send_cursor(), (1, 0));
        app.send = Input::new(app.send.value().into()).with_cursor(20);
        assert_eq!(app.send_cursor(), (1, 5));
        assert!(app.move_line(true));
        assert_eq!(app.send_cursor(), (0, 5), "same column above");
        assert!(!app.move_line(true), "the first line: Up recalls instead");
        assert!(app.move_line(false));
        assert!(app.move_line(false));
        assert_eq!(app.send_cursor(), (2, 0), "clamped to the short last line");
        assert!(!app.move_line(false));
        // A newline in the middle splits the line at the cursor.
        app.send = Input::new("ab".into()).with_cursor(1);
        app.newline();
        assert_eq!(app.send.value(), "a\nb");
        assert_eq!(app.send_cursor(), (1, 0));
        // Sent: every line ends with the line end.
        app.eol = Eol::CrLf;
        app.send = Input::new("one\ntwo\\t".into());
        match app.submit() {
            Action::Command(Command::Send { bytes, .. }) => {
                assert_eq!(&bytes[..], b"one\r\ntwo\t\r\n")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            app.sent_lines.last().map(String::as_str),
            Some("one\ntwo\\t")
        );
        app.recall(true);
        assert_eq!(app.send.value(), "one\ntwo\\t", "history keeps the lines");
        app.recall(true);
        assert_eq!(app.send.value(), "earlier");
    }

    #[test]
    fn a_new_line_in_hex_separates_bytes_and_with_no_line_end_is_a_plain_lf() {
        assert_eq!(
            parse_send("01 02\n03", true, Encoding::UTF8, Eol::CrLf).unwrap(),
            [1, 2, 3]
        );
        assert_eq!(
            parse_send("a\nb", false, Encoding::UTF8, Eol::None).unwrap(),
            b"a\nb"
        );
        assert_eq!(cursor_line_col("中\n文字", 4), (1, 2));
    }

    #[test]
    fn the_loop_sends_at_most_once_per_interval_and_stops_with_the_session() {
        let mut app = App::new(Lang::En, 100);
        let t0 = Instant::now();
        app.send = Input::new("ping".into());
        app.toggle_loop(t0);
        assert!(app.looping.is_none(), "not while closed");
        app.state = State::Connected;
        app.loop_interval = Duration::from_millis(500);
        app.toggle_loop(t0);
        assert_eq!(
            app.loop_deadline(),
            Some(t0),
            "the first send is due at once"
        );
        assert!(matches!(app.loop_tick(t0), Some(Command::Send { .. })));
        assert!(app.loop_tick(t0).is_none(), "not twice at the same instant");
        assert!(app.loop_tick(t0 + Duration::from_millis(499)).is_none());
        // Woken late (a busy machine): one send, and the next is an interval after it,
        // never a burst to catch up.
        let late = t0 + Duration::from_secs(3);
        assert!(app.loop_tick(late).is_some());
        assert!(app.loop_tick(late + Duration::from_millis(10)).is_none());
        assert_eq!(app.loop_deadline(), Some(late + Duration::from_millis(500)));
        assert_eq!(app.looping.as_ref().map(|l| l.count), Some(2));
        match app.loop_tick(late + Duration::from_millis(500)) {
            Some(Command::Send { bytes, to }) => {
                assert_eq!(&bytes[..], b"ping\n");
                assert_eq!(to, Target::Default);
            }
            other => panic!("{other:?}"),
        }
        app.ended(None);
        assert!(app.looping.is_none(), "the loop ends with the session");
        assert!(app.loop_tick(late + Duration::from_secs(9)).is_none());
        // Stopped by an error, and by the key.
        app.state = State::Connected;
        app.toggle_loop(t0);
        app.apply(&Event::now(EventKind::Error {
            peer: None,
            message: "boom".into(),
        }));
        assert!(app.looping.is_none());
        app.toggle_loop(t0);
        app.toggle_loop(t0);
        assert!(app.looping.is_none());
        // Bad input starts nothing.
        app.send_hex = true;
        app.send = Input::new("zz".into());
        app.toggle_loop(t0);
        assert!(app.looping.is_none());
        assert!(app.status.as_ref().is_some_and(|s| s.error));
    }

    #[test]
    fn intervals_read_like_the_command_line_and_are_bounded() {
        assert_eq!(parse_interval("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_interval("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_interval("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_interval(" 1m "), Ok(Duration::from_secs(60)));
        assert_eq!(parse_interval("250"), Ok(Duration::from_millis(250)));
        for bad in ["0", "1ms", "fast", "2h", "", "-1s", "1e9s", "48m0"] {
            assert!(parse_interval(bad).is_err(), "{bad}");
        }
        for d in [250, 1000, 1500, 60_000, 1234] {
            let d = Duration::from_millis(d);
            assert_eq!(parse_interval(&show_interval(d)), Ok(d));
        }
        let mut app = App::new(Lang::En, 10);
        app.ask(PromptKind::Interval, "200ms".into());
        app.finish_prompt();
        assert_eq!(app.loop_interval, Duration::from_millis(200));
        app.ask(PromptKind::Interval, "0s".into());
        app.finish_prompt();
        assert_eq!(app.loop_interval, Duration::from_millis(200), "kept");
        assert!(app.status.as_ref().is_some_and(|s| s.error));
    }

    #[test]
    fn a_preset_is_saved_under_the_typed_name_and_loaded_only_when_closed() {
        let mut app = App::new(Lang::En, 100);
        app.address = Input::new("10.0.0.7:502".into());
        app.eol = Eol::CrLf;
        app.start_prompt();
        app.ask(PromptKind::Preset, "  modbus  ".into());
        assert!(matches!(app.finish_prompt(), Action::SaveSettings));
        assert_eq!(app.preset.as_deref(), Some("modbus"));
        app.address = Input::new("elsewhere:1".into());
        app.start_prompt();
        app.ask(PromptKind::Preset, "   ".into());
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

    /// Issue #5, polish: a refused connect was logged twice, once as the failed attempt
    /// and once as the session's final error.
    #[test]
    fn a_refused_connect_is_logged_once() {
        let mut app = App::new(Lang::En, 100);
        app.state = State::Connecting;
        app.apply(&Event::now(EventKind::ConnectFailed {
            addr: "127.0.0.1:9".parse().unwrap(),
            reason: "connection refused".into(),
        }));
        app.ended(Some(
            "cannot connect to 127.0.0.1:9: connection refused".into(),
        ));
        let errors = app
            .history
            .iter()
            .filter(|e| matches!(e.kind, EntryKind::Error(_)))
            .count();
        assert_eq!(errors, 1);
        let s = app.status.clone().unwrap();
        assert!(s.error && s.text.contains("refused"), "{s:?}");
        // A failure after a connection is still logged.
        app.state = State::Connected;
        app.ended(Some("reset".into()));
        assert_eq!(app.history.len(), 2);
    }

    fn sent(id: PeerId, b: &'static [u8], file: bool) -> Event {
        Event::now(EventKind::Sent {
            peer: peer(id, 9000),
            data: Data {
                file,
                ..Data::new(Bytes::from_static(b), String::from_utf8_lossy(b).into())
            },
        })
    }

    /// A file's pieces move the gauge and count, but the log gets one line at the start
    /// and one at the end, not an entry per piece; a typed send meanwhile is logged.
    #[test]
    fn a_files_pieces_are_one_line_at_each_end() {
        let mut app = App::new(Lang::En, 100);
        app.state = State::Connected;
        app.apply(&connected(1, 9000));
        assert!(app.start_file("/tmp/fw.bin".into(), 8));
        app.apply(&sent(1, b"abcd", true));
        app.apply(&sent(1, b"typed\n", false));
        assert_eq!(app.file_send.as_ref().map(|f| f.sent), Some(4));
        app.apply(&sent(1, b"efgh", true));
        assert!(app.file_send.is_none(), "done at the total");
        assert_eq!(app.counters.bytes_out, 14);
        let logged: Vec<String> = app
            .history
            .iter()
            .map(|e| match &e.kind {
                EntryKind::Info(s) => s.clone(),
                EntryKind::Data { bytes, .. } => format!("data {}", bytes.len()),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(logged.len(), 4, "{logged:?}");
        assert!(logged[1].contains("sending /tmp/fw.bin: 8"), "{logged:?}");
        assert_eq!(logged[2], "data 6", "{logged:?}");
        assert!(logged[3].contains("/tmp/fw.bin: 8"), "{logged:?}");
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
        app.cycle_mode(false);
        app.cycle_encoding();
        assert_eq!(app.mode, Mode::Client);
        assert_eq!(app.encoding, Encoding::from_label("gbk").unwrap());
        assert!(app.status.unwrap().error);
    }
}
