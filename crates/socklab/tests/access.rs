//! Access control on `listen`: `--allow`/`--deny` with real clients bound to different
//! loopback source addresses (127.0.0.2, 127.0.0.3 ... all reach a 127.0.0.1 server on
//! Linux), IPv6 on ::1, UDP senders, `--idle-timeout`, and bad ranges that exit 2 before
//! anything listens.
//!
//! Readiness comes from the server's events ("listening", "connected", "received"); a
//! refused client's data is proven absent by order: an allowed client's later data arrives
//! and the refused one's never came before it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::*;

/// `socklab listen ENDPOINT ARGS --json`, once it listens: the process, its events and the
/// port.
fn server(endpoint: &str, args: &[&str]) -> (Proc, Lines, u16) {
    let mut cmd = socklab();
    cmd.args(["listen", endpoint, "--json"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut p = Proc::spawn(cmd, "socklab listen");
    let mut lines = Lines::new(p.stdout());
    let listening = next(&mut lines, "listening");
    let addr = listening["addr"].as_str().expect("addr").to_string();
    (p, lines, port_in(&addr))
}

fn v4(port: u16) -> SocketAddr {
    SocketAddr::new(ip("127.0.0.1"), port)
}

fn v6(port: u16) -> SocketAddr {
    SocketAddr::new(ip("::1"), port)
}

/// A refused client: its connection ends without a byte from the server (a reset counts:
/// the server closed with our data unread).
fn assert_closed_without_data(mut s: TcpStream) {
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    assert!(buf.is_empty(), "a refused client got {buf:?}");
}

/// Nothing a refused client sent appears in any event seen.
fn assert_never_shown(lines: &Lines, secret: &str) {
    for l in &lines.seen {
        assert!(!l.contains(secret), "refused data was shown: {l}");
    }
}

/// Echo round trip for an allowed client.
fn echo(s: &mut TcpStream, text: &str) {
    s.write_all(text.as_bytes()).expect("write");
    assert_eq!(read_n(s, text.len()), text.as_bytes());
}

#[test]
fn deny_wins_over_allow_and_the_refusal_says_why() {
    let (_srv, mut lines, port) = server(
        "127.0.0.1:0",
        &["--echo", "--allow", "127.0.0.0/8", "--deny", "127.0.0.3"],
    );
    let mut two = client_from("127.0.0.2", v4(port));
    echo(&mut two, "hello from two\n");
    let connected = next(&mut lines, "connected");
    assert!(
        connected["addr"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.2:"),
        "{connected}"
    );

    let mut three = client_from("127.0.0.3", v4(port));
    let _ = three.write_all(b"secret from three\n");
    let rejected = next(&mut lines, "rejected");
    assert!(
        rejected["addr"].as_str().unwrap().starts_with("127.0.0.3:"),
        "{rejected}"
    );
    assert_eq!(
        rejected["reason"], "127.0.0.3 is denied by --deny 127.0.0.3/32",
        "{rejected}"
    );
    assert_closed_without_data(three);

    // The allowed client goes on; by the time its next line is shown, anything of the
    // refused one's would have been.
    echo(&mut two, "still here\n");
    lines.wait_for("still here");
    assert_never_shown(&lines, "secret");
    assert_eq!(all(&lines, "connected").len(), 1, "{:?}", lines.seen);
}

#[test]
fn allow_lets_in_only_its_ranges_on_a_dual_stack_listener() {
    // A bare port listens on [::] for IPv4 too: IPv4 clients arrive as ::ffff:127.0.0.x
    // and must still match the IPv4 range.
    let (_srv, mut lines, port) =
        server("0", &["--echo", "--allow", "127.0.0.2", "--allow", "::1"]);
    let mut two = client_from("127.0.0.2", v4(port));
    echo(&mut two, "v4 allowed\n");
    let c = next(&mut lines, "connected");
    assert!(c["addr"].as_str().unwrap().starts_with("127.0.0.2:"), "{c}");

    let mut six = client_from("::1", v6(port));
    echo(&mut six, "v6 allowed\n");
    let c = next(&mut lines, "connected");
    assert!(c["addr"].as_str().unwrap().starts_with("[::1]:"), "{c}");

    let mut four = client_from("127.0.0.4", v4(port));
    let _ = four.write_all(b"secret from four\n");
    let rejected = next(&mut lines, "rejected");
    assert_eq!(
        rejected["reason"], "127.0.0.4 is not in any --allow range (127.0.0.2/32, ::1/128)",
        "{rejected}"
    );
    assert_closed_without_data(four);
    echo(&mut two, "after four\n");
    lines.wait_for("after four");
    assert_never_shown(&lines, "secret");
}

#[test]
fn ipv6_deny_refuses_loopback_and_the_text_view_says_why() {
    let mut cmd = socklab();
    cmd.args(["listen", "[::1]:0", "--show", "text", "--deny", "::1/128"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut p = Proc::spawn(cmd, "socklab listen [::1]:0");
    let mut lines = Lines::new(p.stdout());
    let port = port_in(&lines.wait_for("listening on"));
    let mut c = client_from("::1", v6(port));
    let _ = c.write_all(b"secret over v6\n");
    let line = lines.wait_for("refused");
    assert!(line.contains("::1 is denied by --deny ::1/128"), "{line}");
    assert_closed_without_data(c);
    assert_never_shown(&lines, "secret");
}

#[test]
fn udp_drops_refused_senders_and_reports_each_once() {
    let (_srv, mut lines, port) = server("udp://127.0.0.1:0", &["--echo", "--allow", "127.0.0.2"]);
    let refused = UdpSocket::bind("127.0.0.3:0").expect("bind 127.0.0.3");
    for n in 0..3 {
        refused
            .send_to(format!("secret {n}").as_bytes(), v4(port))
            .expect("send");
    }
    // A second port of the same host is the same refused source: still one report.
    let refused_too = UdpSocket::bind("127.0.0.3:0").expect("bind 127.0.0.3");
    refused_too.send_to(b"secret 3", v4(port)).expect("send");

    let allowed = UdpSocket::bind("127.0.0.2:0").expect("bind 127.0.0.2");
    allowed
        .set_read_timeout(Some(DEADLINE))
        .expect("read timeout");
    allowed.send_to(b"let me in", v4(port)).expect("send");
    let mut buf = [0u8; 64];
    let (n, _) = allowed.recv_from(&mut buf).expect("the echo");
    assert_eq!(&buf[..n], b"let me in");
    // One socket, datagrams in order: everything 127.0.0.3 sent was handled before this.
    lines.wait_for("\"event\":\"sent\"");
    let rejected = all(&lines, "rejected");
    assert_eq!(rejected.len(), 1, "{:?}", lines.seen);
    assert_eq!(
        rejected[0]["reason"], "127.0.0.3 is not in any --allow range (127.0.0.2/32)",
        "{rejected:?}"
    );
    assert_eq!(all(&lines, "connected").len(), 1, "{:?}", lines.seen);
    // The refused sender got nothing back.
    refused
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("read timeout");
    assert!(
        refused.recv_from(&mut buf).is_err(),
        "a refused sender got an answer"
    );
    assert_never_shown(&lines, "secret");
}

#[test]
fn idle_timeout_closes_a_silent_client_but_not_a_talking_one() {
    // Generous against a loaded 2-core machine: the talker would have to stall for 1.5s
    // between two round trips to be taken for idle.
    let limit = Duration::from_millis(1500);
    let (_srv, mut lines, port) = server("127.0.0.1:0", &["--echo", "--idle-timeout", "1500ms"]);
    // Taken before the silent client connects: its idle time cannot have started earlier,
    // so a close sooner than this says the timeout was not waited for.
    let started = Instant::now();
    let silent = client(port);
    let first = next(&mut lines, "connected");
    let mut talker = client(port);
    let second = next(&mut lines, "connected");

    // The talker keeps data moving well inside the limit; the pacing is the point of the
    // test, not a synchronisation: every round trip is checked.
    let talk = std::thread::spawn(move || {
        let mut rounds = 0;
        while started.elapsed() < limit * 2 {
            talker
                .write_all(b"tick\n")
                .map_err(|e| format!("round {rounds}: {e}"))?;
            let mut got = [0u8; 5];
            talker
                .read_exact(&mut got)
                .map_err(|e| format!("round {rounds} at {:?}: {e}", started.elapsed()))?;
            rounds += 1;
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok::<_, String>((talker, rounds))
    });

    let closed = next(&mut lines, "closed");
    assert_eq!(closed["peer"], first["peer"], "{closed}");
    assert_eq!(closed["reason"], "idle_timeout", "{closed}");
    assert!(started.elapsed() >= limit, "closed too early: {closed}");
    assert_closed_without_data(silent);

    let (mut talker, rounds) = match talk.join().expect("the talker") {
        Ok(done) => done,
        Err(e) => {
            panic!(
                "the talker was cut off: {e}; server saw:\n{}",
                lines.seen.join("\n")
            )
        }
    };
    assert!(rounds > 3, "only {rounds} rounds");
    echo(&mut talker, "still open\n");
    lines.wait_for("still open");
    let closed = all(&lines, "closed");
    assert!(
        closed.iter().all(|c| c["peer"] != second["peer"]),
        "the talking client was closed: {closed:?}"
    );
}

#[test]
fn idle_timeout_forgets_a_silent_udp_sender() {
    let (_srv, mut lines, port) = server("udp://127.0.0.1:0", &["--idle-timeout", "300ms"]);
    let sender = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sender.send_to(b"one", v4(port)).expect("send");
    let first = next(&mut lines, "connected");
    let closed = next(&mut lines, "closed");
    assert_eq!(closed["peer"], first["peer"], "{closed}");
    assert_eq!(closed["reason"], "idle_timeout", "{closed}");
    // Heard again, it is a new peer.
    sender.send_to(b"two", v4(port)).expect("send");
    let again = next(&mut lines, "connected");
    assert_ne!(again["peer"], first["peer"], "{again}");
    assert_eq!(again["addr"], first["addr"], "{again}");
}

#[test]
fn bad_ranges_exit_2_before_anything_listens() {
    let port = free_port().to_string();
    let at = format!("127.0.0.1:{port}");
    for (args, needles) in [
        (
            &["--allow", "10.0.0.0/33"][..],
            &["--allow", "10.0.0.0/33", "more than 32", "expected"][..],
        ),
        (
            &["--deny", "10.0.0.300"],
            &["--deny", "'10.0.0.300' is not an IPv4 or IPv6 address"],
        ),
        (&["--allow", "::/129"], &["more than 128"]),
        (&["--allow", "10.0.0.0/255.0.255.0"], &["not contiguous"]),
        (
            &["--idle-timeout", "0s"],
            &["--idle-timeout", "more than 0"],
        ),
    ] {
        let mut all_args = vec!["listen", at.as_str()];
        all_args.extend_from_slice(args);
        let out = run(&all_args, b"");
        usage_error(&out, needles);
    }
    // usage_error saw an empty stdout: no `listening` line, so nothing was bound; and the
    // port is free for anyone to take.
    std::net::TcpListener::bind(&at).expect("the port is still free");
}

#[test]
fn ranges_on_a_unix_socket_are_a_usage_error_and_no_file_is_made() {
    let dir = TempDir::new("access-unix");
    let path = dir.path("s.sock");
    let endpoint = format!("unix:{}", path.display());
    let out = run(&["listen", &endpoint, "--allow", "127.0.0.1"], b"");
    usage_error(&out, &["--allow", "no IP address to check"]);
    assert!(!path.exists(), "the socket was bound");
}

#[test]
fn tls_refuses_before_the_handshake() {
    let (_srv, mut lines, port) = server("tls://127.0.0.1:0", &["--deny", "127.0.0.3"]);
    // A plain TCP client: were the handshake attempted, it would fail with a TLS error
    // instead of this refusal.
    let mut three = client_from("127.0.0.3", v4(port));
    let _ = three.write_all(b"secret, not a ClientHello\n");
    let rejected = next(&mut lines, "rejected");
    assert_eq!(
        rejected["reason"], "127.0.0.3 is denied by --deny 127.0.0.3/32",
        "{rejected}"
    );
    assert_closed_without_data(three);
    assert!(all(&lines, "error").is_empty(), "{:?}", lines.seen);
}

#[test]
fn once_in_a_pipe_still_applies_the_rules() {
    // `--once` with stdout piped is the raw splice pipe, which knows no rules; with rules
    // it must go through the session and still refuse.
    let mut cmd = socklab();
    cmd.args([
        "listen",
        "127.0.0.1:0",
        "--once",
        "-v",
        "--deny",
        "127.0.0.3",
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut p = Proc::spawn(cmd, "socklab listen --once");
    let out = p.stdout();
    let mut err = Lines::new(p.stderr());
    let port = port_in(&err.wait_for("listening on"));
    let mut three = client_from("127.0.0.3", v4(port));
    let _ = three.write_all(b"secret\n");
    let refused = err.wait_for("refused");
    assert!(
        refused.contains("denied by --deny 127.0.0.3/32"),
        "{refused}"
    );
    assert_closed_without_data(three);
    let mut two = client_from("127.0.0.2", v4(port));
    two.write_all(b"the data\n").expect("write");
    drop(two);
    let mut got = Vec::new();
    let mut out = out;
    out.read_to_end(&mut got).expect("stdout");
    assert_eq!(text(&got), "the data\n");
    assert!(p.wait().success());
}

#[test]
fn idle_timeout_closes_a_silent_unix_client() {
    let dir = TempDir::new("access-idle-unix");
    let path = dir.path("idle.sock");
    let endpoint = format!("unix:{}", path.display());
    let mut cmd = socklab();
    cmd.args(["listen", &endpoint, "--json", "--idle-timeout", "300ms"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut p = Proc::spawn(cmd, "socklab listen unix:");
    let mut lines = Lines::new(p.stdout());
    next(&mut lines, "listening");
    let mut c = std::os::unix::net::UnixStream::connect(&path).expect("connect");
    c.set_read_timeout(Some(DEADLINE)).expect("timeout");
    next(&mut lines, "connected");
    let closed = next(&mut lines, "closed");
    assert_eq!(closed["reason"], "idle_timeout", "{closed}");
    let mut buf = Vec::new();
    let _ = c.read_to_end(&mut buf);
    assert!(buf.is_empty(), "{buf:?}");
}
