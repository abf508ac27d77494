//! Byte-exact bulk transfer through socklab's raw pipe, with ncat, socat and OpenBSD nc as
//! the other end, in each direction; half-close semantics.

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use crate::support::*;

const SIZE: usize = 64 * 1024 * 1024;

fn assert_same(what: &str, got: &[u8], want: &[u8]) {
    if got != want {
        let at = got.iter().zip(want).position(|(a, b)| a != b);
        panic!(
            "{what}: received {} bytes, sent {}; first difference at {:?}",
            got.len(),
            want.len(),
            at
        );
    }
}

/// A peer that listens and writes what it receives to stdout; readiness from its stderr.
fn receiver(tool: &str) -> (Proc, u16) {
    let port = free_port();
    let mut cmd = match tool {
        "ncat" => {
            require("ncat", "ncat");
            let mut c = Command::new("ncat");
            c.args(["-v", "-l", "127.0.0.1", &port.to_string()]);
            c
        }
        "socat" => {
            require("socat", "socat");
            let mut c = Command::new("socat");
            c.args(["-d", "-d", "-u"])
                .arg(format!("TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr"))
                .arg("STDOUT");
            c
        }
        "nc" => {
            require("nc", "netcat-openbsd");
            let mut c = Command::new("nc");
            c.args(["-v", "-l", "127.0.0.1", &port.to_string()]);
            c
        }
        _ => unreachable!(),
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut p = Proc::spawn(cmd, tool);
    let mut err = Lines::new(p.stderr());
    err.wait_for("istening on");
    (p, port)
}

fn upload_to(tool: &str) {
    let data = random_bytes(SIZE, 7);
    let (mut peer, port) = receiver(tool);
    let mut peer_out = peer.stdout();
    let reader = std::thread::spawn(move || {
        let mut got = Vec::with_capacity(SIZE);
        peer_out.read_to_end(&mut got).expect("read peer stdout");
        got
    });
    let out = run(&["connect", &format!("127.0.0.1:{port}")], &data);
    assert!(out.status.success(), "socklab: {}", text(&out.stderr));
    let got = reader.join().expect("reader thread");
    assert_same(&format!("socklab → {tool}"), &got, &data);
}

/// The peer connects to `socklab listen --once` and sends; socklab's stdout must carry
/// every byte. socklab's own stdin is empty, so it half-closes at once: the transfer the
/// other way must still arrive whole.
fn download_from(tool: &str) {
    let data = random_bytes(SIZE, 11);
    let mut cmd = socklab();
    cmd.args(["listen", "--once", "-v", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut server = Proc::spawn(cmd, "socklab listen --once");
    let mut err = Lines::new(server.stderr());
    let port = port_in(&err.wait_for("listening on"));
    let mut out = server.stdout();
    let reader = std::thread::spawn(move || {
        let mut got = Vec::with_capacity(SIZE);
        out.read_to_end(&mut got).expect("read socklab stdout");
        got
    });
    let mut cmd = match tool {
        "ncat" => {
            require("ncat", "ncat");
            let mut c = Command::new("ncat");
            c.args(["--send-only", "127.0.0.1", &port.to_string()]);
            c
        }
        "socat" => {
            require("socat", "socat");
            let mut c = Command::new("socat");
            c.args(["-u", "STDIN"]).arg(format!("TCP:127.0.0.1:{port}"));
            c
        }
        "nc" => {
            require("nc", "netcat-openbsd");
            let mut c = Command::new("nc");
            c.args(["-N", "127.0.0.1", &port.to_string()]);
            c
        }
        _ => unreachable!(),
    };
    cmd.stdin(Stdio::piped()).stdout(Stdio::null());
    let mut sender = Proc::spawn(cmd, tool);
    let mut input = sender.stdin();
    let payload = data.clone();
    let writer = std::thread::spawn(move || {
        input.write_all(&payload).expect("feed peer");
    });
    writer.join().expect("writer");
    let got = reader.join().expect("reader");
    assert_same(&format!("{tool} → socklab"), &got, &data);
    assert!(server.wait().success());
    sender.wait();
}

#[test]
fn upload_64mib_to_ncat() {
    upload_to("ncat");
}

#[test]
fn upload_64mib_to_socat() {
    upload_to("socat");
}

#[test]
fn upload_64mib_to_nc() {
    upload_to("nc");
}

#[test]
fn download_64mib_from_ncat() {
    download_from("ncat");
}

#[test]
fn download_64mib_from_socat() {
    download_from("socat");
}

#[test]
fn download_64mib_from_nc() {
    download_from("nc");
}

/// Download through `connect`: the peer listens and sends; socklab's stdout is the data.
#[test]
fn connect_downloads_64mib_from_socat() {
    require("socat", "socat");
    let data = random_bytes(SIZE, 13);
    let dir = TempDir::new("dl");
    let file = dir.path("data.bin");
    std::fs::write(&file, &data).unwrap();
    let port = free_port();
    let mut cmd = Command::new("socat");
    cmd.args(["-d", "-d", "-u"])
        .arg(format!("FILE:{}", file.display()))
        .arg(format!("TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr"))
        .stderr(Stdio::piped());
    let mut peer = Proc::spawn(cmd, "socat");
    Lines::new(peer.stderr()).wait_for("listening on");
    let mut cmd = socklab();
    cmd.args(["connect", &format!("127.0.0.1:{port}")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().expect("spawn");
    let out = wait_output(child);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_same("socat → socklab connect", &out.stdout, &data);
}

/// socklab on both ends, through a file on stdin (sendfile) and a pipe on stdout.
#[test]
fn socklab_to_socklab_64mib_from_a_file() {
    let data = random_bytes(SIZE, 17);
    let dir = TempDir::new("s2s");
    let file = dir.path("data.bin");
    std::fs::write(&file, &data).unwrap();
    let mut cmd = socklab();
    cmd.args(["listen", "--once", "-v", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut server = Proc::spawn(cmd, "socklab listen");
    let port = port_in(&Lines::new(server.stderr()).wait_for("listening on"));
    let mut out = server.stdout();
    let reader = std::thread::spawn(move || {
        let mut got = Vec::new();
        out.read_to_end(&mut got).expect("read");
        got
    });
    let status = socklab()
        .args(["connect", &format!("127.0.0.1:{port}")])
        .stdin(std::fs::File::open(&file).unwrap())
        .stdout(Stdio::null())
        .status()
        .expect("run socklab connect");
    assert!(status.success());
    assert_same("socklab → socklab", &reader.join().unwrap(), &data);
}

fn python_peer(args: &[&str]) -> (Proc, Lines, u16) {
    let mut cmd = Command::new(python3());
    cmd.arg(fixture("peers.py"))
        .args(args)
        .stdout(Stdio::piped());
    let mut p = Proc::spawn(cmd, "peers.py");
    let mut lines = Lines::new(p.stdout());
    let port = port_in(&lines.wait_for("listening on"));
    (p, lines, port)
}

#[test]
fn stdin_eof_half_closes_and_the_reply_after_eof_arrives() {
    // Raw pipe.
    let (_peer, _lines, port) = python_peer(&["after-eof"]);
    let out = run(&["connect", &format!("127.0.0.1:{port}")], b"hello world");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "got 11 bytes\n");
    // Through the engine (a view is asked for): the same semantics.
    let (_peer, _lines, port) = python_peer(&["after-eof"]);
    let out = run(
        &["connect", &format!("127.0.0.1:{port}"), "--show", "text"],
        b"hello world",
    );
    let shown = text(&out.stdout);
    assert!(out.status.success(), "{shown}");
    assert!(shown.contains("sending side shut down"), "{shown}");
    assert!(shown.contains("← got 11 bytes"), "{shown}");
}

#[test]
fn no_shutdown_keeps_the_sending_side_open() {
    let (_peer, _lines, port) = python_peer(&["probe-eof", "5"]);
    let out = run(
        &["connect", &format!("127.0.0.1:{port}"), "--no-shutdown"],
        b"hello",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "open\n");
    // And without the flag the peer does see end of stream.
    let (_peer, _lines, port) = python_peer(&["probe-eof", "5"]);
    let out = run(&["connect", &format!("127.0.0.1:{port}")], b"hello");
    assert_eq!(text(&out.stdout), "eof\n");
}

#[test]
fn a_reset_exits_1_and_says_so() {
    let (_peer, _lines, port) = python_peer(&["reset"]);
    let out = run(
        &["connect", &format!("127.0.0.1:{port}"), "--show", "text"],
        b"x",
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("reset"), "{err}");
}

/// The other way round: socklab listen --once sends a file to a client whose stdin is
/// empty (it half-closes at once); the client still gets every byte.
#[test]
fn listen_once_sends_64mib_to_a_client_that_half_closed() {
    let data = random_bytes(SIZE, 19);
    let dir = TempDir::new("lsend");
    let file = dir.path("data.bin");
    std::fs::write(&file, &data).unwrap();
    let mut cmd = socklab();
    cmd.args(["listen", "--once", "-v", "127.0.0.1:0"])
        .stdin(std::fs::File::open(&file).unwrap())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut server = Proc::spawn(cmd, "socklab listen --once");
    let port = port_in(&Lines::new(server.stderr()).wait_for("listening on"));
    let out = run(&["connect", &format!("127.0.0.1:{port}")], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_same("socklab listen → socklab connect", &out.stdout, &data);
    assert!(server.wait().success());
}
