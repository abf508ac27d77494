//! `listen --broker` with many python clients: what one sends, every other one gets exactly
//! once; the console sees it all; a client that stops reading loses data instead of
//! stalling the rest, and is told how much.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::*;

/// What broker_peer.py's talking client sends in the slow test: 16 MiB, more than the
/// broker queues for a client plus what the kernel buffers on loopback.
const SLOW_BYTES: u64 = 16 << 20;

const PEER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/broker_peer.py");

/// `socklab listen --broker --json` on a free port, once it listens.
fn broker() -> (Proc, Lines, u16) {
    let mut cmd = socklab();
    cmd.args(["listen", "127.0.0.1:0", "--broker", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut p = Proc::spawn(cmd, "socklab listen --broker");
    let mut lines = Lines::new(p.stdout());
    let listening = next(&mut lines, "listening");
    let port = port_in(listening["addr"].as_str().expect("addr"));
    (p, lines, port)
}

fn peer(port: u16, args: &[&str]) -> (Proc, Lines) {
    let mut cmd = Command::new(python3());
    cmd.arg(PEER)
        .arg(port.to_string())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut p = Proc::spawn(cmd, "broker_peer.py");
    let lines = Lines::new(p.stdout());
    (p, lines)
}

fn say(p: &mut Proc, line: &str) {
    let stdin = p.child.stdin.as_mut().expect("python's stdin");
    writeln!(stdin, "{line}").expect("write to python");
    stdin.flush().expect("flush");
}

/// Until socklab has reported `n` connected clients: only then are they all in the broker,
/// so that none misses a line sent before it joined.
fn wait_connected(lines: &mut Lines, n: usize) {
    for _ in 0..n {
        next(lines, "connected");
    }
}

#[test]
fn two_hundred_clients_each_hear_the_others_exactly_once() {
    let (_server, mut console, port) = broker();
    let (mut clients, mut out) = peer(port, &["200", "20"]);
    out.wait_for("connected 200");
    wait_connected(&mut console, 200);
    say(&mut clients, "go");
    let verdict = out.wait_for(" ");
    // 20 senders: 180 clients hear 20 lines, the 20 senders hear 19 each.
    assert_eq!(verdict, format!("ok {}", 180 * 20 + 20 * 19), "{verdict}");
    assert!(clients.wait().success());

    // The console saw every line once, from its sender (and END).
    for _ in 0..21 {
        next(&mut console, "received");
    }
    let received = all(&console, "received");
    for k in 0..20 {
        let line = format!("hello from {k}\n");
        let from: Vec<_> = received
            .iter()
            .filter(|e| e["text"] == line.as_str())
            .collect();
        assert_eq!(from.len(), 1, "{line:?} seen {} times", from.len());
        assert_eq!(
            from[0]["peer"],
            k + 1,
            "{line:?} came from client #{}",
            k + 1
        );
    }
    // Forwarded data is counted, not shown again as sent by the console.
    assert!(all(&console, "sent").is_empty());
}

#[test]
fn a_client_that_stops_reading_loses_data_instead_of_stalling_the_others() {
    let (_server, mut console, port) = broker();
    let (mut clients, mut out) = peer(port, &["slow"]);
    out.wait_for("connected 2");
    wait_connected(&mut console, 2);
    say(&mut clients, "go");
    // Client #2 sends 16 MiB that #1 does not read: once more than the broker queues for #1
    // is waiting, the rest is dropped for it and the console says so.
    let warning = next(&mut console, "warning");
    assert!(
        warning["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("client #1 is not reading")),
        "{warning}"
    );
    // #2 was never held up: socklab reads all of it.
    let (mut from_2, mut upto) = (0u64, 0);
    loop {
        // 16 MiB of events, as hex and text: read the two fields by hand rather than
        // parse megabytes of JSON in a debug build.
        for line in &console.seen[upto..] {
            if line.contains("\"event\":\"received\",\"peer\":2,") {
                from_2 += json_number(line, "len");
            }
        }
        upto = console.seen.len();
        if from_2 >= SLOW_BYTES {
            break;
        }
        console.wait_for("\"event\":\"received\"");
    }
    assert_eq!(from_2, SLOW_BYTES);
    out.wait_for("sent");
    say(&mut clients, "read");
    let notice = next(&mut console, "notice");
    let message = notice["message"].as_str().expect("message");
    let dropped: u64 = message
        .strip_prefix("client #1 reads again; ")
        .and_then(|m| m.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{message}"));
    say(&mut clients, "after");
    let verdict = out.wait_for("ok ");
    let delivered: u64 = verdict[3..].parse().expect("a byte count");
    // Every byte meant for #1 was either delivered or counted as dropped.
    assert_eq!(delivered + dropped, SLOW_BYTES, "{verdict}; {message}");
    assert!(dropped > 0 && delivered > 0, "{verdict}; {message}");
    assert!(clients.wait().success());
}

#[test]
fn broker_is_refused_where_it_cannot_apply() {
    let out = run(&["listen", "udp://127.0.0.1:0", "--broker"], b"");
    usage_error(&out, &["--broker joins stream clients", "expected"]);
    let out = run(&["listen", "127.0.0.1:0", "--broker", "--once"], b"");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--once"),
        "{}",
        text(&out.stderr)
    );
}

/// The number after `"name":` in one line of JSON.
fn json_number(line: &str, name: &str) -> u64 {
    let key = format!("\"{name}\":");
    line.split_once(&key)
        .and_then(|(_, rest)| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .unwrap_or_else(|| panic!("no {name} in {}", &line[..line.len().min(200)]))
}
