//! Payload templates: `{counter}`, `{time}`, `{unix}`, `{rand:N}` and `{hex:...}` in a
//! message, filled in afresh for every round of a `--repeat` loop, so that
//! `--repeat 100 'seq={counter}\n'` sends numbered messages a device log can be matched to.
//!
//! A template is parsed once, when the message is given, so a malformed placeholder is a
//! usage error before anything connects; expanding it per round then cannot fail on the
//! input (only the operating system's random source can).
//!
//! Only the five names above are placeholders. Any other `{...}` (JSON such as `{"a":1}`,
//! `{foo}`) is text and goes out as it is, so payloads that merely contain braces need no
//! quoting. A placeholder's name can be written literally with the `\x7b` escape for `{`,
//! because placeholders are found before escapes are resolved. `--hex` and `--no-escapes`
//! input has no placeholders at all: both mean "these exact bytes".

use crate::codec::encoding::Encoding;
use crate::codec::{encode_input, excerpt, hex, InputOptions};
use crate::error::{Error, Result};
use crate::session::{format_time, TimeFormat};

/// The most random bytes one `{rand:N}` makes: far beyond any frame a device takes, and
/// small enough that a typo such as `{rand:1000000000}` is refused instead of allocating.
pub const MAX_RAND: usize = 65536;

/// What a template may hold, for error messages.
pub const EXPECTED: &str = "placeholders {counter}, {time}, {unix}, {rand:N} (N from 1 to 65536) or {hex:HEX} such as {hex:0d 0a}; other text in braces is sent as it is";

/// Characters in `{time}`: `HH:MM:SS.mmm`.
const TIME_CHARS: u64 = 12;

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// Bytes that are the same every round: text already encoded, `{hex:...}`, the EOL.
    Bytes(Vec<u8>),
    /// The round number in decimal, from 1.
    Counter,
    /// Local time `HH:MM:SS.mmm`.
    Time,
    /// Seconds since the Unix epoch.
    Unix,
    /// This many fresh random bytes.
    Rand(usize),
}

/// A message with its placeholders found, ready to be expanded once per round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
    /// Digits and the time are text in the session encoding (two bytes a digit in UTF-16).
    encoding: Encoding,
    /// Bytes one ASCII character takes in `encoding`, to know a round's length unexpanded.
    unit: u64,
}

impl Template {
    /// Parse `input` as `opts` say: hex, literal text (`--no-escapes`), or text with escapes
    /// and placeholders. The whole input is checked; an error comes with no template.
    pub fn parse(input: &str, opts: &InputOptions) -> Result<Template> {
        let unit = opts.encoding.encode("0")?.len() as u64;
        let mut t = Template {
            parts: Vec::new(),
            encoding: opts.encoding,
            unit,
        };
        if opts.hex || !opts.escapes {
            t.push_bytes(&encode_input(input, opts)?);
            return Ok(t);
        }
        // Escapes are checked on the whole input first, so their error names the column
        // in what was typed rather than in a piece between two placeholders.
        encode_input(input, opts)?;
        let b = input.as_bytes();
        let mut literal_start = 0;
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                // An escape is one unit: `\{` is never the start of a placeholder. Every
                // escape's second character is ASCII (checked above), so `i + 2` is a char
                // boundary or the end.
                b'\\' => i += 2,
                b'{' => match placeholder(input, i)? {
                    Some((part, end)) => {
                        t.push_bytes(&encode_input(&input[literal_start..i], opts)?);
                        t.push_part(part);
                        i = end;
                        literal_start = end;
                    }
                    None => i += 1,
                },
                _ => i += 1,
            }
        }
        t.push_bytes(&encode_input(&input[literal_start.min(b.len())..], opts)?);
        Ok(t)
    }

    /// Bytes that are the same every round, added at the end (the line ending).
    pub fn push_bytes(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if let Some(Part::Bytes(last)) = self.parts.last_mut() {
            last.extend_from_slice(bytes);
        } else {
            self.parts.push(Part::Bytes(bytes.to_vec()));
        }
    }

    fn push_part(&mut self, part: Part) {
        match part {
            Part::Bytes(b) => self.push_bytes(&b),
            other => self.parts.push(other),
        }
    }

    /// True when every round is the same bytes (no placeholder but `{hex:...}`).
    pub fn is_fixed(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Bytes(_)))
    }

    /// The bytes of round `counter` (1 for the first). `{time}` and `{unix}` read the clock
    /// once, so two of them in one message agree.
    pub fn render(&self, counter: u64) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(self.len_at(counter) as usize);
        let now = jiff::Timestamp::now();
        for part in &self.parts {
            match part {
                Part::Bytes(b) => out.extend_from_slice(b),
                Part::Counter => out.extend(self.encoding.encode(&counter.to_string())?),
                Part::Time => {
                    let clock = format_time(&now, TimeFormat::Clock).to_string();
                    out.extend(self.encoding.encode(&clock)?);
                }
                Part::Unix => out.extend(self.encoding.encode(&now.as_second().to_string())?),
                Part::Rand(n) => {
                    let start = out.len();
                    out.resize(start + n, 0);
                    getrandom::fill(&mut out[start..]).map_err(|e| Error::Random {
                        reason: e.to_string(),
                    })?;
                }
            }
        }
        Ok(out)
    }

    /// The length of round `counter` without expanding it. `{unix}` is taken as long as it
    /// is now (10 digits until the year 2286).
    pub fn len_at(&self, counter: u64) -> u64 {
        let unix_digits = digits(jiff::Timestamp::now().as_second().unsigned_abs());
        self.parts
            .iter()
            .map(|p| match p {
                Part::Bytes(b) => b.len() as u64,
                Part::Counter => digits(counter) * self.unit,
                Part::Time => TIME_CHARS * self.unit,
                Part::Unix => unix_digits * self.unit,
                Part::Rand(n) => *n as u64,
            })
            .sum()
    }

    /// The bytes of rounds 1 to `rounds` together, without expanding them: what a finite
    /// `--repeat` must have written when it is done. Saturates rather than overflows.
    pub fn total_len(&self, rounds: u64) -> u64 {
        let counters = self
            .parts
            .iter()
            .filter(|p| matches!(p, Part::Counter))
            .count() as u64;
        // Every round without its counters is as long as round 0 minus the one digit "0".
        let base = self.len_at(0).saturating_sub(counters * self.unit);
        base.saturating_mul(rounds).saturating_add(
            counters
                .saturating_mul(self.unit)
                .saturating_mul(digit_sum(rounds)),
        )
    }
}

/// Decimal digits of `n` (1 for 0).
fn digits(n: u64) -> u64 {
    n.checked_ilog10().map_or(1, |d| u64::from(d) + 1)
}

/// The digits of 1, 2, ..., n written out: each number r counts once for every power of ten
/// at or below it, so the sum is, over those powers p, the count of r in p..=n.
fn digit_sum(n: u64) -> u64 {
    let mut sum = 0u64;
    let mut p = 1u64;
    while p <= n {
        sum = sum.saturating_add(n - p + 1);
        match p.checked_mul(10) {
            Some(next) => p = next,
            None => break,
        }
    }
    sum
}

/// The placeholder at `input[at]` (a `{`) and the index after its `}`; `None` when the
/// braces hold no placeholder name, so they are sent as text.
fn placeholder(input: &str, at: usize) -> Result<Option<(Part, usize)>> {
    const NAMES: [&str; 5] = ["counter", "time", "unix", "rand", "hex"];
    let rest = &input[at + 1..];
    let Some(name) = NAMES.iter().find(|n| rest.starts_with(*n)) else {
        return Ok(None);
    };
    let after = &rest[name.len()..];
    let bad = |reason: String| Error::Template {
        input: excerpt(input),
        reason,
    };
    let arg = match after.chars().next() {
        Some('}') => None,
        Some(':') => match after.find('}') {
            Some(close) => Some(&after[1..close]),
            None => {
                return Err(bad(format!(
                    "'{}' is not closed; expected '}}' after it",
                    excerpt(&input[at..])
                )))
            }
        },
        // `{counterweight}`, `{timeout}`: a longer word, not a placeholder.
        Some(_) => return Ok(None),
        None => {
            return Err(bad(format!(
                "'{{{name}' is not closed; expected '}}' after it"
            )))
        }
    };
    // 1 for `{`, the name, then `}` or `:arg}`.
    let end = at + 1 + name.len() + arg.map_or(1, |a| a.len() + 2);
    let part = match (*name, arg) {
        ("counter", None) => Part::Counter,
        ("time", None) => Part::Time,
        ("unix", None) => Part::Unix,
        ("counter" | "time" | "unix", Some(a)) => {
            return Err(bad(format!(
                "{{{name}}} takes nothing after it, not ':{}'",
                excerpt(a)
            )))
        }
        ("rand", None) => {
            return Err(bad(
                "{rand} needs a number of bytes, e.g. {rand:8}".to_string()
            ))
        }
        ("rand", Some(a)) => match a.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_RAND).contains(&n) => Part::Rand(n),
            Ok(n) => {
                return Err(bad(format!(
                    "{{rand:{n}}} asks for {n} bytes; it makes 1 to {MAX_RAND}"
                )))
            }
            Err(_) => {
                return Err(bad(format!(
                    "{{rand:{}}} needs a number of bytes, e.g. {{rand:8}}",
                    excerpt(a)
                )))
            }
        },
        // Only `hex` is left.
        (_, None) => {
            return Err(bad(
                "{hex} needs hex bytes after a colon, e.g. {hex:0d0a}".to_string()
            ))
        }
        (_, Some(a)) => match hex::parse_hex(a) {
            Ok(bytes) if !bytes.is_empty() => Part::Bytes(bytes),
            _ => {
                return Err(bad(format!(
                    "{{hex:{}}} needs pairs of hex digits, e.g. {{hex:0d0a}} or {{hex:01 02}}",
                    excerpt(a)
                )))
            }
        },
    };
    Ok(Some((part, end)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf8() -> InputOptions {
        InputOptions::default()
    }

    fn t(input: &str) -> Template {
        Template::parse(input, &utf8()).unwrap()
    }

    fn err(input: &str) -> String {
        let e = Template::parse(input, &utf8()).unwrap_err();
        assert!(e.is_usage(), "{e:?}");
        e.to_string()
    }

    #[test]
    fn counter_counts_rounds_from_one() {
        let tpl = t("seq={counter}\\n");
        assert_eq!(tpl.render(1).unwrap(), b"seq=1\n");
        assert_eq!(tpl.render(42).unwrap(), b"seq=42\n");
        assert!(!tpl.is_fixed());
    }

    #[test]
    fn hex_placeholder_is_literal_bytes() {
        let tpl = t("a{hex:0102}b{hex:0d 0a}");
        assert_eq!(tpl.render(1).unwrap(), b"a\x01\x02b\r\n");
        assert!(tpl.is_fixed());
    }

    #[test]
    fn rand_gives_n_fresh_bytes() {
        let tpl = t("<{rand:16}>");
        let a = tpl.render(1).unwrap();
        let b = tpl.render(2).unwrap();
        assert_eq!(a.len(), 18);
        assert_eq!((a[0], a[17]), (b'<', b'>'));
        // 2^-128 of a false failure.
        assert_ne!(a, b);
    }

    #[test]
    fn time_and_unix() {
        let out = t("{time}|{unix}").render(1).unwrap();
        let s = String::from_utf8(out).unwrap();
        let (time, unix) = s.split_once('|').unwrap();
        assert_eq!(time.len(), 12, "{time}");
        assert_eq!(&time[2..3], ":");
        assert_eq!(&time[8..9], ".");
        let secs: i64 = unix.parse().unwrap();
        assert!(secs > 1_700_000_000, "{secs}");
    }

    #[test]
    fn other_braces_are_text() {
        for s in [
            "{\"a\":1}",
            "{foo}",
            "{}",
            "{",
            "}",
            "{{counter}}x",
            "{counterweight}",
            "{timeout}",
        ] {
            let tpl = t(s);
            let want: Vec<u8> = match s {
                // `{{counter}}`: the inner `{counter}` is a placeholder.
                "{{counter}}x" => b"{1}x".to_vec(),
                _ => s.as_bytes().to_vec(),
            };
            assert_eq!(tpl.render(1).unwrap(), want, "{s}");
        }
    }

    #[test]
    fn escapes_still_work_and_x7b_writes_a_literal_brace() {
        assert_eq!(t("\\x7bcounter}").render(5).unwrap(), b"{counter}");
        assert_eq!(t("a\\tb{counter}\\r\\n").render(3).unwrap(), b"a\tb3\r\n");
        // The escape error points into the whole input.
        let e = err("ab{counter}\\q");
        assert!(e.contains("bad escape in 'ab{counter}\\q'"), "{e}");
        assert!(err("\\{counter}").contains("unknown escape"));
    }

    #[test]
    fn hex_and_no_escapes_have_no_placeholders() {
        let hex = InputOptions {
            hex: true,
            ..utf8()
        };
        assert_eq!(
            Template::parse("01 02", &hex).unwrap().render(1).unwrap(),
            [1, 2]
        );
        let raw = InputOptions {
            escapes: false,
            ..utf8()
        };
        let tpl = Template::parse("{counter}\\n", &raw).unwrap();
        assert_eq!(tpl.render(7).unwrap(), b"{counter}\\n");
    }

    #[test]
    fn utf16_digits_are_encoded() {
        let opts = InputOptions {
            encoding: Encoding::from_label("utf-16le").unwrap(),
            ..utf8()
        };
        let tpl = Template::parse("#{counter}", &opts).unwrap();
        assert_eq!(tpl.render(12).unwrap(), [b'#', 0, b'1', 0, b'2', 0]);
        assert_eq!(tpl.len_at(12), 6);
    }

    #[test]
    fn bad_placeholders_say_what_and_what_is_expected() {
        for (input, needle) in [
            ("{rand:x}", "{rand:x} needs a number of bytes"),
            ("{rand:0}", "it makes 1 to 65536"),
            ("{rand:65537}", "it makes 1 to 65536"),
            ("{rand}", "{rand} needs a number of bytes"),
            ("{rand:4", "'{rand:4' is not closed"),
            ("ab{counter", "'{counter' is not closed"),
            ("{hex:zz}", "{hex:zz} needs pairs of hex digits"),
            ("{hex:123}", "{hex:123} needs pairs"),
            ("{hex:}", "needs pairs of hex digits"),
            ("{hex}", "{hex} needs hex bytes"),
            ("{counter:3}", "takes nothing after it"),
        ] {
            let e = err(input);
            assert!(e.contains(needle), "{input}: {e}");
            assert!(
                e.contains("expected placeholders {counter}"),
                "{input}: {e}"
            );
        }
    }

    #[test]
    fn lengths_without_expanding() {
        let tpl = t("seq={counter},{hex:00}{rand:3}\\n");
        for n in [1, 9, 10, 99, 100, 12345] {
            assert_eq!(tpl.len_at(n), tpl.render(n).unwrap().len() as u64, "{n}");
        }
        for rounds in [0u64, 1, 9, 10, 11, 105, 1000] {
            let by_hand: u64 = (1..=rounds).map(|r| tpl.len_at(r)).sum();
            assert_eq!(tpl.total_len(rounds), by_hand, "{rounds}");
        }
        let fixed = t("abc");
        assert_eq!(fixed.total_len(1_000_000), 3_000_000);
        // Huge counts saturate instead of overflowing.
        assert_eq!(t("{counter}").total_len(u64::MAX), u64::MAX);
    }

    #[test]
    fn digit_helpers() {
        assert_eq!(digits(0), 1);
        assert_eq!(digits(9), 1);
        assert_eq!(digits(10), 2);
        assert_eq!(digits(u64::MAX), 20);
        assert_eq!(digit_sum(0), 0);
        assert_eq!(digit_sum(9), 9);
        assert_eq!(digit_sum(10), 11);
        assert_eq!(digit_sum(100), 9 + 180 + 3);
    }
}
