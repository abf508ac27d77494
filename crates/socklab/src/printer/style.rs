//! Colour, or none: on a terminal unless NO_COLOR is set (https://no-color.org).

use std::io::IsTerminal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub fn for_stdout() -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style {
            color: !no_color && std::io::stdout().is_terminal(),
        }
    }

    pub fn plain() -> Style {
        Style { color: false }
    }

    pub fn paint(&self, out: &mut Vec<u8>, code: &str, text: &str) {
        if self.color {
            out.extend_from_slice(b"\x1b[");
            out.extend_from_slice(code.as_bytes());
            out.push(b'm');
            out.extend_from_slice(text.as_bytes());
            out.extend_from_slice(b"\x1b[0m");
        } else {
            out.extend_from_slice(text.as_bytes());
        }
    }
}

/// ANSI codes by meaning, so the palette lives in one place.
pub const RECEIVED: &str = "32"; // green
pub const SENT: &str = "36"; // cyan
pub const STATUS: &str = "2"; // dim
pub const ERROR: &str = "31"; // red
pub const PEER: &str = "33"; // yellow
