//! The namespace harness itself, proven with python peers: a broadcast and a multicast
//! datagram sent from host a arrive at host b. If these fail, the socklab tests built on
//! `TwoHosts` cannot be trusted either.

use std::process::Stdio;

use crate::support::netns::TwoHosts;
use crate::support::*;

/// Receiver: binds 0.0.0.0:PORT with SO_BROADCAST, joins GROUP on IFACE_ADDR when given,
/// prints "ready", then the first datagram and its sender.
const RECEIVER: &str = r#"
import socket, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.bind(("0.0.0.0", port))
if len(sys.argv) > 3:
    mreq = socket.inet_aton(sys.argv[2]) + socket.inet_aton(sys.argv[3])
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
print("ready", flush=True)
data, addr = s.recvfrom(65535)
print("got", data.decode(), "from", addr[0], flush=True)
"#;

/// Sender: one datagram to DEST:PORT with SO_BROADCAST, and IP_MULTICAST_IF set to
/// IFACE_ADDR when given.
const SENDER: &str = r#"
import socket, sys
dest, port, msg = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
if len(sys.argv) > 4:
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(sys.argv[4]))
s.sendto(msg.encode(), (dest, port))
"#;

const PORT: &str = "5005";

/// Start the receiver in b, wait for "ready", send from a, return what b printed.
fn deliver(net: &TwoHosts, receiver_args: &[String], sender_args: &[String]) -> String {
    let python = python3();
    let mut cmd = net.cmd(&net.b, &python);
    cmd.args(["-c", RECEIVER, PORT])
        .args(receiver_args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut receiver = Proc::spawn(cmd, "python receiver in b");
    let mut lines = Lines::new(receiver.stdout());
    lines.wait_for("ready");

    let mut cmd = net.cmd(&net.a, &python);
    cmd.args(["-c", SENDER])
        .args(sender_args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
    let mut sender = Proc::spawn(cmd, "python sender in a");
    assert!(sender.wait().success(), "the sender in a failed");

    let got = lines.wait_for("got");
    assert!(receiver.wait().success(), "the receiver in b failed");
    got
}

#[test]
fn broadcast_reaches_the_other_host() {
    let net = TwoHosts::new();
    let got = deliver(
        &net,
        &[],
        &[
            net.broadcast.to_string(),
            PORT.to_string(),
            "hello-broadcast".into(),
        ],
    );
    assert_eq!(got, format!("got hello-broadcast from {}", net.a_ip));
}

#[test]
fn multicast_reaches_the_other_host() {
    let net = TwoHosts::new();
    let group = "239.1.2.3".to_string();
    let got = deliver(
        &net,
        &[group.clone(), net.b_ip.to_string()],
        &[
            group,
            PORT.to_string(),
            "hello-multicast".into(),
            net.a_ip.to_string(),
        ],
    );
    assert_eq!(got, format!("got hello-multicast from {}", net.a_ip));
}

#[test]
fn hosts_are_isolated_and_cleaned_up() {
    let (a, b, a_if);
    {
        let net = TwoHosts::new();
        (a, b, a_if) = (net.a.clone(), net.b.clone(), net.a_if.clone());
        assert_ne!(net.link_local(&net.a), net.link_local(&net.b));
        // Only lo and the veth end live in a namespace: no way out to a real network.
        let out = net
            .cmd(&net.a, "ip")
            .args(["-o", "link", "show"])
            .output()
            .expect("ip link show in a");
        let names: Vec<String> = text(&out.stdout)
            .lines()
            .filter_map(|l| l.split(": ").nth(1))
            .map(|n| n.split('@').next().unwrap_or(n).to_string())
            .collect();
        assert_eq!(names, vec!["lo".to_string(), net.a_if.clone()]);
    }
    let list = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .expect("ip netns list");
    let list = text(&list.stdout);
    for ns in [&a, &b] {
        assert!(
            !list
                .lines()
                .any(|l| l.split_whitespace().next() == Some(ns)),
            "{ns} is still there after drop: {list}"
        );
    }
    let links = std::process::Command::new("ip")
        .args(["-o", "link", "show"])
        .output()
        .expect("ip link show");
    assert!(
        !text(&links.stdout).contains(&a_if),
        "the veth leaked into the root namespace"
    );
}
