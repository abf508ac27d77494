//! The text view of received data.
//!
//! A peer can send anything, and raw control characters written to a terminal move the
//! cursor, clear lines or switch character sets: a `\r` would make the next text overwrite
//! this line, an ESC could start a terminal escape sequence. So they are shown as escapes
//! instead, in the same `\xHH` spelling the text input accepts.

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Appends `s` with control characters other than `'\n'` and `'\t'` made visible: `\xHH` for
/// C0 controls and DEL (e.g. `"\r"` → `\x0d`), `\u{XXXX}` for the C1 controls U+0080..U+009F.
///
/// `'\n'` and `'\t'` are kept because they lay text out rather than drive the terminal.
pub fn push_visible(s: &str, out: &mut String) {
    out.reserve(s.len());
    let mut run_start = 0;
    for (i, ch) in s.char_indices() {
        if needs_escape(ch) {
            out.push_str(&s[run_start..i]);
            push_escape(ch, out);
            run_start = i + ch.len_utf8();
        }
    }
    out.push_str(&s[run_start..]);
}

/// One character of [`push_visible`], for callers that walk text themselves.
pub(crate) fn push_visible_char(ch: char, out: &mut String) {
    if needs_escape(ch) {
        push_escape(ch, out);
    } else {
        out.push(ch);
    }
}

fn needs_escape(ch: char) -> bool {
    ch.is_control() && ch != '\n' && ch != '\t'
}

fn push_escape(ch: char, out: &mut String) {
    let code = u32::from(ch);
    if code < 0x80 {
        out.push_str("\\x");
        out.push(char::from(HEX_DIGITS[(code >> 4) as usize]));
        out.push(char::from(HEX_DIGITS[(code & 0xf) as usize]));
    } else {
        out.push_str("\\u{");
        for shift in [12, 8, 4, 0] {
            out.push(char::from(HEX_DIGITS[((code >> shift) & 0xf) as usize]));
        }
        out.push('}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visible(s: &str) -> String {
        let mut out = String::new();
        push_visible(s, &mut out);
        out
    }

    #[test]
    fn plain_text_is_unchanged() {
        assert_eq!(visible(""), "");
        assert_eq!(visible("hello, world"), "hello, world");
        assert_eq!(visible("你好 😀 é"), "你好 😀 é");
        assert_eq!(visible("a\\xb"), "a\\xb");
    }

    #[test]
    fn newline_and_tab_are_kept() {
        assert_eq!(visible("a\tb\nc"), "a\tb\nc");
    }

    #[test]
    fn c0_controls_and_del_become_hex() {
        assert_eq!(visible("a\r\n"), "a\\x0d\n");
        assert_eq!(visible("\0"), "\\x00");
        assert_eq!(visible("\x1b[2J"), "\\x1b[2J");
        assert_eq!(visible("\x7f"), "\\x7f");
        assert_eq!(visible("\x1f\x01"), "\\x1f\\x01");
    }

    #[test]
    fn c1_controls_become_unicode_escapes() {
        assert_eq!(visible("a\u{85}b"), "a\\u{0085}b");
        assert_eq!(visible("\u{9b}"), "\\u{009b}");
        assert_eq!(visible("\u{80}\u{9f}"), "\\u{0080}\\u{009f}");
        // Just past the C1 range: printable.
        assert_eq!(visible("\u{a0}"), "\u{a0}");
    }

    #[test]
    fn appends_to_existing_text() {
        let mut out = String::from(">> ");
        push_visible("x\r", &mut out);
        assert_eq!(out, ">> x\\x0d");
    }

    #[test]
    fn single_char_matches_whole_string() {
        for ch in ['a', '\r', '\n', '\t', '\x7f', '\u{85}', '你'] {
            let mut one = String::new();
            push_visible_char(ch, &mut one);
            assert_eq!(one, visible(ch.encode_utf8(&mut [0; 4])));
        }
    }
}
