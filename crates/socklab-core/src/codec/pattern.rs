//! What a received message is matched against: the MATCH of an auto-reply (`--reply`,
//! `--rules`) and the text a script's `expect` step waits for.
//!
//! One syntax for both, so that a rule tried in a reply works unchanged in a script:
//!
//! - `hex:01 03 00` — these bytes (any hex form [`super::hex::parse_hex`] takes);
//! - `re:^LOGIN (\w+)` — a regular expression over the message's text in the session
//!   encoding (so `re:你好` finds GBK bytes in a GBK session), with capture groups;
//! - `text:...` — text, for a text that itself starts with `hex:` or `re:`;
//! - anything else — text with escapes (`\r\n`, `\x00`), encoded like a typed line.
//!
//! A pattern is *found in* a message, anywhere in it: a device's line ends in `\r\n` that the
//! person writing the rule should not have to spell out. Anchor a `re:` with `^`/`$` for an
//! exact match.

use std::fmt;
use std::ops::Range;

use regex::Regex;

use super::{encode_input, Encoding, InputOptions};
use crate::error::{Error, Result};

/// A parsed MATCH or expect pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// As the user wrote it, for messages ("expect 're:^OK' timed out").
    spec: String,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Bytes(Vec<u8>),
    Regex(Regex),
}

/// Where a pattern was found in a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The bytes of the message that matched, so that a reader of a stream can consume up
    /// to the end of the match and look for the next pattern in what follows.
    pub range: Range<usize>,
    /// The match as text (index 0) and each capture group of a `re:` (1..); `None` for a
    /// group that did not take part in the match.
    pub groups: Vec<Option<String>>,
}

impl Pattern {
    /// Parses a pattern; text is encoded as `input` says (escapes, encoding). An empty
    /// pattern is refused: it would match every message, which is never what was meant.
    pub fn parse(spec: &str, input: &InputOptions) -> Result<Pattern> {
        let kind = if let Some(hex) = spec.strip_prefix("hex:") {
            let opts = InputOptions {
                hex: true,
                ..*input
            };
            Kind::Bytes(encode_input(hex, &opts)?)
        } else if let Some(re) = spec.strip_prefix("re:") {
            if re.is_empty() {
                return Err(empty(spec));
            }
            Kind::Regex(Regex::new(re).map_err(|e| Error::Regex {
                input: spec.to_string(),
                reason: one_line(&e.to_string()),
            })?)
        } else {
            let text = spec.strip_prefix("text:").unwrap_or(spec);
            let opts = InputOptions {
                hex: false,
                ..*input
            };
            Kind::Bytes(encode_input(text, &opts)?)
        };
        if matches!(&kind, Kind::Bytes(b) if b.is_empty()) {
            return Err(empty(spec));
        }
        Ok(Pattern {
            spec: spec.to_string(),
            kind,
        })
    }

    /// The pattern as it was written.
    pub fn spec(&self) -> &str {
        &self.spec
    }

    /// How many groups a match has: 1 (the whole match) plus a `re:`'s capture groups.
    pub fn group_count(&self) -> usize {
        match &self.kind {
            Kind::Bytes(_) => 1,
            Kind::Regex(re) => re.captures_len(),
        }
    }

    /// The first place the pattern occurs in `message`, whose text is in `encoding`.
    pub fn find(&self, message: &[u8], encoding: Encoding) -> Option<Found> {
        match &self.kind {
            Kind::Bytes(needle) => {
                let start = message
                    .windows(needle.len())
                    .position(|window| window == needle.as_slice())?;
                let range = start..start + needle.len();
                let text = decode(&message[range.clone()], encoding);
                Some(Found {
                    range,
                    groups: vec![Some(text)],
                })
            }
            Kind::Regex(re) => {
                let text = Decoded::new(message, encoding);
                let caps = re.captures(&text.text)?;
                let whole = caps.get(0)?;
                let range = text.byte_at(whole.start())..text.byte_at(whole.end());
                let groups = caps
                    .iter()
                    .map(|group| group.map(|m| m.as_str().to_string()))
                    .collect();
                Some(Found { range, groups })
            }
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spec)
    }
}

fn empty(spec: &str) -> Error {
    Error::Regex {
        input: spec.to_string(),
        reason: "an empty pattern matches every message".to_string(),
    }
}

/// regex's errors draw a caret under the pattern over several lines; ours are one line.
fn one_line(reason: &str) -> String {
    reason
        .lines()
        .map(str::trim)
        .rfind(|line| !line.is_empty() && !line.starts_with('^'))
        .unwrap_or("does not compile")
        .trim_start_matches("error: ")
        .to_string()
}

fn decode(bytes: &[u8], encoding: Encoding) -> String {
    let mut decoder = encoding.decoder();
    let mut out = String::new();
    decoder.decode(bytes, &mut out);
    decoder.finish(&mut out);
    out
}

/// A message's text with the way back from a text offset to the message's bytes.
struct Decoded {
    text: String,
    /// `(text offset, byte offset)` at each point where a character ended; empty when the
    /// two are the same (valid UTF-8).
    map: Vec<(usize, usize)>,
}

impl Decoded {
    fn new(message: &[u8], encoding: Encoding) -> Decoded {
        let utf8 = matches!(encoding, Encoding::Auto) || encoding == Encoding::UTF8;
        if utf8 {
            if let Ok(text) = std::str::from_utf8(message) {
                return Decoded {
                    text: text.to_string(),
                    map: Vec::new(),
                };
            }
        }
        // Byte by byte, so that each character's end in the bytes is known. Patterns run on
        // one message or a script's unread input: small enough for this to cost nothing.
        let fixed = match encoding {
            Encoding::Auto => Encoding::UTF8,
            known => known,
        };
        let mut decoder = fixed.decoder();
        let mut text = String::with_capacity(message.len());
        let mut map = vec![(0, 0)];
        for (i, byte) in message.iter().enumerate() {
            let before = text.len();
            decoder.decode(std::slice::from_ref(byte), &mut text);
            if text.len() != before {
                map.push((text.len(), i + 1));
            }
        }
        let before = text.len();
        decoder.finish(&mut text);
        if text.len() != before {
            map.push((text.len(), message.len()));
        }
        Decoded { text, map }
    }

    /// The byte offset where the text up to `at` ends (`at` is a char boundary the regex
    /// returned, so it is one of the recorded points).
    fn byte_at(&self, at: usize) -> usize {
        if self.map.is_empty() {
            return at;
        }
        match self.map.binary_search_by_key(&at, |&(text, _)| text) {
            Ok(i) => self.map[i].1,
            // A character that decoded to several chars at once (U+FFFD plus the next one):
            // the bytes up to the end of that step.
            Err(i) => self.map.get(i).map_or(usize::MAX, |&(_, byte)| byte),
        }
        .min(self.map.last().map_or(0, |&(_, byte)| byte))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(spec: &str) -> Pattern {
        Pattern::parse(spec, &InputOptions::default()).unwrap()
    }

    fn gbk() -> Encoding {
        Encoding::from_label("gbk").unwrap()
    }

    #[test]
    fn text_is_found_anywhere_with_escapes() {
        let p = parse("PING");
        let found = p.find(b"xPING\r\n", Encoding::UTF8).unwrap();
        assert_eq!(found.range, 1..5);
        assert_eq!(found.groups, vec![Some("PING".to_string())]);
        assert!(parse("OK\\r\\n").find(b"OK\n", Encoding::UTF8).is_none());
        assert!(parse("OK\\r\\n").find(b"OK\r\n", Encoding::UTF8).is_some());
    }

    #[test]
    fn hex_and_text_prefixes() {
        let p = parse("hex:01 03");
        assert_eq!(
            p.find(&[0, 1, 3, 4], Encoding::UTF8).map(|f| f.range),
            Some(1..3)
        );
        let p = parse("text:hex:01");
        assert!(p.find(b"hex:01", Encoding::UTF8).is_some());
        assert!(p.find(&[1], Encoding::UTF8).is_none());
    }

    #[test]
    fn text_is_encoded_in_the_session_encoding() {
        let opts = InputOptions {
            encoding: gbk(),
            ..InputOptions::default()
        };
        let p = Pattern::parse("你好", &opts).unwrap();
        assert!(p.find(&[0x41, 0xc4, 0xe3, 0xba, 0xc3], gbk()).is_some());
        assert!(p.find("你好".as_bytes(), gbk()).is_none());
    }

    #[test]
    fn regex_captures_and_byte_ranges() {
        let p = parse(r"re:LOGIN (\w+)");
        let found = p.find(b"> LOGIN bob\r\n", Encoding::UTF8).unwrap();
        assert_eq!(found.range, 2..11);
        assert_eq!(found.groups[1].as_deref(), Some("bob"));
        // Over GBK bytes: the range is in bytes, the groups are text.
        let p = parse("re:好(.)");
        let msg = [0xc4, 0xe3, 0xba, 0xc3, 0xb0, 0xa1, 0x21];
        let found = p.find(&msg, gbk()).unwrap();
        assert_eq!(found.range, 2..6);
        assert_eq!(found.groups[1].as_deref(), Some("啊"));
        // Invalid UTF-8 before the match still maps back to the right bytes.
        let found = parse("re:ok").find(b"\xff\xfeok", Encoding::UTF8).unwrap();
        assert_eq!(found.range, 2..4);
    }

    #[test]
    fn bad_patterns_say_why() {
        let err = Pattern::parse("re:(", &InputOptions::default()).unwrap_err();
        assert!(err.is_usage());
        let msg = err.to_string();
        assert!(msg.contains("bad regular expression 're:('"), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");
        for spec in ["", "re:", "hex:", "text:"] {
            let err = Pattern::parse(spec, &InputOptions::default()).unwrap_err();
            assert!(err.to_string().contains("empty pattern"), "{spec}: {err}");
        }
        assert!(Pattern::parse("hex:4G", &InputOptions::default()).is_err());
    }
}
