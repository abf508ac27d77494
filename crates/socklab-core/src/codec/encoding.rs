//! The session encoding, and decoding a peer's byte stream into text.
//!
//! Network data arrives in arbitrary pieces: a TCP read can end in the middle of a GBK or
//! UTF-8 character. [`StreamDecoder`] keeps the partial character for the next read, so a
//! character is never shown as garbage just because a packet boundary cut it in half.
//!
//! `auto` exists because the user often does not know what a device speaks. It shows UTF-8
//! for as long as the stream is valid UTF-8 and, at the first byte that is not, asks chardetng
//! what the stream is and switches to that for the rest of it. Once enough non-ASCII text has
//! been valid UTF-8 (see [`SETTLE_UTF8_AFTER`]) it settles on UTF-8 instead.

use std::fmt;

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{CoderResult, EncoderResult};

use crate::error::{Error, Result};

/// The encoding text is sent and shown in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// Send UTF-8; detect what the peer sends (see [`StreamDecoder`]).
    Auto,
    /// A fixed encoding.
    Known(&'static encoding_rs::Encoding),
}

impl Encoding {
    /// The default: what terminals and most modern peers use.
    pub const UTF8: Encoding = Encoding::Known(&encoding_rs::UTF_8_INIT);

    /// `auto`, or any WHATWG label: `utf-8`, `gbk`, `gb2312`, `gb18030`, `big5`, `shift_jis`,
    /// `sjis`, `euc-kr`, `euc-jp`, `windows-1252`, `latin1`, `iso-8859-*`, `koi8-r`,
    /// `utf-16le`, `utf-16be`, ... Case and surrounding whitespace do not matter.
    ///
    /// Labels of the WHATWG "replacement" encoding (`iso-2022-kr`, `hz-gb-2312`, ...) are
    /// rejected as unknown: it decodes everything to one U+FFFD and encodes as UTF-8, which
    /// would silently do something other than what was asked for.
    pub fn from_label(label: &str) -> Result<Encoding> {
        let trimmed = label.trim();
        if trimmed.eq_ignore_ascii_case("auto") {
            return Ok(Encoding::Auto);
        }
        match encoding_rs::Encoding::for_label(trimmed.as_bytes()) {
            Some(enc) if enc != encoding_rs::REPLACEMENT => Ok(Encoding::Known(enc)),
            _ => Err(Error::UnknownEncoding(label.to_string())),
        }
    }

    /// `auto`, or the encoding_rs name in lowercase (`utf-8`, `gbk`, `shift_jis`, `utf-16le`),
    /// so that what is shown can be typed back as a label.
    pub fn name(&self) -> &'static str {
        match self {
            Encoding::Auto => "auto",
            Encoding::Known(enc) => lowercase_name(enc),
        }
    }

    /// Encodes `text` for sending. `Auto` sends UTF-8.
    ///
    /// A character the encoding cannot represent is an error, never an HTML `&#...;`
    /// replacement or a `?`: a debugging tool must send exactly what was typed or nothing.
    /// (GBK cannot encode everything, e.g. emoji; gb18030 can.)
    pub fn encode(&self, text: &str) -> Result<Vec<u8>> {
        let enc = match self {
            Encoding::Auto => return Ok(text.as_bytes().to_vec()),
            Encoding::Known(enc) => *enc,
        };
        // encoding_rs has no UTF-16 encoder (the WHATWG Encoding Standard has none).
        if enc == encoding_rs::UTF_16LE {
            return Ok(text.encode_utf16().flat_map(u16::to_le_bytes).collect());
        }
        if enc == encoding_rs::UTF_16BE {
            return Ok(text.encode_utf16().flat_map(u16::to_be_bytes).collect());
        }
        if enc == encoding_rs::UTF_8 {
            return Ok(text.as_bytes().to_vec());
        }
        let mut encoder = enc.new_encoder();
        let guess = encoder
            .max_buffer_length_from_utf8_without_replacement(text.len())
            .unwrap_or(text.len());
        let mut out = Vec::with_capacity(guess);
        let mut rest = text;
        loop {
            let (result, read) =
                encoder.encode_from_utf8_to_vec_without_replacement(rest, &mut out, true);
            rest = &rest[read..];
            match result {
                EncoderResult::InputEmpty => return Ok(out),
                EncoderResult::OutputFull => {
                    let more = encoder
                        .max_buffer_length_from_utf8_without_replacement(rest.len())
                        .unwrap_or(rest.len())
                        .max(16);
                    out.reserve(more);
                }
                EncoderResult::Unmappable(ch) => {
                    return Err(Error::Unencodable {
                        ch,
                        encoding: self.name(),
                    })
                }
            }
        }
    }

    /// A fresh decoder for one peer and direction.
    pub fn decoder(&self) -> StreamDecoder {
        let state = match self {
            Encoding::Auto => State::Undecided {
                detector: Box::new(EncodingDetector::new(Iso2022JpDetection::Deny)),
                held: Held::default(),
                non_ascii: 0,
            },
            Encoding::Known(enc) => State::Decoding {
                decoder: enc.new_decoder_without_bom_handling(),
            },
        };
        StreamDecoder { state }
    }
}

impl Default for Encoding {
    fn default() -> Self {
        Encoding::UTF8
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Every encoding_rs encoding with its name in lowercase; `name()` has to return a
/// `&'static str`, and encoding_rs only has the mixed-case `Shift_JIS`, `GBK`, ...
static LOWERCASE_NAMES: [(&encoding_rs::Encoding, &str); 40] = [
    (&encoding_rs::BIG5_INIT, "big5"),
    (&encoding_rs::EUC_JP_INIT, "euc-jp"),
    (&encoding_rs::EUC_KR_INIT, "euc-kr"),
    (&encoding_rs::GBK_INIT, "gbk"),
    (&encoding_rs::IBM866_INIT, "ibm866"),
    (&encoding_rs::ISO_2022_JP_INIT, "iso-2022-jp"),
    (&encoding_rs::ISO_8859_10_INIT, "iso-8859-10"),
    (&encoding_rs::ISO_8859_13_INIT, "iso-8859-13"),
    (&encoding_rs::ISO_8859_14_INIT, "iso-8859-14"),
    (&encoding_rs::ISO_8859_15_INIT, "iso-8859-15"),
    (&encoding_rs::ISO_8859_16_INIT, "iso-8859-16"),
    (&encoding_rs::ISO_8859_2_INIT, "iso-8859-2"),
    (&encoding_rs::ISO_8859_3_INIT, "iso-8859-3"),
    (&encoding_rs::ISO_8859_4_INIT, "iso-8859-4"),
    (&encoding_rs::ISO_8859_5_INIT, "iso-8859-5"),
    (&encoding_rs::ISO_8859_6_INIT, "iso-8859-6"),
    (&encoding_rs::ISO_8859_7_INIT, "iso-8859-7"),
    (&encoding_rs::ISO_8859_8_INIT, "iso-8859-8"),
    (&encoding_rs::ISO_8859_8_I_INIT, "iso-8859-8-i"),
    (&encoding_rs::KOI8_R_INIT, "koi8-r"),
    (&encoding_rs::KOI8_U_INIT, "koi8-u"),
    (&encoding_rs::SHIFT_JIS_INIT, "shift_jis"),
    (&encoding_rs::UTF_16BE_INIT, "utf-16be"),
    (&encoding_rs::UTF_16LE_INIT, "utf-16le"),
    (&encoding_rs::UTF_8_INIT, "utf-8"),
    (&encoding_rs::GB18030_INIT, "gb18030"),
    (&encoding_rs::MACINTOSH_INIT, "macintosh"),
    (&encoding_rs::REPLACEMENT_INIT, "replacement"),
    (&encoding_rs::WINDOWS_1250_INIT, "windows-1250"),
    (&encoding_rs::WINDOWS_1251_INIT, "windows-1251"),
    (&encoding_rs::WINDOWS_1252_INIT, "windows-1252"),
    (&encoding_rs::WINDOWS_1253_INIT, "windows-1253"),
    (&encoding_rs::WINDOWS_1254_INIT, "windows-1254"),
    (&encoding_rs::WINDOWS_1255_INIT, "windows-1255"),
    (&encoding_rs::WINDOWS_1256_INIT, "windows-1256"),
    (&encoding_rs::WINDOWS_1257_INIT, "windows-1257"),
    (&encoding_rs::WINDOWS_1258_INIT, "windows-1258"),
    (&encoding_rs::WINDOWS_874_INIT, "windows-874"),
    (&encoding_rs::X_MAC_CYRILLIC_INIT, "x-mac-cyrillic"),
    (&encoding_rs::X_USER_DEFINED_INIT, "x-user-defined"),
];

fn lowercase_name(enc: &'static encoding_rs::Encoding) -> &'static str {
    LOWERCASE_NAMES
        .iter()
        .find(|(e, _)| *e == enc)
        .map_or_else(|| enc.name(), |(_, name)| name)
}

/// Non-ASCII bytes of valid UTF-8 after which `Auto` settles on UTF-8.
///
/// Legacy CJK or Latin text is practically never valid UTF-8 for this long, so by then the
/// stream is UTF-8; a stray invalid byte later is a U+FFFD in UTF-8 text, not a reason to
/// reinterpret the rest of a UTF-8 stream as windows-1252. Settling also stops feeding the
/// detector, which costs far more per byte than UTF-8 validation.
pub const SETTLE_UTF8_AFTER: usize = 256;

/// Non-ASCII bytes `Auto` gathers, once the stream has shown it is not UTF-8, before it asks
/// chardetng. A few legacy bytes are ambiguous (the seed's six GBK bytes for 你好啊 read as
/// EUC-KR), so the text waits until there is enough to judge, or until the stream ends.
pub const GUESS_AFTER: usize = 32;

/// chardetng weighs its guess by a top-level domain. With no domain at hand, the locale says
/// which CJK legacy encoding a short ambiguous text most likely is; the people this tool is
/// for mostly read Chinese, so that is the default.
fn locale_hint() -> &'static [u8] {
    let lang = ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.is_empty())
        .unwrap_or_default();
    if lang.starts_with("ja") {
        b"jp"
    } else if lang.starts_with("ko") {
        b"kr"
    } else if lang.starts_with("zh_TW") || lang.starts_with("zh_HK") {
        b"tw"
    } else {
        b"cn"
    }
}

/// Turns one peer's byte stream (in one direction) into text, however it is chunked.
///
/// Invalid bytes become U+FFFD. Give each peer and direction its own decoder: the state held
/// between calls belongs to one stream.
pub struct StreamDecoder {
    state: State,
}

impl fmt::Debug for StreamDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamDecoder")
            .field("detected", &self.detected())
            .finish_non_exhaustive()
    }
}

enum State {
    /// `Auto`, and everything so far was UTF-8 (shown as such) apart from `held`.
    Undecided {
        // Boxed: the detector is large, and once decided `State` should not stay that large.
        detector: Box<EncodingDetector>,
        held: Held,
        /// Non-ASCII bytes shown as UTF-8 so far.
        non_ascii: usize,
    },
    /// `Auto`, the stream is not UTF-8, and not enough of it has come to guess what it is:
    /// the bytes wait in `pending` (at most [`GUESS_AFTER`] non-ASCII bytes and the ASCII
    /// between them).
    Guessing {
        detector: Box<EncodingDetector>,
        pending: Vec<u8>,
        non_ascii: usize,
    },
    /// A fixed encoding, or the one `Auto` settled on.
    Decoding { decoder: encoding_rs::Decoder },
}

/// The start of a UTF-8 sequence cut off by the end of a chunk (at most 3 bytes).
#[derive(Default)]
struct Held {
    buf: [u8; 4],
    len: usize,
}

impl Held {
    fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    fn set(&mut self, bytes: &[u8]) {
        // Callers only hold back an incomplete UTF-8 sequence, which is at most 3 bytes.
        let n = bytes.len().min(self.buf.len());
        self.buf[..n].copy_from_slice(&bytes[..n]);
        self.len = n;
    }
}

impl StreamDecoder {
    /// Appends the text of `bytes` to `out`. A character cut off at the end of `bytes` is kept
    /// and comes out whole on a later call (or as U+FFFD from [`StreamDecoder::finish`]).
    pub fn decode(&mut self, bytes: &[u8], out: &mut String) {
        match &mut self.state {
            State::Decoding { decoder } => decode_into(decoder, bytes, out, false),
            State::Guessing {
                detector,
                pending,
                non_ascii,
            } => {
                detector.feed(bytes, false);
                pending.extend_from_slice(bytes);
                *non_ascii += bytes.iter().filter(|&&b| b >= 0x80).count();
                if *non_ascii >= GUESS_AFTER {
                    self.settle(out);
                }
            }
            State::Undecided {
                detector,
                held,
                non_ascii,
            } => {
                detector.feed(bytes, false);
                let before = out.len();
                let rest = if held.len == 0 {
                    bytes
                } else {
                    match complete_held(held, bytes, out) {
                        Some(rest) => rest,
                        None => {
                            let mut pending = held.as_slice().to_vec();
                            pending.extend_from_slice(bytes);
                            self.start_guessing(pending, out);
                            return;
                        }
                    }
                };
                match std::str::from_utf8(rest) {
                    Ok(s) => out.push_str(s),
                    Err(e) => {
                        let (valid, tail) = rest.split_at(e.valid_up_to());
                        if e.error_len().is_none() {
                            push_utf8(valid, out);
                            held.set(tail);
                        } else {
                            // The whole chunk waits for the guess, not just the part after
                            // the error: a legacy two-byte character can look like valid
                            // UTF-8, so a "valid" prefix of a chunk that turned out not to be
                            // UTF-8 is not to be trusted either.
                            self.start_guessing(rest.to_vec(), out);
                            return;
                        }
                    }
                }
                *non_ascii += out.as_bytes()[before..]
                    .iter()
                    .filter(|&&b| b >= 0x80)
                    .count();
                if *non_ascii >= SETTLE_UTF8_AFTER {
                    let mut decoder = encoding_rs::UTF_8.new_decoder_without_bom_handling();
                    decode_into(&mut decoder, held.as_slice(), out, false);
                    self.state = State::Decoding { decoder };
                }
            }
        }
    }

    /// Ends the stream: a dangling partial character comes out as U+FFFD. The decoder can be
    /// used again afterwards for a new stream; `Auto` keeps the encoding it settled on,
    /// because the next stream comes from the same peer.
    pub fn finish(&mut self, out: &mut String) {
        if matches!(self.state, State::Guessing { .. }) {
            self.settle(out);
        }
        match &mut self.state {
            State::Decoding { decoder } => {
                decode_into(decoder, &[], out, true);
                *decoder = decoder.encoding().new_decoder_without_bom_handling();
            }
            State::Undecided { held, .. } => {
                if held.len > 0 {
                    out.push(char::REPLACEMENT_CHARACTER);
                    held.len = 0;
                }
            }
            // `settle` above left this state.
            State::Guessing { .. } => {}
        }
    }

    /// The stream is not UTF-8: keep its bytes (the detector has already seen them) until
    /// there is enough to guess from.
    fn start_guessing(&mut self, pending: Vec<u8>, out: &mut String) {
        let placeholder = State::Decoding {
            decoder: encoding_rs::UTF_8.new_decoder_without_bom_handling(),
        };
        if let State::Undecided { detector, .. } = std::mem::replace(&mut self.state, placeholder) {
            let non_ascii = pending.iter().filter(|&&b| b >= 0x80).count();
            self.state = State::Guessing {
                detector,
                pending,
                non_ascii,
            };
            if non_ascii >= GUESS_AFTER {
                self.settle(out);
            }
        }
    }

    /// Ask the detector, then decode what waited with the encoding it names.
    fn settle(&mut self, out: &mut String) {
        if let State::Guessing {
            detector, pending, ..
        } = &mut self.state
        {
            let enc = detector.guess(Some(locale_hint()), Utf8Detection::Deny);
            let mut decoder = enc.new_decoder_without_bom_handling();
            decode_into(&mut decoder, pending, out, false);
            self.state = State::Decoding { decoder };
        }
    }

    /// The name of the encoding being decoded: for `Auto`, `None` until it has settled on one
    /// (a legacy encoding at the first invalid UTF-8, or `utf-8` after
    /// [`SETTLE_UTF8_AFTER`] non-ASCII bytes of valid UTF-8); for a fixed encoding, that one.
    pub fn detected(&self) -> Option<&'static str> {
        match &self.state {
            State::Undecided { .. } | State::Guessing { .. } => None,
            State::Decoding { decoder } => Some(lowercase_name(decoder.encoding())),
        }
    }
}

/// Completes the held-back UTF-8 sequence with the first bytes of `bytes`. Returns the rest of
/// `bytes` once the sequence is complete (or still incomplete because `bytes` ran out), or
/// `None` if it turned out not to be UTF-8, leaving `held` for the caller to decode otherwise.
fn complete_held<'b>(held: &mut Held, bytes: &'b [u8], out: &mut String) -> Option<&'b [u8]> {
    let have = held.len;
    let take = (4 - have).min(bytes.len());
    let mut buf = [0u8; 4];
    buf[..have].copy_from_slice(held.as_slice());
    buf[have..have + take].copy_from_slice(&bytes[..take]);
    let joined = &buf[..have + take];
    let valid = match std::str::from_utf8(joined) {
        Ok(_) => joined.len(),
        Err(e) if e.valid_up_to() > 0 => e.valid_up_to(),
        Err(e) if e.error_len().is_none() => {
            held.set(joined);
            return Some(&bytes[take..]);
        }
        Err(_) => return None,
    };
    // `held` is the start of one character, so when anything is valid that character is
    // complete; its lead byte says how long it is.
    let first = utf8_len(joined[0]).min(valid);
    push_utf8(&joined[..first], out);
    held.len = 0;
    Some(&bytes[first.saturating_sub(have)..])
}

/// The length of the UTF-8 sequence that `lead` starts.
fn utf8_len(lead: u8) -> usize {
    match lead {
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => 1,
    }
}

/// Appends bytes already known to be valid UTF-8.
fn push_utf8(valid: &[u8], out: &mut String) {
    out.push_str(&String::from_utf8_lossy(valid));
}

/// Runs `decoder` over all of `src`, growing `out` as needed.
fn decode_into(decoder: &mut encoding_rs::Decoder, src: &[u8], out: &mut String, last: bool) {
    let mut rest = src;
    loop {
        let need = decoder
            .max_utf8_buffer_length(rest.len())
            .unwrap_or(rest.len().saturating_mul(3));
        out.reserve(need);
        let (result, read, _) = decoder.decode_to_string(rest, out, last);
        rest = &rest[read..];
        match result {
            CoderResult::InputEmpty => return,
            CoderResult::OutputFull => continue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn enc(label: &str) -> Encoding {
        Encoding::from_label(label).unwrap()
    }

    /// Decodes `chunks` one call each, then finishes.
    fn decode_chunks(encoding: Encoding, chunks: &[&[u8]]) -> (String, Option<&'static str>) {
        let mut decoder = encoding.decoder();
        let mut out = String::new();
        for chunk in chunks {
            decoder.decode(chunk, &mut out);
        }
        decoder.finish(&mut out);
        (out, decoder.detected())
    }

    const GBK_GREETING: &[u8] = &[0xc4, 0xe3, 0xba, 0xc3, 0xb0, 0xa1];

    #[test]
    fn labels() {
        assert_eq!(enc("auto"), Encoding::Auto);
        assert_eq!(enc(" AUTO "), Encoding::Auto);
        assert_eq!(enc("utf-8"), Encoding::UTF8);
        assert_eq!(enc("UTF8"), Encoding::UTF8);
        for (label, name) in [
            ("gbk", "gbk"),
            ("gb2312", "gbk"),
            ("GB18030", "gb18030"),
            ("big5", "big5"),
            ("shift_jis", "shift_jis"),
            ("sjis", "shift_jis"),
            ("euc-kr", "euc-kr"),
            ("euc-jp", "euc-jp"),
            ("windows-1252", "windows-1252"),
            ("latin1", "windows-1252"),
            ("iso-8859-2", "iso-8859-2"),
            ("iso-8859-15", "iso-8859-15"),
            ("koi8-r", "koi8-r"),
            ("utf-16le", "utf-16le"),
            ("utf-16be", "utf-16be"),
            (" utf-16 ", "utf-16le"),
        ] {
            assert_eq!(enc(label).name(), name, "{label}");
            assert_eq!(enc(label).to_string(), name, "{label}");
        }
        assert_eq!(Encoding::Auto.name(), "auto");
        assert_eq!(Encoding::Auto.to_string(), "auto");
        assert_eq!(Encoding::default(), Encoding::UTF8);
        assert_eq!(Encoding::UTF8.name(), "utf-8");
    }

    #[test]
    fn unknown_labels() {
        for label in [
            "",
            "utf-9",
            "klingon",
            "iso-2022-kr",
            "hz-gb-2312",
            "replacement",
        ] {
            match Encoding::from_label(label) {
                Err(Error::UnknownEncoding(l)) => assert_eq!(l, label),
                other => panic!("{label:?}: {other:?}"),
            }
        }
        let err = Encoding::from_label("klingon").unwrap_err();
        assert!(err
            .to_string()
            .starts_with("unknown encoding 'klingon'; expected"));
        assert!(err.is_usage());
    }

    #[test]
    fn every_name_is_its_own_label() {
        for (encoding, name) in LOWERCASE_NAMES.iter() {
            assert_eq!(encoding.name().to_ascii_lowercase(), *name);
            if *encoding != encoding_rs::REPLACEMENT {
                assert_eq!(enc(name), Encoding::Known(encoding), "{name}");
                assert_eq!(enc(name).name(), *name);
            }
        }
    }

    #[test]
    fn encode_known() {
        assert_eq!(enc("utf-8").encode("你好").unwrap(), "你好".as_bytes());
        assert_eq!(Encoding::Auto.encode("你好").unwrap(), "你好".as_bytes());
        assert_eq!(enc("gbk").encode("你好啊").unwrap(), GBK_GREETING);
        assert_eq!(enc("gbk").encode("Hi 你好啊").unwrap()[..3], *b"Hi ");
        assert_eq!(
            enc("big5").encode("你好").unwrap(),
            [0xa7, 0x41, 0xa6, 0x6e]
        );
        assert_eq!(
            enc("shift_jis").encode("こんにちは").unwrap(),
            [0x82, 0xb1, 0x82, 0xf1, 0x82, 0xc9, 0x82, 0xbf, 0x82, 0xcd]
        );
        assert_eq!(enc("latin1").encode("€é").unwrap(), [0x80, 0xe9]);
        assert_eq!(
            enc("utf-16le").encode("A你").unwrap(),
            [0x41, 0x00, 0x60, 0x4f]
        );
        assert_eq!(
            enc("utf-16be").encode("A你").unwrap(),
            [0x00, 0x41, 0x4f, 0x60]
        );
        assert_eq!(
            enc("utf-16le").encode("😀").unwrap(),
            [0x3d, 0xd8, 0x00, 0xde]
        );
        assert_eq!(
            enc("gb18030").encode("😀").unwrap(),
            [0x94, 0x39, 0xfc, 0x36]
        );
        assert_eq!(enc("gbk").encode("").unwrap(), b"");
    }

    #[test]
    fn encode_stateful_iso_2022_jp() {
        let bytes = enc("iso-2022-jp").encode("aあb").unwrap();
        assert_eq!(bytes, b"a\x1b$B$\"\x1b(Bb");
        assert_eq!(decode_chunks(enc("iso-2022-jp"), &[&bytes]).0, "aあb");
    }

    #[test]
    fn unencodable_is_an_error_not_a_replacement() {
        let cases = [
            ("gbk", "ok😀", '😀'),
            ("latin1", "a中", '中'),
            ("shift_jis", "한", '한'),
        ];
        for (label, text, ch) in cases {
            match enc(label).encode(text) {
                Err(Error::Unencodable { ch: c, encoding }) => {
                    assert_eq!(c, ch);
                    assert_eq!(encoding, enc(label).name());
                }
                other => panic!("{label}: {other:?}"),
            }
        }
        let err = enc("gbk").encode("😀").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the character '😀' cannot be encoded in gbk; expected text that gbk can represent \
             (or another -e/--encoding, or --hex)"
        );
    }

    #[test]
    fn long_text_encodes_whole() {
        let text = "服务器已经收到你的信息。".repeat(5000);
        let bytes = enc("gbk").encode(&text).unwrap();
        assert_eq!(bytes.len(), text.chars().count() * 2);
        assert_eq!(decode_chunks(enc("gbk"), &[&bytes]).0, text);
    }

    #[test]
    fn gbk_split_across_calls_comes_out_whole() {
        for cut in 0..=GBK_GREETING.len() {
            let (a, b) = GBK_GREETING.split_at(cut);
            let mut decoder = enc("gbk").decoder();
            let mut out = String::new();
            decoder.decode(a, &mut out);
            assert!(!out.contains('\u{fffd}'), "cut {cut}: {out:?}");
            decoder.decode(b, &mut out);
            decoder.finish(&mut out);
            assert_eq!(out, "你好啊", "cut {cut}");
        }
    }

    #[test]
    fn utf8_split_across_calls_comes_out_whole() {
        let bytes = "a你😀b".as_bytes();
        for encoding in [Encoding::UTF8, Encoding::Auto] {
            for cut in 0..=bytes.len() {
                let (a, b) = bytes.split_at(cut);
                let mut decoder = encoding.decoder();
                let mut first = String::new();
                decoder.decode(a, &mut first);
                assert!(!first.contains('\u{fffd}'), "{encoding} cut {cut}");
                let mut out = first.clone();
                decoder.decode(b, &mut out);
                assert_eq!(out, "a你😀b", "{encoding} cut {cut}");
            }
        }
    }

    #[test]
    fn invalid_bytes_become_replacement() {
        assert_eq!(decode_chunks(Encoding::UTF8, &[b"a\xffb"]).0, "a\u{fffd}b");
        assert_eq!(decode_chunks(enc("gbk"), &[b"a\xff"]).0, "a\u{fffd}");
    }

    #[test]
    fn finish_flushes_dangling_partial_char() {
        assert_eq!(
            decode_chunks(Encoding::UTF8, &[b"a\xe4\xbd"]).0,
            "a\u{fffd}"
        );
        assert_eq!(decode_chunks(enc("gbk"), &[b"a\xc4"]).0, "a\u{fffd}");
        assert_eq!(decode_chunks(enc("utf-16le"), &[b"A\x00B"]).0, "A\u{fffd}");
        assert_eq!(
            decode_chunks(Encoding::Auto, &[b"a\xe4\xbd"]).0,
            "a\u{fffd}"
        );
    }

    #[test]
    fn decoder_is_reusable_after_finish() {
        let mut decoder = enc("gbk").decoder();
        let mut out = String::new();
        decoder.decode(&GBK_GREETING[..1], &mut out);
        decoder.finish(&mut out);
        decoder.decode(GBK_GREETING, &mut out);
        decoder.finish(&mut out);
        assert_eq!(out, "\u{fffd}你好啊");
    }

    #[test]
    fn no_bom_handling() {
        // A BOM in the middle of a stream is data, not a signal to switch encodings.
        let (text, _) = decode_chunks(enc("gbk"), &[b"\xef\xbb\xbfA"]);
        assert_ne!(text, "A");
        let (text, _) = decode_chunks(Encoding::UTF8, &[b"\xef\xbb\xbfA"]);
        assert_eq!(text, "\u{feff}A");
    }

    #[test]
    fn detected_names() {
        assert_eq!(enc("gbk").decoder().detected(), Some("gbk"));
        assert_eq!(Encoding::UTF8.decoder().detected(), Some("utf-8"));
        assert_eq!(Encoding::Auto.decoder().detected(), None);
    }

    #[test]
    fn auto_passes_utf8_through() {
        let text = "服务器已经收到你的信息 hello";
        let (out, detected) = decode_chunks(Encoding::Auto, &[text.as_bytes()]);
        assert_eq!(out, text);
        assert_eq!(detected, None);
        let (out, detected) = decode_chunks(Encoding::Auto, &[b"plain ascii\r\n"]);
        assert_eq!(out, "plain ascii\r\n");
        assert_eq!(detected, None);
    }

    /// Six bytes are too little for chardetng 1.0 to tell GBK from EUC-KR on its own (it says
    /// EUC-KR); the locale hint breaks the tie, and with a Chinese or neutral locale (the
    /// default, `C.UTF-8` included) the seed's greeting reads right. Under a Korean locale
    /// it would read as Hangul, which is why `-e gbk` stays the sure way.
    #[test]
    fn auto_reads_the_short_gbk_greeting_with_the_locale_hint() {
        let (out, detected) = decode_chunks(Encoding::Auto, &[GBK_GREETING]);
        if locale_hint() == b"cn" {
            assert_eq!(detected, Some("gbk"));
            assert_eq!(out, "你好啊");
        } else {
            // Whatever it settled on, the text is that encoding's reading of the bytes.
            let name = detected.expect("settled at finish");
            let (want, _) = decode_chunks(enc(name), &[GBK_GREETING]);
            assert_eq!(out, want);
        }
        // A fixed encoding has no such problem.
        assert_eq!(decode_chunks(enc("gbk"), &[GBK_GREETING]).0, "你好啊");
    }

    #[test]
    fn auto_detects_a_gbk_sentence() {
        let bytes = enc("gbk").encode("服务器已经收到你的信息").unwrap();
        let (out, detected) = decode_chunks(Encoding::Auto, &[&bytes]);
        assert_eq!(out, "服务器已经收到你的信息");
        assert_eq!(detected, Some("gbk"));
    }

    #[test]
    fn auto_switches_after_utf8_chunks() {
        // English first (valid UTF-8, shown as it comes), then GBK in later chunks.
        let gbk = enc("gbk").encode("服务器已经收到你的信息").unwrap();
        let (out, detected) = decode_chunks(Encoding::Auto, &[b"status: ", &gbk[..7], &gbk[7..]]);
        assert_eq!(out, "status: 服务器已经收到你的信息");
        assert_eq!(detected, Some("gbk"));
    }

    #[test]
    fn auto_keeps_a_held_back_tail_for_the_new_encoding() {
        // c4 is a UTF-8 lead byte, so it is held back; the next byte shows it is not UTF-8.
        let gbk = enc("gbk").encode("你的信息已经收到").unwrap();
        let (a, b) = gbk.split_at(1);
        let (out, detected) = decode_chunks(Encoding::Auto, &[b"ok ", a, b]);
        assert_eq!(detected, Some("gbk"));
        assert_eq!(out, "ok 你的信息已经收到");
    }

    #[test]
    fn auto_held_back_tail_completed_over_several_calls() {
        let bytes = "x😀y".as_bytes();
        let chunks: Vec<&[u8]> = bytes.chunks(1).collect();
        let (out, detected) = decode_chunks(Encoding::Auto, &chunks);
        assert_eq!(out, "x😀y");
        assert_eq!(detected, None);
    }

    #[test]
    fn auto_settles_on_utf8_after_enough_text() {
        let text = "你".repeat((SETTLE_UTF8_AFTER - 1) / 3);
        assert!(text.len() < SETTLE_UTF8_AFTER && text.len() + 3 >= SETTLE_UTF8_AFTER);
        let mut decoder = Encoding::Auto.decoder();
        let mut out = String::new();
        decoder.decode(text.as_bytes(), &mut out);
        assert_eq!(decoder.detected(), None);
        // The last byte tips it over, in the middle of a character held back for later.
        decoder.decode(&"好".as_bytes()[..2], &mut out);
        decoder.decode(&"好".as_bytes()[2..], &mut out);
        assert_eq!(decoder.detected(), Some("utf-8"));
        // A stray invalid byte is now just that, not a switch to another encoding.
        decoder.decode(b"\xff ok \xe4\xbd\xa0", &mut out);
        assert_eq!(out, format!("{text}好\u{fffd} ok 你"));
        assert_eq!(decoder.detected(), Some("utf-8"));
    }

    #[test]
    fn auto_switches_after_a_little_utf8() {
        // A few non-ASCII characters that are valid UTF-8 do not settle anything yet.
        let gbk = enc("gbk").encode("服务器已经收到你的信息").unwrap();
        let (out, detected) = decode_chunks(Encoding::Auto, &["é: ".as_bytes(), &gbk]);
        assert_eq!(detected, Some("gbk"));
        assert_eq!(out, "é: 服务器已经收到你的信息");
    }

    #[test]
    fn auto_sticks_to_its_decision() {
        let sentence = enc("gbk").encode("服务器已经收到你的信息").unwrap();
        let mut decoder = Encoding::Auto.decoder();
        let mut out = String::new();
        decoder.decode(&sentence, &mut out);
        decoder.decode("中".as_bytes(), &mut out);
        decoder.finish(&mut out);
        decoder.decode(GBK_GREETING, &mut out);
        assert_eq!(decoder.detected(), Some("gbk"));
        assert!(out.starts_with("服务器已经收到你的信息"));
        assert!(out.ends_with("你好啊"));
    }

    #[test]
    fn debug_shows_detection() {
        assert_eq!(
            format!("{:?}", enc("gbk").decoder()),
            "StreamDecoder { detected: Some(\"gbk\"), .. }"
        );
    }

    fn decode_whole(encoding: Encoding, bytes: &[u8]) -> String {
        decode_chunks(encoding, &[bytes]).0
    }

    fn decode_split(encoding: Encoding, bytes: &[u8], cuts: &[usize]) -> String {
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut chunks = Vec::new();
        let mut start = 0;
        for p in points {
            chunks.push(&bytes[start..p]);
            start = p;
        }
        chunks.push(&bytes[start..]);
        decode_chunks(encoding, &chunks).0
    }

    /// Text every tested encoding can represent: ASCII, CJK, kana and some Latin-1.
    fn text_strategy() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                proptest::char::range('\0', '\x7f'),
                proptest::sample::select(vec![
                    '你', '好', '中', '文', '的', '信', '息', '日', '本'
                ]),
                proptest::sample::select(vec!['あ', 'い', 'カ', 'ナ', '漢', '字']),
                proptest::char::range('\u{80}', '\u{ffff}'),
                proptest::char::any(),
            ],
            0..64,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        #[test]
        fn split_anywhere_decodes_like_whole(
            text in text_strategy(),
            label in proptest::sample::select(vec!["utf-8", "gbk", "big5", "shift_jis", "utf-16le", "utf-16be", "gb18030", "euc-kr"]),
            cuts in proptest::collection::vec(any::<usize>(), 0..8),
        ) {
            let encoding = enc(label);
            // Keep only what this encoding represents and gives back as it was (Shift_JIS
            // encodes '¥' as 0x5c, which decodes as '\\').
            let text: String = text
                .chars()
                .filter(|&ch| {
                    let one = ch.to_string();
                    encoding
                        .encode(&one)
                        .is_ok_and(|bytes| decode_whole(encoding, &bytes) == one)
                })
                .collect();
            let bytes = encoding.encode(&text).unwrap();
            let whole = decode_whole(encoding, &bytes);
            prop_assert_eq!(&whole, &text);
            prop_assert_eq!(decode_split(encoding, &bytes, &cuts), whole);
        }

        #[test]
        fn split_anywhere_random_bytes(
            bytes in proptest::collection::vec(any::<u8>(), 0..128),
            label in proptest::sample::select(vec!["utf-8", "gbk", "big5", "shift_jis", "utf-16le", "gb18030"]),
            cuts in proptest::collection::vec(any::<usize>(), 0..8),
        ) {
            // Invalid input too: the replacement characters must not depend on chunking.
            let encoding = enc(label);
            prop_assert_eq!(decode_split(encoding, &bytes, &cuts), decode_whole(encoding, &bytes));
        }

        #[test]
        fn auto_split_anywhere_utf8(
            text in text_strategy(),
            cuts in proptest::collection::vec(any::<usize>(), 0..8),
        ) {
            prop_assert_eq!(decode_split(Encoding::Auto, text.as_bytes(), &cuts), text);
        }

        #[test]
        fn auto_never_panics(
            bytes in proptest::collection::vec(any::<u8>(), 0..256),
            cuts in proptest::collection::vec(any::<usize>(), 0..8),
        ) {
            let _ = decode_split(Encoding::Auto, &bytes, &cuts);
        }
    }
}
