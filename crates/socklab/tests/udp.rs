//! UDP as a user runs socklab: datagram boundaries kept, socat, ncat and python as the other
//! end, replies to the last sender, IPv6 loopback, refused ports and usage errors, `/to` on a
//! terminal, and broadcast and multicast between two network namespaces.
//!
//! Readiness always comes from what a program prints ("listening", "ready"), and absence is
//! proven by order (the first datagram to arrive is the later one) rather than by waiting.

use std::io::{Read, Write};
use std::net::UdpSocket;
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Instant;

use serde_json::Value;

use crate::interactive::Terminal;
use crate::support::netns::TwoHosts;
use crate::support::*;

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

fn interrupt(p: &Proc) {
    let status = Command::new("kill")
        .args(["-INT", &p.child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -INT failed");
}

/// `cmd` (a socklab command, here or in a namespace) started with its JSON on stdout; returns
/// it once the `listening` event came, with that event.
fn start_json(mut cmd: Command, name: &str) -> (Proc, Lines, Value) {
    cmd.arg("--json")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut p = Proc::spawn(cmd, name);
    let mut out = Lines::new(p.stdout());
    let listening = next(&mut out, "listening");
    assert_eq!(listening["transport"], "udp", "{listening}");
    (p, out, listening)
}

/// `socklab listen ARGS --json` on this host, with its port.
fn listen_json(args: &[&str]) -> (Proc, Lines, u16) {
    let mut cmd = socklab();
    cmd.arg("listen").args(args);
    let (p, out, listening) = start_json(cmd, "socklab listen udp");
    let port = port_in(listening["addr"].as_str().expect("addr"));
    (p, out, port)
}

/// socklab inside a namespace.
fn socklab_in(net: &TwoHosts, ns: &str) -> Command {
    let mut c = net.cmd(ns, env!("CARGO_BIN_EXE_socklab"));
    c.env("NO_COLOR", "1");
    c
}

/// A UDP port on 127.0.0.1 that nobody has bound (it was free a moment ago).
fn closed_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("bind udp 127.0.0.1:0")
        .port()
}

/// Bytes of a child's output that need not end in a newline (ncat prints what it got as it
/// is), collected on a thread.
struct Bytes {
    rx: mpsc::Receiver<Vec<u8>>,
    got: Vec<u8>,
}

impl Bytes {
    fn new(mut r: impl Read + Send + 'static) -> Bytes {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = r.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Bytes {
            rx,
            got: Vec::new(),
        }
    }

    fn wait_for(&mut self, needle: &[u8]) {
        let end = Instant::now() + DEADLINE;
        while !self.got.windows(needle.len()).any(|w| w == needle) {
            match self
                .rx
                .recv_timeout(end.saturating_duration_since(Instant::now()))
            {
                Ok(chunk) => self.got.extend_from_slice(&chunk),
                Err(_) => panic!(
                    "no {:?} within {DEADLINE:?}; got {:?}",
                    text(needle),
                    text(&self.got)
                ),
            }
        }
    }
}

/// Python datagram peers driven line by line on stdin: `send NAME TEXT` sends TEXT from
/// socket NAME to the target, `recv NAME` prints the next datagram NAME receives as
/// `NAME got b'...'`. Prints `ready NAME=PORT ...` first.
const PEERS: &str = r#"
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
socks = {}
for name in sys.argv[3:]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(60)
    socks[name] = s
print("ready", " ".join(f"{n}={s.getsockname()[1]}" for n, s in socks.items()), flush=True)
for line in sys.stdin:
    op, name, *rest = line.split()
    s = socks[name]
    if op == "send":
        s.sendto(rest[0].encode(), (host, port))
    elif op == "recv":
        print(name, "got", repr(s.recv(70000)), flush=True)
"#;

struct Peers {
    _proc: Proc,
    keys: ChildStdin,
    out: Lines,
    ports: Vec<u16>,
}

impl Peers {
    /// Sockets on 127.0.0.1 named `names`, sending to `port`.
    fn start(port: u16, names: &[&str]) -> Peers {
        let mut cmd = Command::new(python3());
        cmd.args(["-c", PEERS, "127.0.0.1", &port.to_string()])
            .args(names)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut p = Proc::spawn(cmd, "python udp peers");
        let keys = p.stdin();
        let mut out = Lines::new(p.stdout());
        let ready = out.wait_for("ready");
        let ports = ready
            .split_whitespace()
            .skip(1)
            .map(|w| port_in(&w.replace('=', ":")))
            .collect();
        Peers {
            _proc: p,
            keys,
            out,
            ports,
        }
    }

    fn say(&mut self, line: &str) {
        writeln!(self.keys, "{line}").expect("write to the python peers");
        self.keys.flush().expect("flush");
    }

    /// The next datagram `name` receives, as python's repr of the bytes.
    fn recv(&mut self, name: &str) -> String {
        self.say(&format!("recv {name}"));
        let line = self.out.wait_for(&format!("{name} got "));
        line[format!("{name} got ").len()..].to_string()
    }
}

/// Sends datagrams of SIZES, each awaiting its echo (so none is dropped by a full receive
/// buffer), then the largest an IPv4 datagram can carry; prints its echo's size and
/// whether it came back whole.
const ECHOED: &str = r#"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(60)
s.connect(("127.0.0.1", int(sys.argv[1])))
for i, n in enumerate(SIZES):
    d = bytes((i + j) % 256 for j in range(n))
    s.send(d)
    assert s.recv(70000) == d, f"the echo of datagram {i}"
big = bytes(j % 251 for j in range(65507))
s.send(big)
got = s.recv(70000)
print(len(got), got == big, flush=True)
"#;

/// Receives datagrams until TOTAL bytes came; prints their sizes and everything in hex.
const CONCAT: &str = r#"
import socket, sys
total = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(60)
print("ready", s.getsockname()[1], flush=True)
sizes, data = [], b""
while len(data) < total:
    d = s.recv(70000)
    sizes.append(len(d))
    data += d
print("sizes", *sizes, flush=True)
print("data", data.hex(), flush=True)
"#;

/// Receives one datagram; prints it and the port it came from.
const RECEIVE_ONE: &str = r#"
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(60)
print("ready", s.getsockname()[1], flush=True)
d, a = s.recvfrom(70000)
print("got", repr(d), "from", a[1], flush=True)
"#;

/// Sizes 1 to 1400, all different, and a datagram of each size whose bytes depend on its
/// index: the same in python and here.
const SIZES: &str = "[1 + i * 1399 // 99 for i in range(100)]";

fn datagram(i: usize) -> Vec<u8> {
    let n = 1 + i * 1399 / 99;
    (0..n).map(|j| ((i + j) % 256) as u8).collect()
}

#[test]
fn udp_boundaries_of_100_datagrams_and_the_largest_one_are_kept() {
    let (mut server, mut out, port) = listen_json(&["udp://127.0.0.1:0", "--echo"]);
    // Each echo is awaited before the next datagram goes, so none is dropped by a full
    // receive buffer; the last one is the largest an IPv4 datagram can carry.
    let py = ECHOED.replace("SIZES", SIZES);
    let done = Command::new(python3())
        .args(["-c", &py, &port.to_string()])
        .output()
        .expect("python");
    assert!(done.status.success(), "python: {}", text(&done.stderr));
    assert_eq!(text(&done.stdout).trim(), "65507 True");

    let big = next_received_with_len(&mut out, 65507);
    assert!(big.get("truncated").is_none(), "cut short: {big}");
    let want: Vec<u8> = (0..65507).map(|j| (j % 251) as u8).collect();
    assert_eq!(big["hex"], hex(&want));
    interrupt(&server);
    server.wait();
    out.rest();

    let received = all(&out, "received");
    assert_eq!(received.len(), 101, "one event per datagram");
    for (i, ev) in received[..100].iter().enumerate() {
        let d = datagram(i);
        assert_eq!(ev["len"], d.len(), "datagram {i}: {ev}");
        assert_eq!(ev["hex"], hex(&d), "datagram {i}");
        assert!(ev.get("truncated").is_none(), "datagram {i}: {ev}");
    }
    // One sender, one id, one `connected`.
    assert_eq!(all(&out, "connected").len(), 1);
}

/// The next `received` event of this size (the ones before are checked later).
fn next_received_with_len(out: &mut Lines, len: usize) -> Value {
    event(&out.wait_for(&format!("\"len\":{len},")))
}

#[test]
fn udp_socat_gets_the_echo() {
    let socat = require("socat", "socat");
    let (_server, mut out, port) = listen_json(&["udp://127.0.0.1:0", "--echo"]);
    let mut cmd = Command::new(socat);
    cmd.arg("-")
        .arg(format!("UDP:127.0.0.1:{port}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut peer = Proc::spawn(cmd, "socat - UDP:");
    let mut keys = peer.stdin();
    let mut echoed = Lines::new(peer.stdout());
    keys.write_all(b"ping over socat\n")
        .expect("write to socat");
    keys.flush().expect("flush");
    assert_eq!(echoed.wait_for("ping"), "ping over socat");
    let got = next(&mut out, "received");
    assert_eq!(got["text"], "ping over socat\n");
    assert_eq!(got["len"], 16);
    assert_eq!(next(&mut out, "sent")["text"], "ping over socat\n");
}

#[test]
fn udp_send_reaches_ncat() {
    let ncat = require("ncat", "ncat");
    let port = closed_udp_port();
    let mut cmd = Command::new(ncat);
    cmd.args(["-v", "-u", "-l", "127.0.0.1", &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut peer = Proc::spawn(cmd, "ncat -u -l");
    // Kept open: ncat may stop when its stdin ends.
    let _keys = peer.stdin();
    let mut err = Lines::new(peer.stderr());
    err.wait_for("Listening on");
    let mut got = Bytes::new(peer.stdout());
    let out = run(
        &[
            "send",
            &format!("udp://127.0.0.1:{port}"),
            "hello",
            "--wait",
            "100ms",
        ],
        b"",
    );
    assert!(out.status.success(), "socklab send: {}", text(&out.stderr));
    got.wait_for(b"hello");
    assert_eq!(got.got, b"hello", "one datagram, no line ending added");
}

#[test]
fn udp_connect_cuts_stdin_into_packets_of_packet_size() {
    let mut cmd = Command::new(python3());
    cmd.args(["-c", CONCAT, "3500"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut receiver = Proc::spawn(cmd, "python receiver");
    let mut lines = Lines::new(receiver.stdout());
    let port = port_in(&lines.wait_for("ready").replace("ready ", "127.0.0.1:"));
    let data = random_bytes(3500, 3500);
    let out = run(
        &[
            "connect",
            &format!("udp://127.0.0.1:{port}"),
            "--packet-size",
            "1000",
            "--wait",
            "100ms",
        ],
        &data,
    );
    assert!(
        out.status.success(),
        "socklab connect: {}",
        text(&out.stderr)
    );
    assert_eq!(lines.wait_for("sizes"), "sizes 1000 1000 1000 500");
    assert_eq!(lines.wait_for("data"), format!("data {}", hex(&data)));
    assert!(receiver.wait().success());
}

#[test]
fn udp_replies_go_to_the_last_sender() {
    let mut cmd = socklab();
    cmd.args(["listen", "udp://127.0.0.1:0", "--show", "text"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut server = Proc::spawn(cmd, "socklab listen udp");
    let mut typed = server.stdin();
    let mut out = Lines::new(server.stdout());
    let port = port_in(&out.wait_for("listening on udp 127.0.0.1:"));
    let mut peers = Peers::start(port, &["A", "B"]);
    let (a, b) = (peers.ports[0], peers.ports[1]);
    let mut reply = |line: &str| {
        typed.write_all(line.as_bytes()).expect("write to socklab");
        typed.flush().expect("flush");
    };

    peers.say("send A from-a");
    let shown = out.wait_for("← [6 bytes] from-a");
    assert!(shown.contains(&format!("127.0.0.1:{a} ")), "{shown}");
    peers.say("send B from-b");
    let shown = out.wait_for("← [6 bytes] from-b");
    assert!(shown.contains(&format!("127.0.0.1:{b} ")), "{shown}");
    reply("to-b\n");
    assert_eq!(peers.recv("B"), r"b'to-b\n'");

    // A speaks again and becomes the last sender; the first datagram A ever receives is
    // the reply after that, so "to-b" never went to A.
    peers.say("send A again-a");
    out.wait_for("← [7 bytes] again-a");
    reply("to-a\n");
    assert_eq!(peers.recv("A"), r"b'to-a\n'");

    // And back to B: B's next datagram is this one, not "to-a".
    peers.say("send B again-b");
    out.wait_for("← [7 bytes] again-b");
    reply("to-b again\n");
    assert_eq!(peers.recv("B"), r"b'to-b again\n'");
}

#[test]
fn udp_over_ipv6_loopback() {
    let (_server, mut out, port) = listen_json(&["udp://[::1]:0", "--echo"]);
    // --wait is long: the reply is waited for here, then the sender is stopped.
    let mut cmd = socklab();
    cmd.args([
        "send",
        &format!("udp://[::1]:{port}"),
        "hello-v6",
        "--wait",
        "60s",
        "--json",
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    let mut sender = Proc::spawn(cmd, "socklab send udp://[::1]");
    let mut sent = Lines::new(sender.stdout());
    let reply = next(&mut sent, "received");
    assert_eq!(reply["text"], "hello-v6");
    assert_eq!(reply["addr"], format!("[::1]:{port}"));

    let from = next(&mut out, "connected");
    assert!(
        from["addr"]
            .as_str()
            .is_some_and(|a| a.starts_with("[::1]:")),
        "{from}"
    );
    let got = next(&mut out, "received");
    assert_eq!(got["text"], "hello-v6");
    assert_eq!(got["addr"], from["addr"]);
}

#[test]
fn udp_refused_port_is_exit_1_and_usage_errors_send_nothing() {
    // A closed port answers ICMP port unreachable; a connected socket hears of it.
    let closed = closed_udp_port();
    let dest = format!("udp://127.0.0.1:{closed}");
    let refused = format!(
        "nobody is listening at 127.0.0.1:{closed} (the host answered ICMP port unreachable)"
    );
    let out = run(&["send", &dest, "anyone?"], b"");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(&refused),
        "{}",
        text(&out.stderr)
    );
    let out = run(&["connect", &dest], b"anyone?\n");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(&refused),
        "{}",
        text(&out.stderr)
    );

    // Usage errors (exit 2) towards a live listener: nothing may arrive.
    let (_server, mut got, port) = listen_json(&["udp://127.0.0.1:0"]);
    let dest = format!("udp://127.0.0.1:{port}");
    let too_big = "x".repeat(65508);
    let refusals: [(Vec<&str>, &str); 5] = [
        (
            vec!["send", &dest, "fine", &too_big],
            "larger than the UDP limit of 65507 bytes",
        ),
        (
            vec!["connect", &dest, "--packet-size", "65508"],
            "larger than the UDP limit of 65507 bytes",
        ),
        (
            vec!["send", &dest, "--ttl", "3", "x"],
            "--ttl applies only to multicast groups",
        ),
        (
            vec!["send", &dest, "--multicast-loop", "x"],
            "--multicast-loop applies only to multicast groups",
        ),
        (
            vec!["send", &dest, "--iface", "lo", "x"],
            "--iface applies only to multicast groups",
        ),
    ];
    for (args, message) in &refusals {
        let out = run(args, b"x\n");
        assert_eq!(
            out.status.code(),
            Some(2),
            "{:?}: {}",
            &args[..2],
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains(message),
            "{:?}: {}",
            &args[..2],
            text(&out.stderr)
        );
    }
    // The first datagram the listener ever gets is this one: none of the above sent any.
    let out = run(&["send", &dest, "marker", "--wait", "100ms"], b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let first = next(&mut got, "received");
    assert_eq!(first["text"], "marker", "{first}");

    // UDP options on a TCP endpoint: a usage error, and no connection is made.
    let witness = Witness::new();
    let (plain, tcp) = (witness.addr(), format!("tcp://{}", witness.addr()));
    for args in [
        vec!["send", &plain, "--broadcast", "x"],
        vec!["connect", &tcp, "--ttl", "2"],
        vec!["listen", "tcp://127.0.0.1:0", "--multicast-loop"],
    ] {
        let out = run(&args, b"x\n");
        usage_error(&out, &["applies only to udp:// endpoints"]);
    }
    witness.assert_untouched();
}

#[test]
fn udp_interactive_to_addr_and_list() {
    let mut cmd = Command::new(python3());
    cmd.args(["-c", RECEIVE_ONE])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut receiver = Proc::spawn(cmd, "python receiver");
    let mut lines = Lines::new(receiver.stdout());
    let py_port = port_in(&lines.wait_for("ready").replace("ready ", "127.0.0.1:"));

    let mut t = Terminal::start(&["listen", "udp://127.0.0.1:0"]);
    let port = port_in(&t.wait_for("listening on udp"));
    // Before anyone has sent, a typed line has nowhere to go.
    t.type_line("too early");
    t.wait_for("no one has sent a datagram yet");
    let addr = format!("127.0.0.1:{py_port}");
    t.type_line(&format!("/to {addr}"));
    t.type_line("hello via to");
    assert_eq!(
        lines.wait_for("got"),
        format!(r"got b'hello via to\n' from {port}")
    );
    t.wait_for("→ [13 bytes] hello via to");
    t.type_line("/list");
    t.wait_for("id   address");
    let row = t.wait_for(&addr);
    assert!(row.contains("#1"), "{row}");
    assert!(row.contains("13/1"), "13 bytes in 1 datagram sent: {row}");
    t.type_line("/quit");
    assert!(t.proc_.wait().success());
    assert!(receiver.wait().success());
}

// Two hosts in network namespaces: broadcast and multicast, which loopback cannot show.

const PORT: &str = "5000";

#[test]
fn udp_broadcast_between_hosts_needs_the_flag() {
    let net = TwoHosts::new();
    let mut cmd = socklab_in(&net, &net.b);
    cmd.args(["listen", &format!("udp://{PORT}"), "--echo"]);
    let (_listener, mut out, _) = start_json(cmd, "socklab listen in b");
    let dest = format!("udp://{}:{PORT}", net.broadcast);

    let refused = socklab_in(&net, &net.a)
        .args(["send", &dest, "refused"])
        .stdin(Stdio::null())
        .output()
        .expect("socklab send in a");
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stderr));
    assert!(
        text(&refused.stderr).contains("needs --broadcast"),
        "{}",
        text(&refused.stderr)
    );

    // The sender waits long for the echo and is stopped once it came.
    let mut cmd = socklab_in(&net, &net.a);
    cmd.args([
        "send",
        &dest,
        "--broadcast",
        "hello",
        "--wait",
        "60s",
        "--json",
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    let mut sender = Proc::spawn(cmd, "socklab send --broadcast in a");
    let mut sent = Lines::new(sender.stdout());

    // The refused one sent nothing: the first datagram b sees is the broadcast.
    let from = next(&mut out, "connected");
    let got = next(&mut out, "received");
    assert_eq!(got["text"], "hello", "{got}");
    assert!(
        from["addr"]
            .as_str()
            .is_some_and(|a| a.starts_with(&format!("{}:", net.a_ip))),
        "{from}"
    );
    assert_eq!(got["addr"], from["addr"]);

    // A subnet broadcast is sent unconnected: b's echo, from its own address, arrives as a
    // new peer of the sender.
    let broadcast_peer = next(&mut sent, "connected");
    assert_eq!(broadcast_peer["addr"], format!("{}:{PORT}", net.broadcast));
    let replier = next(&mut sent, "connected");
    assert_eq!(replier["addr"], format!("{}:{PORT}", net.b_ip), "{replier}");
    let reply = next(&mut sent, "received");
    assert_eq!(reply["text"], "hello");
    assert_eq!(reply["peer"], replier["peer"]);
}

#[test]
fn udp_ipv4_multicast_between_hosts_with_an_echo() {
    let net = TwoHosts::new();
    let group = format!("udp://239.1.2.3:{PORT}");
    let mut cmd = socklab_in(&net, &net.b);
    cmd.args(["listen", &group, "--iface", &net.b_if, "--echo"]);
    let (_listener, mut out, _) = start_json(cmd, "socklab listen 239.1.2.3 in b");

    // The sender waits long for the reply and is stopped once it came.
    let mut cmd = socklab_in(&net, &net.a);
    cmd.args([
        "send", &group, "--iface", &net.a_if, "--ttl", "2", "hi", "--wait", "60s", "--json",
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    let mut sender = Proc::spawn(cmd, "socklab send 239.1.2.3 in a");
    let mut sent = Lines::new(sender.stdout());

    let got = next(&mut out, "received");
    assert_eq!(got["text"], "hi");
    let from = got["addr"].as_str().expect("addr").to_string();
    assert!(from.starts_with(&format!("{}:", net.a_ip)), "{got}");

    // The echo comes from b's own address, not the group: a new peer for the sender.
    let group_peer = next(&mut sent, "connected");
    assert_eq!(group_peer["addr"], format!("239.1.2.3:{PORT}"));
    let replier = next(&mut sent, "connected");
    assert_eq!(replier["addr"], format!("{}:{PORT}", net.b_ip), "{replier}");
    let reply = next(&mut sent, "received");
    assert_eq!(reply["text"], "hi");
    assert_eq!(reply["peer"], replier["peer"]);
    assert_ne!(reply["peer"], group_peer["peer"]);
    // And it went back to the port the group datagram came from.
    let local = sent
        .seen
        .iter()
        .find(|l| l.contains("\"event\":\"connected\""))
        .map(|l| event(l)["local"].clone())
        .expect("connected");
    assert!(
        local
            .as_str()
            .is_some_and(|l| l.ends_with(&format!(":{}", port_in(&from)))),
        "local {local}, b saw {from}"
    );
}

#[test]
fn udp_ipv6_multicast_between_hosts() {
    let net = TwoHosts::new();
    let group = format!("udp://[ff15::1234]:{PORT}");
    let mut cmd = socklab_in(&net, &net.b);
    cmd.args(["listen", &group, "--iface", &net.b_if]);
    let (_listener, mut out, _) = start_json(cmd, "socklab listen ff15::1234 in b");

    let sent = socklab_in(&net, &net.a)
        .args([
            "send", &group, "--iface", &net.a_if, "hi6", "--wait", "100ms",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("socklab send in a");
    assert!(sent.status.success(), "{}", text(&sent.stderr));
    let got = next(&mut out, "received");
    assert_eq!(got["text"], "hi6");
    // From a's ULA: for a site-scope group a global-scope source is preferred over the
    // link-local one (RFC 6724 rule 2).
    let from = got["addr"].as_str().expect("addr");
    assert!(from.starts_with(&format!("[{}]:", net.a_ip6)), "{got}");
}

#[test]
fn udp_multicast_loop_delivers_to_this_host_only_when_asked() {
    let net = TwoHosts::new();
    let group = format!("udp://239.1.2.3:{PORT}");
    let mut cmd = socklab_in(&net, &net.a);
    cmd.args(["listen", &group, "--iface", &net.a_if]);
    let (_listener, mut out, _) = start_json(cmd, "socklab listen 239.1.2.3 in a");

    for (word, loop_flag) in [("no-loop", false), ("loop", true)] {
        let mut cmd = socklab_in(&net, &net.a);
        cmd.args([
            "send", &group, "--iface", &net.a_if, word, "--wait", "100ms",
        ]);
        if loop_flag {
            cmd.arg("--multicast-loop");
        }
        let sent = cmd
            .stdin(Stdio::null())
            .output()
            .expect("socklab send in a");
        assert!(sent.status.success(), "{word}: {}", text(&sent.stderr));
    }
    // Looped datagrams are delivered before the send returns; the first one the listener
    // gets is the one sent with --multicast-loop, so the other never came back.
    let got = next(&mut out, "received");
    assert_eq!(got["text"], "loop", "{got}");
    assert!(
        got["addr"]
            .as_str()
            .is_some_and(|a| a.starts_with(&format!("{}:", net.a_ip))),
        "{got}"
    );
}
