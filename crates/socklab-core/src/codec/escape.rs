//! Backslash escapes in typed text: `\r \n \t \0 \\ \e \a \b \f \v` and `\xHH`.
//!
//! The split matters for non-ASCII-compatible encodings: the character escapes stay text, so
//! in UTF-16 `\n` is sent as the encoded newline `0a 00`; only `\xHH` is a raw byte that
//! bypasses the encoding, which is how a byte no encoding would produce gets sent.

use std::borrow::Cow;

use crate::codec::{excerpt, text};
use crate::error::{Error, Result};

/// A run of input after escapes are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Text to be encoded with the session encoding. Borrowed from the input when the run
    /// holds no escape, so plain lines are not copied.
    Text(Cow<'a, str>),
    /// Raw bytes from `\xHH`, sent as they are.
    Bytes(Vec<u8>),
}

/// Splits `input` into text and raw bytes, resolving escapes.
///
/// Adjacent text (including character escapes) is merged into one [`Piece::Text`] and adjacent
/// `\xHH` into one [`Piece::Bytes`]; pieces alternate and none is empty. Empty input gives no
/// pieces. The whole input is checked, so an error never comes with part of the result.
pub fn parse_escapes(input: &str) -> Result<Vec<Piece<'_>>> {
    let mut out = Pieces::default();
    let b = input.as_bytes();
    let mut i = 0;
    while let Some(found) = input[i..].find('\\') {
        let at = i + found;
        out.text(&input[i..at]);
        let Some(&kind) = b.get(at + 1) else {
            return Err(escape_error(
                input,
                format!(
                    "lone backslash at column {} at the end; write \\\\ for a backslash",
                    column(input, at)
                ),
            ));
        };
        let ch = match kind {
            b'r' => '\r',
            b'n' => '\n',
            b't' => '\t',
            b'0' => '\0',
            b'\\' => '\\',
            b'e' => '\x1b',
            b'a' => '\x07',
            b'b' => '\x08',
            b'f' => '\x0c',
            b'v' => '\x0b',
            b'x' => {
                out.byte(hex_escape(input, at)?);
                i = at + 4;
                continue;
            }
            _ => {
                // `at + 1` is a char boundary: the backslash before it is one byte.
                let shown = shown_char_at(input, at + 1);
                return Err(escape_error(
                    input,
                    format!("unknown escape '\\{shown}' at column {}", column(input, at)),
                ));
            }
        };
        out.char(ch);
        i = at + 2;
    }
    out.text(&input[i..]);
    Ok(out.finish())
}

/// The byte of the `\xHH` whose backslash is at `at`.
fn hex_escape(input: &str, at: usize) -> Result<u8> {
    let b = input.as_bytes();
    let mut value = 0u8;
    for k in 0..2 {
        let pos = at + 2 + k;
        let Some(&digit) = b.get(pos) else {
            return Err(escape_error(
                input,
                format!(
                    "'{}' at column {} ends before its two hex digits; \\x takes exactly two, as in \\x0a",
                    &input[at..],
                    column(input, at)
                ),
            ));
        };
        let nibble = match digit {
            b'0'..=b'9' => digit - b'0',
            b'a'..=b'f' => digit - b'a' + 10,
            b'A'..=b'F' => digit - b'A' + 10,
            _ => {
                // Every byte before `pos` is ASCII, so `pos` is a char boundary.
                let shown = shown_char_at(input, pos);
                return Err(escape_error(
                    input,
                    format!(
                        "'{shown}' at column {} is not a hex digit; \\x takes exactly two, as in \\x0a",
                        column(input, pos)
                    ),
                ));
            }
        };
        value = (value << 4) | nibble;
    }
    Ok(value)
}

/// Collects pieces, merging neighbours of the same kind.
#[derive(Default)]
struct Pieces<'a> {
    done: Vec<Piece<'a>>,
    text: Cow<'a, str>,
    bytes: Vec<u8>,
}

impl<'a> Pieces<'a> {
    fn text(&mut self, s: &'a str) {
        if s.is_empty() {
            return;
        }
        self.flush_bytes();
        if self.text.is_empty() {
            self.text = Cow::Borrowed(s);
        } else {
            self.text.to_mut().push_str(s);
        }
    }

    fn char(&mut self, ch: char) {
        self.flush_bytes();
        self.text.to_mut().push(ch);
    }

    fn byte(&mut self, b: u8) {
        self.flush_text();
        self.bytes.push(b);
    }

    fn flush_text(&mut self) {
        if !self.text.is_empty() {
            self.done.push(Piece::Text(std::mem::take(&mut self.text)));
        }
    }

    fn flush_bytes(&mut self) {
        if !self.bytes.is_empty() {
            self.done
                .push(Piece::Bytes(std::mem::take(&mut self.bytes)));
        }
    }

    fn finish(mut self) -> Vec<Piece<'a>> {
        self.flush_text();
        self.flush_bytes();
        self.done
    }
}

/// 1-based, in characters, because that is what the person sees in the line they typed.
fn column(input: &str, byte_index: usize) -> usize {
    input[..byte_index].chars().count() + 1
}

fn escape_error(input: &str, reason: String) -> Error {
    Error::Escape {
        input: excerpt(input),
        reason,
    }
}

/// The character starting at byte `pos` (a char boundary), as the text view shows it, for
/// error messages that name the offending character.
fn shown_char_at(input: &str, pos: usize) -> String {
    let ch = input
        .get(pos..)
        .and_then(|rest| rest.chars().next())
        .unwrap_or(char::REPLACEMENT_CHARACTER);
    let mut shown = String::new();
    text::push_visible_char(ch, &mut shown);
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Piece<'_> {
        Piece::Text(Cow::Borrowed(s))
    }

    fn b(bytes: &[u8]) -> Piece<'static> {
        Piece::Bytes(bytes.to_vec())
    }

    fn reason(input: &str) -> String {
        match parse_escapes(input) {
            Err(Error::Escape { reason, .. }) => reason,
            other => panic!("expected an escape error for {input:?}, got {other:?}"),
        }
    }

    #[test]
    fn plain_text_is_borrowed() {
        assert_eq!(parse_escapes("").unwrap(), vec![]);
        let pieces = parse_escapes("hello 你好").unwrap();
        assert_eq!(pieces, vec![t("hello 你好")]);
        assert!(matches!(&pieces[0], Piece::Text(Cow::Borrowed(_))));
    }

    #[test]
    fn character_escapes_are_text() {
        assert_eq!(parse_escapes("GET /\\r\\n").unwrap(), vec![t("GET /\r\n")]);
        assert_eq!(
            parse_escapes("\\r\\n\\t\\0\\\\").unwrap(),
            vec![t("\r\n\t\0\\")]
        );
        assert_eq!(
            parse_escapes("\\e\\a\\b\\f\\v").unwrap(),
            vec![t("\x1b\x07\x08\x0c\x0b")]
        );
        assert_eq!(parse_escapes("a\\\\nb").unwrap(), vec![t("a\\nb")]);
    }

    #[test]
    fn hex_escapes_are_raw_bytes() {
        assert_eq!(parse_escapes("\\x00").unwrap(), vec![b(&[0])]);
        assert_eq!(
            parse_escapes("\\xff\\xFE\\x0a").unwrap(),
            vec![b(&[0xff, 0xfe, 0x0a])]
        );
        assert_eq!(
            parse_escapes("a\\x41b\\n\\x42\\x43").unwrap(),
            vec![t("a"), b(b"A"), t("b\n"), b(b"BC")]
        );
        // Only two digits belong to the escape.
        assert_eq!(parse_escapes("\\x414").unwrap(), vec![b(b"A"), t("4")]);
        assert_eq!(parse_escapes("你\\xc4").unwrap(), vec![t("你"), b(&[0xc4])]);
    }

    #[test]
    fn unknown_escape() {
        assert_eq!(reason("ab\\q"), "unknown escape '\\q' at column 3");
        assert_eq!(reason("\\Q"), "unknown escape '\\Q' at column 1");
        assert_eq!(reason("你\\好"), "unknown escape '\\好' at column 2");
        assert_eq!(reason("\\\r"), "unknown escape '\\\\x0d' at column 1");
        assert_eq!(reason("\\X41"), "unknown escape '\\X' at column 1");
    }

    #[test]
    fn lone_trailing_backslash() {
        assert_eq!(
            reason("abc\\"),
            "lone backslash at column 4 at the end; write \\\\ for a backslash"
        );
        assert_eq!(
            reason("\\\\\\"),
            "lone backslash at column 3 at the end; write \\\\ for a backslash"
        );
    }

    #[test]
    fn bad_hex_escape() {
        assert_eq!(
            reason("\\x4G"),
            "'G' at column 4 is not a hex digit; \\x takes exactly two, as in \\x0a"
        );
        assert_eq!(
            reason("a\\xg0"),
            "'g' at column 4 is not a hex digit; \\x takes exactly two, as in \\x0a"
        );
        assert_eq!(
            reason("a\\x 1"),
            "' ' at column 4 is not a hex digit; \\x takes exactly two, as in \\x0a"
        );
        assert_eq!(
            reason("a\\x4你"),
            "'你' at column 5 is not a hex digit; \\x takes exactly two, as in \\x0a"
        );
        assert_eq!(
            reason("ab\\x4"),
            "'\\x4' at column 3 ends before its two hex digits; \\x takes exactly two, as in \\x0a"
        );
        assert_eq!(
            reason("\\x"),
            "'\\x' at column 1 ends before its two hex digits; \\x takes exactly two, as in \\x0a"
        );
    }

    #[test]
    fn error_message_is_complete() {
        let err = parse_escapes("a\\q").unwrap_err();
        assert_eq!(
            err.to_string(),
            "bad escape in 'a\\q': unknown escape '\\q' at column 2; expected \\r \\n \\t \\0 \\\\ \
             or \\xHH (or --no-escapes to send backslashes as they are)"
        );
        assert!(err.is_usage());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(input in "\\PC*") {
            let _ = parse_escapes(&input);
        }

        #[test]
        fn text_without_backslash_is_one_piece(input in "[^\\\\]+") {
            proptest::prop_assert_eq!(parse_escapes(&input).unwrap(), vec![t(&input)]);
        }
    }
}
