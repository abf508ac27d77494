//! The loop: terminal keys, session events and a frame clock, in one task.
//!
//! Events are applied as they come (many per frame when a peer streams), and the screen is
//! drawn at most once per frame tick and only when something changed, so a fast peer costs
//! state updates, not redraws, and an idle window costs nothing.

use std::io::{self, Write as _};
use std::path::PathBuf;
use std::time::Duration;

use crossterm::event::{
    DisableMouseCapture, EnableMouseCapture, Event as TermEvent, EventStream, KeyCode, KeyEvent,
    KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use futures_util::StreamExt;
use ratatui::layout::{Position, Rect};
use socklab_core::codec::Encoding;
use socklab_core::endpoint::Endpoint;
use socklab_core::session::{Command, Event, Session, SessionConfig, Target};
use socklab_core::transport::tls::TlsClientOptions;
use socklab_core::transport::{self, ConnectOptions, ListenOptions};
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio::task::JoinHandle;
use tui_input::backend::crossterm::EventHandler;
use tui_input::Input;

use crate::app::{show_interval, Action, App, Focus, Mode, PromptKind};
use crate::i18n::{t, Key, Lang};
use crate::settings::Settings;
use crate::ui;

/// At most this many frames a second.
const FRAME: Duration = Duration::from_millis(33);
/// Events applied in one go before keys get a turn, so typing stays responsive under load.
const BATCH: usize = 4096;
const BATCH_TIME: Duration = Duration::from_millis(8);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// A reconnecting client's first pause; it doubles up to the core's limit (30s).
const RECONNECT_FIRST: Duration = Duration::from_secs(1);

/// How the window starts.
#[derive(Debug, Clone)]
pub struct Options {
    pub lang: Lang,
    /// Opened at once when given.
    pub endpoint: Option<String>,
    /// Listen on `endpoint` rather than connect to it.
    pub listen: bool,
    /// Given on the command line: wins over the remembered one.
    pub encoding: Option<Encoding>,
    /// Entries kept in the received pane.
    pub scrollback: usize,
    /// What was remembered, read before the screen is taken (see [`crate::settings`]).
    pub settings: Settings,
    /// Where to write the settings back; `None` leaves the file alone.
    pub settings_path: Option<PathBuf>,
    /// Why the settings file could not be read, shown in the status bar.
    pub settings_error: Option<String>,
    /// A preset (known to exist in `settings`) to load over the remembered panel.
    pub preset: Option<String>,
}

/// Run the window until the user quits. The terminal is restored on return, on panic (the
/// hook ratatui installs) and on Ctrl-C (a key in raw mode, or SIGINT from outside).
pub async fn run(opts: Options) -> io::Result<()> {
    let mut app = App::new(opts.lang, opts.scrollback);
    // Remembered first, then a preset, then what the command line says.
    opts.settings.restore(&mut app);
    if let Some(p) = opts
        .preset
        .as_ref()
        .and_then(|n| opts.settings.presets.get(n))
    {
        p.apply(&mut app);
        app.preset = opts.preset.clone();
    }
    app.settings = opts.settings;
    app.settings_path = opts.settings_path;
    if let Some(e) = opts.encoding {
        app.encoding = e;
    }
    if opts.listen {
        app.mode = Mode::Server;
    }
    let open_now = opts.endpoint.is_some();
    if let Some(ep) = opts.endpoint {
        app.address = Input::new(ep);
        // --listen decides the mode with an endpoint; without --listen it is a client.
        if !opts.listen {
            app.mode = Mode::Client;
        }
        app.focus = Focus::Send;
    }
    // A scheme in the address (the command line's `udp://...`, or an old settings file's)
    // becomes the mode shown in the panel.
    app.adopt_scheme();
    if let Some(e) = opts.settings_error {
        app.error(format!("{} ({e})", t(app.lang, Key::ErrSettings)));
    }
    app.local_addrs = local_addresses();
    let mut terminal = ratatui::try_init()?;
    // The mouse is an extra: a terminal that cannot report it still gets every key.
    let _ = crossterm::execute!(io::stdout(), EnableMouseCapture);
    let outcome = event_loop(&mut terminal, &mut app, open_now).await;
    let _ = crossterm::execute!(io::stdout(), DisableMouseCapture);
    ratatui::restore();
    if let Some(e) = app.save_settings() {
        // Not eprintln!: a closed stderr must not turn a clean exit into a panic.
        let _ = writeln!(io::stderr(), "socklab: the settings were not saved: {e}");
    }
    outcome
}

/// The addresses a device on the network could use to reach a server here: every
/// interface's, loopback last.
fn local_addresses() -> Vec<String> {
    let mut addrs: Vec<(bool, String)> = if_addrs::get_if_addrs()
        .unwrap_or_default()
        .into_iter()
        .map(|i| (i.is_loopback(), format!("{} {}", i.ip(), i.name)))
        .collect();
    addrs.sort_by_key(|(lo, _)| *lo);
    addrs.dedup();
    addrs.into_iter().map(|(_, a)| a).collect()
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    open_now: bool,
) -> io::Result<()> {
    let mut keys = EventStream::new();
    let mut frame = tokio::time::interval(FRAME);
    frame.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut second = tokio::time::interval(Duration::from_secs(1));
    second.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut stats = FrameStats::from_env();
    let mut session: Option<Session> = None;
    let (file_tx, mut file_rx) = mpsc::unbounded_channel();
    let mut tasks = Tasks {
        file: None,
        file_errors: file_tx,
    };
    if open_now {
        session = open(app).await;
    }
    loop {
        tokio::select! {
            _ = frame.tick() => {
                if app.dirty {
                    let started = std::time::Instant::now();
                    if let Ok(size) = terminal.size() {
                        app.screen = Rect::new(0, 0, size.width, size.height);
                    }
                    terminal.draw(|f| ui::draw(f, app))?;
                    app.dirty = false;
                    if let Some(st) = stats.as_mut() {
                        st.frame(started.elapsed());
                    }
                }
            }
            _ = second.tick() => {
                app.counters.tick();
                app.now = jiff::Timestamp::now();
                app.dirty = true;
            }
            key = keys.next() => match key {
                Some(Ok(ev)) => {
                    let action = on_term_event(app, &ev);
                    perform(app, &mut session, &mut tasks, action).await;
                }
                Some(Err(e)) => return Err(e),
                None => app.quit = true,
            },
            ev = next_event(&mut session) => match ev {
                Some(ev) => {
                    app.apply(&ev);
                    let mut applied = 1;
                    // Keys and frames get their turn after a batch, or after a few
                    // milliseconds of a batch of big reads, whichever comes first.
                    let until = std::time::Instant::now() + BATCH_TIME;
                    if let Some(s) = session.as_mut() {
                        for _ in 0..BATCH {
                            if std::time::Instant::now() > until {
                                break;
                            }
                            match s.events.try_recv() {
                                Ok(ev) => {
                                    app.apply(&ev);
                                    applied += 1;
                                }
                                Err(_) => break,
                            }
                        }
                    }
                    if let Some(st) = stats.as_mut() {
                        st.events += applied;
                    }
                }
                None => {
                    if let Some(s) = session.take() {
                        let failure = match s.done.await {
                            Ok(Ok(())) => None,
                            Ok(Err(e)) => Some(e.to_string()),
                            Err(e) => Some(e.to_string()),
                        };
                        if let Some(task) = tasks.file.take() {
                            task.abort();
                        }
                        app.ended(failure);
                    }
                }
            },
            _ = loop_wait(app.loop_deadline()) => {
                if let Some(cmd) = app.loop_tick(std::time::Instant::now()) {
                    loop_send(app, &session, cmd);
                }
            }
            Some(e) = file_rx.recv() => {
                tasks.file = None;
                app.file_stopped(&e);
            }
            _ = &mut ctrl_c => app.quit = true,
        }
        if app.quit {
            break;
        }
    }
    if let Some(task) = tasks.file.take() {
        task.abort();
    }
    if let Some(s) = session {
        let _ = s.commands.try_send(Command::Quit);
    }
    if let Some(st) = stats {
        st.write(app);
    }
    Ok(())
}

/// Frame times for the benchmark (`scripts/bench-tui`), written at exit to the file named
/// by `SOCKLAB_TUI_STATS`. Kept out of the way otherwise: no variable, no cost.
struct FrameStats {
    path: PathBuf,
    micros: Vec<u32>,
    events: u64,
    started: std::time::Instant,
}

impl FrameStats {
    fn from_env() -> Option<FrameStats> {
        let path = std::env::var_os("SOCKLAB_TUI_STATS").filter(|p| !p.is_empty())?;
        Some(FrameStats {
            path: PathBuf::from(path),
            micros: Vec::new(),
            events: 0,
            started: std::time::Instant::now(),
        })
    }

    fn frame(&mut self, took: Duration) {
        self.micros
            .push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
    }

    fn write(mut self, app: &App) {
        self.micros.sort_unstable();
        let at = |q: f64| {
            let i = ((self.micros.len() as f64 - 1.0) * q).round() as usize;
            self.micros.get(i).copied().unwrap_or(0)
        };
        let text = format!(
            "{{\"seconds\":{:.3},\"frames\":{},\"frame_us_p50\":{},\"frame_us_p99\":{},\"frame_us_max\":{},\"events\":{},\"bytes_in\":{},\"entries_kept\":{}}}\n",
            self.started.elapsed().as_secs_f64(),
            self.micros.len(),
            at(0.5),
            at(0.99),
            at(1.0),
            self.events,
            app.counters.bytes_in,
            app.history.len(),
        );
        if let Err(e) = std::fs::write(&self.path, text) {
            let _ = writeln!(
                io::stderr(),
                "socklab: SOCKLAB_TUI_STATS {}: {e}",
                self.path.display()
            );
        }
    }
}

async fn next_event(session: &mut Option<Session>) -> Option<Event> {
    match session {
        Some(s) => s.events.recv().await,
        None => std::future::pending().await,
    }
}

/// Work that runs beside the loop: the file being sent, and where it reports a failure.
struct Tasks {
    file: Option<JoinHandle<()>>,
    file_errors: mpsc::UnboundedSender<String>,
}

/// Until the loop send is due; never, when there is no loop.
async fn loop_wait(due: Option<std::time::Instant>) {
    match due {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}

/// One send of the loop. A full queue skips this round (the loop never piles sends up);
/// a session that is gone stops the loop.
fn loop_send(app: &mut App, session: &Option<Session>, cmd: Command) {
    let Some(s) = session else {
        app.stop_loop();
        return;
    };
    match s.commands.try_send(cmd) {
        Ok(()) => {}
        Err(TrySendError::Full(_)) => {
            if let Some(l) = app.looping.as_mut() {
                l.count = l.count.saturating_sub(1);
            }
        }
        Err(TrySendError::Closed(_)) => app.stop_loop(),
    }
}

/// Datagrams of a file sent over UDP or unixgram: what fits an Ethernet frame unfragmented,
/// as `socklab listen` uses for a datagram server.
const FILE_DATAGRAM: usize = 1472;
/// What is read from a file at a time: large enough to keep the socket busy, small enough
/// that the gauge moves; the session's bounded queue holds only a few at once.
const FILE_CHUNK: usize = 64 * 1024;

/// Check a file (it exists, is not a directory, can be opened) before anything is sent;
/// its size, or why not.
fn check_file(path: &std::path::Path) -> Result<u64, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.is_dir() {
        return Err(format!("{}: a directory", path.display()));
    }
    std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(meta.len())
}

/// Read the file in chunks into the session: each one a SendPieces, cut into datagrams of
/// `piece` bytes over a datagram transport and written whole over a stream. The command
/// queue's bound is the backpressure: at most a few chunks are in memory.
async fn send_file(
    commands: mpsc::Sender<Command>,
    to: Target,
    path: PathBuf,
    piece: usize,
    errors: mpsc::UnboundedSender<String>,
) {
    use tokio::io::AsyncReadExt;
    let mut file = match tokio::fs::File::open(&path).await {
        Ok(f) => f,
        Err(e) => {
            let _ = errors.send(e.to_string());
            return;
        }
    };
    loop {
        let mut buf = bytes::BytesMut::with_capacity(FILE_CHUNK);
        match (&mut file).take(FILE_CHUNK as u64).read_buf(&mut buf).await {
            Ok(0) => return,
            Ok(_) => {
                let cmd = Command::SendPieces {
                    to: to.clone(),
                    bytes: buf.freeze(),
                    size: piece,
                    file: true,
                };
                if commands.send(cmd).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                let _ = errors.send(e.to_string());
                return;
            }
        }
    }
}

async fn perform(app: &mut App, session: &mut Option<Session>, tasks: &mut Tasks, action: Action) {
    match action {
        Action::None => {}
        Action::Open => {
            if session.is_none() {
                *session = open(app).await;
            }
        }
        Action::Close => {
            if let Some(s) = session {
                let _ = s.commands.try_send(Command::Quit);
            }
        }
        Action::Command(c) => match session {
            Some(s) => match s.commands.try_send(c) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) => app.error(t(app.lang, Key::ErrBusy)),
                Err(TrySendError::Closed(_)) => app.error(t(app.lang, Key::ErrNotOpen)),
            },
            None => app.error(t(app.lang, Key::ErrNotOpen)),
        },
        Action::SaveSettings => {
            if let Some(e) = app.save_settings() {
                app.error(e);
            }
        }
        Action::CancelFile => {
            if let Some(task) = tasks.file.take() {
                task.abort();
            }
            app.file_stopped(t(app.lang, Key::FileCancelled));
        }
        Action::SendFile(path) => {
            let Some(s) = session.as_ref() else {
                app.error(t(app.lang, Key::ErrNotOpen));
                return;
            };
            if let Some(f) = &app.file_send {
                let msg = format!("{} {}", t(app.lang, Key::SendingFile), f.path);
                app.error(msg);
                return;
            }
            match check_file(&path) {
                Ok(size) => {
                    if app.start_file(path.display().to_string(), size) {
                        let piece = if app.transport.is_datagram() {
                            FILE_DATAGRAM
                        } else {
                            FILE_CHUNK
                        };
                        tasks.file = Some(tokio::spawn(send_file(
                            s.commands.clone(),
                            app.session_target(),
                            path,
                            piece,
                            tasks.file_errors.clone(),
                        )));
                    }
                }
                Err(e) => app.error(format!("{}: {e}", t(app.lang, Key::ErrFile))),
            }
        }
        Action::SaveLog(path) => {
            let text = ui::export(app);
            match std::fs::write(&path, text.as_bytes()) {
                Ok(()) => app.info(format!(
                    "{} {} {} → {}",
                    t(app.lang, Key::MsgSaved),
                    text.len(),
                    t(app.lang, Key::BytesWord),
                    path.display()
                )),
                Err(e) => app.error(format!(
                    "{} {}: {e}",
                    t(app.lang, Key::ErrSave),
                    path.display()
                )),
            }
        }
    }
}

/// Connect or listen with the settings; a failure is shown and the window stays.
async fn open(app: &mut App) -> Option<Session> {
    app.adopt_scheme();
    let text = app.endpoint_text();
    let cfg = SessionConfig {
        encoding: app.encoding,
        reconnect: (app.reconnect && app.is_stream_client()).then_some(RECONNECT_FIRST),
        ..SessionConfig::default()
    };
    app.peers.clear();
    app.status = None;
    app.dirty = true;
    let parsed = match app.mode {
        Mode::Client => Endpoint::parse_connect(&text),
        Mode::Server => Endpoint::parse_listen(&text),
    };
    let ep = match parsed {
        Ok(ep) => ep,
        Err(e) => {
            app.error(format!("{}: {e}", t(app.lang, Key::ErrBadAddress)));
            return None;
        }
    };
    match app.mode {
        Mode::Client => {
            app.state = crate::app::State::Connecting;
            let opts = ConnectOptions {
                timeout: Some(CONNECT_TIMEOUT),
                tls: TlsClientOptions {
                    insecure: !app.tls_verify,
                    ..TlsClientOptions::default()
                },
                ..ConnectOptions::default()
            };
            Some(Session::connect(ep, opts, cfg))
        }
        // A TLS server without files gets the core's self-signed certificate; its
        // fingerprint comes as an event and is logged for clients to pin.
        Mode::Server => match transport::listen(&ep, &ListenOptions::default()).await {
            Ok(l) => Some(Session::serve(l, cfg)),
            Err(e) => {
                app.error(format!("{} {text}: {e}", t(app.lang, Key::ErrBind)));
                None
            }
        },
    }
}

/// What a terminal event does. Keys that type go to the focused text box; everything else
/// has a function key (which never types) or a letter outside the text boxes.
pub fn on_term_event(app: &mut App, ev: &TermEvent) -> Action {
    match ev {
        TermEvent::Key(key) if key.kind != KeyEventKind::Release => on_key(app, *key, ev),
        TermEvent::Mouse(m) => on_mouse(app, m),
        TermEvent::Resize(..) => {
            app.dirty = true;
            Action::None
        }
        _ => Action::None,
    }
}

fn on_key(app: &mut App, key: KeyEvent, ev: &TermEvent) -> Action {
    app.dirty = true;
    if app.help {
        // A help taller than the terminal scrolls; any other key closes it.
        match key.code {
            KeyCode::Down | KeyCode::PageDown => app.help_scroll += 1,
            KeyCode::Up | KeyCode::PageUp => app.help_scroll = app.help_scroll.saturating_sub(1),
            _ => {
                app.help = false;
                app.help_scroll = 0;
            }
        }
        return Action::None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if app.prompt.is_some() {
        match key.code {
            KeyCode::Enter => return app.finish_prompt(),
            KeyCode::Esc => app.prompt = None,
            KeyCode::Char('c') if ctrl => app.prompt = None,
            _ => {
                if let Some(p) = app.prompt.as_mut() {
                    p.input.handle_event(ev);
                }
            }
        }
        return Action::None;
    }
    match key.code {
        KeyCode::Char('s') if ctrl => app.start_prompt(),
        KeyCode::Char('r') if ctrl => app.toggle_loop(std::time::Instant::now()),
        KeyCode::Char('t') if ctrl => {
            let now = show_interval(app.loop_interval);
            app.ask(PromptKind::Interval, now);
        }
        KeyCode::Char('o') if ctrl && app.file_send.is_some() => return Action::CancelFile,
        KeyCode::Char('o') if ctrl => {
            let last = app.last_file.clone();
            app.ask(PromptKind::SendFile, last);
        }
        KeyCode::Char('x') if ctrl => {
            let last = if app.last_save.is_empty() {
                "socklab-received.txt".to_string()
            } else {
                app.last_save.clone()
            };
            app.ask(PromptKind::SaveLog, last);
        }
        KeyCode::Char('p') if ctrl => app.next_preset(),
        KeyCode::Char('c' | 'q') if ctrl => app.quit = true,
        KeyCode::F(10) => app.quit = true,
        KeyCode::Char('l') if ctrl => {
            app.history.clear();
            app.scroll = 0;
            app.info(t(app.lang, Key::MsgCleared));
        }
        KeyCode::F(1) => app.help = true,
        KeyCode::F(2) => {
            return if app.is_open() {
                Action::Close
            } else {
                Action::Open
            }
        }
        KeyCode::F(3) => {
            app.view = app.view.next();
            app.research();
        }
        KeyCode::F(4) => app.send_hex = !app.send_hex,
        KeyCode::F(5) => app.eol = app.eol.next(),
        KeyCode::F(6) => app.cycle_mode(key.modifiers.contains(KeyModifiers::SHIFT)),
        KeyCode::Char('v') if ctrl => app.toggle_verify(),
        KeyCode::Char('e') if ctrl => app.toggle_reconnect(),
        KeyCode::F(7) => app.cycle_encoding(),
        KeyCode::F(8) => app.timestamps = !app.timestamps,
        KeyCode::F(9) => app.lang = app.lang.toggle(),
        KeyCode::PageUp => app.scroll_by(10),
        KeyCode::PageDown => app.scroll_by(-10),
        KeyCode::End => {
            app.scroll = 0;
            app.paused = false;
        }
        KeyCode::Tab => app.next_focus(false),
        KeyCode::BackTab => app.next_focus(true),
        KeyCode::Esc => app.focus = Focus::Received,
        _ => return focused_key(app, key, ev),
    }
    Action::None
}

fn focused_key(app: &mut App, key: KeyEvent, ev: &TermEvent) -> Action {
    match app.focus {
        Focus::Address => match key.code {
            KeyCode::Enter => {
                return if app.is_open() {
                    Action::Close
                } else {
                    Action::Open
                }
            }
            _ if app.is_open() => app.error(t(app.lang, Key::ErrClosedWhileOpen)),
            _ => {
                app.address.handle_event(ev);
            }
        },
        Focus::Send => match key.code {
            KeyCode::Enter if key.modifiers.contains(KeyModifiers::ALT) => app.newline(),
            KeyCode::Char('j') if key.modifiers.contains(KeyModifiers::CONTROL) => app.newline(),
            KeyCode::Enter => return app.submit(),
            KeyCode::Up => {
                if !app.move_line(true) {
                    app.recall(true);
                }
            }
            KeyCode::Down => {
                if !app.move_line(false) {
                    app.recall(false);
                }
            }
            _ => {
                app.send.handle_event(ev);
            }
        },
        Focus::Clients => match key.code {
            KeyCode::Up => app.select(-1),
            KeyCode::Down => app.select(1),
            KeyCode::Enter => app.choose_target(),
            KeyCode::Delete | KeyCode::Char('k') => return app.kick_selected(),
            KeyCode::Char('?') => app.help = true,
            KeyCode::Char('q') => app.quit = true,
            _ => {}
        },
        Focus::Received => match key.code {
            KeyCode::Up => app.scroll_by(1),
            KeyCode::Down => app.scroll_by(-1),
            KeyCode::Char(' ' | 'p') => {
                app.paused = !app.paused;
                if !app.paused {
                    app.scroll = 0;
                }
            }
            KeyCode::Char('/') => {
                let last = app
                    .search
                    .as_ref()
                    .map(|s| s.query.text.clone())
                    .unwrap_or_default();
                app.ask(PromptKind::Search, last);
            }
            KeyCode::Char('n') => app.search_step(true),
            KeyCode::Char('N') => app.search_step(false),
            KeyCode::Char('?') => app.help = true,
            KeyCode::Char('q') => app.quit = true,
            _ => {}
        },
    }
    Action::None
}

/// The mouse, where it is natural: the wheel scrolls the received pane, a click on a
/// client makes it the send target, a click on a box focuses it.
fn on_mouse(app: &mut App, m: &MouseEvent) -> Action {
    let a = ui::areas(app.screen, app);
    let at = Position::new(m.column, m.row);
    match m.kind {
        MouseEventKind::ScrollUp if a.received.contains(at) => app.scroll_by(3),
        MouseEventKind::ScrollDown if a.received.contains(at) => app.scroll_by(-3),
        MouseEventKind::Down(MouseButton::Left) => {
            if app.help {
                app.help = false;
            } else if let Some(list) = a.clients.filter(|r| r.contains(at)) {
                app.focus = Focus::Clients;
                // Below the border and the header row: row 0 is "all", then the clients.
                if let Some(row) = m.row.checked_sub(list.y + 2) {
                    if (row as usize) <= app.peers.len() && m.row + 1 < list.bottom() {
                        app.selected = row as usize;
                        app.choose_target();
                    }
                }
            } else if a.send.contains(at) {
                app.focus = Focus::Send;
            } else if a.settings.contains(at) {
                app.focus = Focus::Address;
            } else if a.received.contains(at) {
                app.focus = Focus::Received;
            }
            app.dirty = true;
        }
        _ => {}
    }
    Action::None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::SendTarget;
    use crossterm::event::MouseEvent;
    use socklab_core::session::{Addr, EventKind, Peer, Scheme};

    fn mouse(kind: MouseEventKind, column: u16, row: u16) -> TermEvent {
        TermEvent::Mouse(MouseEvent {
            kind,
            column,
            row,
            modifiers: KeyModifiers::NONE,
        })
    }

    #[test]
    fn a_click_on_a_client_chooses_it_and_the_wheel_scrolls() {
        let mut app = App::new(Lang::En, 100);
        app.mode = Mode::Server;
        app.state = crate::app::State::Listening;
        app.screen = Rect::new(0, 0, 110, 30);
        for (id, port) in [(1, 4001), (2, 4002)] {
            app.apply(&Event::now(EventKind::Connected {
                peer: Peer {
                    id,
                    addr: Addr::Ip(format!("127.0.0.1:{port}").parse().unwrap()),
                },
                local: Addr::Ip("127.0.0.1:7".parse().unwrap()),
                transport: Scheme::Tcp,
                cred: None,
            }));
        }
        let list = ui::areas(app.screen, &app)
            .clients
            .expect("a server has a list");
        // Border, header, "all", #1, #2.
        let click = MouseEventKind::Down(MouseButton::Left);
        on_term_event(&mut app, &mouse(click, list.x + 3, list.y + 4));
        assert_eq!(app.target, SendTarget::Peer(2));
        assert_eq!(app.focus, Focus::Clients);
        on_term_event(&mut app, &mouse(click, list.x + 3, list.y + 2));
        assert_eq!(app.target, SendTarget::All);
        // Below the last client: nothing chosen.
        on_term_event(&mut app, &mouse(click, list.x + 3, list.y + 6));
        assert_eq!(app.target, SendTarget::All);
        let a = ui::areas(app.screen, &app);
        on_term_event(&mut app, &mouse(click, a.send.x + 4, a.send.y + 1));
        assert_eq!(app.focus, Focus::Send);
        on_term_event(
            &mut app,
            &mouse(MouseEventKind::ScrollUp, a.received.x + 2, a.received.y + 2),
        );
        assert_eq!(app.scroll, 1, "two entries: up to the older one");
        on_term_event(
            &mut app,
            &mouse(
                MouseEventKind::ScrollDown,
                a.received.x + 2,
                a.received.y + 2,
            ),
        );
        assert_eq!(app.scroll, 0);
    }
}
