//! Unix sockets: `unix:PATH` streams with socat, ncat -U and python as the other end, the
//! abstract namespace, `unixgram:` datagrams, and the socket-file rules of `listen` (stale
//! files replaced, live ones and non-sockets refused, our own removed on exit and Ctrl-C).

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::*;

const SIZE: usize = 64 * 1024 * 1024;

fn same(what: &str, got: &[u8], want: &[u8]) {
    assert!(
        got == want,
        "{what}: received {} bytes, sent {}; first difference at {:?}",
        got.len(),
        want.len(),
        got.iter().zip(want).position(|(a, b)| a != b)
    );
}

fn python() -> std::path::PathBuf {
    require("python3", "python3")
}

/// `socklab listen ARGS` with stderr and stdout captured, once it says it listens.
fn listening(args: &[&str]) -> (Proc, Lines, Lines) {
    let mut cmd = socklab();
    cmd.arg("listen")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut p = Proc::spawn(cmd, "socklab listen");
    let out = Lines::new(p.stdout());
    let err = Lines::new(p.stderr());
    (p, out, err)
}

fn interrupt(p: &Proc) {
    let status = Command::new("kill")
        .args(["-INT", &p.child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -INT failed");
}

#[test]
fn stream_64mib_each_way_with_socat() {
    let socat = require("socat", "socat");
    let dir = TempDir::new("unix-bulk");
    let data = random_bytes(SIZE, 21);

    // socklab → socat: socat listens and writes what it gets to stdout.
    let up = dir.path("up.sock");
    let mut cmd = Command::new(&socat);
    cmd.args(["-d", "-d", "-u"])
        .arg(format!("UNIX-LISTEN:{}", up.display()))
        .arg("STDOUT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut peer = Proc::spawn(cmd, "socat UNIX-LISTEN");
    Lines::new(peer.stderr()).wait_for("listening on");
    let mut peer_out = peer.stdout();
    let reader = std::thread::spawn(move || {
        let mut got = Vec::with_capacity(SIZE);
        peer_out.read_to_end(&mut got).expect("read socat");
        got
    });
    let out = run(&["connect", &format!("unix:{}", up.display())], &data);
    assert!(out.status.success(), "socklab: {}", text(&out.stderr));
    same("socklab → socat", &reader.join().expect("reader"), &data);

    // socat → socklab listen --once: the raw pipe of a Unix server.
    let down = dir.path("down.sock");
    let mut cmd = socklab();
    cmd.args(["listen", "--once", "-v"])
        .arg(format!("unix:{}", down.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut server = Proc::spawn(cmd, "socklab listen --once unix:");
    let mut err = Lines::new(server.stderr());
    err.wait_for("listening on unix:");
    let mut server_out = server.stdout();
    let reader = std::thread::spawn(move || {
        let mut got = Vec::with_capacity(SIZE);
        server_out.read_to_end(&mut got).expect("read socklab");
        got
    });
    let mut cmd = Command::new(&socat);
    cmd.args(["-u", "STDIN"])
        .arg(format!("UNIX-CONNECT:{}", down.display()))
        .stdin(Stdio::piped())
        .stdout(Stdio::null());
    let mut sender = Proc::spawn(cmd, "socat UNIX-CONNECT");
    let mut input = sender.stdin();
    let payload = data.clone();
    let writer = std::thread::spawn(move || input.write_all(&payload).expect("feed socat"));
    writer.join().expect("writer");
    assert!(sender.wait().success());
    assert!(server.wait().success());
    same("socat → socklab", &reader.join().expect("reader"), &data);
    assert!(
        !down.exists(),
        "socklab removes its socket file when it exits"
    );
}

#[test]
fn ncat_client_is_shown_with_its_credentials_and_echoed() {
    let ncat = require("ncat", "ncat");
    let dir = TempDir::new("unix-ncat");
    let path = dir.path("echo.sock");
    let (mut server, mut out, _err) = listening(&[
        "--echo",
        "--show",
        "text",
        &format!("unix:{}", path.display()),
    ]);
    out.wait_for("listening on unix:");
    let mut cmd = Command::new(ncat);
    cmd.arg("-U")
        .arg(&path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut client = Proc::spawn(cmd, "ncat -U");
    let pid = client.child.id();
    let mut client_in = client.stdin();
    client_in
        .write_all("你好 unix\n".as_bytes())
        .expect("write");
    let mut echoed = Lines::new(client.stdout());
    echoed.wait_for("你好 unix");
    let connected = out.wait_for("connected");
    assert!(
        connected.contains(&format!("pid {pid}")),
        "the client's pid from SO_PEERCRED: {connected}"
    );
    out.wait_for("← 你好 unix");
    drop(client_in);
    out.wait_for("closed by peer");
    interrupt(&server);
    server.wait();
    assert!(!path.exists(), "the socket file is removed on Ctrl-C");
}

#[test]
fn listen_replaces_a_stale_socket_but_never_a_live_one_or_a_file() {
    let dir = TempDir::new("unix-stale");
    let path = dir.path("s.sock");
    let ep = format!("unix:{}", path.display());
    // A stale socket: bound by a process that is gone.
    let made = Command::new(python())
        .arg("-c")
        .arg("import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])")
        .arg(&path)
        .status()
        .expect("python");
    assert!(made.success() && path.exists());
    let (mut first, mut out, _err) = listening(&["--show", "text", &ep]);
    out.wait_for("removed the stale socket file");
    out.wait_for("listening on unix:");

    // Live now: a second server must refuse it (a network-side failure, exit 1).
    let second = run(&["listen", &ep], b"");
    assert_eq!(second.status.code(), Some(1), "{}", text(&second.stderr));
    assert!(text(&second.stderr).contains("another program is listening"));
    interrupt(&first);
    first.wait();
    assert!(!path.exists());

    // A regular file is never replaced.
    std::fs::write(&path, b"precious").expect("write file");
    let out = run(&["listen", &ep], b"");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("is not a socket"));
    assert_eq!(std::fs::read(&path).expect("read"), b"precious");
}

#[test]
fn a_path_too_long_for_sun_path_is_a_usage_error() {
    let long = format!("unix:/tmp/{}", "d".repeat(110));
    for args in [
        vec!["listen", long.as_str()],
        vec!["connect", long.as_str()],
        vec!["send", long.as_str(), "x"],
    ] {
        let out = run(&args, b"");
        usage_error(&out, &["more than the 107 bytes"]);
    }
    assert!(!Path::new(&long["unix:".len()..]).exists());
}

#[test]
fn abstract_names_work_without_a_file() {
    let name = format!("socklab-test-{}", std::process::id());
    let (mut server, mut out, _err) =
        listening(&["--echo", "--show", "text", &format!("unix:@{name}")]);
    out.wait_for(&format!("listening on unix:@{name}"));
    let py = "import socket,sys\n\
s=socket.socket(socket.AF_UNIX); s.connect('\\0'+sys.argv[1]); s.sendall(b'ping'); s.shutdown(socket.SHUT_WR)\n\
got=b''\n\
while True:\n  b=s.recv(100)\n  if not b: break\n  got+=b\n\
print(got.decode())";
    let reply = Command::new(python())
        .args(["-c", py, &name])
        .output()
        .expect("python");
    assert_eq!(
        text(&reply.stdout).trim(),
        "ping",
        "{}",
        text(&reply.stderr)
    );
    out.wait_for("← ping");
    interrupt(&server);
    server.wait();
}

fn json(lines: &[String]) -> Vec<serde_json::Value> {
    lines
        .iter()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn unixgram_server_keeps_datagram_boundaries_and_reports_truncation() {
    let dir = TempDir::new("unixgram");
    let path = dir.path("g.sock");
    let (mut server, mut out, _err) =
        listening(&["--json", "--echo", &format!("unixgram:{}", path.display())]);
    out.wait_for("\"listening\"");
    // 100 datagrams of sizes 1..=100, then one larger than socklab's 64 KiB buffer; each
    // echo is awaited, so the sender never outruns the receiver.
    let client = dir.path("c.sock");
    let py = "import socket,sys\n\
s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[2]); s.settimeout(20)\n\
for n in range(1,101):\n  s.sendto(bytes([n])*n, sys.argv[1]); assert s.recv(1000)==bytes([n])*n\n\
s.sendto(b'z'*100000, sys.argv[1]); print(len(s.recv(200000)))";
    let done = Command::new(python())
        .args(["-c", py])
        .arg(&path)
        .arg(&client)
        .output()
        .expect("python");
    assert!(done.status.success(), "python: {}", text(&done.stderr));
    assert_eq!(text(&done.stdout).trim(), "65536");
    let last = out.wait_for("\"truncated\"");
    let v: serde_json::Value = serde_json::from_str(&last).expect("json");
    assert_eq!(v["len"], 65536);
    assert_eq!(v["truncated"], 100000);
    interrupt(&server);
    server.wait();
    out.rest();
    let sizes: Vec<u64> = json(&out.seen)
        .iter()
        .filter(|e| e["event"] == "received")
        .map(|e| e["len"].as_u64().unwrap_or(0))
        .collect();
    let want: Vec<u64> = (1..=100).chain([65536]).collect();
    assert_eq!(sizes, want, "one event per datagram, sizes kept");
    assert!(!path.exists());
}

#[test]
fn unixgram_send_gets_each_reply() {
    let dir = TempDir::new("unixgram-send");
    let path = dir.path("srv.sock");
    let py = "import socket,sys\n\
s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); print('ready', flush=True)\n\
for _ in range(2):\n  d,a=s.recvfrom(1000); s.sendto(d.upper(), a)";
    let mut cmd = Command::new(python());
    cmd.args(["-c", py])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut peer = Proc::spawn(cmd, "python unixgram server");
    Lines::new(peer.stdout()).wait_for("ready");
    let out = run(
        &[
            "send",
            &format!("unixgram:{}", path.display()),
            "one",
            "two",
            "--show",
            "text",
        ],
        b"",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains("← [3 bytes] ONE"), "{shown}");
    assert!(shown.contains("← [3 bytes] TWO"), "{shown}");
    assert!(peer.wait().success());
}
