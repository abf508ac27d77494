//! `--checksum` and payload templates (issue 7, part 1), against a python peer that
//! recomputes every checksum with its own arithmetic (tests/checksum_peer.py).

use std::process::{Command, Stdio};

use crate::support::*;

/// The python peer started with `args`, and its port once it listens.
fn peer(args: &[&str]) -> (Proc, Lines, u16) {
    let mut cmd = Command::new(python3());
    cmd.arg(fixture("checksum_peer.py"))
        .args(args)
        .stdout(Stdio::piped());
    let mut p = Proc::spawn(cmd, "checksum_peer.py");
    let mut lines = Lines::new(p.stdout());
    let port = port_in(&lines.wait_for("listening on"));
    (p, lines, port)
}

/// Run socklab with `args` (its first being the subcommand, the second replaced by the
/// recorder's address) and `stdin`; return what the recorder received.
fn recorded(args: &[&str], stdin: &[u8]) -> Vec<u8> {
    let (_p, mut lines, port) = peer(&["record"]);
    let addr = format!("127.0.0.1:{port}");
    let mut full: Vec<&str> = vec![args[0], &addr];
    full.extend_from_slice(&args[1..]);
    full.extend_from_slice(&["--wait", "100ms"]);
    let out = run(&full, stdin);
    assert!(out.status.success(), "{:?}: {}", full, text(&out.stderr));
    let hex = lines.rest().pop().unwrap_or_default();
    unhex(&hex)
}

#[test]
fn every_checksum_agrees_with_an_independent_oracle() {
    // The check value over "123456789" as it goes on the wire, per spec.
    let cases = [
        ("sum8", "dd"),
        ("xor8", "31"),
        ("crc8", "f4"),
        ("crc16-modbus", "374b"),
        ("crc16-modbus:be", "4b37"),
        ("crc16-xmodem", "31c3"),
        ("crc16-xmodem:le", "c331"),
        ("crc16-ccitt-false", "29b1"),
        ("crc32", "cbf43926"),
        ("crc32:le", "2639f4cb"),
    ];
    let specs: Vec<&str> = cases.iter().map(|(s, _)| *s).collect();
    let (_p, mut lines, port) = peer(&specs);
    let addr = format!("127.0.0.1:{port}");
    for (spec, wire) in cases {
        let out = run(
            &[
                "send",
                &addr,
                "--checksum",
                spec,
                "123456789",
                "--wait",
                "50ms",
            ],
            b"",
        );
        assert!(out.status.success(), "{spec}: {}", text(&out.stderr));
        let line = lines.wait_for(spec);
        assert_eq!(
            line,
            format!("ok {spec} {} {wire}", hex_of(b"123456789")),
            "{spec}"
        );
    }
}

fn hex_of(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn the_checksum_covers_escapes_templates_and_the_line_ending() {
    // Bytes no text would make, a template and a CRLF: the oracle sums what it received.
    let (_p, mut lines, port) = peer(&["crc16-ccitt-false", "crc32"]);
    let addr = format!("127.0.0.1:{port}");
    for spec in ["crc16-ccitt-false", "crc32"] {
        let out = run(
            &[
                "send",
                &addr,
                "--checksum",
                spec,
                "--eol",
                "crlf",
                "\\x00\\xff{hex:7e7d}n={counter}",
                "--wait",
                "50ms",
            ],
            b"",
        );
        assert!(out.status.success(), "{spec}: {}", text(&out.stderr));
        let line = lines.wait_for(spec);
        let want = format!("ok {spec} {} ", hex_of(b"\x00\xff\x7e\x7dn=1\r\n"));
        assert!(line.starts_with(&want), "{line}");
    }
}

#[test]
fn a_modbus_request_gets_its_crc_low_byte_first() {
    let got = recorded(
        &[
            "send",
            "--hex",
            "--checksum",
            "crc16-modbus",
            "01 03 00 00 00 02",
        ],
        b"",
    );
    assert_eq!(got, [0x01, 0x03, 0x00, 0x00, 0x00, 0x02, 0xc4, 0x0b]);
}

#[test]
fn piped_lines_are_frames_each_with_its_checksum() {
    // With --checksum a line is a frame: no line ending unless --eol asks for one.
    let got = recorded(
        &["connect", "--hex", "--checksum", "crc16-modbus"],
        b"01 03 00 00 00 02\n01 03 00 01 00 01\n",
    );
    assert_eq!(
        got,
        [
            0x01, 0x03, 0x00, 0x00, 0x00, 0x02, 0xc4, 0x0b, //
            0x01, 0x03, 0x00, 0x01, 0x00, 0x01, 0xd5, 0xca,
        ]
    );
    let got = recorded(&["connect", "--checksum", "xor8"], b"AB\n");
    assert_eq!(got, [b'A', b'B', b'A' ^ b'B']);
    let got = recorded(&["connect", "--checksum", "sum8", "--eol", "lf"], b"AB\n");
    assert_eq!(got, [b'A', b'B', b'\n', b'A' + b'B' + b'\n']);
}

#[test]
fn repeat_numbers_each_round_from_one() {
    let got = recorded(
        &[
            "send",
            "--repeat",
            "5",
            "--interval",
            "10ms",
            "seq={counter}\\n",
        ],
        b"",
    );
    assert_eq!(text(&got), "seq=1\nseq=2\nseq=3\nseq=4\nseq=5\n");
}

#[test]
fn rand_makes_fresh_bytes_every_round() {
    let got = recorded(
        &["send", "--repeat", "3", "--interval", "10ms", "<{rand:8}>"],
        b"",
    );
    assert_eq!(got.len(), 30, "{got:?}");
    let rounds: Vec<&[u8]> = got.chunks(10).collect();
    for r in &rounds {
        assert_eq!((r[0], r[9]), (b'<', b'>'), "{got:?}");
    }
    // 2^-64 of a false failure per pair.
    assert_ne!(rounds[0][1..9], rounds[1][1..9]);
    assert_ne!(rounds[1][1..9], rounds[2][1..9]);
    assert_ne!(rounds[0][1..9], rounds[2][1..9]);
}

#[test]
fn hex_placeholders_and_braces_that_are_not_placeholders() {
    let got = recorded(&["send", "{hex:0102}x{\"a\":1}{foo}"], b"");
    assert_eq!(got, b"\x01\x02x{\"a\":1}{foo}");
    // --no-escapes: the exact characters, no placeholders.
    let got = recorded(&["send", "--no-escapes", "{counter}\\n"], b"");
    assert_eq!(got, b"{counter}\\n");
}

#[test]
fn time_and_unix_placeholders() {
    let got = text(&recorded(&["send", "{time} {unix}"], b""));
    let (time, unix) = got.split_once(' ').expect("two fields");
    assert_eq!(time.len(), 12, "{got}");
    assert!(
        time.as_bytes()[2] == b':' && time.as_bytes()[8] == b'.',
        "{got}"
    );
    assert!(
        unix.parse::<u64>().is_ok_and(|s| s > 1_700_000_000),
        "{got}"
    );
}

/// Each bad input: exit 2 with a message that says what was wrong and what was expected,
/// before anything connects (the witness sees no connection at all).
#[test]
fn bad_checksums_and_templates_exit_2_and_send_nothing() {
    let w = Witness::new();
    let addr = w.addr();
    let cases: [(&[&str], &[&str]); 10] = [
        (
            &["--checksum", "crc16", "x"],
            &["unknown algorithm 'crc16'", "expected sum8, xor8, crc8"],
        ),
        (
            &["--checksum", "crc32:xx", "x"],
            &["unknown byte order ':xx'", "expected sum8"],
        ),
        (
            &["--checksum", "sum8:le", "x"],
            &["single byte", "expected sum8"],
        ),
        (
            &["{rand:x}"],
            &[
                "bad template",
                "{rand:x} needs a number of bytes",
                "expected placeholders",
            ],
        ),
        (&["{rand:100000}"], &["it makes 1 to 65536"]),
        (
            &["ok", "{hex:zz}"],
            &[
                "{hex:zz} needs pairs of hex digits",
                "expected placeholders",
            ],
        ),
        (&["{rand:4"], &["'{rand:4' is not closed", "expected '}'"]),
        (&["{counter:2}"], &["takes nothing after it"]),
        (&["--repeat", "3", "{hex:1}"], &["{hex:1} needs pairs"]),
        (
            &["--checksum", "crc8", "--file", "/etc/hostname", "x"],
            &["--checksum", "--file", "expected one or the other"],
        ),
    ];
    for (args, needles) in cases {
        let mut full = vec!["send", addr.as_str()];
        full.extend_from_slice(args);
        let out = run(&full, b"");
        usage_error(&out, needles);
        w.assert_untouched();
    }
    // connect and listen refuse a bad checksum before they connect or listen.
    let out = run(&["connect", &addr, "--checksum", "md5"], b"");
    usage_error(&out, &["unknown algorithm 'md5'"]);
    w.assert_untouched();
    let out = run(&["listen", "127.0.0.1:0", "--checksum", "crc64"], b"");
    usage_error(&out, &["unknown algorithm 'crc64'"]);
}
