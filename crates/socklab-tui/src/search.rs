//! Finding text (or bytes) in the received pane: what matches, and where in a line, so the
//! pane can highlight it. The text view matches the decoded text, ignoring ASCII case; the
//! hex view matches bytes, given as hex digits (`6c 6f`) or, if the query is not hex, as
//! the query's own UTF-8 bytes; "both" matches either.

use std::ops::Range;

use socklab_core::codec::hex::parse_hex;

use crate::app::View;
use crate::scrollback::{Entry, EntryKind};

/// A search as the pane uses it: the query and its byte form, worked out once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub text: String,
    /// For the hex view: the bytes to find.
    pub bytes: Vec<u8>,
}

impl Query {
    pub fn new(text: &str) -> Query {
        let bytes = match parse_hex(text) {
            Ok(b) if !b.is_empty() => b,
            _ => text.as_bytes().to_vec(),
        };
        Query {
            text: text.to_string(),
            bytes,
        }
    }

    /// Whether `e` holds a match in `view`.
    pub fn matches(&self, e: &Entry, view: View) -> bool {
        match &e.kind {
            EntryKind::Info(s) | EntryKind::Error(s) => !text_ranges(s, &self.text).is_empty(),
            EntryKind::Data { bytes, text, .. } => {
                let in_text = || !text_ranges(text, &self.text).is_empty();
                let in_bytes = || !byte_ranges(bytes, &self.bytes).is_empty();
                match view {
                    View::Text => in_text(),
                    View::Hex => in_bytes(),
                    View::Both => in_text() || in_bytes(),
                }
            }
        }
    }
}

/// Where `needle` occurs in `hay`, as byte ranges of `hay`, ignoring ASCII case; matches do
/// not overlap. An empty needle matches nothing.
pub fn text_ranges(hay: &str, needle: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    if needle.is_empty() {
        return out;
    }
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let mut i = 0;
    while i + n.len() <= h.len() {
        // Both are UTF-8 and ASCII case folding never touches a multibyte sequence, so a
        // byte match starts and ends on character boundaries.
        if h[i..i + n.len()].eq_ignore_ascii_case(n) && hay.is_char_boundary(i) {
            out.push(i..i + n.len());
            i += n.len();
        } else {
            i += 1;
        }
    }
    out
}

/// Where `pattern` occurs in `bytes`, not overlapping. An empty pattern matches nothing.
pub fn byte_ranges(bytes: &[u8], pattern: &[u8]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    if pattern.is_empty() {
        return out;
    }
    let mut i = 0;
    while i + pattern.len() <= bytes.len() {
        if &bytes[i..i + pattern.len()] == pattern {
            out.push(i..i + pattern.len());
            i += pattern.len();
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use socklab_core::session::Direction;

    fn data(b: &'static [u8]) -> Entry {
        Entry {
            time: jiff::Timestamp::UNIX_EPOCH,
            kind: EntryKind::Data {
                dir: Direction::Received,
                peer: 1,
                bytes: Bytes::from_static(b),
                text: String::from_utf8_lossy(b).into_owned(),
            },
        }
    }

    #[test]
    fn text_matches_ignore_ascii_case_and_do_not_overlap() {
        assert_eq!(text_ranges("Hello hello", "HELLO"), [0..5, 6..11]);
        assert_eq!(text_ranges("aaaa", "aa"), [0..2, 2..4]);
        assert_eq!(text_ranges("温度 ok 温度", "温度"), [0..6, 10..16]);
        assert!(text_ranges("abc", "").is_empty());
        assert!(text_ranges("ab", "abc").is_empty());
    }

    #[test]
    fn byte_matches() {
        assert_eq!(byte_ranges(&[1, 2, 3, 1, 2], &[1, 2]), [0..2, 3..5]);
        assert!(byte_ranges(&[1], &[]).is_empty());
    }

    #[test]
    fn hex_digits_search_bytes_and_other_text_its_own_bytes() {
        assert_eq!(Query::new("ff 00").bytes, [0xff, 0]);
        assert_eq!(Query::new("cafe").bytes, [0xca, 0xfe]);
        assert_eq!(Query::new("pong").bytes, b"pong");
        let e = data(&[0x01, 0xff, 0x00, b'p', b'o', b'n', b'g']);
        assert!(Query::new("ff00").matches(&e, View::Hex));
        assert!(!Query::new("ff00").matches(&e, View::Text));
        assert!(Query::new("PONG").matches(&e, View::Text));
        assert!(
            Query::new("pong").matches(&e, View::Hex),
            "the ASCII column"
        );
        assert!(Query::new("ff00").matches(&e, View::Both));
        let info = Entry {
            time: jiff::Timestamp::UNIX_EPOCH,
            kind: EntryKind::Info("#1 127.0.0.1:5 +".into()),
        };
        assert!(Query::new("127.0").matches(&info, View::Hex));
    }
}
