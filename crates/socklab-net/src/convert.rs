//! `socklab convert`: the seed's appendix on encode and decode, as a command.
//!
//! The tutorial's point is that a socket carries bytes, not text: `"我是文本".encode("gbk")`
//! and `.encode("utf-8")` are different bytes, and decoding with the wrong table gives
//! garbage. So the input is made into bytes first (from text in an encoding, from hex or
//! from base64) and then shown in the requested form; the report keeps the bytes as hex
//! too, so a script sees exactly what a socket would carry.
//!
//! Decoding to text is strict: bytes that are not valid in the encoding are an error that
//! names the first bad byte and where it is, never a silent U+FFFD, because a person using
//! this is usually asking "is this valid GBK?".

use base64::Engine;
use serde::{Deserialize, Serialize};
use socklab_core::codec::{self, Encoding, InputOptions};

use crate::error::{Error, Result};

/// The three forms data can be written in (read from JSON by the web UI's convert tool).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Form {
    Text,
    Hex,
    Base64,
}

impl Form {
    pub fn name(self) -> &'static str {
        match self {
            Form::Text => "text",
            Form::Hex => "hex",
            Form::Base64 => "base64",
        }
    }
}

/// What to convert and how.
#[derive(Debug, Clone)]
pub struct Request {
    pub from: Form,
    pub to: Form,
    /// The encoding text is read or written in. `auto` reads as UTF-8 and, for `--to text`,
    /// guesses (chardetng) what the bytes are.
    pub encoding: Encoding,
    /// `\r \n \t \0 \\ \xHH` in text input, as everywhere in socklab.
    pub escapes: bool,
}

/// The result: the bytes in between, and the output.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub from: Form,
    pub to: Form,
    /// The encoding used; for `auto` decoding, the one that was detected.
    pub encoding: &'static str,
    pub bytes: usize,
    /// The bytes as spaced lowercase hex, whatever the forms.
    pub hex: String,
    /// The converted data.
    pub output: String,
}

/// Converts `input` (text as given; for stdin, read as UTF-8 when it is text).
pub fn convert(input: &str, req: &Request) -> Result<Report> {
    let bytes = to_bytes(input, req)?;
    let (output, encoding) = from_bytes(&bytes, req.to, req.encoding)?;
    Ok(Report {
        from: req.from,
        to: req.to,
        encoding,
        bytes: bytes.len(),
        hex: spaced_hex(&bytes),
        output,
    })
}

/// The input as bytes: validated whole, so a bad character fails before any output.
pub fn to_bytes(input: &str, req: &Request) -> Result<Vec<u8>> {
    match req.from {
        Form::Text => Ok(codec::encode_input(
            input,
            &InputOptions {
                hex: false,
                escapes: req.escapes,
                encoding: req.encoding,
            },
        )?),
        Form::Hex => Ok(codec::hex::parse_hex(input)?),
        Form::Base64 => {
            // Line breaks and spaces are how base64 is usually pasted (76-column MIME);
            // everything else must be the alphabet.
            let compact: String = input.split_ascii_whitespace().collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact.as_bytes())
                .map_err(|e| Error::Base64 {
                    input: excerpt(input),
                    reason: e.to_string(),
                })
        }
    }
}

/// The bytes in the `to` form, and the name of the encoding used.
pub fn from_bytes(bytes: &[u8], to: Form, encoding: Encoding) -> Result<(String, &'static str)> {
    match to {
        Form::Hex => Ok((spaced_hex(bytes), encoding.name())),
        Form::Base64 => Ok((
            base64::engine::general_purpose::STANDARD.encode(bytes),
            encoding.name(),
        )),
        Form::Text => decode_strict(bytes, encoding),
    }
}

fn decode_strict(bytes: &[u8], encoding: Encoding) -> Result<(String, &'static str)> {
    let enc = match encoding {
        Encoding::Known(enc) => enc,
        Encoding::Auto => {
            let mut detector =
                chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
            detector.feed(bytes, true);
            detector.guess(None, chardetng::Utf8Detection::Allow)
        }
    };
    let name = Encoding::Known(enc).name();
    let mut decoder = enc.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(
        decoder
            .max_utf8_buffer_length_without_replacement(bytes.len())
            .unwrap_or(bytes.len() * 3),
    );
    let mut read_total = 0;
    loop {
        let (result, read) =
            decoder.decode_to_string_without_replacement(&bytes[read_total..], &mut out, true);
        read_total += read;
        match result {
            encoding_rs::DecoderResult::InputEmpty => return Ok((out, name)),
            encoding_rs::DecoderResult::OutputFull => {
                out.reserve(bytes.len() - read_total + 16);
            }
            encoding_rs::DecoderResult::Malformed(bad, after) => {
                // encoding_rs has read `after` more bytes past the `bad` ones.
                let end = read_total.saturating_sub(usize::from(after));
                let at = end.saturating_sub(usize::from(bad));
                let shown = &bytes[at..end];
                return Err(Error::Undecodable {
                    encoding: name,
                    offset: at,
                    bytes: spaced_hex(shown),
                });
            }
        }
    }
}

/// `e6 88 91`: the form the issue and the tutorial write bytes in, and what `--hex` reads.
pub fn spaced_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    codec::hex::encode_hex_spaced(bytes, &mut out);
    out
}

fn excerpt(input: &str) -> String {
    let mut s: String = input.chars().take(40).collect();
    if s.len() < input.len() {
        s.push_str("...");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(from: Form, to: Form, enc: &str) -> Request {
        Request {
            from,
            to,
            encoding: Encoding::from_label(enc).expect("label"),
            escapes: true,
        }
    }

    #[test]
    fn the_seeds_appendix() {
        let r = convert("我是文本", &req(Form::Text, Form::Hex, "utf-8")).expect("utf-8");
        assert_eq!(r.output, "e6 88 91 e6 98 af e6 96 87 e6 9c ac");
        let r = convert("我是文本", &req(Form::Text, Form::Hex, "gbk")).expect("gbk");
        assert_eq!(r.output, "ce d2 ca c7 ce c4 b1 be");
        let r = convert("ce d2 ca c7", &req(Form::Hex, Form::Text, "gbk")).expect("back");
        assert_eq!(r.output, "我是");
    }

    #[test]
    fn wrong_table_is_an_error_that_points_at_the_byte() {
        let err = convert("61 62 ff 63", &req(Form::Hex, Form::Text, "utf-8")).expect_err("bad");
        let msg = err.to_string();
        assert!(msg.contains("offset 2") && msg.contains("ff"), "{msg}");
        assert!(err.is_usage());
    }

    #[test]
    fn base64_both_ways_and_with_line_breaks() {
        let r = convert("hello\\n", &req(Form::Text, Form::Base64, "utf-8")).expect("b64");
        assert_eq!(r.output, "aGVsbG8K");
        let r = convert("aGVs\nbG8K\n", &req(Form::Base64, Form::Text, "utf-8")).expect("back");
        assert_eq!(r.output, "hello\n");
        let err = convert("aGV*", &req(Form::Base64, Form::Hex, "utf-8")).expect_err("bad");
        assert!(err.to_string().contains("base64"), "{err}");
    }

    #[test]
    fn auto_names_what_it_found() {
        let gbk = Encoding::from_label("gbk")
            .and_then(|e| e.encode("网络调试助手，一个很好用的工具。我们用它来发送数据。"))
            .expect("gbk");
        let (text, name) = from_bytes(&gbk, Form::Text, Encoding::Auto).expect("decodes");
        assert_eq!(name, "gbk");
        assert!(text.starts_with("网络调试助手"));
    }

    /// Every encoding encoding_rs has (less "replacement", which socklab refuses).
    const LABELS: &[&str] = &[
        "utf-8",
        "utf-16le",
        "utf-16be",
        "gbk",
        "gb18030",
        "big5",
        "shift_jis",
        "euc-jp",
        "iso-2022-jp",
        "euc-kr",
        "ibm866",
        "iso-8859-2",
        "iso-8859-3",
        "iso-8859-4",
        "iso-8859-5",
        "iso-8859-6",
        "iso-8859-7",
        "iso-8859-8",
        "iso-8859-8-i",
        "iso-8859-10",
        "iso-8859-13",
        "iso-8859-14",
        "iso-8859-15",
        "iso-8859-16",
        "koi8-r",
        "koi8-u",
        "macintosh",
        "windows-874",
        "windows-1250",
        "windows-1251",
        "windows-1252",
        "windows-1253",
        "windows-1254",
        "windows-1255",
        "windows-1256",
        "windows-1257",
        "windows-1258",
        "x-mac-cyrillic",
        "x-user-defined",
    ];

    fn any_chars() -> impl proptest::strategy::Strategy<Value = Vec<char>> {
        use proptest::prelude::*;
        // Weighted towards what devices send: ASCII, Latin, Cyrillic, CJK, kana, Hangul.
        let ch = prop_oneof![
            4 => proptest::char::range(' ', '~'),
            1 => proptest::char::range('\u{a0}', '\u{17f}'),
            1 => proptest::char::range('\u{400}', '\u{4ff}'),
            2 => proptest::char::range('\u{4e00}', '\u{9fa5}'),
            1 => proptest::char::range('\u{3041}', '\u{30ff}'),
            1 => proptest::char::range('\u{ac00}', '\u{d7a3}'),
            1 => any::<char>(),
        ];
        proptest::collection::vec(ch, 0..40)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// text -> hex -> text and text -> base64 -> text give back the same bytes, for
        /// every encoding, with the characters that encoding can represent; and the same
        /// text when each character has one spelling in the encoding (Shift_JIS writes
        /// both '¥' and '\\' as 0x5c, which reads back as '\\').
        #[test]
        fn text_round_trips_in_every_encoding(chars in any_chars()) {
            for label in LABELS {
                let enc = Encoding::from_label(label).expect("known label");
                let one = |c: &char| {
                    let bytes = enc.encode(&c.to_string()).ok()?;
                    from_bytes(&bytes, Form::Text, enc).ok().map(|(t, _)| t == c.to_string())
                };
                let text: String = chars
                    .iter()
                    .filter(|c| **c != '\\' && one(c).is_some())
                    .collect();
                let canonical = chars.iter().all(|c| *c == '\\' || one(c) != Some(false));
                for via in [Form::Hex, Form::Base64] {
                    let there = convert(&text, &Request { from: Form::Text, to: via, encoding: enc, escapes: true })
                        .expect("encodable text converts");
                    let back = convert(&there.output, &Request { from: via, to: Form::Text, encoding: enc, escapes: true })
                        .expect("its own output converts back");
                    proptest::prop_assert_eq!(back.bytes, there.bytes);
                    let again = enc.encode(&back.output).expect("decoded text encodes");
                    proptest::prop_assert_eq!(spaced_hex(&again), there.hex.clone(), "{} via {}", label, via.name());
                    if canonical {
                        proptest::prop_assert_eq!(&back.output, &text, "{} via {}", label, via.name());
                    }
                }
            }
        }

        /// Any bytes survive hex -> base64 -> hex.
        #[test]
        fn bytes_round_trip_through_hex_and_base64(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let utf8 = Encoding::UTF8;
            let b64 = convert(&spaced_hex(&bytes), &Request { from: Form::Hex, to: Form::Base64, encoding: utf8, escapes: true })
                .expect("hex converts");
            let hex = convert(&b64.output, &Request { from: Form::Base64, to: Form::Hex, encoding: utf8, escapes: true })
                .expect("base64 converts");
            proptest::prop_assert_eq!(hex.output, spaced_hex(&bytes));
        }
    }
}
