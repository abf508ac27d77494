//! `--frame` (issue 7): a stream shown as the messages its protocol means, and `--checksum`
//! verified on each received frame.
//!
//! The peer is a python client (tests/frame_peer.py) talking to `socklab listen --echo`. It
//! sends a frame one byte per send and waits for the echo of each byte before the next, so
//! socklab reads every byte on its own: each byte boundary is a real split. The echo is of
//! raw reads, before framing, so it proves the split without depending on what is tested.

use std::process::{Command, Stdio};

use crate::support::*;

/// `socklab listen 127.0.0.1:0 --echo` with `args`; its port once it listens.
fn server(args: &[&str]) -> (Proc, Lines, u16) {
    let mut cmd = socklab();
    cmd.args(["listen", "127.0.0.1:0", "--echo"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut p = Proc::spawn(cmd, "socklab listen");
    let mut lines = Lines::new(p.stdout());
    let port = if args.contains(&"--json") {
        let listening = next(&mut lines, "listening");
        port_in(listening["addr"].as_str().expect("addr"))
    } else {
        port_in(&lines.wait_for("listening on"))
    };
    (p, lines, port)
}

/// Run the python client against `port`; the hex of each step as it sent it.
fn peer(port: u16, steps: &[String]) -> Vec<String> {
    let mut cmd = Command::new(python3());
    cmd.arg(fixture("frame_peer.py"))
        .arg(port.to_string())
        .args(steps)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let out = wait_output(cmd.spawn().expect("spawn frame_peer.py"));
    let stdout = text(&out.stdout);
    assert!(
        out.status.success() && stdout.ends_with("done\n"),
        "frame_peer.py {steps:?}: {stdout}{}",
        text(&out.stderr)
    );
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("sent "))
        .map(str::to_string)
        .collect()
}

/// The received events of the one client, once it has closed: (hex, partial).
fn received(lines: &mut Lines) -> Vec<(String, bool)> {
    next(lines, "closed");
    all(lines, "received")
        .iter()
        .map(|e| {
            (
                e["hex"].as_str().expect("hex").to_string(),
                e["partial"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

fn whole(hex: &str) -> (String, bool) {
    (hex.to_string(), false)
}

fn steps(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn length_prefixed_frames_split_at_every_byte_are_one_message_each() {
    let body300 = hex(&random_bytes(300, 7));
    let cases: [(&str, Vec<String>); 3] = [
        (
            "len:u8",
            vec!["03616263".into(), "00".into(), "050102030405".into()],
        ),
        (
            "len:u16be",
            vec!["0003616263".into(), "0000".into(), format!("012c{body300}")],
        ),
        (
            "len:u32le",
            vec!["03000000616263".into(), format!("2c010000{body300}")],
        ),
    ];
    for (spec, frames) in cases {
        let (_srv, mut lines, port) = server(&["--frame", spec, "--json"]);
        let mut plan: Vec<String> = frames.iter().map(|f| format!("bytes:{f}")).collect();
        // Two whole frames in one read are two messages; then the first bytes of one more,
        // still held when the client closes: a last message marked partial.
        let (two, cut) = match spec {
            "len:u8" => ("01aa02bbcc", "02ff"),
            "len:u16be" => ("0001aa0002bbcc", "0002ff"),
            _ => ("01000000aa02000000bbcc", "02000000ff"),
        };
        plan.push(format!("burst:{two}"));
        plan.push(format!("bytes:{cut}"));
        peer(port, &plan);
        let got = received(&mut lines);
        let mut want: Vec<(String, bool)> = frames.iter().map(|f| whole(f)).collect();
        let split = match spec {
            "len:u8" => ["01aa", "02bbcc"],
            "len:u16be" => ["0001aa", "0002bbcc"],
            _ => ["01000000aa", "02000000bbcc"],
        };
        want.extend(split.iter().map(|f| whole(f)));
        want.push((cut.to_string(), true));
        assert_eq!(got, want, "{spec}");
    }
}

/// A framing spec, what the peer sends, and the frames expected (hex, partial).
type Case<'a> = (&'a str, &'a [&'a str], &'a [(&'a str, bool)]);

#[test]
fn line_crlf_delim_and_fixed_frames() {
    let cases: [Case; 4] = [
        (
            "line",
            // ab\n cd\n one byte at a time; e\nf\n in one read; "tail" with no newline.
            &["bytes:61620a63640a", "burst:650a660a", "bytes:7461696c"],
            &[
                ("61620a", false),
                ("63640a", false),
                ("650a", false),
                ("660a", false),
                ("7461696c", true),
            ],
        ),
        (
            "crlf",
            // A lone \n is not the end of a crlf frame.
            &["bytes:610d0a620a630d0a"],
            &[("610d0a", false), ("620a630d0a", false)],
        ),
        (
            "delim:03",
            &["bytes:0241420302", "burst:4303"],
            &[("02414203", false), ("024303", false)],
        ),
        (
            "fixed:4",
            &["bytes:6162636465", "burst:666768696a"],
            &[("61626364", false), ("65666768", false), ("696a", true)],
        ),
    ];
    for (spec, plan, want) in cases {
        let (_srv, mut lines, port) = server(&["--frame", spec, "--json"]);
        peer(port, &steps(plan));
        let got = received(&mut lines);
        let want: Vec<(String, bool)> = want.iter().map(|(h, p)| (h.to_string(), *p)).collect();
        assert_eq!(got, want, "{spec}");
    }
    // The text of a frame is the frame's text.
    let (_srv, mut lines, port) = server(&["--frame", "line", "--json"]);
    peer(port, &steps(&["bytes:e4bda0e5a5bd0a"]));
    let ev = next(&mut lines, "received");
    assert_eq!(ev["text"], "你好\n", "{ev}");
}

#[test]
fn the_raw_view_gets_the_same_bytes_with_framing() {
    let mut cmd = socklab();
    cmd.args([
        "listen",
        "127.0.0.1:0",
        "--once",
        "--echo",
        "--frame",
        "len:u8",
        "--show",
        "raw",
        "-v",
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut p = Proc::spawn(cmd, "socklab listen --show raw");
    let mut err = Lines::new(p.stderr());
    let port = port_in(&err.wait_for("listening on"));
    let out = p.stdout();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        let _ = std::io::Read::read_to_end(&mut { out }, &mut all);
        all
    });
    let sent = peer(
        port,
        &steps(&["bytes:0261620163", "burst:0378797a0041", "bytes:05ff"]),
    );
    assert_eq!(p.wait().code(), Some(0));
    let got = reader.join().expect("reader");
    assert_eq!(hex(&got), sent.concat());
}

#[test]
fn checksums_of_received_frames_are_verified() {
    // Modbus RTU requests: 6 bytes and a CRC, so fixed:8. The python peer computes the CRC
    // itself and corrupts the second frame's.
    let (_srv, mut lines, port) =
        server(&["--frame", "fixed:8", "--checksum", "crc16-modbus", "--json"]);
    let sent = peer(
        port,
        &steps(&[
            "modbus:01030000000a",
            "badmodbus:01030000000a",
            "modbus:010300010001",
        ]),
    );
    next(&mut lines, "closed");
    let got = all(&lines, "received");
    assert_eq!(got.len(), 3, "{got:?}");
    let good_crc = &sent[0][12..];
    assert_eq!(good_crc, "c5cd", "the catalogue's example frame");
    let c = &got[0]["checksum"];
    assert_eq!(c["algorithm"], "crc16-modbus", "{c}");
    assert_eq!(c["ok"], true, "{c}");
    assert_eq!(c["expected"], good_crc, "{c}");
    assert_eq!(c["got"], good_crc, "{c}");
    let c = &got[1]["checksum"];
    assert_eq!(c["ok"], false, "{c}");
    assert_eq!(c["expected"], good_crc, "{c}");
    assert_eq!(c["got"], &sent[1][12..], "{c}");
    assert_eq!(got[2]["checksum"]["ok"], true);

    // The text view marks each frame.
    let (_srv, mut lines, port) = server(&[
        "--frame",
        "fixed:8",
        "--checksum",
        "crc16-modbus",
        "--show",
        "hex",
    ]);
    let sent = peer(
        port,
        &steps(&["modbus:01030000000a", "badmodbus:01030000000a"]),
    );
    let ok = lines.wait_for("✓");
    assert!(ok.contains("8 bytes ✓ crc16-modbus"), "{ok}");
    let bad = lines.wait_for("✗");
    assert!(
        bad.contains(&format!(
            "✗ crc16-modbus: expected c5cd, got {}",
            &sent[1][12..]
        )),
        "{bad}"
    );
}

#[test]
fn a_crc32_inside_a_length_prefixed_frame_covers_the_length_field() {
    // len:u8-4: the length counts the body, not the CRC-32 after it.
    let (_srv, mut lines, port) = server(&["--frame", "len:u8-4", "--checksum", "crc32", "--json"]);
    let sent = peer(port, &steps(&["crc32:03616263"]));
    next(&mut lines, "closed");
    let got = all(&lines, "received");
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["hex"], sent[0]);
    assert_eq!(got[0]["checksum"]["ok"], true, "{}", got[0]);
}

#[test]
fn connect_frames_what_comes_back() {
    let mut cmd = Command::new(python3());
    cmd.arg(fixture("peers.py"))
        .args(["dribble", "utf-8", "one\ntwo\nthree"])
        .stdout(Stdio::piped());
    let mut p = Proc::spawn(cmd, "peers.py dribble");
    let mut lines = Lines::new(p.stdout());
    let port = port_in(&lines.wait_for("listening on"));
    let addr = format!("127.0.0.1:{port}");
    // Nothing is sent (the dribbling peer never reads, and closing on unread data would
    // be a reset); --no-shutdown keeps our side open until the peer's close ends it.
    let out = run(
        &[
            "connect",
            &addr,
            "--no-shutdown",
            "--frame",
            "line",
            "--json",
        ],
        b"",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let got: Vec<(String, bool)> = stdout
        .lines()
        .map(event)
        .filter(|e| e["event"] == "received")
        .map(|e| {
            (
                e["text"].as_str().unwrap_or_default().to_string(),
                e["partial"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("one\n".to_string(), false),
            ("two\n".to_string(), false),
            ("three".to_string(), true)
        ]
    );
}

#[test]
fn bad_frame_specs_exit_2_before_connecting_or_listening() {
    let witness = Witness::new();
    for (spec, why) in [
        ("lines", "unknown framing 'lines'"),
        ("len:u24", "unknown length field 'u24'"),
        ("delim:zz", "is not hex"),
        ("fixed:0", "not a number from 1"),
    ] {
        let out = run(&["connect", &witness.addr(), "--frame", spec], b"");
        usage_error(&out, &[why, "expected raw, line, crlf, delim:HEX"]);
        let out = run(&["send", &witness.addr(), "--frame", spec, "x"], b"");
        usage_error(&out, &[why]);
        // The witness holds the port: had listen tried to bind first, it would have
        // failed with "address in use" and exit 1 instead.
        let out = run(&["listen", &witness.addr(), "--frame", spec], b"");
        usage_error(&out, &[why]);
    }
    witness.assert_untouched();
}
