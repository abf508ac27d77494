//! The line printer: turns engine events into what a person reads on a terminal, what a
//! script reads from a pipe, and what `--json` / `--log` keep.
//!
//! One printer per face; it holds the only display state (which line is open, hexdump
//! offsets per stream). Output is rendered into a buffer and written by the caller, so the
//! same code serves a locked stdout and the interactive line editor.

mod json;
pub(crate) mod style;
mod text;

use std::collections::HashMap;

use socklab_core::session::{Direction, Event, EventKind, PeerId};

pub use json::json_line;
pub use style::Style;

/// How received and sent data are shown (`--show`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Show {
    /// Decoded text, control bytes shown as \xHH.
    Text,
    /// The canonical `hexdump -C` layout.
    Hex,
    /// Text, then hex.
    Both,
    /// Received bytes exactly as they came, nothing else on stdout.
    Raw,
}

/// Whose point of view: a client has one peer, a server many, each shown with its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Client,
    Server,
}

#[derive(Debug, Clone, Copy)]
pub struct PrintOptions {
    pub show: Show,
    pub json: bool,
    pub timestamps: bool,
    pub style: Style,
    pub role: Role,
    /// Show our own sends (off for a pipe, where stdout is the peer's data).
    pub show_sent: bool,
    /// `--frame`: each data event is a message of its own, shown as one, like a datagram.
    pub framed: bool,
    /// End every event's output with a newline (the interactive editor prints whole lines
    /// only); otherwise a line of text stays open until its newline arrives.
    pub whole_lines: bool,
    /// Status events on stderr in raw mode.
    pub verbose: bool,
}

/// Rendered output for one event: what goes to stdout and what to stderr.
#[derive(Debug, Default)]
pub struct Rendered {
    pub out: Vec<u8>,
    pub err: Vec<u8>,
}

pub struct Printer {
    opts: PrintOptions,
    /// The data stream whose text line is not yet ended.
    open: Option<(PeerId, Direction)>,
    /// Bytes shown so far per stream, for hexdump offsets.
    offsets: HashMap<(PeerId, Direction), u64>,
    /// The session moves datagrams: each is shown as a message of its own, with its size.
    datagram: bool,
    /// A relay's view: the counts of a closed connection are per direction.
    pub relay: bool,
}

impl Printer {
    pub fn new(opts: PrintOptions) -> Printer {
        Printer {
            opts,
            open: None,
            offsets: HashMap::new(),
            datagram: false,
            relay: false,
        }
    }

    pub fn options(&self) -> &PrintOptions {
        &self.opts
    }

    /// Render one event.
    pub fn render(&mut self, ev: &Event, r: &mut Rendered) {
        if let EventKind::Listening { transport, .. } | EventKind::Connected { transport, .. } =
            &ev.kind
        {
            self.datagram = transport.is_datagram();
        }
        if self.opts.json {
            json_line(ev, &mut r.out);
            return;
        }
        let data = match &ev.kind {
            EventKind::Received { peer, data } => Some((peer, Direction::Received, data)),
            EventKind::Sent { peer, data } => Some((peer, Direction::Sent, data)),
            EventKind::Relayed {
                peer,
                direction,
                data,
            } => Some((peer, *direction, data)),
            _ => None,
        };
        if self.opts.show == Show::Raw {
            match (&ev.kind, data) {
                (EventKind::Received { .. }, Some((_, _, data))) => {
                    r.out.extend_from_slice(&data.bytes)
                }
                (EventKind::Sent { .. }, _) => {}
                // A warning (--insecure) is as loud as an error: a pipe must not hide it.
                // A script's steps are its result: shown even when the data is piped.
                (
                    EventKind::Error { .. } | EventKind::Warning { .. } | EventKind::Step { .. },
                    _,
                ) => self.status(ev, &mut r.err),
                _ if self.opts.verbose => self.status(ev, &mut r.err),
                _ => {}
            }
            return;
        }
        match data {
            Some((_, Direction::Sent, _)) if !self.opts.show_sent => {}
            Some((peer, dir, data)) => {
                let key = (peer.id, dir);
                // Datagrams and frames are dumped each from offset 0: each is a message of
                // its own.
                let offset = self.offsets.entry(key).or_insert(0);
                let at = *offset;
                if !self.datagram && !self.opts.framed {
                    *offset += data.len as u64;
                }
                text::data(self, ev, peer, dir, data, at, &mut r.out);
            }
            None => {
                if matches!(ev.kind, EventKind::Closed { .. }) {
                    if let EventKind::Closed { peer, .. } = &ev.kind {
                        self.offsets.remove(&(peer.id, Direction::Received));
                        self.offsets.remove(&(peer.id, Direction::Sent));
                        self.offsets.remove(&(peer.id, Direction::ToTarget));
                        self.offsets.remove(&(peer.id, Direction::ToClient));
                    }
                }
                self.close_line(&mut r.out);
                self.status(ev, &mut r.out);
            }
        }
    }

    /// End a text line left open by data without a trailing newline.
    pub fn close_line(&mut self, out: &mut Vec<u8>) {
        if self.open.take().is_some() {
            out.push(b'\n');
        }
    }

    fn status(&mut self, ev: &Event, out: &mut Vec<u8>) {
        text::status(self, ev, out);
    }
}
