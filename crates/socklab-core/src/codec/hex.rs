//! Hex input and output.
//!
//! Input is forgiving about layout, because people paste hex from everywhere: Wireshark
//! (`48:65:6c`), C arrays (`0x48, 0x65`), protocol documents (`48 65 6c`) or one long run
//! (`48656c`). It is strict about content: every digit must pair up, so a typo is reported
//! instead of shifting every following byte by a nibble.
//!
//! Both directions go through 256-entry tables; hex of a whole capture is on the hot path.

use crate::codec::{excerpt, text};
use crate::error::{Error, Result};

/// Not a hex digit and not a separator.
const INVALID: u8 = 0xff;
/// A byte that separates groups: ASCII whitespace, `,`, `;`, `:` or `-`.
const SEP: u8 = 0xfe;

/// Each byte's nibble value (0..=15), [`SEP`] or [`INVALID`].
static CLASS: [u8; 256] = build_class();

const fn build_class() -> [u8; 256] {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        table[i] = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | b',' | b';' | b':' | b'-' => SEP,
            _ => INVALID,
        };
        i += 1;
    }
    table
}

/// The two lowercase digits of every byte value, back to back: byte `b` is at `2b..2b+2`.
static PAIRS: [u8; 512] = build_pairs();

const fn build_pairs() -> [u8; 512] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut table = [0; 512];
    let mut i = 0;
    while i < 256 {
        table[2 * i] = DIGITS[i >> 4];
        table[2 * i + 1] = DIGITS[i & 0xf];
        i += 1;
    }
    table
}

/// The two lowercase hex digits of `b`; shared with the hexdump view.
#[inline]
pub(crate) fn pair(b: u8) -> [u8; 2] {
    let i = 2 * usize::from(b);
    [PAIRS[i], PAIRS[i + 1]]
}

/// Parses hex such as `48 65 6c`, `48656c`, `0x48,0x65` or `0X48 0x65`.
///
/// Groups are separated by any mix of whitespace, `,`, `;`, `:` and `-`; each group may start
/// with `0x`/`0X` and must then hold a non-zero, even number of digits. Empty input (or only
/// separators) is no bytes. An error returns no bytes at all, so a typo can never send the
/// part before it.
pub fn parse_hex(input: &str) -> Result<Vec<u8>> {
    let b = input.as_bytes();
    let mut out = Vec::with_capacity(b.len() / 2);
    let mut i = 0;
    // Every step below moves over whole ASCII bytes or whole whitespace chars, so `i` is
    // always on a char boundary.
    while i < b.len() {
        if let Some(width) = separator_width(input, i) {
            i += width;
            continue;
        }
        let start = i;
        if b[i] == b'0' && matches!(b.get(i + 1), Some(b'x' | b'X')) {
            i += 2;
        }
        let digits_start = i;
        // Pairs are converted as they are read; an error below drops `out` whole.
        loop {
            let hi = nibble(b, i);
            if hi >= 16 {
                break;
            }
            let lo = nibble(b, i + 1);
            if lo >= 16 {
                i += 1;
                break;
            }
            out.push((hi << 4) | lo);
            i += 2;
        }
        if i < b.len() && separator_width(input, i).is_none() {
            return Err(not_a_digit(input, i));
        }
        let digits = i - digits_start;
        if digits == 0 {
            return Err(hex_error(
                input,
                format!(
                    "'{}' at column {} has no hex digits after it",
                    &input[start..i],
                    column(input, start)
                ),
            ));
        }
        if digits % 2 != 0 {
            return Err(hex_error(
                input,
                format!(
                    "odd number of hex digits in '{}' at column {}",
                    excerpt(&input[start..i]),
                    column(input, start)
                ),
            ));
        }
    }
    Ok(out)
}

/// The value of the hex digit at `i`, or 16 or more if there is none.
#[inline]
fn nibble(b: &[u8], i: usize) -> u8 {
    b.get(i).map_or(INVALID, |&c| CLASS[usize::from(c)])
}

/// The width of the separator at `i`, if there is one. Besides the ASCII separators this
/// takes Unicode whitespace, because CJK input methods type U+3000 for a space.
#[inline]
fn separator_width(input: &str, i: usize) -> Option<usize> {
    let b = input.as_bytes()[i];
    if b < 0x80 {
        return (CLASS[usize::from(b)] == SEP).then_some(1);
    }
    input[i..]
        .chars()
        .next()
        .filter(|ch| ch.is_whitespace())
        .map(char::len_utf8)
}

fn not_a_digit(input: &str, i: usize) -> Error {
    let ch = input[i..]
        .chars()
        .next()
        .unwrap_or(char::REPLACEMENT_CHARACTER);
    let mut shown = String::new();
    text::push_visible_char(ch, &mut shown);
    let mut reason = format!(
        "'{shown}' at column {} is not a hex digit",
        column(input, i)
    );
    if ch == 'x' || ch == 'X' {
        reason.push_str(" (0x may only start a group)");
    }
    hex_error(input, reason)
}

/// 1-based, in characters, because that is what the person sees in the line they typed.
fn column(input: &str, byte_index: usize) -> usize {
    input[..byte_index].chars().count() + 1
}

fn hex_error(input: &str, reason: String) -> Error {
    Error::Hex {
        input: excerpt(input),
        reason,
    }
}

/// Lowercase hex without separators: `48656c`.
pub fn encode_hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    push_ascii_chunks(bytes, &mut out, false);
    out
}

/// Appends lowercase hex with one space between bytes: `48 65 6c`.
pub fn encode_hex_spaced(bytes: &[u8], out: &mut String) {
    out.reserve((bytes.len() * 3).saturating_sub(1));
    push_ascii_chunks(bytes, out, true);
}

/// Builds the text in a stack buffer and appends it a chunk at a time, so there is no
/// per-byte `push` and no `unsafe` write into the `String`.
fn push_ascii_chunks(bytes: &[u8], out: &mut String, spaced: bool) {
    const CHUNK: usize = 512;
    let mut buf = [0u8; CHUNK * 3];
    for (k, chunk) in bytes.chunks(CHUNK).enumerate() {
        let mut n = 0;
        if spaced {
            if k > 0 {
                buf[0] = b' ';
                n = 1;
            }
            for (j, &b) in chunk.iter().enumerate() {
                if j > 0 {
                    buf[n] = b' ';
                    n += 1;
                }
                buf[n..n + 2].copy_from_slice(&pair(b));
                n += 2;
            }
        } else {
            for (dst, &b) in buf.chunks_exact_mut(2).zip(chunk) {
                dst.copy_from_slice(&pair(b));
            }
            n = chunk.len() * 2;
        }
        push_ascii(&buf[..n], out);
    }
}

/// Appends bytes that are ASCII by construction.
pub(crate) fn push_ascii(ascii: &[u8], out: &mut String) {
    match std::str::from_utf8(ascii) {
        Ok(s) => out.push_str(s),
        // Only reachable if a table were wrong; Latin-1 keeps the output honest anyway.
        Err(_) => out.extend(ascii.iter().map(|&b| char::from(b))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reason(input: &str) -> String {
        match parse_hex(input) {
            Err(Error::Hex { reason, .. }) => reason,
            other => panic!("expected a hex error for {input:?}, got {other:?}"),
        }
    }

    #[test]
    fn accepts_every_layout() {
        let hel = b"Hel".to_vec();
        for input in [
            "48 65 6c",
            "48656c",
            "0x48,0x65,0x6c",
            "0X48 0x65 0x6C",
            "48:65:6c",
            "48-65-6c",
            "48;65;6c",
            "  48\t65\r\n6c  ",
            "0x48, 0x65; 6c",
            "4865 6c",
            "0x4865,6c",
            "48\u{3000}65\u{a0}6c",
        ] {
            assert_eq!(parse_hex(input).unwrap(), hel, "{input:?}");
        }
    }

    #[test]
    fn empty_input_is_no_bytes() {
        assert_eq!(parse_hex("").unwrap(), Vec::<u8>::new());
        assert_eq!(parse_hex("  , ;\n").unwrap(), Vec::<u8>::new());
    }

    #[test]
    fn all_byte_values() {
        let all: Vec<u8> = (0..=255).collect();
        let upper: String = all.iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(parse_hex(&upper).unwrap(), all);
        assert_eq!(encode_hex(&all), upper.to_lowercase());
    }

    #[test]
    fn non_hex_char_names_char_and_column() {
        assert_eq!(reason("4G"), "'G' at column 2 is not a hex digit");
        assert_eq!(reason("48 65 zz"), "'z' at column 7 is not a hex digit");
        assert_eq!(reason("你好"), "'你' at column 1 is not a hex digit");
        assert_eq!(reason("48\u{3000}4G"), "'G' at column 5 is not a hex digit");
        assert_eq!(reason("48\0"), "'\\x00' at column 3 is not a hex digit");
        assert_eq!(reason("48.65"), "'.' at column 3 is not a hex digit");
        assert_eq!(
            reason("480x65"),
            "'x' at column 4 is not a hex digit (0x may only start a group)"
        );
        assert_eq!(
            reason("0x0x48"),
            "'x' at column 4 is not a hex digit (0x may only start a group)"
        );
    }

    #[test]
    fn odd_digit_count() {
        assert_eq!(
            reason("486"),
            "odd number of hex digits in '486' at column 1"
        );
        assert_eq!(
            reason("48 0x6 6c"),
            "odd number of hex digits in '0x6' at column 4"
        );
        assert_eq!(reason("0"), "odd number of hex digits in '0' at column 1");
        assert_eq!(
            reason("48 6"),
            "odd number of hex digits in '6' at column 4"
        );
    }

    #[test]
    fn prefix_without_digits() {
        assert_eq!(reason("0x"), "'0x' at column 1 has no hex digits after it");
        assert_eq!(
            reason("48 0X, 65"),
            "'0X' at column 4 has no hex digits after it"
        );
    }

    #[test]
    fn error_carries_input_and_expectation() {
        let err = parse_hex("4G").unwrap_err();
        assert_eq!(
            err.to_string(),
            "bad hex '4G': 'G' at column 2 is not a hex digit; expected pairs of hex digits \
             such as '48 65 6c', '48656c' or '0x48,0x65'"
        );
        assert!(err.is_usage());
    }

    #[test]
    fn encode_forms() {
        assert_eq!(encode_hex(b""), "");
        assert_eq!(encode_hex(b"Hel"), "48656c");
        assert_eq!(encode_hex(&[0x00, 0xff, 0x0a]), "00ff0a");
        let mut s = String::new();
        encode_hex_spaced(b"", &mut s);
        assert_eq!(s, "");
        encode_hex_spaced(b"Hel", &mut s);
        assert_eq!(s, "48 65 6c");
        let mut one = String::from("> ");
        encode_hex_spaced(&[0xab], &mut one);
        assert_eq!(one, "> ab");
    }

    #[test]
    fn encode_across_chunk_boundaries() {
        let bytes: Vec<u8> = (0..2000u32).map(|i| (i * 7) as u8).collect();
        let plain: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let spaced: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(encode_hex(&bytes), plain);
        let mut s = String::new();
        encode_hex_spaced(&bytes, &mut s);
        assert_eq!(s, spaced.join(" "));
    }

    proptest! {
        #[test]
        fn roundtrip(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            prop_assert_eq!(parse_hex(&encode_hex(&bytes)).unwrap(), bytes.clone());
            let mut spaced = String::new();
            encode_hex_spaced(&bytes, &mut spaced);
            prop_assert_eq!(parse_hex(&spaced).unwrap(), bytes.clone());
            prop_assert_eq!(parse_hex(&encode_hex(&bytes).to_uppercase()).unwrap(), bytes);
        }

        #[test]
        fn never_panics(input in "\\PC*") {
            let _ = parse_hex(&input);
        }
    }
}
