//! `socklab send`: one shot, for scripts. What goes on the wire is checked by a python peer
//! that prints the hex of everything it received.

use std::process::{Command, Stdio};

use crate::support::*;

/// Start the recording peer, run `socklab send` at it with `args`, return what the peer got
/// and socklab's output.
fn send_to_recorder(args: &[&str]) -> (Vec<u8>, std::process::Output) {
    let mut cmd = Command::new(python3());
    cmd.arg(fixture("peers.py"))
        .arg("record")
        .stdout(Stdio::piped());
    let mut peer = Proc::spawn(cmd, "peers.py record");
    let mut lines = Lines::new(peer.stdout());
    let port = port_in(&lines.wait_for("listening on"));
    let mut full = vec!["send".to_string(), format!("127.0.0.1:{port}")];
    full.extend(args.iter().map(|s| s.to_string()));
    full.extend(["--wait".to_string(), "100ms".to_string()]);
    let refs: Vec<&str> = full.iter().map(|s| s.as_str()).collect();
    let out = run(&refs, b"");
    let hex = lines.rest().pop().unwrap_or_default();
    (unhex(&hex), out)
}

#[test]
fn each_data_goes_out_exactly_after_escapes() {
    let (got, out) = send_to_recorder(&["PING\\r\\n", "a\\tb\\x00\\\\"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(got, b"PING\r\na\tb\x00\\");
}

#[test]
fn no_escapes_sends_backslashes_as_typed() {
    let (got, _) = send_to_recorder(&["--no-escapes", "a\\n"]);
    assert_eq!(got, b"a\\n");
}

#[test]
fn eol_is_added_only_when_asked() {
    let (got, _) = send_to_recorder(&["one", "two", "--eol", "crlf"]);
    assert_eq!(got, b"one\r\ntwo\r\n");
}

#[test]
fn hex_input_in_every_form() {
    let (got, _) = send_to_recorder(&["--hex", "48 65 6c", "6c6f", "0x20,0x21"]);
    assert_eq!(got, b"Hello !");
}

#[test]
fn encodings_on_the_wire() {
    let (got, _) = send_to_recorder(&["-e", "gbk", "你好啊"]);
    assert_eq!(got, [0xc4, 0xe3, 0xba, 0xc3, 0xb0, 0xa1]);
    let (got, _) = send_to_recorder(&["-e", "utf-16le", "hi\\n"]);
    assert_eq!(got, [b'h', 0, b'i', 0, b'\n', 0]);
    let (got, _) = send_to_recorder(&["-e", "big5", "中文"]);
    assert_eq!(got, [0xa4, 0xa4, 0xa4, 0xe5]);
    let (got, _) = send_to_recorder(&["-e", "shift_jis", "テスト"]);
    assert_eq!(got, [0x83, 0x65, 0x83, 0x58, 0x83, 0x67]);
}

#[test]
fn repeat_sends_n_rounds() {
    let (got, out) = send_to_recorder(&["--repeat", "3", "--interval", "10ms", "ab"]);
    assert!(out.status.success());
    assert_eq!(got, b"ababab");
}

/// A peer that hangs up before everything was sent fails the script: exit 1 and how much
/// went out, never a quiet success with data left behind.
#[test]
fn a_peer_that_closes_early_fails_the_send() {
    let mut cmd = Command::new(python3());
    cmd.arg(fixture("peers.py"))
        .args(["read-close", "4"])
        .stdout(Stdio::piped());
    let mut peer = Proc::spawn(cmd, "peers.py read-close");
    let mut lines = Lines::new(peer.stdout());
    let port = port_in(&lines.wait_for("listening on"));
    let out = run(
        &[
            "send",
            &format!("127.0.0.1:{port}"),
            "--repeat",
            "3",
            "--interval",
            "300ms",
            "one\\n",
        ],
        b"",
    );
    assert_eq!(
        lines.rest().pop().as_deref(),
        Some("6f6e650a"),
        "the first round"
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("of 12 bytes were sent"), "{err}");
}

/// A peer that answers and hangs up at once can do both before our writer has counted the
/// bytes it answered; the count at close must include them, or a send that went through
/// would be reported as cut short (this once failed about one run in 150).
#[test]
fn a_peer_that_answers_and_hangs_up_at_once_has_had_every_byte() {
    const RUNS: usize = 150;
    let mut cmd = Command::new(python3());
    cmd.arg(fixture("peers.py"))
        .args(["answer-close", &RUNS.to_string()])
        .stdout(Stdio::piped());
    let mut peer = Proc::spawn(cmd, "peers.py answer-close");
    let port = port_in(&Lines::new(peer.stdout()).wait_for("listening on"));
    for run_no in 1..=RUNS {
        let out = run(&["send", &format!("127.0.0.1:{port}"), "hello?"], b"");
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(
            out.status.success() && stdout.contains("thank you !"),
            "run {run_no}: {stdout}{stderr}"
        );
    }
}

#[test]
fn file_sends_every_byte() {
    let dir = TempDir::new("file");
    let path = dir.path("payload.bin");
    let data = random_bytes(300_000, 5);
    std::fs::write(&path, &data).unwrap();
    let (got, out) = send_to_recorder(&["--file", path.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(got.len(), data.len());
    assert!(got == data, "file content differs");
    // Each piece's event says it is a piece of the file, and the pieces add up to it.
    let sent: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["event"] == "sent")
        .collect();
    assert!(!sent.is_empty());
    assert!(sent.iter().all(|e| e["file"] == true), "{sent:?}");
    let total: u64 = sent.iter().filter_map(|e| e["len"].as_u64()).sum();
    assert_eq!(total, data.len() as u64);
}

#[test]
fn redis_answers_ping() {
    require("redis-server", "redis-server");
    let port = free_port();
    let mut cmd = Command::new("redis-server");
    cmd.args([
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ])
    .stdout(Stdio::piped());
    let mut redis = Proc::spawn(cmd, "redis-server");
    Lines::new(redis.stdout()).wait_for("Ready to accept connections");
    let out = run(
        &[
            "send",
            &format!("127.0.0.1:{port}"),
            "PING\\r\\n",
            // Generous: the silence must outlast the reply even on a loaded CI machine.
            "--wait",
            "2s",
        ],
        b"",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Piped stdout: the raw reply, nothing else.
    assert_eq!(text(&out.stdout), "+PONG\r\n");
    let out = run(
        &[
            "send",
            &format!("127.0.0.1:{port}"),
            "SET k 你好\\r\\nGET k\\r\\n",
            "--show",
            "text",
            "--wait",
            "2s",
        ],
        b"",
    );
    let shown = text(&out.stdout);
    assert!(shown.contains("← +OK\\x0d"), "{shown}");
    assert!(shown.contains("你好"), "{shown}");
}

#[test]
fn send_waits_for_silence_then_exits_0() {
    // An echo server that never closes: send must end by itself after --wait.
    let (_srv, _lines, port) = socklab_server(&["--echo"]);
    let out = run(
        &[
            "send",
            &format!("127.0.0.1:{port}"),
            "hi",
            // Generous, as above: the echo comes from another process on a busy machine.
            "--wait",
            "2s",
        ],
        b"",
    );
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "hi");
}

#[test]
fn bind_picks_the_local_address() {
    let (_srv, mut lines, port) = socklab_server(&[]);
    let out = run(
        &[
            "send",
            &format!("127.0.0.1:{port}"),
            "from .2\\n",
            "--bind",
            "127.0.0.2:0",
            "--wait",
            "100ms",
        ],
        b"",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let line = lines.wait_for("← from .2");
    assert!(line.contains(" 127.0.0.2:"), "{line}");
}
