//! Drawing: reads the [`App`] and nothing else, so the same state always draws the same.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, LineGauge, Paragraph, Row, Table};
use ratatui::Frame;
use socklab_core::codec::hex::encode_hex_spaced;
use socklab_core::codec::text::push_visible;
use socklab_core::session::{format_time, Direction, PeerId, TimeFormat};
use std::ops::Range;

use unicode_width::UnicodeWidthChar;

use crate::app::{
    bad_hex_at, mode_label, show_interval, App, Focus, Mode, PromptKind, SendTarget, State,
    Transport, View,
};
use crate::i18n::{t, Key};
use crate::scrollback::{Entry, EntryKind};
use crate::search::{byte_ranges, text_ranges};

/// Colours that tell peers apart; a peer keeps its colour by id.
const PEER_COLOURS: [Color; 6] = [
    Color::Cyan,
    Color::Magenta,
    Color::Yellow,
    Color::LightBlue,
    Color::LightGreen,
    Color::LightRed,
];
const SENT: Color = Color::Green;

fn peer_colour(id: PeerId) -> Color {
    PEER_COLOURS[(id.saturating_sub(1) % PEER_COLOURS.len() as u64) as usize]
}

/// Where each part of the window is, for drawing and for the mouse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub settings: Rect,
    pub received: Rect,
    /// The clients list of a server (its table, without the addresses below it).
    pub clients: Option<Rect>,
    /// This machine's addresses, below the clients list.
    pub local: Option<Rect>,
    pub send: Rect,
    pub status: Rect,
}

/// The layout of the window in `area` for the state of `app`.
pub fn areas(area: Rect, app: &App) -> Areas {
    let [settings, middle, send, status] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Min(3),
        Constraint::Length(send_rows(app) + 2),
        Constraint::Length(2),
    ])
    .areas(area);
    let (received, clients, local) = if app.mode == Mode::Server {
        let [recv, side] =
            Layout::horizontal([Constraint::Min(20), Constraint::Length(42)]).areas(middle);
        if app.local_addrs.is_empty() {
            (recv, Some(side), None)
        } else {
            let shown = app.local_addrs.len().min(6) as u16 + 2;
            let [list, mine] =
                Layout::vertical([Constraint::Min(4), Constraint::Length(shown)]).areas(side);
            (recv, Some(list), Some(mine))
        }
    } else {
        (middle, None, None)
    };
    Areas {
        settings,
        received,
        clients,
        local,
        send,
        status,
    }
}

pub fn draw(f: &mut Frame, app: &App) {
    let a = areas(f.area(), app);
    draw_settings(f, app, a.settings);
    draw_received(f, app, a.received);
    if let Some(list) = a.clients {
        draw_clients(f, app, list, a.local);
    }
    draw_send(f, app, a.send);
    draw_status(f, app, a.status);
    if app.help {
        draw_help(f, app);
    }
}

fn block<'a>(title: String, focused: bool) -> Block<'a> {
    let style = if focused {
        Style::new().fg(Color::Yellow)
    } else {
        Style::new()
    };
    Block::new()
        .borders(Borders::ALL)
        .border_style(style)
        .title(title)
}

fn draw_settings(f: &mut Frame, app: &App, area: Rect) {
    let l = app.lang;
    let mode = mode_label(l, app.transport, app.mode);
    let action = if app.is_open() {
        t(l, Key::Close)
    } else {
        t(l, Key::Open)
    };
    let label = Style::new().fg(Color::DarkGray);
    let mut line = Line::from(vec![
        Span::styled(format!("{}: ", t(l, Key::Mode)), label),
        Span::raw(mode),
        Span::raw("  "),
        Span::styled(format!("{}: ", t(l, Key::Address)), label),
        Span::styled(
            app.address.value().to_string(),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Span::raw("  "),
        Span::styled(format!("{}: ", t(l, Key::Encoding)), label),
        Span::raw(app.encoding.name().to_ascii_lowercase()),
        Span::raw("  "),
    ]);
    if app.transport == Transport::Tls && app.mode == Mode::Client {
        let (v, colour) = if app.tls_verify {
            (t(l, Key::On), Color::Reset)
        } else {
            (t(l, Key::Off), Color::Red)
        };
        line.push_span(Span::styled(format!("{}: ", t(l, Key::Verify)), label));
        line.push_span(Span::styled(v, Style::new().fg(colour)));
        line.push_span(Span::raw("  "));
    }
    if app.is_stream_client() {
        let v = t(l, if app.reconnect { Key::On } else { Key::Off });
        line.push_span(Span::styled(format!("{}: ", t(l, Key::Reconnect)), label));
        line.push_span(Span::raw(v));
        line.push_span(Span::raw("  "));
    }
    line.push_span(Span::styled(
        format!("[ {action} ]"),
        Style::new().fg(Color::Black).bg(Color::Gray),
    ));
    let title = format!(" {} · {} ", t(l, Key::Title), t(l, Key::Settings));
    let b = block(title, app.focus == Focus::Address);
    let inner = b.inner(area);
    f.render_widget(Paragraph::new(line).block(b), area);
    if app.focus == Focus::Address && !app.help {
        let before = format!("{}: {}  {}: ", t(l, Key::Mode), mode, t(l, Key::Address));
        let x = inner.x + width(&before) as u16 + app.address.visual_cursor() as u16;
        f.set_cursor_position((x.min(inner.right().saturating_sub(1)), inner.y));
    }
}

fn width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// The end of `text` holding at most `lines` newline-separated lines (a trailing newline
/// does not start a line): a half-megabyte read needs only its last screenful laid out.
fn tail_lines(text: &str, lines: usize) -> &str {
    let body = text.strip_suffix('\n').unwrap_or(text);
    let mut cut = body.len();
    for _ in 0..lines {
        match body[..cut].rfind('\n') {
            Some(i) => cut = i,
            None => return text,
        }
    }
    &text[cut + 1..]
}

/// One line of an entry's body, with the byte ranges a search marks in it.
struct BodyLine {
    text: String,
    marks: Vec<Range<usize>>,
}

/// How an entry reads: its head (`< #2 `), its colour, and its lines as the view shows
/// them; of a long entry only enough of its end to fill `rows` rows. Search matches are
/// marked when a search is on.
fn entry_body(app: &App, e: &Entry, rows: usize) -> (String, Style, Vec<BodyLine>) {
    let mut prefix = String::new();
    if app.timestamps {
        prefix.push_str(&format_time(&e.time, TimeFormat::Clock).to_string());
        prefix.push(' ');
    }
    let query = app.search.as_ref().map(|s| &s.query);
    let text_line = |line: String| BodyLine {
        marks: query.map_or_else(Vec::new, |q| text_ranges(&line, &q.text)),
        text: line,
    };
    let dim = Style::new().fg(Color::DarkGray);
    match &e.kind {
        EntryKind::Info(s) => (format!("{prefix}* "), dim, vec![text_line(s.clone())]),
        EntryKind::Error(s) => (
            format!("{prefix}! "),
            Style::new().fg(Color::Red),
            vec![text_line(s.clone())],
        ),
        EntryKind::Data {
            dir,
            peer,
            bytes,
            text,
        } => {
            let (arrow, colour) = match dir {
                Direction::Received | Direction::ToTarget => ("<", peer_colour(*peer)),
                Direction::Sent | Direction::ToClient => (">", SENT),
            };
            let head = if app.mode == Mode::Server {
                format!("{prefix}{arrow} #{peer} ")
            } else {
                format!("{prefix}{arrow} ")
            };
            let text_lines = || {
                let mut shown = String::new();
                push_visible(tail_lines(text, rows), &mut shown);
                let shown = shown.strip_suffix('\n').unwrap_or(&shown).to_string();
                shown
                    .split('\n')
                    .map(|l| text_line(l.to_string()))
                    .collect::<Vec<_>>()
            };
            let hex_lines = || {
                let hits = query.map_or_else(Vec::new, |q| byte_ranges(bytes, &q.bytes));
                // Whole 16-byte rows from the start, so offsets line up as in the full dump.
                let from = bytes.len().saturating_sub(rows.saturating_mul(16)) / 16 * 16;
                bytes[from..]
                    .chunks(16)
                    .enumerate()
                    .map(|(r, c)| {
                        let mut s = String::new();
                        encode_hex_spaced(c, &mut s);
                        let at = from + r * 16;
                        // A matched byte k of the row is marked in both columns: its hex
                        // pair at 3k and its character at 49 + k.
                        // The space between two marked bytes of one match is marked too.
                        let hit = |k: usize| hits.iter().position(|h| h.contains(&(at + k)));
                        let mut marks = Vec::new();
                        for k in 0..c.len() {
                            if let Some(m) = hit(k) {
                                let joined = k + 1 < c.len() && hit(k + 1) == Some(m);
                                marks.push(3 * k..3 * k + if joined { 3 } else { 2 });
                                marks.push(49 + k..50 + k);
                            }
                        }
                        BodyLine {
                            text: format!("{s:<47}  {}", ascii(c)),
                            marks,
                        }
                    })
                    .collect::<Vec<_>>()
            };
            let body = match app.view {
                View::Text => text_lines(),
                View::Hex => hex_lines(),
                View::Both => {
                    let mut both = text_lines();
                    both.extend(hex_lines());
                    both
                }
            };
            (head, Style::new().fg(colour), body)
        }
    }
}

/// The lines of one entry, cut to `cols` columns; of a long entry, only enough of its end
/// to fill `rows` screen rows. `current` marks the search's current match more strongly.
fn entry_lines(
    app: &App,
    e: &Entry,
    cols: usize,
    rows: usize,
    current: bool,
) -> Vec<Line<'static>> {
    let (head, style, body) = entry_body(app, e, rows);
    let mark = if current {
        Style::new().fg(Color::Black).bg(Color::Yellow)
    } else {
        Style::new().fg(Color::Black).bg(Color::Cyan)
    };
    let indent = " ".repeat(width(&head));
    let room = cols.saturating_sub(width(&head)).max(1);
    let mut out = Vec::new();
    for (i, line) in body.iter().enumerate() {
        for (j, piece) in wrap_marked(&line.text, &line.marks, room)
            .into_iter()
            .enumerate()
        {
            let lead = if i == 0 && j == 0 {
                head.clone()
            } else {
                indent.clone()
            };
            let mut spans = vec![Span::styled(lead, style.add_modifier(Modifier::DIM))];
            spans.extend(
                piece
                    .into_iter()
                    .map(|(t, marked)| Span::styled(t, if marked { mark } else { style })),
            );
            out.push(Line::from(spans));
        }
    }
    out
}

/// The received pane as it is viewed (text, hex or both, with timestamps if shown), whole
/// and unwrapped, for Ctrl-X.
pub fn export(app: &App) -> String {
    let mut out = String::new();
    for e in app.history.iter() {
        let (head, _, body) = entry_body(app, e, usize::MAX);
        let indent = " ".repeat(width(&head));
        for (i, line) in body.iter().enumerate() {
            out.push_str(if i == 0 { &head } else { &indent });
            out.push_str(&line.text);
            out.push('\n');
        }
    }
    out
}

/// [`wrap`] that keeps track of marked byte ranges: each piece is runs of (text, marked).
fn wrap_marked(s: &str, marks: &[Range<usize>], cols: usize) -> Vec<Vec<(String, bool)>> {
    let mut out: Vec<Vec<(String, bool)>> = vec![Vec::new()];
    let mut used = 0;
    for (i, ch) in s.char_indices() {
        let w = if ch == '\t' {
            1
        } else {
            ch.width().unwrap_or(0)
        };
        if used + w > cols && used > 0 {
            out.push(Vec::new());
            used = 0;
        }
        let marked = marks.iter().any(|m| m.contains(&i));
        let ch = if ch == '\t' { ' ' } else { ch };
        // Safe: `out` starts with one piece and only grows.
        let piece = out.last_mut().expect("at least one piece");
        match piece.last_mut() {
            Some((text, m)) if *m == marked => text.push(ch),
            _ => piece.push((ch.to_string(), marked)),
        }
        used += w;
    }
    out
}

fn ascii(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            }
        })
        .collect()
}

fn draw_received(f: &mut Frame, app: &App, area: Rect) {
    let l = app.lang;
    let view = match app.view {
        View::Text => t(l, Key::Text),
        View::Hex => t(l, Key::Hex),
        View::Both => t(l, Key::Both),
    };
    let follow = if app.paused || app.scroll > 0 {
        t(l, Key::Paused)
    } else {
        t(l, Key::Follow)
    };
    let title = format!(
        " {} · {view} · {follow} · {} {} ",
        t(l, Key::Received),
        app.history.len(),
        t(l, Key::Lines)
    );
    let b = block(title, app.focus == Focus::Received);
    let inner = b.inner(area);
    f.render_widget(b, area);
    let rows = inner.height as usize;
    let cols = inner.width as usize;
    // Only the entries that can be on screen are laid out: the history may hold 100k.
    let mut lines: Vec<Line> = Vec::new();
    let current = app.current_hit();
    let last = app.history.len().saturating_sub(1);
    for (back, e) in app.history.iter_rev().enumerate().skip(app.scroll) {
        let number = app.history.number(last - back);
        let mut el = entry_lines(app, e, cols, rows, current == Some(number));
        el.extend(lines);
        lines = el;
        if lines.len() >= rows {
            break;
        }
    }
    let skip = lines.len().saturating_sub(rows);
    let lines: Vec<Line> = lines.into_iter().skip(skip).collect();
    f.render_widget(Paragraph::new(lines), inner);
}

fn draw_clients(f: &mut Frame, app: &App, area: Rect, local: Option<Rect>) {
    let l = app.lang;
    // Below the list, the addresses to tell a device (a few; the rest are cut).
    if let Some(mine) = local {
        let lines: Vec<Line> = app
            .local_addrs
            .iter()
            .map(|a| Line::raw(a.clone()))
            .collect();
        let b = block(format!(" {} ", t(l, Key::LocalAddresses)), false);
        f.render_widget(
            Paragraph::new(lines)
                .block(b)
                .style(Style::new().fg(Color::DarkGray)),
            mine,
        );
    }
    let title = format!(" {} ({}) ", t(l, Key::Clients), app.peers.len());
    let b = block(title, app.focus == Focus::Clients);
    let mark = |chosen: bool| if chosen { "●" } else { " " };
    let mut rows = vec![Row::new(vec![
        format!("{} {}", mark(app.target == SendTarget::All), t(l, Key::All)),
        String::new(),
        String::new(),
        String::new(),
    ])];
    for p in &app.peers {
        let secs = (app.now.as_second() - p.since.as_second()).max(0);
        rows.push(
            Row::new(vec![
                format!(
                    "{} #{} {}",
                    mark(app.target == SendTarget::Peer(p.id)),
                    p.id,
                    p.addr
                ),
                format!("{}:{:02}", secs / 60, secs % 60),
                human(p.bytes_in),
                human(p.bytes_out),
            ])
            .style(Style::new().fg(peer_colour(p.id))),
        );
    }
    let rows: Vec<Row> = rows
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            if i == app.selected && app.focus == Focus::Clients {
                r.style(Style::new().add_modifier(Modifier::REVERSED))
            } else {
                r
            }
        })
        .collect();
    let table = Table::new(
        rows,
        [
            Constraint::Min(20),
            Constraint::Length(5),
            Constraint::Length(6),
            Constraint::Length(6),
        ],
    )
    .header(
        Row::new(vec![
            String::new(),
            "⏱".to_string(),
            t(l, Key::BytesIn).to_string(),
            t(l, Key::BytesOut).to_string(),
        ])
        .style(Style::new().fg(Color::DarkGray)),
    )
    .block(b);
    f.render_widget(table, area);
}

fn draw_send(f: &mut Frame, app: &App, area: Rect) {
    let l = app.lang;
    let kind = if app.send_hex {
        t(l, Key::Hex)
    } else {
        t(l, Key::Text)
    };
    let to = match (app.mode, app.target) {
        (Mode::Client, _) => String::new(),
        (Mode::Server, SendTarget::All) => format!(" · {} {}", t(l, Key::Target), t(l, Key::All)),
        (Mode::Server, SendTarget::Peer(id)) => format!(" · {} #{id}", t(l, Key::Target)),
    };
    let eol = if app.send_hex {
        String::new()
    } else {
        format!(" · {} {}", t(l, Key::Eol), app.eol.label(l))
    };
    let title = format!(" {} · {kind}{eol}{to} ", t(l, Key::Send));
    let b = block(title, app.focus == Focus::Send);
    let inner = b.inner(area);
    let value = app.send.value();
    let room = inner.width.saturating_sub(3) as usize;
    // The cursor's line stays in view, and its column: every line scrolls with it.
    let (cur_line, cur_col) = app.send_cursor();
    let rows = (inner.height as usize).max(1);
    let first = (cur_line + 1).saturating_sub(rows);
    let cursor_x: usize = value
        .split('\n')
        .nth(cur_line)
        .unwrap_or("")
        .chars()
        .take(cur_col)
        .map(|c| c.width().unwrap_or(0))
        .sum();
    let scroll = (cursor_x + 1).saturating_sub(room);
    // The bad hex byte, as typed, is shown in red so it can be found before sending.
    let bad = if app.send_hex {
        bad_hex_at(value)
    } else {
        None
    };
    let mut lines = Vec::new();
    let mut offset = 0;
    for (n, text) in value.split('\n').enumerate() {
        let lead = if n == 0 { "> " } else { "  " };
        let mut spans = vec![Span::styled(lead, Style::new().fg(Color::DarkGray))];
        let mut col = 0;
        for (i, ch) in text.char_indices() {
            let w = ch.width().unwrap_or(0);
            if col >= scroll {
                let style = if Some(offset + i) == bad {
                    Style::new().fg(Color::White).bg(Color::Red)
                } else {
                    Style::new()
                };
                spans.push(Span::styled(ch.to_string(), style));
            }
            col += w;
        }
        offset += text.len() + 1;
        if n >= first {
            lines.push(Line::from(spans));
        }
    }
    f.render_widget(Paragraph::new(lines).block(b), area);
    if app.focus == Focus::Send && !app.help {
        let x = inner.x + 2 + cursor_x.saturating_sub(scroll) as u16;
        let y = inner.y + (cur_line - first) as u16;
        f.set_cursor_position((x.min(inner.right().saturating_sub(1)), y));
    }
}

/// Rows of the send box inside its border: one per line typed, up to five.
pub fn send_rows(app: &App) -> u16 {
    app.send.value().split('\n').count().clamp(1, 5) as u16
}

/// Bytes with a binary unit: `512B`, `1.5K`, `12M`.
pub fn human(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "K", "M", "G", "T"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n}B")
    } else if v < 10.0 {
        format!("{v:.1}{}", UNITS[u])
    } else {
        format!("{v:.0}{}", UNITS[u])
    }
}

fn draw_status(f: &mut Frame, app: &App, area: Rect) {
    let l = app.lang;
    let (state, colour) = match app.state {
        State::Idle => (t(l, Key::StateIdle), Color::DarkGray),
        State::Connecting => (t(l, Key::StateConnecting), Color::Yellow),
        State::Connected => (t(l, Key::StateConnected), Color::Green),
        State::Listening => (t(l, Key::StateListening), Color::Green),
        State::Closed => (t(l, Key::StateClosed), Color::DarkGray),
    };
    let c = &app.counters;
    let stats = format!(
        " {} {}  {} {} ({})  {} {} ({})  ↓{}/s ↑{}/s",
        app.peers.len(),
        t(l, Key::Peers),
        t(l, Key::BytesIn),
        human(c.bytes_in),
        c.packets_in,
        t(l, Key::BytesOut),
        human(c.bytes_out),
        c.packets_out,
        human(c.rate_in),
        human(c.rate_out),
    );
    let mut first = Line::from(vec![
        Span::styled(
            format!(" {state} "),
            Style::new().fg(Color::Black).bg(colour),
        ),
        Span::raw(stats),
    ]);
    if let Some(lp) = &app.looping {
        first.push_span(Span::styled(
            format!(
                "  ⟳ {} {} · {} {}",
                t(l, Key::Looping),
                show_interval(app.loop_interval),
                lp.count,
                t(l, Key::Sends)
            ),
            Style::new().fg(Color::Black).bg(Color::Cyan),
        ));
    }
    if let Some(p) = &app.prompt {
        let label = match p.kind {
            PromptKind::Preset => Key::PresetName,
            PromptKind::Interval => Key::PromptInterval,
            PromptKind::SendFile => Key::PromptFile,
            PromptKind::Search => Key::PromptSearch,
            PromptKind::SaveLog => Key::PromptSave,
        };
        let head = format!(" {}: ", t(l, label));
        let room = (area.width as usize).saturating_sub(width(&head) + 1);
        let scroll = p.input.visual_scroll(room);
        let x = area.x + width(&head) as u16 + (p.input.visual_cursor() - scroll) as u16;
        let shown: String = p.input.value().chars().skip(scroll).collect();
        let second = Line::from(vec![
            Span::styled(head, Style::new().fg(Color::Yellow)),
            Span::raw(shown),
        ]);
        f.render_widget(Paragraph::new(vec![first, second]), area);
        f.set_cursor_position((x.min(area.right().saturating_sub(1)), area.y + 1));
        return;
    }
    if let Some(fs) = &app.file_send {
        let [top, bottom] =
            Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(area);
        f.render_widget(Paragraph::new(first), top);
        let ratio = if fs.total == 0 {
            1.0
        } else {
            fs.sent as f64 / fs.total as f64
        };
        let gauge = LineGauge::default()
            .filled_style(Style::new().fg(Color::Green))
            .unfilled_style(Style::new().fg(Color::DarkGray))
            .label(format!(
                " {} {} {}/{} {:>3}% ",
                t(l, Key::SendingFile),
                fs.path,
                fs.sent,
                fs.total,
                (ratio * 100.0) as u32
            ))
            .ratio(ratio.clamp(0.0, 1.0));
        f.render_widget(gauge, bottom);
        return;
    }
    let second = match &app.status {
        Some(s) if s.error => Line::styled(format!(" ✗ {}", s.text), Style::new().fg(Color::Red)),
        Some(s) => Line::raw(format!(" {}", s.text)),
        None => Line::styled(
            format!(" {}", t(l, Key::KeyHints)),
            Style::new().fg(Color::DarkGray),
        ),
    };
    f.render_widget(Paragraph::new(vec![first, second]), area);
}

fn draw_help(f: &mut Frame, app: &App) {
    let l = app.lang;
    let keys = [
        Key::HelpFocus,
        Key::HelpEnter,
        Key::HelpOpen,
        Key::HelpView,
        Key::HelpSendHex,
        Key::HelpEol,
        Key::HelpMode,
        Key::HelpEncoding,
        Key::HelpTimestamps,
        Key::HelpLang,
        Key::HelpScroll,
        Key::HelpPause,
        Key::HelpClear,
        Key::HelpSelect,
        Key::HelpKick,
        Key::HelpHistory,
        Key::HelpNewline,
        Key::HelpLoop,
        Key::HelpInterval,
        Key::HelpFile,
        Key::HelpSearch,
        Key::HelpSearchNext,
        Key::HelpSave,
        Key::HelpVerify,
        Key::HelpReconnect,
        Key::HelpMouse,
        Key::HelpPresetSave,
        Key::HelpPresetNext,
        Key::HelpHelp,
        Key::HelpQuit,
    ];
    let mut lines: Vec<Line> = keys.iter().map(|k| Line::raw(t(l, *k))).collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        t(l, Key::HelpClose),
        Style::new().fg(Color::DarkGray),
    ));
    let area = f.area();
    let w = lines
        .iter()
        .map(|l| l.width())
        .max()
        .unwrap_or(0)
        .saturating_add(4)
        .min(area.width as usize) as u16;
    let h = (lines.len() as u16 + 2).min(area.height);
    // Taller than the terminal: Up/Down scroll it (clamped here, where the height is known).
    let max = (lines.len() as u16 + 2).saturating_sub(h);
    let scroll = app.help_scroll.min(max);
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines)
            .scroll((scroll, 0))
            .block(block(format!(" {} ", t(l, Key::HelpTitle)), true)),
        r,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrap(s: &str, cols: usize) -> Vec<String> {
        wrap_marked(s, &[], cols)
            .into_iter()
            .map(|p| p.into_iter().map(|(t, _)| t).collect())
            .collect()
    }

    #[test]
    fn wrap_counts_wide_characters() {
        assert_eq!(wrap("abcdef", 4), ["abcd", "ef"]);
        assert_eq!(wrap("中文字", 4), ["中文", "字"]);
        assert_eq!(wrap("", 4), [""]);
    }

    #[test]
    fn marks_are_kept_across_a_wrap() {
        let marks = std::slice::from_ref(&(2..5));
        let pieces = wrap_marked("abcdef", marks, 4);
        assert_eq!(
            pieces,
            [
                vec![("ab".to_string(), false), ("cd".to_string(), true)],
                vec![("e".to_string(), true), ("f".to_string(), false)],
            ]
        );
    }

    #[test]
    fn the_tail_of_a_long_entry() {
        assert_eq!(tail_lines("a\nb\nc\n", 2), "b\nc\n");
        assert_eq!(tail_lines("a\nb\nc", 2), "b\nc");
        assert_eq!(tail_lines("a\nb\nc\n", 3), "a\nb\nc\n");
        assert_eq!(tail_lines("a\nb\nc\n", 9), "a\nb\nc\n");
        assert_eq!(tail_lines("one line", 1), "one line");
        assert_eq!(tail_lines("", 1), "");
        assert_eq!(tail_lines("温度\n正常\n", 1), "正常\n");
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(0), "0B");
        assert_eq!(human(1536), "1.5K");
        assert_eq!(human(20 * 1024 * 1024), "20M");
    }
}
