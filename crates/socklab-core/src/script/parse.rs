//! The script's line format: one step a line, `#` comments, blank lines ignored.
//!
//! ```text
//! timeout 3s                  # default wait of the expects after it
//! send LOGIN admin\r\n        # text with escapes and placeholders; hex:01 02 for bytes
//! expect OK                   # text, hex:..., re:... or text:... (the --reply syntax)
//! expect 10s ready            # an expect with its own timeout
//! wait 500ms
//! close
//! ```
//!
//! A `#` starts a comment at the start of a line or after a space or tab, so `send a#b`
//! sends `a#b`; a `#` after a space is written `\x23`.

use std::time::Duration;

use super::{Action, Script, Step, DEFAULT_TIMEOUT};
use crate::codec::pattern::Pattern;
use crate::codec::template::Template;
use crate::codec::InputOptions;
use crate::error::{Error, Result};

/// Parse a script's text; `path` is for the messages, which say where the trouble is (line
/// and column from 1, the column in characters). Text is encoded as `input` says (encoding,
/// escapes); `--hex` does not apply: a script says `hex:` where it means bytes.
pub fn parse(text: &str, path: &str, input: &InputOptions) -> Result<Script> {
    let input = InputOptions {
        hex: false,
        ..*input
    };
    let mut timeout = DEFAULT_TIMEOUT;
    let mut steps = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = n + 1;
        let at = |byte: usize, reason: String| Error::Script {
            path: path.to_string(),
            line,
            column: raw.get(..byte).map_or(1, |s| s.chars().count() + 1),
            reason,
        };
        let code = strip_comment(raw).trim_end();
        let start = code.len() - code.trim_start().len();
        if start == code.len() {
            continue;
        }
        let (verb, arg_at) = match code[start..].find([' ', '\t']) {
            Some(i) => (&code[start..start + i], start + i),
            None => (&code[start..], code.len()),
        };
        let arg_at = arg_at + (code[arg_at..].len() - code[arg_at..].trim_start().len());
        let arg = &code[arg_at..];
        let need = |what: &str| {
            if arg.is_empty() {
                Err(at(arg_at, format!("'{verb}' needs {what}")))
            } else {
                Ok(())
            }
        };
        // What messages show of the step: its argument, or an expect's pattern alone.
        let mut shown = arg;
        let action = match verb {
            "timeout" => {
                need("a duration, such as 3s")?;
                timeout = duration(arg).map_err(|r| at(arg_at, r))?;
                continue;
            }
            "send" => {
                need("the data to send")?;
                Action::Send(data(arg, &input).map_err(|e| at(arg_at, e.to_string()))?)
            }
            "expect" => {
                need("a pattern: text, hex:..., re:... or text:...")?;
                let (own, pattern_at) = match arg.split_once([' ', '\t']) {
                    Some((first, rest)) if looks_like_duration(first) => {
                        let wait = duration(first).map_err(|r| at(arg_at, r))?;
                        (Some(wait), arg_at + (arg.len() - rest.trim_start().len()))
                    }
                    _ => (None, arg_at),
                };
                shown = &code[pattern_at..];
                let pattern =
                    Pattern::parse(shown, &input).map_err(|e| at(pattern_at, e.to_string()))?;
                Action::Expect {
                    pattern,
                    timeout: own.unwrap_or(timeout),
                }
            }
            "wait" => {
                need("a duration, such as 500ms")?;
                Action::Wait(duration(arg).map_err(|r| at(arg_at, r))?)
            }
            "close" => {
                if !arg.is_empty() {
                    return Err(at(arg_at, format!("'close' takes nothing, not '{arg}'")));
                }
                Action::Close { timeout }
            }
            other => {
                return Err(at(
                    start,
                    format!(
                    "unknown step '{other}'; the steps are send, expect, wait, timeout and close"
                ),
                ))
            }
        };
        steps.push(Step {
            line,
            text: shown.to_string(),
            action,
        });
    }
    if steps.is_empty() {
        return Err(Error::Script {
            path: path.to_string(),
            line: 1,
            column: 1,
            reason: "there is no step in it".into(),
        });
    }
    Ok(Script { steps })
}

/// The line without its comment: a `#` at the start or after whitespace.
fn strip_comment(line: &str) -> &str {
    let mut prev_blank = true;
    for (i, ch) in line.char_indices() {
        if ch == '#' && prev_blank {
            return &line[..i];
        }
        prev_blank = ch == ' ' || ch == '\t';
    }
    line
}

/// `send`'s argument: `hex:` bytes, `text:` for text that starts with `hex:`, else text
/// with escapes and the placeholders `--repeat` uses.
fn data(arg: &str, input: &InputOptions) -> Result<Template> {
    if let Some(hex) = arg.strip_prefix("hex:") {
        let opts = InputOptions {
            hex: true,
            ..*input
        };
        return Template::parse(hex, &opts);
    }
    Template::parse(arg.strip_prefix("text:").unwrap_or(arg), input)
}

/// A word that is meant as an expect's own timeout: digits then a unit letter (`10s`,
/// `500ms`, `1m`). Anything else (`5`, `OK`, `re:..`) is the pattern, so only a word shaped
/// like a duration can be mistaken, and `text:` writes such a word as a pattern.
fn looks_like_duration(word: &str) -> bool {
    let digits = word.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0
        && word[digits..]
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic())
}

fn duration(s: &str) -> std::result::Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| {
        format!("bad duration '{s}': {e}; expected a number with a unit such as 500ms, 2s or 1m")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Encoding;
    use crate::script::StepKind;

    fn parse_ok(text: &str) -> Script {
        parse(text, "t.script", &InputOptions::default()).unwrap()
    }

    fn parse_err(text: &str) -> String {
        let e = parse(text, "t.script", &InputOptions::default()).unwrap_err();
        assert!(e.is_usage());
        e.to_string()
    }

    #[test]
    fn every_step_with_comments_and_timeouts() {
        let s = parse_ok(
            "# a login\n\ntimeout 3s\nsend LOGIN admin\\r\\n   # the user\nexpect OK\nexpect 10s ready\nexpect re:^WELCOME (\\w+)\nwait 500ms\nclose\n",
        );
        let kinds: Vec<_> = s.steps.iter().map(|s| s.kind()).collect();
        use StepKind::*;
        assert_eq!(kinds, [Send, Expect, Expect, Expect, Wait, Close]);
        assert_eq!(s.steps[0].line, 4);
        assert_eq!(s.steps[0].text, "LOGIN admin\\r\\n");
        match &s.steps[0].action {
            Action::Send(t) => assert_eq!(t.render(1).unwrap(), b"LOGIN admin\r\n"),
            other => panic!("{other:?}"),
        }
        let timeouts: Vec<_> = s
            .steps
            .iter()
            .filter_map(|s| match &s.action {
                Action::Expect { timeout, pattern } => Some((pattern.spec().to_string(), *timeout)),
                _ => None,
            })
            .collect();
        assert_eq!(
            timeouts,
            [
                ("OK".to_string(), Duration::from_secs(3)),
                ("ready".to_string(), Duration::from_secs(10)),
                ("re:^WELCOME (\\w+)".to_string(), Duration::from_secs(3)),
            ]
        );
        assert!(matches!(s.steps[4].action, Action::Wait(d) if d == Duration::from_millis(500)));
        assert!(
            matches!(s.steps[5].action, Action::Close { timeout } if timeout == Duration::from_secs(3))
        );
    }

    #[test]
    fn default_timeout_and_hex_and_placeholders() {
        let s = parse_ok("send hex:01 02 ff\nsend n={counter}\nexpect hex:0d0a\nsend a#b\n");
        match &s.steps[0].action {
            Action::Send(t) => assert_eq!(t.render(1).unwrap(), [1, 2, 0xff]),
            other => panic!("{other:?}"),
        }
        match &s.steps[1].action {
            Action::Send(t) => assert_eq!(t.render(7).unwrap(), b"n=7"),
            other => panic!("{other:?}"),
        }
        match &s.steps[2].action {
            Action::Expect { pattern, timeout } => {
                assert_eq!(*timeout, DEFAULT_TIMEOUT);
                assert!(pattern.find(b"x\r\n", Encoding::UTF8).is_some());
            }
            other => panic!("{other:?}"),
        }
        match &s.steps[3].action {
            Action::Send(t) => assert_eq!(t.render(1).unwrap(), b"a#b"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_word_that_is_not_a_duration_is_the_pattern() {
        let s = parse_ok("expect 5 apples\nexpect text:10s later\nexpect 200 OK\n");
        let specs: Vec<_> = s
            .steps
            .iter()
            .map(|s| match &s.action {
                Action::Expect { pattern, .. } => pattern.spec().to_string(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(specs, ["5 apples", "text:10s later", "200 OK"]);
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let cases = [
            ("send a\n  frob x\n", "t.script:2:3:", "unknown step 'frob'"),
            ("wait 3x\n", "t.script:1:6:", "bad duration '3x'"),
            ("timeout soon\n", "t.script:1:9:", "bad duration 'soon'"),
            ("expect 2q OK\n", "t.script:1:8:", "bad duration '2q'"),
            ("\nexpect re:(\n", "t.script:2:8:", "bad regular expression"),
            (
                "expect 3s re:[\n",
                "t.script:1:11:",
                "bad regular expression",
            ),
            ("send hex:0 1 2\n", "t.script:1:6:", "bad hex"),
            ("expect hex:abc\n", "t.script:1:8:", "bad hex"),
            ("send {rand:x}\n", "t.script:1:6:", "bad template"),
            ("send\n", "t.script:1:5:", "'send' needs the data"),
            (
                "expect   # nothing\n",
                "t.script:1:7:",
                "'expect' needs a pattern",
            ),
            ("close now\n", "t.script:1:7:", "'close' takes nothing"),
            ("# only a comment\n\n", "t.script:1:1:", "no step"),
        ];
        for (text, at, why) in cases {
            let msg = parse_err(text);
            assert!(msg.contains(&format!("bad script {at}")), "{text:?}: {msg}");
            assert!(msg.contains(why), "{text:?}: {msg}");
            assert!(msg.contains("expected"), "{text:?}: {msg}");
            assert!(!msg.contains('\n'), "{text:?}: {msg}");
        }
    }

    #[test]
    fn columns_count_characters() {
        let msg = parse_err("send 你好\nexpect 好 \nwaiting 1s\n");
        assert!(msg.contains("t.script:3:1:"), "{msg}");
        let msg = parse_err("send 你好 {hex:zz}");
        assert!(msg.contains("t.script:1:6:"), "{msg}");
    }
}
