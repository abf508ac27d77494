//! Decisions derived from the flags and the environment (ripgrep's "high args"): which view,
//! whether this is an interactive session or a pipe.

use std::io::IsTerminal;

use socklab_core::endpoint::{Endpoint, HostPort, Scheme};

use crate::cli::DataArgs;
use crate::printer::{PrintOptions, Role, Show, Style};
use crate::UsageError;

#[derive(Debug, Clone, Copy)]
pub struct Terminals {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
}

impl Terminals {
    pub fn detect() -> Terminals {
        Terminals {
            stdin: std::io::stdin().is_terminal(),
            stdout: std::io::stdout().is_terminal(),
            stderr: std::io::stderr().is_terminal(),
        }
    }

    /// The line editor needs a terminal on both ends.
    pub fn interactive(&self) -> bool {
        self.stdin && self.stdout
    }
}

/// `--show`, or its default: text on a terminal, raw when piped.
pub fn show(d: &DataArgs, t: &Terminals) -> Show {
    d.show
        .unwrap_or(if t.stdout { Show::Text } else { Show::Raw })
}

/// The raw pipe bypasses the event bus, so it applies only when nothing asks for events:
/// no view, no JSON, no log, no transformation of stdin.
pub fn raw_pipe(d: &DataArgs, t: &Terminals) -> bool {
    !t.stdin
        && !t.stdout
        && show(d, t) == Show::Raw
        && !d.json
        && d.log.is_none()
        && !d.hex
        && d.eol.is_none()
        && d.file.is_none()
        && d.repeat.is_none()
        && !d.timestamps
}

pub fn print_options(d: &DataArgs, t: &Terminals, role: Role) -> PrintOptions {
    let show = show(d, t);
    PrintOptions {
        show,
        json: d.json,
        timestamps: d.timestamps,
        style: if d.json {
            Style::plain()
        } else {
            Style::for_stdout()
        },
        role,
        show_sent: show != Show::Raw,
        whole_lines: t.interactive(),
        verbose: d.verbose,
    }
}

/// The TCP address of an endpoint, or a usage error for the transports still to come.
pub fn tcp_target(ep: &Endpoint) -> Result<HostPort, UsageError> {
    match ep {
        Endpoint::Net {
            scheme: Scheme::Tcp,
            addr,
        } => Ok(addr.clone()),
        other => Err(UsageError(format!(
            "'{other}': socklab does not speak {} yet; expected a TCP endpoint (HOST:PORT or tcp://HOST:PORT)",
            other.scheme().name()
        ))),
    }
}

/// Whether anything will read the decoded text of data events: the text views, JSON and
/// the log do; hex and raw views do not, and skipping the decoding is what keeps them fast.
pub fn needs_text(d: &DataArgs, t: &Terminals) -> bool {
    d.json || d.log.is_some() || matches!(show(d, t), Show::Text | Show::Both)
}
