//! How received data is shown: text (streaming decode), hex (hexdump -C), both, JSON, the
//! log file, timestamps.

use std::process::{Command, Stdio};

use crate::support::*;

fn dribble(enc: &str, text_: &str, args: &[&str]) -> String {
    let mut cmd = Command::new(python3());
    cmd.arg(fixture("peers.py"))
        .args(["dribble", enc, text_])
        .stdout(Stdio::piped());
    let mut peer = Proc::spawn(cmd, "peers.py dribble");
    let port = port_in(&Lines::new(peer.stdout()).wait_for("listening on"));
    // --no-shutdown: our stdin is empty, and a half-close line would cut the text in two.
    let mut full = vec![
        "connect".to_string(),
        format!("127.0.0.1:{port}"),
        "--no-shutdown".to_string(),
    ];
    full.extend(args.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = full.iter().map(|s| s.as_str()).collect();
    let out = run(&refs, b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn text_dribbled_one_byte_at_a_time_shows_whole() {
    let shown = dribble("gbk", "你好啊，世界\n", &["-e", "gbk", "--show", "text"]);
    assert!(shown.contains("← 你好啊，世界\n"), "{shown}");
    assert!(!shown.contains('\u{fffd}'), "{shown}");
    let shown = dribble("utf-8", "héllo 世界\n", &["--show", "text"]);
    assert!(shown.contains("← héllo 世界\n"), "{shown}");
}

#[test]
fn auto_detects_gbk() {
    let shown = dribble(
        "gbk",
        "服务器已经收到你的信息，谢谢\n",
        &["-e", "auto", "--show", "text"],
    );
    assert!(shown.contains("服务器已经收到你的信息"), "{shown}");
    assert!(shown.contains("detected encoding gbk"), "{shown}");
}

#[test]
fn json_events_carry_hex_and_text() {
    let shown = dribble("gbk", "你好", &["-e", "gbk", "--json"]);
    let events: Vec<serde_json::Value> = shown
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"connecting"));
    assert!(kinds.contains(&"connected"));
    assert_eq!(kinds.last(), Some(&"closed"));
    let received: Vec<&serde_json::Value> =
        events.iter().filter(|e| e["event"] == "received").collect();
    let hex: String = received
        .iter()
        .map(|e| e["hex"].as_str().unwrap())
        .collect();
    let text_: String = received
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert_eq!(hex, "c4e3bac3");
    assert_eq!(text_, "你好");
    for e in &received {
        assert_eq!(e["peer"], 1);
        assert!(e["addr"].as_str().unwrap().starts_with("127.0.0.1:"));
        assert!(e["len"].as_u64().unwrap() >= 1);
        assert!(e["time"].as_str().unwrap().contains('T'));
    }
    let closed = events.last().unwrap();
    assert_eq!(closed["reason"], "peer_closed");
    assert_eq!(closed["bytes_in"], 4);
}

#[test]
fn log_file_gets_the_same_events_as_json() {
    let dir = TempDir::new("log");
    let log = dir.path("events.jsonl");
    let shown = dribble("utf-8", "ab", &["--json", "--log", log.to_str().unwrap()]);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert_eq!(logged, shown);
    // Appended, not replaced.
    dribble(
        "utf-8",
        "cd",
        &["--show", "raw", "--log", log.to_str().unwrap()],
    );
    let again = std::fs::read_to_string(&log).unwrap();
    assert!(again.starts_with(&logged) && again.len() > logged.len());
}

#[test]
fn hex_view_is_hexdump_c() {
    require("hexdump", "bsdextrautils");
    // One chunk: the whole message arrives in one read, so one dump.
    let (_srv, mut lines, port) = socklab_server(&["--show", "hex"]);
    let payload = b"Hello, world! \x00\x01\x02\xff tail";
    let mut c = client(port);
    std::io::Write::write_all(&mut c, payload).unwrap();
    lines.wait_for(&format!("← {} bytes", payload.len()));
    let first = lines.wait_for("00000000");
    let second = lines.wait_for("00000010");
    let mut hd = Command::new("hexdump")
        .arg("-C")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut hd.stdin.take().unwrap(), payload).unwrap();
    let want = text(&hd.wait_with_output().unwrap().stdout);
    let want: Vec<&str> = want.lines().collect();
    assert_eq!(first, want[0]);
    assert_eq!(second, want[1]);
}

#[test]
fn control_bytes_show_as_hex_escapes_in_text() {
    let (_srv, mut lines, port) = socklab_server(&[]);
    let mut c = client(port);
    std::io::Write::write_all(&mut c, b"a\x01b\r\tc\x7f\n").unwrap();
    let line = lines.wait_for("← ");
    assert!(line.ends_with("← a\\x01b\\x0d\tc\\x7f"), "{line:?}");
}

#[test]
fn timestamps_prefix_every_line() {
    let (_srv, mut lines, port) = socklab_server(&["-t"]);
    let mut c = client(port);
    std::io::Write::write_all(&mut c, b"x\n").unwrap();
    let line = lines.wait_for("← x");
    // [HH:MM:SS.mmm]
    let stamp = &line[..14];
    assert!(
        stamp.starts_with('[')
            && stamp.ends_with(']')
            && stamp.as_bytes()[3] == b':'
            && stamp.as_bytes()[9] == b'.',
        "{line:?}"
    );
}
