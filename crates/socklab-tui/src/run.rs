//! The loop: terminal keys, session events and a frame clock, in one task.
//!
//! Events are applied as they come (many per frame when a peer streams), and the screen is
//! drawn at most once per frame tick and only when something changed, so a fast peer costs
//! state updates, not redraws, and an idle window costs nothing.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use crossterm::event::{
    Event as TermEvent, EventStream, KeyCode, KeyEvent, KeyEventKind, KeyModifiers,
};
use futures_util::StreamExt;
use socklab_core::codec::Encoding;
use socklab_core::endpoint::Endpoint;
use socklab_core::session::{Command, Event, Session, SessionConfig};
use socklab_core::transport::{self, ConnectOptions, ListenOptions};
use tokio::sync::mpsc::error::TrySendError;
use tui_input::backend::crossterm::EventHandler;
use tui_input::Input;

use crate::app::{Action, App, Focus, Mode};
use crate::i18n::{t, Key, Lang};
use crate::settings::Settings;
use crate::ui;

/// At most this many frames a second.
const FRAME: Duration = Duration::from_millis(33);
/// Events applied in one go before keys get a turn, so typing stays responsive under load.
const BATCH: usize = 4096;
const BATCH_TIME: Duration = Duration::from_millis(8);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

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
    if let Some(e) = opts.settings_error {
        app.error(format!("{} ({e})", t(app.lang, Key::ErrSettings)));
    }
    app.local_addrs = local_addresses();
    let mut terminal = ratatui::try_init()?;
    let outcome = event_loop(&mut terminal, &mut app, open_now).await;
    ratatui::restore();
    if let Some(e) = app.save_settings() {
        eprintln!("socklab: the settings were not saved: {e}");
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
    if open_now {
        session = open(app).await;
    }
    loop {
        tokio::select! {
            _ = frame.tick() => {
                if app.dirty {
                    let started = std::time::Instant::now();
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
                    perform(app, &mut session, action).await;
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
                        app.ended(failure);
                    }
                }
            },
            _ = &mut ctrl_c => app.quit = true,
        }
        if app.quit {
            break;
        }
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
            eprintln!("socklab: SOCKLAB_TUI_STATS {}: {e}", self.path.display());
        }
    }
}

async fn next_event(session: &mut Option<Session>) -> Option<Event> {
    match session {
        Some(s) => s.events.recv().await,
        None => std::future::pending().await,
    }
}

async fn perform(app: &mut App, session: &mut Option<Session>, action: Action) {
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
    }
}

/// Connect or listen with the settings; a failure is shown and the window stays.
async fn open(app: &mut App) -> Option<Session> {
    let addr = app.address.value().trim().to_string();
    let cfg = SessionConfig {
        encoding: app.encoding,
        ..SessionConfig::default()
    };
    app.peers.clear();
    app.status = None;
    app.dirty = true;
    match app.mode {
        Mode::Client => match Endpoint::parse_connect(&addr) {
            Ok(ep) => {
                app.state = crate::app::State::Connecting;
                let opts = ConnectOptions {
                    timeout: Some(CONNECT_TIMEOUT),
                    ..ConnectOptions::default()
                };
                Some(Session::connect(ep, opts, cfg))
            }
            Err(e) => {
                app.error(format!("{}: {e}", t(app.lang, Key::ErrBadAddress)));
                None
            }
        },
        Mode::Server => match Endpoint::parse_listen(&addr) {
            Ok(ep) => match transport::listen(&ep, &ListenOptions::default()).await {
                Ok(l) => Some(Session::serve(l, cfg)),
                Err(e) => {
                    app.error(format!("{} {addr}: {e}", t(app.lang, Key::ErrBind)));
                    None
                }
            },
            Err(e) => {
                app.error(format!("{}: {e}", t(app.lang, Key::ErrBadAddress)));
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
        app.help = false;
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
                    p.handle_event(ev);
                }
            }
        }
        return Action::None;
    }
    match key.code {
        KeyCode::Char('s') if ctrl => app.start_prompt(),
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
        KeyCode::F(3) => app.view = app.view.next(),
        KeyCode::F(4) => app.send_hex = !app.send_hex,
        KeyCode::F(5) => app.eol = app.eol.next(),
        KeyCode::F(6) => app.toggle_mode(),
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
            KeyCode::Enter => return app.submit(),
            KeyCode::Up => app.recall(true),
            KeyCode::Down => app.recall(false),
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
            KeyCode::Char('?') => app.help = true,
            KeyCode::Char('q') => app.quit = true,
            _ => {}
        },
    }
    Action::None
}
