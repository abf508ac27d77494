//! What a person types or gives as DATA, turned into bytes — validated whole before anything
//! is sent — and the `/commands` of an interactive session.

use std::path::PathBuf;

use socklab_core::codec::checksum::Checksum;
use socklab_core::codec::message::Message;
use socklab_core::codec::template::Template;
use socklab_core::codec::InputOptions;
use socklab_core::session::Target;

use crate::cli::{DataArgs, Eol};

/// How input becomes bytes.
#[derive(Debug, Clone, Copy)]
pub struct InputSpec {
    pub opts: InputOptions,
    pub eol: Eol,
    pub checksum: Option<Checksum>,
}

impl InputSpec {
    /// `default_eol` applies to text input when `--eol` is not given; hex input and input
    /// with a checksum get no line ending unless asked, since such a line is a frame, not a
    /// line of text.
    pub fn new(d: &DataArgs, default_eol: Eol) -> InputSpec {
        let eol = match d.eol {
            Some(e) => e,
            None if d.hex || d.checksum.is_some() => Eol::None,
            None => default_eol,
        };
        InputSpec {
            opts: InputOptions {
                hex: d.hex,
                escapes: !d.no_escapes,
                encoding: d.encoding,
            },
            eol,
            checksum: d.checksum,
        }
    }

    /// One line or DATA argument as a message: placeholders found, line ending and
    /// checksum attached. Every error is found here, before anything is sent.
    pub fn message(&self, text: &str) -> socklab_core::Result<Message> {
        let mut template = Template::parse(text, &self.opts)?;
        if self.eol != Eol::None {
            // The line ending in the session's encoding (two bytes per unit in UTF-16).
            template.push_bytes(&self.opts.encoding.encode(self.eol.as_str())?);
        }
        Ok(Message::new(template, self.checksum))
    }

    /// The bytes for one line sent once (stdin in line mode): round 1 of its message.
    pub fn encode(&self, text: &str) -> socklab_core::Result<Vec<u8>> {
        self.message(text)?.render(1)
    }

    /// Hex typed after `/hex`: always hex, never a line ending or a placeholder; the
    /// checksum, if any, is appended.
    pub fn hex_message(&self, text: &str) -> socklab_core::Result<Message> {
        let opts = InputOptions {
            hex: true,
            ..self.opts
        };
        Ok(Message::new(Template::parse(text, &opts)?, self.checksum))
    }
}

/// One line typed in an interactive session.
#[derive(Debug, PartialEq, Eq)]
pub enum Typed {
    /// Text (or hex with --hex) to send; `//x` arrives here as `/x`.
    Data(String),
    Cmd(Slash),
}

/// The `/commands`.
#[derive(Debug, PartialEq, Eq)]
pub enum Slash {
    Help,
    Hex(String),
    File(PathBuf),
    Stats,
    List,
    To(Target),
    Kick(u64),
    Eof,
    Stop,
    Quit,
}

pub const HELP: &str = "\
commands:
  /help            this list
  /hex 01 02 ff    send bytes given as hex (no line ending)
  /file PATH       send a file
  /stats           bytes and chunks sent and received
  /list            connected clients with their counters (server)
  /to ID|ADDR|all  where typed lines go (server; default: every client, or for
                   udp/unixgram the last sender; an ADDR may be new to a udp server)
  /kick ID         close one client's connection (server)
  /eof             shut down our sending side (half-close), like Ctrl-D
  /stop            stop a --repeat loop
  /quit            close and exit (also Ctrl-C)
  //text           send text that starts with a slash";

fn id_arg(arg: &str, usage: &str) -> Result<u64, String> {
    let s = arg.trim().trim_start_matches('#');
    s.parse::<u64>()
        .map_err(|_| format!("'{}' is not a client id; expected {usage}", arg.trim()))
}

/// Split a typed line into data or a command. Errors name the command and its usage; the
/// session goes on.
pub fn parse_typed(line: &str) -> Result<Typed, String> {
    if let Some(rest) = line.strip_prefix("//") {
        return Ok(Typed::Data(format!("/{rest}")));
    }
    let Some(body) = line.strip_prefix('/') else {
        return Ok(Typed::Data(line.to_string()));
    };
    let (name, arg) = match body.split_once(char::is_whitespace) {
        Some((n, a)) => (n, a.trim()),
        None => (body, ""),
    };
    let need = |what: &str| -> Result<(), String> {
        if arg.is_empty() {
            Err(format!("/{name} needs {what}"))
        } else {
            Ok(())
        }
    };
    let cmd = match name {
        "help" | "h" | "?" => Slash::Help,
        "hex" => {
            need("hex bytes, e.g. /hex 01 02 ff")?;
            Slash::Hex(arg.to_string())
        }
        "file" => {
            need("a path, e.g. /file firmware.bin")?;
            Slash::File(PathBuf::from(arg))
        }
        "stats" => Slash::Stats,
        "list" | "ls" => Slash::List,
        "to" => {
            need("a client id, an address or 'all', e.g. /to 2")?;
            if arg.eq_ignore_ascii_case("all") {
                Slash::To(Target::All)
            } else if arg.contains([':', '/', '@']) {
                Slash::To(Target::Addr(arg.to_string()))
            } else {
                Slash::To(Target::Peer(id_arg(arg, "/to ID, /to ADDR or /to all")?))
            }
        }
        "kick" => {
            need("a client id, e.g. /kick 2")?;
            Slash::Kick(id_arg(arg, "/kick ID")?)
        }
        "eof" => Slash::Eof,
        "stop" => Slash::Stop,
        "quit" | "q" | "exit" => Slash::Quit,
        _ => {
            return Err(format!(
                "unknown command '/{name}'; /help lists the commands, // sends a literal slash"
            ))
        }
    };
    Ok(Typed::Cmd(cmd))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slash_commands() {
        assert_eq!(parse_typed("hello"), Ok(Typed::Data("hello".into())));
        assert_eq!(parse_typed("//etc"), Ok(Typed::Data("/etc".into())));
        assert_eq!(
            parse_typed("/hex 01 02"),
            Ok(Typed::Cmd(Slash::Hex("01 02".into())))
        );
        assert_eq!(
            parse_typed("/to all"),
            Ok(Typed::Cmd(Slash::To(Target::All)))
        );
        assert_eq!(
            parse_typed("/to #3"),
            Ok(Typed::Cmd(Slash::To(Target::Peer(3))))
        );
        assert_eq!(parse_typed("/kick 2"), Ok(Typed::Cmd(Slash::Kick(2))));
        assert_eq!(parse_typed("/quit"), Ok(Typed::Cmd(Slash::Quit)));
    }

    #[test]
    fn bad_commands_say_what_to_do() {
        let e = parse_typed("/frobnicate").unwrap_err();
        assert!(
            e.contains("unknown command '/frobnicate'") && e.contains("/help"),
            "{e}"
        );
        assert!(parse_typed("/kick x")
            .unwrap_err()
            .contains("not a client id"));
        assert!(parse_typed("/hex").unwrap_err().contains("needs hex bytes"));
        assert!(parse_typed("/to")
            .unwrap_err()
            .contains("needs a client id"));
    }
}
