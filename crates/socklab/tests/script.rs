//! `connect --script FILE`: send / expect / wait steps over one connection, against a python
//! server with a login handshake (tests/login_peer.py), and scripts that do not parse.
//!
//! No sleeps: the peer says when it listens, and the exit of socklab is the end of a run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// The login server in `mode`, once it listens.
fn login_peer(mode: &str) -> (Proc, Lines, u16) {
    let mut cmd = Command::new(python3());
    cmd.arg(fixture("login_peer.py"))
        .arg(mode)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut p = Proc::spawn(cmd, "login_peer.py");
    let mut lines = Lines::new(p.stdout());
    let port = port_in(&lines.wait_for("listening on"));
    (p, lines, port)
}

fn script(dir: &TempDir, text: &str) -> PathBuf {
    let path = dir.path("login.script");
    std::fs::write(&path, text).expect("write the script");
    path
}

fn connect(port: u16, script: &Path, extra: &[&str]) -> Output {
    let addr = format!("127.0.0.1:{port}");
    let path = script.to_str().expect("utf-8 temp path");
    let mut args = vec!["connect", addr.as_str(), "--script", path];
    args.extend(extra);
    run(&args, b"")
}

const LOGIN: &str = "\
# log in, then use the echo
timeout 10s
expect re:^WELCOME (\\w+)\\r\\n
send LOGIN admin secret\\r\\n
expect OK\\r\\n
send ping {counter}\\n      # the second send: {counter} is 2
expect echo: ping 2
wait 50ms
close
";

#[test]
fn a_login_script_passes_when_every_expect_matches() {
    let dir = TempDir::new("script-pass");
    let path = script(&dir, LOGIN);
    let (_peer, mut lines, port) = login_peer("good");
    let out = connect(port, &path, &[]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(stdout.contains("WELCOME socklab"), "{stdout}");
    assert!(
        stdout.contains("* step 1/7 expect \"re:^WELCOME (\\w+)\\r\\n\": matched after"),
        "{stdout}"
    );
    assert!(
        stdout.contains("* step 2/7 send \"LOGIN admin secret\\r\\n\": sent 20 bytes"),
        "{stdout}"
    );
    assert!(
        stdout.contains("* step 7/7 close: the peer closed"),
        "{stdout}"
    );
    lines.wait_for("got LOGIN admin secret");
    lines.wait_for("got ping 2");
    lines.wait_for("done");
}

#[test]
fn json_has_one_step_event_per_step() {
    let dir = TempDir::new("script-json");
    let path = script(&dir, LOGIN);
    let (_peer, _lines, port) = login_peer("good");
    let out = connect(port, &path, &["--json"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    let steps: Vec<_> = text(&out.stdout)
        .lines()
        .map(event)
        .filter(|e| e["event"] == "step")
        .collect();
    assert_eq!(steps.len(), 7, "{steps:?}");
    for (i, s) in steps.iter().enumerate() {
        assert_eq!(s["index"], i + 1);
        assert_eq!(s["total"], 7);
        assert_eq!(s["ok"], true, "{s}");
        assert!(s["ms"].is_u64(), "{s}");
    }
    assert_eq!(steps[0]["kind"], "expect");
    assert_eq!(steps[0]["line"], 3);
    assert_eq!(steps[0]["matched"], "WELCOME socklab\r\n");
    assert_eq!(steps[1]["kind"], "send");
    assert_eq!(steps[1]["len"], 20);
    assert_eq!(steps[5]["kind"], "wait");
    assert_eq!(steps[6]["kind"], "close");
}

#[test]
fn a_wrong_answer_exits_3_naming_the_step_and_what_came() {
    let dir = TempDir::new("script-wrong");
    // Wrong password: the server says DENIED where the script expects OK.
    let path = script(
        &dir,
        "timeout 2s\nexpect WELCOME socklab\\r\\n\nsend LOGIN admin nope\\r\\n\nexpect OK\\r\\n\nsend never sent\\n\n",
    );
    let (_peer, mut lines, port) = login_peer("good");
    let started = Instant::now();
    let out = connect(port, &path, &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "stderr: {stderr}");
    assert!(
        stderr.contains("step 3/4 (line 4) expect \"OK\\r\\n\" failed"),
        "{stderr}"
    );
    assert!(stderr.contains("no match within 2s"), "{stderr}");
    assert!(
        stderr.contains("received instead: \"DENIED\\r\\n\""),
        "{stderr}"
    );
    // It gave up at its timeout, and the step after it never ran.
    assert!(started.elapsed() >= Duration::from_secs(2));
    lines.wait_for("got LOGIN admin nope");
    let rest = lines.rest();
    assert!(!rest.iter().any(|l| l.contains("never sent")), "{rest:?}");
}

#[test]
fn a_silent_peer_fails_the_expect_after_its_timeout_not_later() {
    let dir = TempDir::new("script-silent");
    let path = script(
        &dir,
        "expect WELCOME socklab\\r\\n\nsend LOGIN admin secret\\n\nexpect 1s OK\n",
    );
    let (_peer, mut lines, port) = login_peer("silent");
    let started = Instant::now();
    let out = connect(port, &path, &["--json"]);
    let took = started.elapsed();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "stderr: {stderr}");
    assert!(
        stderr.contains("step 3/3 (line 3) expect \"OK\" failed"),
        "{stderr}"
    );
    assert!(stderr.contains("no match within 1s"), "{stderr}");
    assert!(took >= Duration::from_secs(1), "{took:?}");
    assert!(took < Duration::from_secs(15), "{took:?}");
    let failed: Vec<_> = text(&out.stdout)
        .lines()
        .map(event)
        .filter(|e| e["event"] == "step" && e["ok"] == false)
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["line"], 3);
    assert_eq!(failed[0]["received"], "");
    // socklab closed the connection when it gave up: the silent peer saw it go.
    lines.wait_for("done");
}

#[test]
fn a_peer_that_closes_early_fails_the_expect_at_once() {
    let dir = TempDir::new("script-close");
    let path = script(
        &dir,
        "expect WELCOME\nsend LOGIN admin secret\\n\nexpect 30s OK\n",
    );
    let (_peer, _lines, port) = login_peer("close");
    let started = Instant::now();
    let out = connect(port, &path, &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "stderr: {stderr}");
    assert!(
        stderr.contains("step 3/3 (line 3) expect \"OK\" failed"),
        "{stderr}"
    );
    assert!(
        stderr.contains("the peer closed the connection first"),
        "{stderr}"
    );
    // Not the 30 s of its timeout: a closed connection will never match.
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[test]
fn a_refused_connection_exits_1() {
    let dir = TempDir::new("script-refused");
    let path = script(&dir, "expect OK\n");
    let refused = RefusedPort::new();
    let out = connect(refused.port, &path, &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.contains(&format!("127.0.0.1:{}", refused.port)),
        "{stderr}"
    );
}

#[test]
fn scripts_that_do_not_parse_exit_2_before_connecting() {
    let dir = TempDir::new("script-bad");
    let w = Witness::new();
    let cases = [
        ("send hello\n  frob x\n", ":2:3:", "unknown step 'frob'"),
        ("send a\nwait 3x\n", ":2:6:", "bad duration '3x'"),
        ("expect re:(unclosed\n", ":1:8:", "bad regular expression"),
        ("send hex:0 1 2\n", ":1:6:", "bad hex"),
    ];
    for (i, (text, at, why)) in cases.into_iter().enumerate() {
        let path = dir.path(&format!("bad{i}.script"));
        std::fs::write(&path, text).expect("write");
        let path = path.to_str().expect("utf-8 path");
        let out = run(&["connect", &w.addr(), "--script", path], b"");
        usage_error(&out, &[&format!("bad script {path}{at}"), why, "expected"]);
    }
    let missing = dir.path("missing.script");
    let missing = missing.to_str().expect("utf-8 path");
    let out = run(&["connect", &w.addr(), "--script", missing], b"");
    usage_error(&out, &[missing]);
    w.assert_untouched();
}
