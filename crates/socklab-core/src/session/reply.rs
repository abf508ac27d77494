//! Auto-replies (`--reply 'MATCH=>RESPONSE'`, `--rules FILE`): a mock server or device in
//! one line or one file.
//!
//! Each received message (a frame with `--frame`, otherwise a read or a datagram) is tried
//! against the rules in order; the first that matches answers, to the peer that sent it.
//! The answering happens in the engine, beside `--echo`, so a reply goes out as soon as its
//! message is read and never waits on a slow display; it is shown and counted as a `sent`
//! event like typed data.
//!
//! MATCH is a [`Pattern`]. RESPONSE is text with escapes and the payload placeholders of
//! [`Template`] (`{counter}` counts the rule's replies from 1), in which `$1`..`$9` are the
//! capture groups of a `re:` MATCH, `$0` the whole match and `$$` a dollar sign; or
//! `hex:...` for exact bytes.

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use serde::Deserialize;

use crate::codec::pattern::Pattern;
use crate::codec::template::Template;
use crate::codec::{Encoding, InputOptions};
use crate::error::{Error, Result};

/// One rule: when `pattern` is found in a message, answer `response` after `delay`.
#[derive(Debug, Clone)]
pub struct Rule {
    pattern: Pattern,
    response: Vec<Piece>,
    delay: Option<Duration>,
    once: bool,
}

#[derive(Debug, Clone)]
enum Piece {
    Bytes(Template),
    /// A capture group of the match, as text in the session encoding.
    Group(usize),
}

impl Rule {
    /// A rule from its parts, as `--reply` and a rules file give them.
    pub fn new(
        matches: &str,
        response: &str,
        delay: Option<Duration>,
        once: bool,
        opts: &InputOptions,
    ) -> Result<Rule> {
        let pattern = Pattern::parse(matches, opts)?;
        let response = parse_response(response, pattern.group_count(), opts).map_err(|reason| {
            Error::Reply {
                input: crate::codec::excerpt(&format!("{matches}=>{response}")),
                reason,
            }
        })?;
        Ok(Rule {
            pattern,
            response,
            delay,
            once,
        })
    }

    /// `MATCH=>RESPONSE`, split at the first `=>`.
    pub fn parse_arg(arg: &str, opts: &InputOptions) -> Result<Rule> {
        let bad = |reason: String| Error::Reply {
            input: crate::codec::excerpt(arg),
            reason,
        };
        let Some((matches, response)) = arg.split_once("=>") else {
            return Err(bad("no '=>' between MATCH and RESPONSE".into()));
        };
        Rule::new(matches, response, None, false, opts).map_err(|e| match e {
            // These already name the input and what was expected.
            Error::Regex { .. } | Error::Reply { .. } => e,
            other => bad(format!("MATCH: {other}")),
        })
    }
}

/// RESPONSE: `hex:...`, or text (after an optional `text:`) with `$N` groups. The error is
/// the reason, for the caller to say where the response was.
fn parse_response(
    spec: &str,
    groups: usize,
    opts: &InputOptions,
) -> std::result::Result<Vec<Piece>, String> {
    let template =
        |text: &str, opts: &InputOptions| Template::parse(text, opts).map_err(|e| e.to_string());
    let text_opts = InputOptions {
        hex: false,
        ..*opts
    };
    if let Some(hex) = spec.strip_prefix("hex:") {
        let opts = InputOptions { hex: true, ..*opts };
        let t = template(hex, &opts)?;
        if t.len_at(1) == 0 {
            return Err(EMPTY_RESPONSE.into());
        }
        return Ok(vec![Piece::Bytes(t)]);
    }
    let spec = spec.strip_prefix("text:").unwrap_or(spec);
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut chars = spec.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '$' {
            literal.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some('$') => {
                chars.next();
                literal.push('$');
            }
            Some(d @ '0'..='9') => {
                chars.next();
                let n = d as usize - '0' as usize;
                if n >= groups {
                    return Err(if groups <= 1 {
                        format!("${n} in the RESPONSE needs a re: MATCH with a capture group (only $0, the whole match, is there)")
                    } else {
                        format!(
                            "${n} in the RESPONSE, but the MATCH has only {} capture group(s)",
                            groups - 1
                        )
                    });
                }
                if !literal.is_empty() {
                    pieces.push(Piece::Bytes(template(&literal, &text_opts)?));
                    literal.clear();
                }
                pieces.push(Piece::Group(n));
            }
            _ => literal.push('$'),
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Bytes(template(&literal, &text_opts)?));
    }
    let fixed = pieces.iter().all(|p| matches!(p, Piece::Bytes(_)));
    let len: u64 = pieces
        .iter()
        .map(|p| match p {
            Piece::Bytes(t) => t.len_at(1),
            Piece::Group(_) => 0,
        })
        .sum();
    if fixed && len == 0 {
        return Err(EMPTY_RESPONSE.into());
    }
    Ok(pieces)
}

const EMPTY_RESPONSE: &str = "the RESPONSE is empty: a rule must answer something";

/// A reply to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub bytes: Bytes,
    /// Send it after this long; later messages are read and answered meanwhile.
    pub delay: Option<Duration>,
}

/// The rules of a session, with what they remember: which `once` rules have answered, and
/// each rule's `{counter}`. Shared by all the peers of a session.
#[derive(Debug)]
pub struct Replies {
    rules: Vec<Rule>,
    fired: Vec<AtomicBool>,
    rounds: Vec<AtomicU64>,
    encoding: Encoding,
}

impl Replies {
    /// `encoding` is the session's: what `re:` matches decode with and `$N` encode to.
    pub fn new(rules: Vec<Rule>, encoding: Encoding) -> Replies {
        Replies {
            fired: rules.iter().map(|_| AtomicBool::new(false)).collect(),
            rounds: rules.iter().map(|_| AtomicU64::new(0)).collect(),
            rules,
            encoding,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The reply of the first rule that matches `message`, if one does; an error only when
    /// a reply cannot be built (no random bytes for `{rand:N}`, a captured character the
    /// session encoding cannot write).
    pub fn answer(&self, message: &[u8]) -> Option<Result<Reply>> {
        for (i, rule) in self.rules.iter().enumerate() {
            if rule.once && self.fired[i].load(Ordering::Relaxed) {
                continue;
            }
            let Some(found) = rule.pattern.find(message, self.encoding) else {
                continue;
            };
            // Two peers' messages can match at once: only one of them gets a `once` rule.
            if rule.once && self.fired[i].swap(true, Ordering::Relaxed) {
                continue;
            }
            let round = self.rounds[i].fetch_add(1, Ordering::Relaxed) + 1;
            return Some(self.render(rule, &found.groups, round).map(|bytes| Reply {
                bytes: Bytes::from(bytes),
                delay: rule.delay,
            }));
        }
        None
    }

    fn render(&self, rule: &Rule, groups: &[Option<String>], round: u64) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        for piece in &rule.response {
            match piece {
                Piece::Bytes(t) => out.extend(t.render(round)?),
                Piece::Group(n) => {
                    if let Some(Some(text)) = groups.get(*n) {
                        let encoding = match self.encoding {
                            Encoding::Auto => Encoding::UTF8,
                            e => e,
                        };
                        out.extend(encoding.encode(text)?);
                    }
                }
            }
        }
        Ok(out)
    }
}

/// A rules file:
///
/// ```toml
/// [[rule]]
/// match = "PING"
/// response = "PONG\r\n"
/// delay = "200ms"   # optional
/// once = true       # optional: answer only the first match
/// ```
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    rule: Vec<RuleEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleEntry {
    #[serde(rename = "match")]
    matches: toml::Spanned<String>,
    response: toml::Spanned<String>,
    #[serde(default)]
    delay: Option<toml::Spanned<String>>,
    #[serde(default)]
    once: bool,
}

/// Read the rules of a rules file's text; `path` is for the messages, which say where in
/// the file the trouble is (line and column, from 1).
pub fn parse_rules(text: &str, path: &str, opts: &InputOptions) -> Result<Vec<Rule>> {
    let at = |span: Option<Range<usize>>, reason: String| {
        let (line, column) = line_column(text, span.map_or(0, |s| s.start));
        Error::Rules {
            path: path.to_string(),
            line,
            column,
            reason,
        }
    };
    let file: RulesFile = toml::from_str(text).map_err(|e| at(e.span(), one_line(e.message())))?;
    if file.rule.is_empty() {
        return Err(at(None, "there is no [[rule]] in it".into()));
    }
    let mut rules = Vec::with_capacity(file.rule.len());
    for entry in file.rule {
        let delay = match &entry.delay {
            Some(d) => Some(humantime::parse_duration(d.get_ref()).map_err(|e| {
                at(
                    Some(d.span()),
                    format!(
                        "bad delay '{}': {e}; expected a duration such as 200ms or 2s",
                        d.get_ref()
                    ),
                )
            })?),
            None => None,
        };
        let pattern = Pattern::parse(entry.matches.get_ref(), opts)
            .map_err(|e| at(Some(entry.matches.span()), format!("match: {e}")))?;
        let response = parse_response(entry.response.get_ref(), pattern.group_count(), opts)
            .map_err(|reason| at(Some(entry.response.span()), format!("response: {reason}")))?;
        rules.push(Rule {
            pattern,
            response,
            delay,
            once: entry.once,
        });
    }
    Ok(rules)
}

fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Line and column (both from 1, the column in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> InputOptions {
        InputOptions::default()
    }

    fn replies(args: &[&str]) -> Replies {
        let rules = args
            .iter()
            .map(|a| Rule::parse_arg(a, &opts()).unwrap())
            .collect();
        Replies::new(rules, Encoding::UTF8)
    }

    fn answer(r: &Replies, msg: &[u8]) -> Option<Vec<u8>> {
        r.answer(msg).map(|a| a.unwrap().bytes.to_vec())
    }

    #[test]
    fn first_matching_rule_answers() {
        let r = replies(&["PING=>PONG\\r\\n", "hex:01 03=>hex:01 83 02", "P=>p"]);
        assert_eq!(answer(&r, b"xPINGy").as_deref(), Some(&b"PONG\r\n"[..]));
        assert_eq!(answer(&r, &[9, 1, 3]).as_deref(), Some(&[1, 0x83, 2][..]));
        assert_eq!(answer(&r, b"P").as_deref(), Some(&b"p"[..]));
        assert_eq!(answer(&r, b"nothing"), None);
    }

    #[test]
    fn groups_and_counter_fill_the_response() {
        let r = replies(&[r"re:^GET (\S+) (\w+)=>$2 got $1 #{counter} $$5 $0"]);
        assert_eq!(
            answer(&r, b"GET /a HTTP").as_deref(),
            Some(&b"HTTP got /a #1 $5 GET /a HTTP"[..])
        );
        assert_eq!(
            answer(&r, b"GET /b x").as_deref(),
            Some(&b"x got /b #2 $5 GET /b x"[..])
        );
    }

    #[test]
    fn once_rules_answer_once() {
        let rules = parse_rules(
            "[[rule]]\nmatch = \"A\"\nresponse = \"first\"\nonce = true\n[[rule]]\nmatch = \"A\"\nresponse = \"again\"\ndelay = \"200ms\"\n",
            "r.toml",
            &opts(),
        )
        .unwrap();
        let r = Replies::new(rules, Encoding::UTF8);
        let first = r.answer(b"A").unwrap().unwrap();
        assert_eq!((&first.bytes[..], first.delay), (&b"first"[..], None));
        let again = r.answer(b"A").unwrap().unwrap();
        assert_eq!(
            (&again.bytes[..], again.delay),
            (&b"again"[..], Some(Duration::from_millis(200)))
        );
    }

    #[test]
    fn bad_rules_say_where() {
        let err = |text: &str| {
            parse_rules(text, "r.toml", &opts())
                .unwrap_err()
                .to_string()
        };
        let e = err("[[rule]]\nmatch = \"A\"\nresponse = \"B\"\n\n[[rule]\n");
        assert!(e.starts_with("bad rules file r.toml:5:"), "{e}");
        let e = err("[[rule]]\nmatch = \"re:(\"\nresponse = \"B\"\n");
        assert!(
            e.starts_with("bad rules file r.toml:2:9: match: bad regular expression"),
            "{e}"
        );
        let e = err("[[rule]]\nmatch = \"A\"\nresponse = \"B\"\ndelay = \"soon\"\n");
        assert!(
            e.starts_with("bad rules file r.toml:4:9: bad delay 'soon'"),
            "{e}"
        );
        let e = err("[[rule]]\nmatch = \"A\"\nresponse = \"B\"\nonce = true\ncolour = 1\n");
        assert!(e.contains("r.toml:5:1"), "{e}");
        assert!(e.contains("colour"), "{e}");
        let e = err("[[rule]]\nmatch = \"A\"\n");
        assert!(e.contains("response"), "{e}");
        let e = err("# nothing\n");
        assert!(e.contains("no [[rule]]"), "{e}");
        let e = err("[[rule]]\nmatch = \"A\"\nresponse = \"got $1\"\n");
        assert!(e.contains("r.toml:3:12: response:"), "{e}");
        assert!(e.contains("$1 in the RESPONSE needs a re: MATCH"), "{e}");
    }

    #[test]
    fn bad_reply_args() {
        for (arg, why) in [
            ("PING", "no '=>'"),
            ("=>PONG", "empty pattern"),
            ("PING=>", "RESPONSE is empty"),
            ("PING=>hex:zz", "bad hex"),
            ("re:(=>x", "bad regular expression"),
            ("re:a(b)=>$2", "only 1 capture group"),
        ] {
            let e = Rule::parse_arg(arg, &opts()).unwrap_err();
            assert!(e.is_usage());
            let msg = e.to_string();
            assert!(msg.contains(why), "{arg}: {msg}");
        }
    }

    #[test]
    fn line_and_column_count_characters() {
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_column("你好\nx", 3), (1, 2));
        assert_eq!(line_column("", 0), (1, 1));
    }
}
