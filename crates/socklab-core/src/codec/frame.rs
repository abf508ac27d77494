//! Framing (`--frame`): cutting a received byte stream into the messages its protocol means.
//!
//! TCP delivers bytes, not messages: a device's 8-byte frame can arrive as 3 + 5 bytes, and
//! two frames can arrive in one read. A [`Framer`] per peer and direction holds the bytes of
//! an unfinished frame until the rest comes, so each event carries exactly one message,
//! whatever the reads were. A frame's bytes are its bytes on the wire (length field and
//! delimiter included): the frames of a stream, put back together, are the stream.
//!
//! A frame never grows without bound: a delimiter that does not come, or a length field
//! that claims gigabytes, yields pieces of at most [`MAX_FRAME`] bytes marked partial,
//! and framing goes on after the frame's end.

use std::fmt;
use std::str::FromStr;

use bytes::{Bytes, BytesMut};

use crate::error::{Error, Result};

/// What `--frame` accepts, for error messages and help.
pub const EXPECTED: &str = "raw, line, crlf, delim:HEX (e.g. delim:03 or delim:0d0a), fixed:N, or len:u8, len:u16be, len:u16le, len:u32be, len:u32le (the length counts the bytes after it; add +N when it also counts N more, e.g. len:u16be+2 for a length that counts itself, or -N when N bytes after it are not counted)";

/// The largest frame held whole. Device and protocol frames are far smaller; a bigger one
/// (or a missing delimiter) comes out in pieces of this size, marked partial, so one peer
/// can never make the framer hold more than this.
pub const MAX_FRAME: usize = 1024 * 1024;

/// How messages are found in a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameSpec {
    /// No framing: each read is a message (the default).
    Raw,
    /// A message ends with these bytes (`line` is `0a`, `crlf` is `0d 0a`), which stay in it.
    Delim(Vec<u8>),
    /// Every message is this many bytes.
    Fixed(usize),
    /// A length field at the start of each message.
    Len(LenField),
}

/// A length prefix: its size, byte order, and how its value relates to the bytes after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LenField {
    /// 1, 2 or 4 bytes.
    pub width: usize,
    pub big_endian: bool,
    /// Bytes the value counts besides those after the field (`+2` for a length that counts
    /// its own two bytes); negative when some bytes after it are not counted.
    pub adjust: i64,
}

impl LenField {
    /// Bytes after the field, from its value. A value smaller than the adjustment counts as
    /// zero: the field is then a message of its own, and framing goes on after it.
    fn body(&self, header: &[u8]) -> u64 {
        let mut value: u64 = 0;
        for i in 0..self.width {
            let b = if self.big_endian {
                header[i]
            } else {
                header[self.width - 1 - i]
            };
            value = (value << 8) | u64::from(b);
        }
        let body = i128::from(value) - i128::from(self.adjust);
        u64::try_from(body.max(0)).unwrap_or(u64::MAX)
    }
}

impl FromStr for FrameSpec {
    type Err = Error;

    fn from_str(input: &str) -> Result<FrameSpec> {
        let bad = |reason: String| Error::Frame {
            input: input.to_string(),
            reason,
        };
        let spec = input.trim().to_ascii_lowercase();
        let (kind, arg) = match spec.split_once(':') {
            Some((k, a)) => (k, Some(a)),
            None => (spec.as_str(), None),
        };
        let no_arg = |spec: FrameSpec| match arg {
            Some(_) => Err(bad(format!("'{kind}' takes no ':...'"))),
            None => Ok(spec),
        };
        let need = |what: &str| arg.ok_or_else(|| bad(format!("'{kind}' needs {what}")));
        match kind {
            "raw" => no_arg(FrameSpec::Raw),
            "line" => no_arg(FrameSpec::Delim(b"\n".to_vec())),
            "crlf" => no_arg(FrameSpec::Delim(b"\r\n".to_vec())),
            "delim" => {
                let hex = need("the delimiter in hex, e.g. delim:03")?;
                let bytes = crate::codec::hex::parse_hex(hex).map_err(|_| {
                    bad(format!(
                        "'{hex}' is not hex (pairs of hex digits such as 0d0a)"
                    ))
                })?;
                if bytes.is_empty() {
                    return Err(bad("the delimiter is empty".into()));
                }
                Ok(FrameSpec::Delim(bytes))
            }
            "fixed" => {
                let n = need("a size, e.g. fixed:8")?;
                match n.parse::<usize>() {
                    Ok(n) if (1..=MAX_FRAME).contains(&n) => Ok(FrameSpec::Fixed(n)),
                    _ => Err(bad(format!(
                        "the size '{n}' is not a number from 1 to {MAX_FRAME}"
                    ))),
                }
            }
            "len" => {
                let field = need("the field's type, e.g. len:u16be")?;
                let (ty, adjust) = match field.find(['+', '-']) {
                    Some(at) => {
                        let n = &field[at..];
                        let adjust = n
                            .parse::<i64>()
                            .ok()
                            .filter(|n| n.unsigned_abs() <= MAX_FRAME as u64)
                            .ok_or_else(|| {
                                bad(format!(
                                    "the adjustment '{n}' is not a number such as +2 or -2"
                                ))
                            })?;
                        (&field[..at], adjust)
                    }
                    None => (field, 0),
                };
                let (width, big_endian) = match ty {
                    "u8" => (1, true),
                    "u16be" => (2, true),
                    "u16le" => (2, false),
                    "u32be" => (4, true),
                    "u32le" => (4, false),
                    other => {
                        return Err(bad(format!(
                        "unknown length field '{other}', expected u8, u16be, u16le, u32be or u32le"
                    )))
                    }
                };
                Ok(FrameSpec::Len(LenField {
                    width,
                    big_endian,
                    adjust,
                }))
            }
            other => Err(bad(format!("unknown framing '{other}'"))),
        }
    }
}

impl fmt::Display for FrameSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameSpec::Raw => f.write_str("raw"),
            FrameSpec::Delim(d) if d == b"\n" => f.write_str("line"),
            FrameSpec::Delim(d) if d == b"\r\n" => f.write_str("crlf"),
            FrameSpec::Delim(d) => {
                write!(
                    f,
                    "delim:{}",
                    crate::codec::hex::encode_hex(d).replace(' ', "")
                )
            }
            FrameSpec::Fixed(n) => write!(f, "fixed:{n}"),
            FrameSpec::Len(l) => {
                let order = match (l.width, l.big_endian) {
                    (1, _) => "",
                    (_, true) => "be",
                    (_, false) => "le",
                };
                write!(f, "len:u{}{order}", l.width * 8)?;
                if l.adjust != 0 {
                    write!(f, "{:+}", l.adjust)?;
                }
                Ok(())
            }
        }
    }
}

impl FrameSpec {
    /// A framer for one peer and direction; `None` for `raw`, where each read is a message.
    pub fn framer(&self) -> Option<Framer> {
        (*self != FrameSpec::Raw).then(|| Framer::new(self.clone()))
    }

    /// The part of a whole frame that a trailing checksum ends: all but the delimiter.
    pub fn payload<'a>(&self, frame: &'a [u8]) -> &'a [u8] {
        match self {
            FrameSpec::Delim(d) => frame.strip_suffix(d.as_slice()).unwrap_or(frame),
            _ => frame,
        }
    }
}

/// One message cut from the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub bytes: Bytes,
    /// Not a whole frame: what was held when the stream ended, or a piece of a frame
    /// larger than [`MAX_FRAME`].
    pub partial: bool,
}

/// The streaming framer of one peer and direction.
#[derive(Debug)]
pub struct Framer {
    spec: FrameSpec,
    buf: BytesMut,
    /// Delimiter framing: where the next search starts (what was searched holds no
    /// delimiter), so a long line arriving a byte at a time is not searched again and again.
    searched: usize,
    /// Bytes of an oversized frame still to come; they pass through as partial pieces.
    oversize: u64,
}

impl Framer {
    pub fn new(spec: FrameSpec) -> Framer {
        Framer {
            spec,
            buf: BytesMut::new(),
            searched: 0,
            oversize: 0,
        }
    }

    /// Add what was read; the frames it completes are appended to `out`.
    pub fn push(&mut self, data: &[u8], out: &mut Vec<Frame>) {
        let mut data = data;
        loop {
            if self.oversize > 0 {
                let n = usize::try_from(self.oversize)
                    .unwrap_or(usize::MAX)
                    .min(data.len());
                if n == 0 {
                    return;
                }
                // A piece of the oversized frame goes out as it comes, never held.
                out.push(Frame {
                    bytes: Bytes::copy_from_slice(&data[..n]),
                    partial: true,
                });
                self.oversize -= n as u64;
                data = &data[n..];
                continue;
            }
            if !data.is_empty() {
                // The oversized case ends the loop above only on an empty `data`, so what
                // is left here goes into the buffer whole; from now on `data` is empty.
                let take = self.room(data.len());
                self.buf.extend_from_slice(&data[..take]);
                data = &data[take..];
            }
            match self.next_end() {
                Next::Frame(end) => {
                    out.push(Frame {
                        bytes: self.buf.split_to(end).freeze(),
                        partial: false,
                    });
                    self.searched = 0;
                }
                Next::Oversize(rest) => {
                    // Held bytes of a frame too large to hold: out they go, and the rest of
                    // it after them.
                    out.push(Frame {
                        bytes: self.buf.split().freeze(),
                        partial: true,
                    });
                    self.oversize = rest;
                    self.searched = 0;
                }
                Next::More if self.buf.len() >= MAX_FRAME => {
                    // A delimiter that has not come in MAX_FRAME bytes.
                    out.push(Frame {
                        bytes: self.buf.split().freeze(),
                        partial: true,
                    });
                    self.searched = 0;
                }
                Next::More if data.is_empty() => return,
                Next::More => {}
            }
        }
    }

    /// How much of `len` new bytes the buffer takes now: at most up to MAX_FRAME, so a
    /// huge read is framed in steps instead of copied whole.
    fn room(&self, len: usize) -> usize {
        len.min(MAX_FRAME.saturating_sub(self.buf.len()).max(1))
    }

    fn next_end(&mut self) -> Next {
        let held = self.buf.len();
        match &self.spec {
            FrameSpec::Raw => {
                if held > 0 {
                    Next::Frame(held)
                } else {
                    Next::More
                }
            }
            FrameSpec::Fixed(n) => {
                if held >= *n {
                    Next::Frame(*n)
                } else {
                    Next::More
                }
            }
            FrameSpec::Delim(d) => {
                let from = self.searched;
                match self.buf[from..]
                    .windows(d.len())
                    .position(|w| w == d.as_slice())
                {
                    Some(at) => Next::Frame(from + at + d.len()),
                    None => {
                        self.searched = (held + 1).saturating_sub(d.len());
                        Next::More
                    }
                }
            }
            FrameSpec::Len(l) => {
                if held < l.width {
                    return Next::More;
                }
                let total = l.body(&self.buf[..l.width]).saturating_add(l.width as u64);
                if total > MAX_FRAME as u64 {
                    Next::Oversize(total - held as u64)
                } else if held as u64 >= total {
                    Next::Frame(total as usize)
                } else {
                    Next::More
                }
            }
        }
    }

    /// The stream ended: what is still held, as a partial message.
    pub fn finish(&mut self) -> Option<Frame> {
        self.searched = 0;
        self.oversize = 0;
        (!self.buf.is_empty()).then(|| Frame {
            bytes: self.buf.split().freeze(),
            partial: true,
        })
    }
}

enum Next {
    /// A whole frame ends at this offset of the buffer.
    Frame(usize),
    /// The frame is larger than MAX_FRAME; this many bytes of it are not held yet.
    Oversize(u64),
    More,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn spec(s: &str) -> FrameSpec {
        s.parse().unwrap()
    }

    fn frames(spec_text: &str, reads: &[&[u8]]) -> Vec<(Vec<u8>, bool)> {
        let mut f = spec(spec_text).framer().unwrap();
        let mut out = Vec::new();
        for r in reads {
            f.push(r, &mut out);
        }
        out.extend(f.finish());
        out.into_iter()
            .map(|f| (f.bytes.to_vec(), f.partial))
            .collect()
    }

    fn whole(b: &[u8]) -> (Vec<u8>, bool) {
        (b.to_vec(), false)
    }

    #[test]
    fn specs_parse_and_print_back() {
        for s in [
            "raw",
            "line",
            "crlf",
            "delim:03",
            "delim:0d0a00",
            "fixed:8",
            "len:u8",
            "len:u16be",
            "len:u16le",
            "len:u32be",
            "len:u32le",
            "len:u16be+2",
            "len:u8-2",
        ] {
            assert_eq!(spec(s).to_string(), s);
        }
        assert_eq!(spec("LINE"), spec("line"));
        assert_eq!(spec("delim:0x0d,0x0a"), FrameSpec::Delim(b"\r\n".to_vec()));
    }

    #[test]
    fn bad_specs_say_what_is_expected() {
        for (s, why) in [
            ("lines", "unknown framing 'lines'"),
            ("", "unknown framing ''"),
            ("delim:", "the delimiter is empty"),
            ("delim:zz", "is not hex"),
            ("delim", "needs the delimiter"),
            ("fixed:0", "not a number from 1"),
            ("fixed:x", "not a number from 1"),
            ("fixed:99999999", "not a number from 1"),
            ("len:u24", "unknown length field 'u24'"),
            ("len", "needs the field's type"),
            ("len:u16be+x", "the adjustment '+x'"),
            ("line:3", "takes no"),
        ] {
            let err = s.parse::<FrameSpec>().unwrap_err();
            assert!(err.is_usage());
            let msg = err.to_string();
            assert!(msg.contains(why), "{s}: {msg}");
            assert!(msg.contains("expected raw, line, crlf"), "{s}: {msg}");
        }
    }

    #[test]
    fn delimiters_stay_in_the_frame() {
        assert_eq!(
            frames("line", &[b"ab\ncd", b"\n\nx"]),
            vec![
                whole(b"ab\n"),
                whole(b"cd\n"),
                whole(b"\n"),
                (b"x".to_vec(), true)
            ]
        );
        assert_eq!(
            frames("crlf", &[b"a\r", b"\nb\n\r\n"]),
            vec![whole(b"a\r\n"), whole(b"b\n\r\n")]
        );
        assert_eq!(
            frames("delim:0d0a", &[b"a\r", b"\r\n"]),
            vec![whole(b"a\r\r\n")]
        );
    }

    #[test]
    fn lengths_count_the_bytes_after_the_field() {
        assert_eq!(
            frames("len:u8", &[&[2, 7, 8, 0, 1], &[9]]),
            vec![whole(&[2, 7, 8]), whole(&[0]), whole(&[1, 9])]
        );
        assert_eq!(
            frames("len:u16be", &[&[0, 1, 5, 0]]),
            vec![whole(&[0, 1, 5]), (vec![0], true)]
        );
        assert_eq!(frames("len:u16le", &[&[1, 0, 5]]), vec![whole(&[1, 0, 5])]);
        assert_eq!(
            frames("len:u32le", &[&[2, 0, 0, 0, 1, 2]]),
            vec![whole(&[2, 0, 0, 0, 1, 2])]
        );
        // The length counts itself (+2), or not the 2-byte CRC after the body (-2).
        assert_eq!(
            frames("len:u16be+2", &[&[0, 3, 9, 0, 2]]),
            vec![whole(&[0, 3, 9]), whole(&[0, 2])]
        );
        assert_eq!(
            frames("len:u8-2", &[&[1, 9, 0xaa, 0xbb]]),
            vec![whole(&[1, 9, 0xaa, 0xbb])]
        );
        // A value below the adjustment: the field alone, and framing goes on.
        assert_eq!(
            frames("len:u16be+2", &[&[0, 1, 0, 2]]),
            vec![whole(&[0, 1]), whole(&[0, 2])]
        );
    }

    #[test]
    fn fixed_frames() {
        assert_eq!(
            frames("fixed:3", &[b"abcd", b"ef", b"g"]),
            vec![whole(b"abc"), whole(b"def"), (b"g".to_vec(), true)]
        );
    }

    #[test]
    fn an_oversized_frame_passes_in_partial_pieces_and_framing_goes_on() {
        let big = MAX_FRAME + 10;
        let mut stream = (big as u32).to_be_bytes().to_vec();
        stream.extend(std::iter::repeat_n(7u8, big));
        stream.extend([0, 0, 0, 1, 42]);
        let got = frames("len:u32be", &[&stream[..100], &stream[100..]]);
        let pieces: usize = got
            .iter()
            .filter(|(_, partial)| *partial)
            .map(|(b, _)| b.len())
            .sum();
        assert_eq!(pieces, big + 4);
        assert!(got.iter().all(|(b, _)| b.len() <= MAX_FRAME));
        assert_eq!(got.last(), Some(&whole(&[0, 0, 0, 1, 42])));
        // A line that never ends is cut at MAX_FRAME.
        let long = vec![b'x'; MAX_FRAME + 5];
        let got = frames("line", &[&long]);
        assert_eq!(got[0], (vec![b'x'; MAX_FRAME], true));
        assert_eq!(got[1], (vec![b'x'; 5], true));
    }

    #[test]
    fn checksum_payload_leaves_out_the_delimiter() {
        assert_eq!(spec("crlf").payload(b"ab\r\n"), b"ab");
        assert_eq!(spec("len:u8").payload(&[1, 2]), &[1, 2]);
    }

    fn merge_partial(frames: Vec<(Vec<u8>, bool)>) -> Vec<(Vec<u8>, bool)> {
        let mut out: Vec<(Vec<u8>, bool)> = Vec::new();
        for (bytes, partial) in frames {
            match out.last_mut() {
                Some((last, true)) if partial => last.extend(bytes),
                _ => out.push((bytes, partial)),
            }
        }
        out
    }

    proptest! {
        /// However the stream is cut into reads, the same frames come out, and together
        /// they are the stream.
        #[test]
        fn any_split_gives_the_same_frames(
            stream in proptest::collection::vec(
                prop_oneof![Just(0u8), Just(1), Just(2), Just(b'\n'), Just(b'\r'), any::<u8>()],
                0..200,
            ),
            cuts in proptest::collection::vec(0usize..200, 0..20),
            which in 0usize..8,
        ) {
            let specs = ["line", "crlf", "delim:0d0a00", "fixed:3", "len:u8", "len:u16be", "len:u32le", "len:u16le+2"];
            let s = specs[which];
            let at_once = frames(s, &[&stream]);
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(stream.len())).collect();
            cuts.sort_unstable();
            let mut reads: Vec<&[u8]> = Vec::new();
            let mut from = 0;
            for c in cuts {
                reads.push(&stream[from..c]);
                from = c;
            }
            reads.push(&stream[from..]);
            let split = frames(s, &reads);
            let joined: Vec<u8> = split.iter().flat_map(|(b, _)| b.clone()).collect();
            prop_assert_eq!(joined, stream);
            // A frame too large to hold (a u32 length of 16 MiB and more) passes in pieces
            // as the reads bring them; put together, it is the same.
            prop_assert_eq!(merge_partial(split), merge_partial(at_once));
        }
    }
}
