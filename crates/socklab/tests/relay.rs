//! `socklab relay LISTEN TARGET` between real peers on loopback: ncat and python3 as
//! clients and targets, byte-exact both ways (sha256 of 64 MiB) for tcp→tcp, tcp→unix and
//! tls→tcp, datagrams exact for udp→udp, and what the view says.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::*;

const SIZE: usize = 64 << 20;

fn ncat() -> std::path::PathBuf {
    require("ncat", "ncat")
}

fn peers(args: &[&str]) -> Command {
    let mut cmd = Command::new(python3());
    cmd.arg(fixture("relay_peers.py")).args(args);
    cmd
}

/// A python peer with its stdout lines; listeners once they say where they listen.
fn peer(args: &[&str]) -> (Proc, Lines) {
    let mut cmd = peers(args);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut p = Proc::spawn(cmd, &format!("relay_peers.py {}", args[0]));
    let lines = Lines::new(p.stdout());
    (p, lines)
}

fn listening_peer(args: &[&str]) -> (Proc, Lines, String) {
    let (p, mut lines) = peer(args);
    let addr = lines
        .wait_for("listening on ")
        .trim()
        .rsplit_once(' ')
        .expect("an address")
        .1
        .to_string();
    (p, lines, addr)
}

/// `socklab relay 127.0.0.1:0 TARGET --json ARGS`, once it listens: its events and port.
fn relay_json(target: &str, args: &[&str]) -> (Proc, Lines, u16) {
    relay_json_on("127.0.0.1:0", target, args)
}

/// `socklab relay LISTEN TARGET --json ARGS`, once it listens on LISTEN's transport.
fn relay_json_on(listen: &str, target: &str, args: &[&str]) -> (Proc, Lines, u16) {
    let mut cmd = socklab();
    cmd.args(["relay", listen, target, "--json"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut p = Proc::spawn(cmd, &format!("socklab relay {listen}"));
    let mut lines = Lines::new(p.stdout());
    let listening = next(&mut lines, "listening");
    let transport = listen.split_once("://").map_or("tcp", |(t, _)| t);
    assert_eq!(listening["transport"], transport, "{listening}");
    let port = port_in(listening["addr"].as_str().expect("addr"));
    (p, lines, port)
}

/// A relay for bulk data: its first line says where it listens, the rest of its output is
/// read and thrown away on a thread (a test must not hold 64 MiB of rendered lines).
fn relay_bulk(listen: &str, target: &str, args: &[&str]) -> (Proc, u16) {
    let mut cmd = socklab();
    cmd.args(["relay", listen, target])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut p = Proc::spawn(cmd, "socklab relay");
    let mut out = BufReader::new(p.stdout());
    let mut line = String::new();
    loop {
        line.clear();
        let n = out.read_line(&mut line).expect("read the relay's output");
        assert!(n > 0, "the relay ended before it listened");
        if line.contains("listening on") {
            break;
        }
    }
    let port = port_in(&line);
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    (p, port)
}

/// "N bytes sha256 HEX" of a file, the form relay_peers.py prints.
fn digest(path: &Path) -> String {
    let out = Command::new(require("sha256sum", "coreutils"))
        .arg(path)
        .output()
        .expect("run sha256sum");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let hex = text(&out.stdout)
        .split_whitespace()
        .next()
        .expect("a digest")
        .to_string();
    let len = std::fs::metadata(path).expect("stat").len();
    format!("{len} bytes sha256 {hex}")
}

fn bulk_file(dir: &TempDir, seed: u64) -> (std::path::PathBuf, String) {
    let path = dir.path("data.bin");
    std::fs::write(&path, random_bytes(SIZE, seed)).expect("write data");
    let d = digest(&path);
    assert!(d.starts_with(&format!("{SIZE} bytes")), "{d}");
    (path, d)
}

/// ncat as the target and as the client, 64 MiB each way through one relay per direction.
fn tcp_to_tcp_both_ways(view: &[&str]) {
    let dir = TempDir::new("relay-tcp");
    let (data, want) = bulk_file(&dir, 71);
    // Upload: ncat client → relay → ncat --recv-only, whose stdout is the file we hash.
    let port = free_port();
    let got = dir.path("up.bin");
    let mut far = Command::new(ncat());
    far.args(["-v", "-l", "127.0.0.1", &port.to_string(), "--recv-only"])
        .stdin(Stdio::null())
        .stdout(File::create(&got).expect("create"))
        .stderr(Stdio::piped());
    let mut far = Proc::spawn(far, "ncat -l --recv-only");
    Lines::new(far.stderr()).wait_for("Listening on");
    let (_relay, rport) = relay_bulk("127.0.0.1:0", &format!("127.0.0.1:{port}"), view);
    let mut client = Command::new(ncat());
    client
        .args(["127.0.0.1", &rport.to_string(), "--send-only"])
        .stdin(File::open(&data).expect("open"))
        .stdout(Stdio::null());
    let mut client = Proc::spawn(client, "ncat --send-only");
    assert!(client.wait().success());
    assert!(far.wait().success());
    assert_eq!(digest(&got), want, "client → target");
    // Download: ncat --send-only as the target, an ncat client writes what it got.
    let port = free_port();
    let mut far = Command::new(ncat());
    far.args(["-v", "-l", "127.0.0.1", &port.to_string(), "--send-only"])
        .stdin(File::open(&data).expect("open"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut far = Proc::spawn(far, "ncat -l --send-only");
    Lines::new(far.stderr()).wait_for("Listening on");
    let (_relay, rport) = relay_bulk("127.0.0.1:0", &format!("127.0.0.1:{port}"), view);
    let got = dir.path("down.bin");
    let mut client = Command::new(ncat());
    client
        .args(["127.0.0.1", &rport.to_string(), "--recv-only"])
        .stdin(Stdio::null())
        .stdout(File::create(&got).expect("create"));
    let mut client = Proc::spawn(client, "ncat --recv-only");
    assert!(client.wait().success());
    assert_eq!(digest(&got), want, "target → client");
}

#[test]
fn tcp_to_tcp_64mib_both_ways_spliced() {
    // No view: the relay splices in the kernel.
    tcp_to_tcp_both_ways(&["--show", "none"]);
}

#[test]
fn tcp_to_tcp_64mib_both_ways_with_the_text_view() {
    tcp_to_tcp_both_ways(&["--show", "text"]);
}

#[test]
fn tcp_to_unix_64mib_both_ways() {
    let dir = TempDir::new("relay-unix");
    let (data, want) = bulk_file(&dir, 72);
    let sock = dir.path("up.sock");
    let sock = sock.to_str().expect("utf-8 path");
    let (_far, mut far_out, _) = listening_peer(&["sink", &format!("unix:{sock}")]);
    let (_relay, rport) = relay_bulk("127.0.0.1:0", &format!("unix:{sock}"), &["--show", "hex"]);
    let (_c, mut c_out) = peer(&["send", &rport.to_string(), data.to_str().expect("path")]);
    c_out.wait_for(&format!("sent {SIZE}"));
    assert_eq!(
        far_out.wait_for("sha256").trim(),
        want,
        "client → unix target"
    );

    let sock = dir.path("down.sock");
    let sock = sock.to_str().expect("utf-8 path");
    let (_far, _, _) = listening_peer(&[
        "source",
        &format!("unix:{sock}"),
        data.to_str().expect("path"),
    ]);
    let (_relay, rport) = relay_bulk("127.0.0.1:0", &format!("unix:{sock}"), &["--show", "none"]);
    let (_c, mut c_out) = peer(&["recv", &rport.to_string()]);
    assert_eq!(
        c_out.wait_for("sha256").trim(),
        want,
        "unix target → client"
    );
}

/// TLS clients (python's ssl) into the relay, plain targets: 64 MiB each way, byte-exact.
/// The client's close_notify reaches the target as its end of stream, and the target's
/// end comes back to the client as a close_notify. Up with the text view, down spliced-off
/// copying (`--show none` cannot splice a TLS side).
#[test]
fn tls_to_tcp_64mib_both_ways() {
    let dir = TempDir::new("relay-tls");
    let (data, want) = bulk_file(&dir, 73);
    let data = data.to_str().expect("utf-8 path");
    let (_far, mut far_out, addr) = listening_peer(&["sink", "127.0.0.1:0"]);
    let (_relay, rport) = relay_bulk("tls://127.0.0.1:0", &addr, &["--show", "text"]);
    let (_c, mut c_out) = peer(&["send", &rport.to_string(), data, "tls"]);
    c_out.wait_for(&format!("sent {SIZE}"));
    assert_eq!(
        far_out.wait_for("sha256").trim(),
        want,
        "TLS client → target"
    );

    let (_far, _, addr) = listening_peer(&["source", "127.0.0.1:0", data]);
    let (_relay, rport) = relay_bulk("tls://127.0.0.1:0", &addr, &["--show", "none"]);
    let (_c, mut c_out) = peer(&["recv", &rport.to_string(), "tls"]);
    assert_eq!(c_out.wait_for("sha256").trim(), want, "target → TLS client");
}

/// ncat --ssl --send-only pushes 64 MiB through a TLS relay and closes without reading:
/// with nothing unread on its socket (no session tickets), every byte reaches the target.
#[test]
fn ncat_ssl_send_only_through_a_tls_relay_loses_nothing() {
    let dir = TempDir::new("relay-ncat-ssl");
    let (data, want) = bulk_file(&dir, 74);
    let (_far, mut far_out, addr) = listening_peer(&["sink", "127.0.0.1:0"]);
    let (_relay, rport) = relay_bulk("tls://127.0.0.1:0", &addr, &["--show", "none"]);
    let mut client = Command::new(ncat());
    client
        .args(["--ssl", "127.0.0.1", &rport.to_string(), "--send-only"])
        .stdin(File::open(&data).expect("open"))
        .stdout(Stdio::null());
    let mut client = Proc::spawn(client, "ncat --ssl --send-only");
    assert!(client.wait().success());
    assert_eq!(
        far_out.wait_for("sha256").trim(),
        want,
        "what the target got"
    );
}

#[test]
fn udp_to_udp_datagrams_exact_in_count_and_content() {
    const N: usize = 200;
    let (_far, mut far_out, addr) = listening_peer(&["udp-echo"]);
    let (_relay, mut lines, port) = relay_json_on(
        "udp://127.0.0.1:0",
        &format!("udp://{addr}"),
        &["--sync-view", "--idle-timeout", "3s"],
    );
    let (_c, mut c_out) = peer(&["udp-send", &port.to_string(), &N.to_string()]);
    c_out.wait_for(&format!("udp ok {N}"));
    // Forgotten after the idle time, with the counts of both directions.
    let closed = next(&mut lines, "closed");
    assert_eq!(closed["reason"], "idle_timeout", "{closed}");
    let relayed = all(&lines, "relayed");
    let up: Vec<&Value> = relayed
        .iter()
        .filter(|e| e["direction"] == "to_target")
        .collect();
    let down: Vec<&Value> = relayed
        .iter()
        .filter(|e| e["direction"] == "to_client")
        .collect();
    assert_eq!(
        (up.len(), down.len()),
        (N, N),
        "one event per datagram each way"
    );
    let total: u64 = up.iter().map(|e| e["len"].as_u64().unwrap()).sum();
    assert_eq!(closed["bytes_in"], total, "{closed}");
    assert_eq!(closed["bytes_out"], total, "{closed}");
    // Every datagram arrived at the target once: the echo peer counted each.
    for _ in 0..N {
        far_out.wait_for("got ");
    }
    let upstream = all(&lines, "upstream");
    assert_eq!(
        upstream.len(),
        1,
        "one socket to the target per client source"
    );
    assert_eq!(upstream[0]["target"], addr.as_str());
}

#[test]
fn json_shows_both_directions_with_ids_and_the_final_counts() {
    let (_far, _, addr) = listening_peer(&["echo"]);
    let (_relay, mut lines, port) = relay_json(&addr, &[]);
    let (_c, mut c_out) = peer(&["chat", &port.to_string(), "alice", "3"]);
    c_out.wait_for("alice ok");
    let closed = next(&mut lines, "closed");
    let connected = all(&lines, "connected");
    assert_eq!(connected.len(), 1);
    let id = connected[0]["peer"].clone();
    assert_eq!(closed["peer"], id, "{closed}");
    let up = all(&lines, "upstream");
    assert_eq!(up[0]["peer"], id);
    assert_eq!(up[0]["target"], addr.as_str());
    let text = |dir: &str| -> String {
        all(&lines, "relayed")
            .iter()
            .filter(|e| e["direction"] == dir)
            .inspect(|e| assert_eq!(e["peer"], id, "{e}"))
            .map(|e| e["text"].as_str().unwrap().to_string())
            .collect()
    };
    let said = "alice 0\nalice 1\nalice 2\n";
    assert_eq!(text("to_target"), said);
    assert_eq!(text("to_client"), said);
    assert_eq!(closed["bytes_in"], said.len(), "{closed}");
    assert_eq!(closed["bytes_out"], said.len(), "{closed}");
    assert_eq!(closed["reason"], "peer_closed", "{closed}");
}

#[test]
fn text_view_marks_each_direction() {
    let (_far, _, addr) = listening_peer(&["echo"]);
    let mut cmd = socklab();
    cmd.args(["relay", "127.0.0.1:0", &addr, "--show", "text"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut relay = Proc::spawn(cmd, "socklab relay");
    let mut lines = Lines::new(relay.stdout());
    let port = port_in(&lines.wait_for("listening on"));
    let (_c, mut c_out) = peer(&["chat", &port.to_string(), "bob", "1"]);
    c_out.wait_for("bob ok");
    assert!(lines.wait_for("c→t").ends_with("c→t bob 0"));
    assert!(lines.wait_for("t→c").ends_with("t→c bob 0"));
    let closed = lines.wait_for("closed by peer");
    assert!(
        closed.contains("client→target 6 bytes, target→client 6 bytes"),
        "{closed}"
    );
}

#[test]
fn a_refusing_target_closes_the_client_and_the_relay_goes_on() {
    let refused = RefusedPort::new();
    let (_relay, mut lines, port) = relay_json(&format!("127.0.0.1:{}", refused.port), &[]);
    for id in 1..=2 {
        let (_c, mut c_out) = peer(&["recv", &port.to_string()]);
        // The client sees its connection end with nothing in it.
        assert_eq!(
            c_out.wait_for("sha256").trim(),
            format!(
                "0 bytes sha256 {}",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
            )
        );
        let closed = next(&mut lines, "closed");
        assert_eq!(closed["peer"], id, "{closed}");
        let why = closed["reason"]["error"].as_str().expect("an error reason");
        assert!(why.contains("refused"), "{why}");
        assert!(why.contains(&refused.port.to_string()), "{why}");
    }
    assert!(all(&lines, "upstream").is_empty());
}

#[test]
fn several_clients_at_once_keep_their_ids_apart() {
    let (_far, _, addr) = listening_peer(&["echo"]);
    let (_relay, mut lines, port) = relay_json(&addr, &["--sync-view"]);
    let names = ["ann", "ben", "cat", "dan"];
    let clients: Vec<(Proc, Lines)> = names
        .iter()
        .map(|n| peer(&["chat", &port.to_string(), n, "20"]))
        .collect();
    for ((_, mut out), n) in clients.into_iter().zip(names) {
        out.wait_for(&format!("{n} ok"));
    }
    for _ in names {
        next(&mut lines, "closed");
    }
    let connected = all(&lines, "connected");
    assert_eq!(connected.len(), names.len());
    for c in connected {
        let id = &c["peer"];
        let mine: Vec<Value> = all(&lines, "relayed")
            .into_iter()
            .filter(|e| &e["peer"] == id)
            .collect();
        let up: String = mine
            .iter()
            .filter(|e| e["direction"] == "to_target")
            .map(|e| e["text"].as_str().unwrap().to_string())
            .collect();
        let down: String = mine
            .iter()
            .filter(|e| e["direction"] == "to_client")
            .map(|e| e["text"].as_str().unwrap().to_string())
            .collect();
        let name = up.split(' ').next().expect("a name").to_string();
        let want: String = (0..20).map(|i| format!("{name} {i}\n")).collect();
        assert_eq!(up, want, "client #{id}");
        assert_eq!(down, want, "client #{id}");
        assert!(mine.iter().all(|e| e["addr"] == c["addr"]), "client #{id}");
    }
}

#[test]
fn drop_100_drops_every_datagram_and_says_so() {
    let (_far, _, addr) = listening_peer(&["udp-echo"]);
    let (_relay, mut lines, port) = relay_json_on(
        "udp://127.0.0.1:0",
        &format!("udp://{addr}"),
        &["--drop", "100"],
    );
    let (_c, mut c_out) = peer(&["udp-blast", &port.to_string(), "5"]);
    c_out.wait_for("sent 5");
    for total in 1..=5 {
        let d = next(&mut lines, "dropped");
        assert_eq!(d["direction"], "to_target", "{d}");
        assert_eq!(d["total"], total, "{d}");
    }
    assert!(all(&lines, "relayed").is_empty(), "nothing was forwarded");
}

#[test]
fn delay_keeps_the_order_of_chunks_and_datagrams() {
    // TCP: every line comes back, in order, through a relay that holds each chunk.
    let (_far, _, addr) = listening_peer(&["echo"]);
    let (_relay, mut lines, port) = relay_json(&addr, &["--delay", "30ms"]);
    let (_c, mut c_out) = peer(&["chat", &port.to_string(), "eve", "10"]);
    c_out.wait_for("eve ok");
    next(&mut lines, "closed");
    let up: String = all(&lines, "relayed")
        .iter()
        .filter(|e| e["direction"] == "to_target")
        .map(|e| e["text"].as_str().unwrap().to_string())
        .collect();
    let want: String = (0..10).map(|i| format!("eve {i}\n")).collect();
    assert_eq!(up, want);
    // UDP: a burst of datagrams arrives at the target in the order sent.
    let (_far, mut far_out, addr) = listening_peer(&["udp-echo"]);
    let mut cmd = socklab();
    cmd.args([
        "relay",
        "udp://127.0.0.1:0",
        &format!("udp://{addr}"),
        "--json",
    ])
    .args(["--delay", "50ms", "--sync-view"])
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    let mut relay = Proc::spawn(cmd, "socklab relay --delay");
    let mut lines = Lines::new(relay.stdout());
    let port = port_in(next(&mut lines, "listening")["addr"].as_str().unwrap());
    let (_c, mut c_out) = peer(&["udp-blast", &port.to_string(), "20"]);
    c_out.wait_for("sent 20");
    let mut back = Vec::new();
    while back.len() < 20 {
        let e = next(&mut lines, "relayed");
        if e["direction"] == "to_client" {
            let t = e["text"].as_str().unwrap().to_string();
            back.push(t.split(':').next().unwrap().parse::<usize>().unwrap());
        }
    }
    assert_eq!(
        back,
        (0..20).collect::<Vec<_>>(),
        "echoed in the order sent"
    );
    for _ in 0..20 {
        far_out.wait_for("got ");
    }
}

#[test]
fn bad_input_exits_2_before_anything_listens() {
    let w = Witness::new();
    let target = w.addr();
    let listen_port = free_port().to_string();
    let listen = format!("127.0.0.1:{listen_port}");
    let cases: [(Vec<&str>, Vec<&str>); 10] = [
        (vec!["relay", "tcp://:x", &target], vec!["LISTEN"]),
        (
            vec!["relay", &listen, "127.0.0.1:99999"],
            vec!["TARGET", "99999"],
        ),
        (vec!["relay", &listen, "nohost"], vec!["TARGET"]),
        (
            vec!["relay", &listen, &target, "--drop", "101"],
            vec!["--drop", "0 to 100"],
        ),
        (
            vec!["relay", &listen, &target, "--drop", "x"],
            vec!["--drop", "0 to 100"],
        ),
        (
            vec!["relay", &listen, &target, "--delay", "soon"],
            vec!["--delay", "soon"],
        ),
        (
            vec!["relay", &listen, &target, "--drop", "5"],
            vec!["--drop", "udp://"],
        ),
        (
            vec!["relay", &listen, "udp://127.0.0.1:9"],
            vec!["streams to streams"],
        ),
        (
            vec!["relay", &listen, &target, "--insecure"],
            vec!["--insecure", "tls://"],
        ),
        (
            vec!["relay", "unix:/tmp/x.sock", &target, "--allow", "127.0.0.1"],
            vec!["--allow"],
        ),
    ];
    for (args, needles) in cases {
        let out = run(&args, b"");
        usage_error(&out, &needles);
        // Nothing was left listening, and the target never heard from us.
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", listen_port.parse::<u16>().unwrap()))
                .is_err(),
            "{args:?} left something listening"
        );
    }
    w.assert_untouched();
}

/// The texts of the relayed events one way, joined.
fn relayed_text(lines: &Lines, dir: &str) -> String {
    all(lines, "relayed")
        .iter()
        .filter(|e| e["direction"] == dir)
        .map(|e| e["text"].as_str().expect("text").to_string())
        .collect()
}

/// Plain clients in, a TLS target out (socklab's own TLS echo server, pinned by the
/// fingerprint it prints): the view shows the cleartext both ways. A wrong pin closes the
/// client at once with the reason, and the relay goes on.
#[test]
fn a_pinned_tls_target_shows_the_cleartext() {
    let mut cmd = socklab();
    cmd.args(["listen", "tls://127.0.0.1:0", "--echo", "--show", "text"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut far = Proc::spawn(cmd, "socklab listen tls:// --echo");
    let _keep_open = far.stdin();
    let mut far_out = Lines::new(far.stdout());
    let fp = far_out
        .wait_for("clients can pin it: --pin ")
        .rsplit_once("--pin ")
        .expect("--pin")
        .1
        .trim()
        .to_string();
    let target = format!(
        "tls://127.0.0.1:{}",
        port_in(&far_out.wait_for("listening on tls "))
    );

    let (_relay, mut lines, port) = relay_json(&target, &["--pin", &fp]);
    let (_c, mut c_out) = peer(&["chat", &port.to_string(), "tina", "3"]);
    c_out.wait_for("tina ok");
    let closed = next(&mut lines, "closed");
    let said = "tina 0\ntina 1\ntina 2\n";
    assert_eq!(relayed_text(&lines, "to_target"), said);
    assert_eq!(relayed_text(&lines, "to_client"), said);
    assert_eq!(closed["bytes_in"], said.len(), "{closed}");
    assert_eq!(all(&lines, "upstream")[0]["transport"], "tls");

    let wrong = if fp.starts_with("00") { "11" } else { "00" }.to_string() + &fp[2..];
    let (_relay, mut lines, port) = relay_json(&target, &["--pin", &wrong]);
    let (_c, mut c_out) = peer(&["recv", &port.to_string()]);
    assert!(c_out.wait_for("sha256").starts_with("0 bytes "));
    let closed = next(&mut lines, "closed");
    let why = closed["reason"]["error"].as_str().expect("an error reason");
    assert!(why.contains(&fp) && why.contains(&wrong), "{why}");
    assert!(all(&lines, "relayed").is_empty(), "nothing was relayed");
}

/// `--log FILE` gets the same events as `--json`, both directions, while the console shows
/// the text view.
#[test]
fn log_file_gets_both_directions_as_json() {
    let dir = TempDir::new("relay-log");
    let log = dir.path("relay.jsonl");
    let (_far, _, addr) = listening_peer(&["echo"]);
    let mut cmd = socklab();
    cmd.args(["relay", "127.0.0.1:0", &addr, "--show", "text", "--log"])
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut relay = Proc::spawn(cmd, "socklab relay --log");
    let mut out = Lines::new(relay.stdout());
    let port = port_in(&out.wait_for("listening on"));
    let (_c, mut c_out) = peer(&["chat", &port.to_string(), "lou", "2"]);
    c_out.wait_for("lou ok");
    out.wait_for("closed by peer");
    // The console line is printed after the log line of the same event.
    let logged: Vec<Value> = std::fs::read_to_string(&log)
        .expect("read the log")
        .lines()
        .map(event)
        .collect();
    let text = |dir: &str| -> String {
        logged
            .iter()
            .filter(|e| e["event"] == "relayed" && e["direction"] == dir)
            .map(|e| e["text"].as_str().expect("text").to_string())
            .collect()
    };
    assert_eq!(text("to_target"), "lou 0\nlou 1\n");
    assert_eq!(text("to_client"), "lou 0\nlou 1\n");
    for kind in ["listening", "connected", "upstream", "closed"] {
        assert!(
            logged.iter().any(|e| e["event"] == kind),
            "no {kind} event in the log: {logged:?}"
        );
    }
    assert!(
        out.seen.iter().all(|l| !l.starts_with('{')),
        "the console kept the text view"
    );
}

/// `--deny` and `--allow` on a relay, with clients bound to other loopback addresses: a
/// refused client is rejected with the reason and never reaches the target; an allowed
/// one goes through.
#[test]
fn deny_keeps_a_client_from_the_target() {
    let (_far, _, addr) = listening_peer(&["echo"]);
    let (_relay, mut lines, port) = relay_json(
        &addr,
        &[
            "--allow",
            "127.0.0.0/8",
            "--deny",
            "127.0.0.3",
            "--sync-view",
        ],
    );
    let to = std::net::SocketAddr::new(ip("127.0.0.1"), port);
    let mut three = client_from("127.0.0.3", to);
    let _ = std::io::Write::write_all(&mut three, b"secret\n");
    let rejected = next(&mut lines, "rejected");
    assert_eq!(
        rejected["reason"], "127.0.0.3 is denied by --deny 127.0.0.3/32",
        "{rejected}"
    );
    let mut got = Vec::new();
    let _ = std::io::Read::read_to_end(&mut three, &mut got);
    assert!(got.is_empty(), "a refused client got {got:?}");

    let mut two = client_from("127.0.0.2", to);
    std::io::Write::write_all(&mut two, b"hello\n").expect("write");
    assert_eq!(read_n(&mut two, 6), b"hello\n");
    let up = next(&mut lines, "upstream");
    assert!(
        up["addr"].as_str().unwrap().starts_with("127.0.0.2:"),
        "{up}"
    );
    assert_eq!(all(&lines, "upstream").len(), 1, "only the allowed client");
    assert!(
        lines.seen.iter().all(|l| !l.contains("secret")),
        "the refused client's data was shown"
    );
}

/// `--sync-view`: 2 MiB through a hex view, and every byte of it is shown, in order, with
/// nothing counted as not shown.
#[test]
fn sync_view_shows_every_byte_of_a_fast_upload() {
    const N: usize = 2 << 20;
    let dir = TempDir::new("relay-sync");
    let data = dir.path("data.bin");
    let bytes = random_bytes(N, 75);
    std::fs::write(&data, &bytes).expect("write data");
    let (_far, mut far_out, addr) = listening_peer(&["sink", "127.0.0.1:0"]);
    let (_relay, mut lines, port) = relay_json(&addr, &["--sync-view", "--show", "hex"]);
    let (_c, mut c_out) = peer(&[
        "send",
        &port.to_string(),
        data.to_str().expect("utf-8 path"),
    ]);
    c_out.wait_for(&format!("sent {N}"));
    far_out.wait_for("sha256");
    let closed = next(&mut lines, "closed");
    assert_eq!(closed["bytes_in"], N, "{closed}");
    let mut shown = Vec::with_capacity(N);
    for e in all(&lines, "relayed") {
        assert_eq!(e["direction"], "to_target", "{e}");
        let hex = e["hex"].as_str().expect("hex");
        let chunk = unhex(hex);
        assert_eq!(
            chunk.len(),
            e["len"].as_u64().unwrap() as usize,
            "len of {hex:.40}"
        );
        shown.extend(chunk);
    }
    assert!(all(&lines, "not_shown").is_empty(), "--sync-view shows all");
    assert!(
        shown == bytes,
        "the shown bytes are the sent bytes, in order"
    );
}

/// `--drop 50` on UDP: every datagram is either forwarded or dropped and said so, and the
/// target gets exactly the forwarded ones.
#[test]
fn drop_50_forwards_the_rest_and_counts_both() {
    // Few enough that a burst fits in the relay's socket buffer: loopback does not lose
    // datagrams, a full buffer would.
    const N: usize = 60;
    let (_far, mut far_out, addr) = listening_peer(&["udp-echo"]);
    let (_relay, mut lines, port) = relay_json_on(
        "udp://127.0.0.1:0",
        &format!("udp://{addr}"),
        &["--sync-view", "--drop", "50"],
    );
    let (_c, mut c_out) = peer(&["udp-blast", &port.to_string(), &N.to_string()]);
    c_out.wait_for(&format!("sent {N}"));
    // Each datagram towards the target is one event, relayed or dropped.
    let deadline = std::time::Instant::now() + DEADLINE;
    let up = |lines: &Lines| -> (usize, usize) {
        let forwarded = all(lines, "relayed")
            .iter()
            .filter(|e| e["direction"] == "to_target")
            .count();
        let dropped = all(lines, "dropped")
            .iter()
            .filter(|e| e["direction"] == "to_target")
            .count();
        (forwarded, dropped)
    };
    while {
        let (f, d) = up(&lines);
        f + d < N
    } {
        assert!(std::time::Instant::now() < deadline, "{:?}", up(&lines));
        lines.wait_for("\"direction\":\"to_target\"");
    }
    let (forwarded, dropped) = up(&lines);
    assert_eq!(forwarded + dropped, N);
    assert!(
        forwarded > 0 && dropped > 0,
        "{forwarded} forwarded, {dropped} dropped"
    );
    let last = all(&lines, "dropped")
        .into_iter()
        .rfind(|e| e["direction"] == "to_target")
        .expect("a drop");
    assert_eq!(last["total"], dropped, "{last}");
    // The target got the forwarded ones.
    for _ in 0..forwarded {
        far_out.wait_for("got ");
    }
}
