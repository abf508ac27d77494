//! Every bad input named in the issue: exit status 2, a one-line message that says what was
//! wrong and what was expected, and nothing sent (the witness listener saw no connection).
//! Network failures: exit status 1 with the address and the reason.

use std::process::Output;

use crate::support::*;

#[test]
fn bad_hex_sends_nothing() {
    let w = Witness::new();
    for (bad, why) in [
        ("4G", "'G' at column 2"),
        ("486", "odd number of hex digits"),
        ("0x4", "odd number"),
    ] {
        let out = run(&["send", &w.addr(), "--hex", "01 02", bad], b"");
        usage_error(&out, &["bad hex", why, "expected"]);
    }
    w.assert_untouched();
}

#[test]
fn unknown_encoding_sends_nothing() {
    let w = Witness::new();
    let out = run(&["send", &w.addr(), "-e", "klingon", "hi"], b"");
    usage_error(&out, &["unknown encoding 'klingon'", "expected", "gbk"]);
    let out = run(&["connect", &w.addr(), "-e", "nope"], b"");
    usage_error(&out, &["unknown encoding 'nope'"]);
    w.assert_untouched();
}

#[test]
fn unencodable_text_sends_nothing() {
    let w = Witness::new();
    let out = run(&["send", &w.addr(), "-e", "gbk", "ok", "😀"], b"");
    usage_error(&out, &["cannot be encoded in gbk"]);
    w.assert_untouched();
}

#[test]
fn bad_escape_sends_nothing() {
    let w = Witness::new();
    let out = run(&["send", &w.addr(), "fine", "bad\\q"], b"");
    usage_error(&out, &["bad escape", "\\q", "--no-escapes"]);
    let out = run(&["send", &w.addr(), "\\x4G"], b"");
    usage_error(&out, &["bad escape"]);
    w.assert_untouched();
}

#[test]
fn ports_out_of_range() {
    let out = run(&["send", "127.0.0.1:70000", "x"], b"");
    usage_error(&out, &["port 70000 is out of range 1-65535"]);
    let out = run(&["connect", "127.0.0.1:0"], b"");
    usage_error(&out, &["port 0 is only for listen"]);
    let out = run(&["listen", "65536"], b"");
    usage_error(&out, &["out of range 0-65535"]);
}

#[test]
fn malformed_endpoints() {
    for (ep, why) in [
        ("localhost", "no port"),
        ("::1:80", "[::1]:80"),
        ("[::1:80", "not closed"),
        ("ftp://host:21", "unknown scheme"),
        ("7788", "127.0.0.1:7788"),
        ("host:port", "not a number"),
        ("[fe80::1%lo]:80", "'%lo' are not supported"),
    ] {
        let out = run(&["connect", ep], b"");
        usage_error(&out, &[why, "expected"]);
    }
}

#[test]
fn missing_file_sends_nothing() {
    let w = Witness::new();
    let out = run(
        &["send", &w.addr(), "--file", "/nonexistent/firmware.bin"],
        b"",
    );
    usage_error(&out, &["/nonexistent/firmware.bin", "expected"]);
    let out = run(
        &[
            "connect",
            &w.addr(),
            "--file",
            "/nonexistent/x",
            "--show",
            "text",
        ],
        b"",
    );
    usage_error(&out, &["/nonexistent/x"]);
    w.assert_untouched();
}

#[test]
fn options_of_another_transport_are_refused_before_connecting() {
    let w = Witness::new();
    let target = w.addr();
    let out = run(&["send", &target, "x", "--broadcast"], b"");
    usage_error(
        &out,
        &[
            "--broadcast applies only to udp://",
            "expected udp://HOST:PORT",
        ],
    );
    let out = run(&["connect", &target, "--insecure"], b"");
    usage_error(&out, &["--insecure applies only to tls://"]);
    let out = run(&["send", &target, "x", "--ttl", "4"], b"");
    usage_error(&out, &["--ttl applies only to udp://"]);
    w.assert_untouched();
}

fn network_error(out: &Output, needles: &[&str]) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {err}");
    for n in needles {
        assert!(err.contains(n), "{n:?} not in: {err}");
    }
}

#[test]
fn refused_exits_1_with_the_address() {
    let refused = RefusedPort::new();
    let port = refused.port;
    let addr = format!("127.0.0.1:{port}");
    let out = run(&["send", &addr, "x"], b"");
    network_error(&out, &[&addr, "refused"]);
    let out = run(&["connect", &addr], b"");
    network_error(&out, &[&addr, "refused"]);
}

/// `socklab ... 2>&1 | head` after head has gone: the error line has no reader, and the
/// exit status must still say what happened (1), not a panic's 101.
#[test]
fn a_closed_stderr_keeps_the_exit_status() {
    let refused = RefusedPort::new();
    let mut child = socklab()
        .args(["connect", &format!("127.0.0.1:{}", refused.port)])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn socklab");
    // Closed before socklab can have written a line (it has not even connected yet).
    drop(child.stderr.take());
    let out = wait_output(child);
    assert_eq!(out.status.code(), Some(1), "{:?}", out.status);
}

#[test]
fn a_name_that_does_not_resolve_exits_1() {
    // .invalid is reserved (RFC 2606): it never resolves.
    let out = run(&["send", "no-such-host.invalid:80", "x", "-w", "10s"], b"");
    network_error(&out, &["no-such-host.invalid"]);
}

#[test]
fn connect_timeout_exits_1() {
    // A listener whose backlog is full: further SYNs get no answer, on loopback.
    let socket = socket2_listener_backlog_0();
    let port = socket.local_addr().unwrap().port();
    // Fill the queue with connections nobody accepts.
    let mut fillers = Vec::new();
    for _ in 0..8 {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        s.set_nonblocking(true).unwrap();
        let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let _ = s.connect(&addr.into());
        fillers.push(s);
    }
    let out = run(
        &["connect", &format!("127.0.0.1:{port}"), "-w", "300ms"],
        b"",
    );
    network_error(&out, &["timed out after 300ms"]);
}

fn socket2_listener_backlog_0() -> std::net::TcpListener {
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let addr: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    s.bind(&addr.into()).unwrap();
    s.listen(0).unwrap();
    s.into()
}

#[test]
fn port_in_use_exits_1() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = run(&["listen", &addr], b"");
    network_error(&out, &[&addr, "in use"]);
}

#[test]
fn send_needs_something_to_send() {
    let w = Witness::new();
    let out = run(&["send", &w.addr()], b"");
    usage_error(&out, &["nothing to send", "expected DATA"]);
    w.assert_untouched();
}
