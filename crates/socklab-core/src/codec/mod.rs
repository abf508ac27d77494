//! Text and bytes: everything between what a person types or reads and what goes on the wire.
//!
//! - [`encoding`]: the session encoding and the per-peer streaming decoder.
//! - [`checksum`]: checksums appended to a message as it is sent (`--checksum`).
//! - [`template`]: `{counter}`, `{time}`, `{rand:N}` ... in messages, expanded each round.
//! - [`message`]: one message to send: its template, line ending and checksum.
//! - [`frame`]: cutting a received stream into messages (`--frame`).
//! - [`pattern`]: what a received message is matched against (auto-replies, script expects).
//! - [`escape`]: `\r \n \t \0 \\ \xHH` in typed text.
//! - [`hex`]: hex input (`48 65 6c`, `0x48,0x65`) and hex output.
//! - [`hexdump`]: the `hexdump -C` view.
//! - [`text`]: the text view, with control characters made visible.

pub mod checksum;
pub mod encoding;
pub mod escape;
pub mod frame;
pub mod hex;
pub mod hexdump;
pub mod message;
pub mod pattern;
pub mod template;
pub mod text;

pub use encoding::{Encoding, StreamDecoder};

use crate::error::Result;

/// How typed or given DATA becomes bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputOptions {
    /// DATA is hex (`--hex`), not text.
    pub hex: bool,
    /// Backslash escapes in text are interpreted; off, a backslash is sent as it is.
    pub escapes: bool,
    /// The session encoding text is sent in.
    pub encoding: Encoding,
}

impl Default for InputOptions {
    /// Escapes are on because typing `\r\n` or `\x00` is the common reason to reach for a
    /// network debugging tool's text box; UTF-8 because that is what a terminal types.
    fn default() -> Self {
        InputOptions {
            hex: false,
            escapes: true,
            encoding: Encoding::UTF8,
        }
    }
}

/// Validate and convert a whole input before anything is sent: hex if `opts.hex`; else text
/// with escapes (if `opts.escapes`) encoded with `opts.encoding`.
///
/// `\xHH` escapes insert raw bytes and are not encoded, so that a byte the encoding could never
/// produce (a bare 0xff in UTF-8, one byte of a UTF-16 unit) can still be sent; the other
/// escapes are characters and are encoded, so `\n` in UTF-16 is the two-byte newline.
///
/// Nothing is returned on error, so a half-valid line is never half sent.
pub fn encode_input(input: &str, opts: &InputOptions) -> Result<Vec<u8>> {
    if opts.hex {
        return hex::parse_hex(input);
    }
    if !opts.escapes {
        return opts.encoding.encode(input);
    }
    let pieces = escape::parse_escapes(input)?;
    if let [escape::Piece::Text(text)] = pieces.as_slice() {
        return opts.encoding.encode(text);
    }
    let mut out = Vec::with_capacity(input.len());
    for piece in &pieces {
        match piece {
            escape::Piece::Text(text) => out.extend_from_slice(&opts.encoding.encode(text)?),
            escape::Piece::Bytes(bytes) => out.extend_from_slice(bytes),
        }
    }
    Ok(out)
}

/// The `input` shown in an error message: errors are printed on one line, and a whole file
/// or a long line pasted into the message would bury the reason that follows it.
pub(crate) fn excerpt(input: &str) -> String {
    const MAX_CHARS: usize = 60;
    let mut out = String::with_capacity(input.len().min(MAX_CHARS * 4) + 8);
    for (shown, ch) in input.chars().enumerate() {
        if shown == MAX_CHARS {
            out.push_str("...");
            break;
        }
        match ch {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            _ => text::push_visible_char(ch, &mut out),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn opts(hex: bool, escapes: bool, label: &str) -> InputOptions {
        InputOptions {
            hex,
            escapes,
            encoding: Encoding::from_label(label).unwrap(),
        }
    }

    #[test]
    fn default_options() {
        let d = InputOptions::default();
        assert!(!d.hex);
        assert!(d.escapes);
        assert_eq!(d.encoding, Encoding::UTF8);
    }

    #[test]
    fn hex_input() {
        assert_eq!(
            encode_input("48 65 6c", &opts(true, true, "utf-8")).unwrap(),
            b"Hel"
        );
        // Escapes and encoding do not apply to hex.
        assert_eq!(
            encode_input("0x5c", &opts(true, false, "utf-16le")).unwrap(),
            b"\\"
        );
        let err = encode_input("4G", &opts(true, true, "utf-8")).unwrap_err();
        assert!(matches!(err, Error::Hex { .. }), "{err:?}");
    }

    #[test]
    fn text_with_escapes() {
        assert_eq!(
            encode_input("GET /\\r\\n", &InputOptions::default()).unwrap(),
            b"GET /\r\n"
        );
        assert_eq!(
            encode_input("a\\x00\\xffb", &InputOptions::default()).unwrap(),
            b"a\x00\xffb"
        );
    }

    #[test]
    fn text_without_escapes_keeps_backslashes() {
        assert_eq!(
            encode_input("a\\nb\\q", &opts(false, false, "utf-8")).unwrap(),
            b"a\\nb\\q"
        );
    }

    #[test]
    fn escape_error_is_reported() {
        let err = encode_input("a\\q", &InputOptions::default()).unwrap_err();
        assert!(matches!(err, Error::Escape { .. }), "{err:?}");
    }

    #[test]
    fn text_is_encoded_but_raw_bytes_are_not() {
        // GBK: 你 = c4 e3; \xff stays one raw byte.
        assert_eq!(
            encode_input("你\\xff", &opts(false, true, "gbk")).unwrap(),
            [0xc4, 0xe3, 0xff]
        );
        // UTF-16LE: the \n escape is a character, so it is encoded as 0a 00.
        assert_eq!(
            encode_input("A\\n\\x41", &opts(false, true, "utf-16le")).unwrap(),
            [0x41, 0x00, 0x0a, 0x00, 0x41]
        );
        assert_eq!(
            encode_input("A\\r\\n", &opts(false, true, "utf-16be")).unwrap(),
            [0x00, 0x41, 0x00, 0x0d, 0x00, 0x0a]
        );
    }

    #[test]
    fn unencodable_text_is_an_error() {
        let err = encode_input("a😀", &opts(false, true, "gbk")).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Unencodable {
                    ch: '😀',
                    encoding: "gbk"
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn auto_sends_utf8() {
        assert_eq!(
            encode_input("你好", &opts(false, true, "auto")).unwrap(),
            "你好".as_bytes()
        );
    }

    #[test]
    fn excerpt_is_short_and_on_one_line() {
        assert_eq!(excerpt("a\nb\tc\rd"), "a\\nb\\tc\\x0dd");
        let long = "x".repeat(100);
        let e = excerpt(&long);
        assert_eq!(e, format!("{}...", "x".repeat(60)));
        assert_eq!(excerpt(&"x".repeat(60)), "x".repeat(60));
    }
}
