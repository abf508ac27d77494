//! `connect --reconnect [DUR]`: the client session outlives its connections. Against a
//! python server that drops its first client (tests/reconnect_peer.py), and a refused
//! port that starts listening later. Readiness comes from printed lines, not sleeps.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Stdio;

use crate::support::*;

/// `socklab connect` with `--json`, stdin and stdout piped.
fn connect(port: u16, extra: &[&str]) -> (Proc, Lines) {
    let mut cmd = socklab();
    cmd.arg("connect")
        .arg(format!("127.0.0.1:{port}"))
        .args(["--json"])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut p = Proc::spawn(cmd, "socklab connect");
    let lines = Lines::new(p.stdout());
    (p, lines)
}

#[test]
fn a_dropped_connection_is_reconnected_as_the_same_peer_with_its_counts() {
    let (_server, mut peer, port) = reconnect_peer();

    let (mut client, mut lines) = connect(port, &["--reconnect=100ms"]);
    let mut stdin = client.stdin();
    let first = next(&mut lines, "connected");
    stdin.write_all(b"one\n").expect("write");
    peer.wait_for("first got one");

    let attempt = next(&mut lines, "reconnecting");
    assert_eq!(attempt["attempt"], 1, "{attempt}");
    assert_eq!(attempt["delay_ms"], 100, "{attempt}");
    assert!(
        attempt["reason"]
            .as_str()
            .is_some_and(|r| r.contains("closed by peer")),
        "{attempt}"
    );
    let second = next(&mut lines, "connected");
    assert_eq!(first["peer"], 1);
    assert_eq!(second["peer"], 1, "the same peer after reconnecting");

    stdin.write_all(b"two\n").expect("write");
    peer.wait_for("second got two");
    let echo = next(&mut lines, "received");
    assert_eq!(echo["text"], "echo: two\n", "{echo}");

    // Our own end of input: the peer closes after it, and that is not reconnected.
    drop(stdin);
    peer.wait_for("done");
    assert!(client.wait().success());
    lines.rest();
    let closed = all(&lines, "closed");
    assert_eq!(closed.len(), 2, "{closed:?}");
    assert_eq!(
        (
            closed[0]["bytes_in"].as_u64(),
            closed[0]["bytes_out"].as_u64()
        ),
        (Some(0), Some(4))
    );
    // The last count covers both connections: 4 + 4 bytes out, the 10-byte echo in.
    assert_eq!(
        (
            closed[1]["bytes_in"].as_u64(),
            closed[1]["bytes_out"].as_u64()
        ),
        (Some(10), Some(8))
    );
    assert_eq!(all(&lines, "reconnecting").len(), 1);
}

#[test]
fn a_refused_port_is_retried_with_backoff_until_a_server_listens() {
    let refused = RefusedPort::new();
    let port = refused.port;
    let (mut client, mut lines) = connect(port, &["--reconnect=100ms"]);
    let stdin = client.stdin();
    let one = next(&mut lines, "reconnecting");
    let two = next(&mut lines, "reconnecting");
    assert_eq!(
        (one["attempt"].as_u64(), one["delay_ms"].as_u64()),
        (Some(1), Some(100))
    );
    assert_eq!(
        (two["attempt"].as_u64(), two["delay_ms"].as_u64()),
        (Some(2), Some(200))
    );
    assert!(
        one["reason"]
            .as_str()
            .is_some_and(|r| r.contains(&format!("127.0.0.1:{port}"))),
        "{one}"
    );

    // Now something listens there: the next attempt connects.
    drop(refused);
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the refused port");
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().expect("accept");
        let mut got = Vec::new();
        let _ = s.read_to_end(&mut got);
        got
    });
    let up = next(&mut lines, "connected");
    assert_eq!(up["peer"], 1);
    drop(stdin);
    assert!(client.wait().success());
    assert_eq!(server.join().expect("server thread"), b"");
}

#[test]
fn reconnect_is_refused_for_datagrams() {
    let out = run(&["connect", "udp://127.0.0.1:9", "--reconnect"], b"");
    usage_error(&out, &["--reconnect", "udp", "expected"]);
    let out = run(&["connect", "127.0.0.1:9", "--reconnect", "soon"], b"");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn ending_while_still_refused_exits_1_with_the_failure() {
    let refused = RefusedPort::new();
    let addr = format!("127.0.0.1:{}", refused.port);
    // Empty stdin: our end of input comes while the session waits to retry.
    let out = run(
        &["connect", &addr, "--reconnect=100ms", "--show", "text"],
        b"",
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains(&addr), "{stderr}");
    assert!(text(&out.stdout).contains("reconnecting in 100ms (attempt 1)"));
}

/// `--reconnect` written before the endpoint, with and without a DUR: the endpoint is never
/// read as a duration.
#[test]
fn reconnect_before_the_endpoint_with_or_without_a_dur() {
    let refused = RefusedPort::new();
    let addr = format!("127.0.0.1:{}", refused.port);
    for (args, first) in [
        (vec!["--reconnect", &addr], "reconnecting in 1s (attempt 1)"),
        (
            vec!["--reconnect", "150ms", &addr],
            "reconnecting in 150ms (attempt 1)",
        ),
        (
            vec!["--reconnect", "-v", &addr],
            "reconnecting in 1s (attempt 1)",
        ),
    ] {
        let mut argv = vec!["connect"];
        argv.extend(args.iter().copied());
        argv.extend(["--show", "text"]);
        let out = run(&argv, b"");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{argv:?}: {stderr}");
        assert!(stderr.contains(&addr), "{argv:?}: {stderr}");
        assert!(
            text(&out.stdout).contains(first),
            "{argv:?}: {}",
            text(&out.stdout)
        );
    }
}

/// A certificate we refuse will not change by waiting: `--reconnect` gives up at once with
/// exit 1 and the reason, instead of retrying it forever (stdin stays open, so nothing
/// else ends the session).
#[test]
fn a_refused_certificate_is_not_retried() {
    let mut server = socklab();
    server
        .args(["listen", "tls://127.0.0.1:0", "--show", "text"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut server = Proc::spawn(server, "socklab listen tls://");
    let _server_stdin = server.stdin();
    let port = port_in(&Lines::new(server.stdout()).wait_for("listening on tls "));

    let mut cmd = socklab();
    cmd.args(["connect", &format!("tls://127.0.0.1:{port}")])
        .args(["--reconnect=100ms", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut client = Proc::spawn(cmd, "socklab connect --reconnect tls://");
    let _stdin = client.stdin();
    let mut out = Lines::new(client.stdout());
    let mut err = Lines::new(client.stderr());
    let status = client.wait();
    assert_eq!(status.code(), Some(1), "{:?}", err.rest());
    let said = err.rest().join("\n");
    assert!(
        said.contains("TLS handshake") && said.contains("not signed by a CA we trust"),
        "{said}"
    );
    let events = out.rest();
    assert!(
        !events.iter().any(|e| e.contains("\"reconnecting\"")),
        "{events:?}"
    );
}
