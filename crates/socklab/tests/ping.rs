//! `socklab ping` against real sockets on loopback: a listener that accepts (TCP replies),
//! a port that was just closed (refused), a listener whose full queue drops SYNs (timed
//! out), ICMP echo to 127.0.0.1 and ::1, and ICMP in a network namespace of the test's own
//! where the unprivileged socket is allowed or denied.

use std::net::{IpAddr, TcpListener, ToSocketAddrs};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::netns::TwoHosts;
use crate::support::*;

fn json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not one JSON document ({e}): {}\nstderr: {}",
            text(&out.stdout),
            text(&out.stderr)
        )
    })
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// Connections the listener has queued (the pinger's connects), without blocking.
fn accepted(l: &TcpListener) -> usize {
    l.set_nonblocking(true).expect("nonblocking");
    std::iter::from_fn(|| l.accept().ok()).take(1000).count()
}

/// The summary agrees with the tries it summarises (the oracle is the tries themselves).
fn check_summary(doc: &Value, tries: usize) {
    let t = doc["tries"].as_array().expect("tries");
    assert_eq!(t.len(), tries, "{doc}");
    let times: Vec<f64> = t
        .iter()
        .filter(|t| t["ok"] == true)
        .map(|t| f(&t["time_ms"]))
        .collect();
    let s = &doc["summary"];
    assert_eq!(s["sent"], tries);
    assert_eq!(s["received"], times.len());
    let loss = 100.0 * (tries - times.len()) as f64 / tries as f64;
    assert!((f(&s["loss_percent"]) - loss).abs() < 1e-9, "{s}");
    if times.is_empty() {
        for k in ["min_ms", "avg_ms", "max_ms", "stddev_ms"] {
            assert!(s[k].is_null(), "{k}: {s}");
        }
        return;
    }
    let (min, avg, max, sd) = (
        f(&s["min_ms"]),
        f(&s["avg_ms"]),
        f(&s["max_ms"]),
        f(&s["stddev_ms"]),
    );
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    let var = times.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / times.len() as f64;
    assert!(min <= avg && avg <= max, "{s}");
    assert_eq!(min, times.iter().copied().fold(f64::INFINITY, f64::min));
    assert_eq!(max, times.iter().copied().fold(0.0, f64::max));
    assert!(
        (avg - mean).abs() < 1e-6 && (sd - var.sqrt()).abs() < 1e-6,
        "{s}"
    );
}

#[test]
fn tcp_ping_connects_each_time_and_sums_up() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let target = format!("127.0.0.1:{port}");
    let out = run(&["ping", &target, "-c", "3", "-i", "50ms", "--json"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc = json(&out);
    assert_eq!(doc["target"], target.as_str());
    assert_eq!(doc["address"], "127.0.0.1");
    assert_eq!(doc["port"], port);
    assert_eq!(doc["mode"], "tcp");
    for (i, t) in doc["tries"].as_array().unwrap().iter().enumerate() {
        assert_eq!(t["seq"], i + 1);
        assert_eq!(t["ok"], true, "{t}");
        assert!(t["error"].is_null());
        let ms = f(&t["time_ms"]);
        assert!(ms > 0.0 && ms < 2000.0, "{ms} is not within the 2s timeout");
    }
    check_summary(&doc, 3);
    assert_eq!(accepted(&l), 3, "each try is one real connection");

    // The same as text: a line per try, then the summary.
    let out = run(&["ping", &target, "-c", "2", "-i", "50ms"], b"");
    assert_eq!(out.status.code(), Some(0));
    let t = text(&out.stdout);
    for seq in 1..=2 {
        let needle = format!("connected to {target}: seq={seq} time=");
        assert!(t.contains(&needle), "{needle:?} not in:\n{t}");
    }
    assert!(
        t.contains(&format!("--- {target} ping statistics ---")),
        "{t}"
    );
    assert!(t.contains("2 tries, 2 connected, 0% loss"), "{t}");
    assert!(t.contains("time min/avg/max/stddev = "), "{t}");
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn tcp_ping_over_ipv6() {
    let l = TcpListener::bind("[::1]:0").expect("bind [::1]:0 (is IPv6 on?)");
    let port = l.local_addr().unwrap().port();
    let target = format!("[::1]:{port}");
    let out = run(&["ping", &target, "-c", "1"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let t = text(&out.stdout);
    assert!(t.contains(&format!("connected to {target}: seq=1")), "{t}");
    assert_eq!(accepted(&l), 1);
}

#[test]
fn a_name_says_what_it_resolved_to() {
    // The oracle is the system resolver itself: its first answer is what socklab must use.
    let first: IpAddr = ("localhost", 0)
        .to_socket_addrs()
        .expect("resolve localhost")
        .next()
        .expect("localhost has an address")
        .ip();
    let l = TcpListener::bind((first, 0)).unwrap();
    let port = l.local_addr().unwrap().port();
    let target = format!("localhost:{port}");
    let out = run(&["ping", &target, "-c", "1"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let t = text(&out.stdout);
    assert!(t.contains(&format!("localhost resolved to {first}")), "{t}");
    let out = run(&["ping", &target, "-c", "1", "--json"], b"");
    assert_eq!(json(&out)["address"], first.to_string());
    assert_eq!(accepted(&l), 2);
}

#[test]
fn a_closed_port_is_refused_every_time_and_exits_1() {
    let refused = RefusedPort::new();
    let port = refused.port;
    let target = format!("127.0.0.1:{port}");
    let out = run(&["ping", &target, "-c", "2", "-i", "50ms"], b"");
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out.stdout);
    for seq in 1..=2 {
        let needle = format!("no connection to {target}: seq={seq} refused");
        assert!(t.contains(&needle), "{needle:?} not in:\n{t}");
    }
    assert!(t.contains("2 tries, 0 connected, 100% loss"), "{t}");
    assert!(!t.contains("min/avg/max"), "no times without replies: {t}");

    let out = run(&["ping", &target, "-c", "2", "-i", "50ms", "--json"], b"");
    assert_eq!(out.status.code(), Some(1));
    let doc = json(&out);
    for t in doc["tries"].as_array().unwrap() {
        assert_eq!(
            (&t["ok"], &t["error"]),
            (&Value::Bool(false), &Value::from("refused"))
        );
        assert!(t["time_ms"].is_null());
    }
    check_summary(&doc, 2);
}

#[test]
fn a_port_that_drops_syns_times_out() {
    let silent = SilentPort::new();
    let target = format!("127.0.0.1:{}", silent.port);
    let out = run(&["ping", &target, "-c", "1", "-W", "300ms", "--json"], b"");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let doc = json(&out);
    assert_eq!(doc["tries"][0]["error"], "timed out after 300ms");
    check_summary(&doc, 1);
    let out = run(&["ping", &target, "-c", "1", "-W", "300ms"], b"");
    let t = text(&out.stdout);
    assert!(
        t.contains(&format!(
            "no connection to {target}: seq=1 timed out after 300ms"
        )),
        "{t}"
    );
}

#[test]
fn ctrl_c_ends_an_endless_ping_with_its_summary() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let mut cmd = socklab();
    cmd.args([
        "ping",
        &format!("127.0.0.1:{port}"),
        "-c",
        "0",
        "-i",
        "50ms",
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut p = Proc::spawn(cmd, "socklab ping -c 0");
    let mut lines = Lines::new(p.stdout());
    lines.wait_for("seq=3 ");
    let status = Command::new("kill")
        .args(["-INT", &p.child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    assert_eq!(p.wait().code(), Some(0));
    let all = lines.rest();
    let connected = all.iter().filter(|l| l.starts_with("connected to")).count();
    assert!(connected >= 3, "{all:?}");
    let summary = format!("{connected} tries, {connected} connected, 0% loss");
    assert!(all.contains(&summary), "{summary:?} not in {all:?}");
    assert!(all.iter().any(|l| l.contains("ping statistics")), "{all:?}");
}

#[test]
fn a_reader_that_goes_away_ends_an_endless_ping() {
    use std::io::{BufRead, BufReader};
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let mut cmd = socklab();
    cmd.args([
        "ping",
        &format!("127.0.0.1:{port}"),
        "-c",
        "0",
        "-i",
        "20ms",
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut p = Proc::spawn(cmd, "socklab ping -c 0 | head -2");
    let mut out = BufReader::new(p.stdout());
    let mut line = String::new();
    for _ in 0..2 {
        line.clear();
        out.read_line(&mut line).expect("read a line");
        assert!(!line.is_empty(), "output ended early");
    }
    drop(out);
    // As `| head -2` leaves it: the next line cannot be written, so the run ends (exit 0,
    // the Unix convention for a reader that went away) instead of pinging forever.
    assert_eq!(p.wait().code(), Some(0));
}

/// ICMP on this machine's loopback: root gets a raw socket, others an unprivileged one
/// where net.ipv4.ping_group_range includes their group.
#[test]
fn icmp_echo_to_loopback_v4_and_v6() {
    for host in ["127.0.0.1", "::1"] {
        let out = run(&["ping", host, "-c", "2", "-i", "50ms", "--json"], b"");
        let err = text(&out.stderr);
        assert!(
            !err.contains("not allowed"),
            "ICMP tests need root or net.ipv4.ping_group_range covering this group: {err}"
        );
        assert_eq!(out.status.code(), Some(0), "{err}");
        let doc = json(&out);
        assert_eq!(doc["mode"], "icmp");
        assert!(doc["port"].is_null());
        assert_eq!(doc["address"], host);
        assert_eq!(doc["target"], host);
        check_summary(&doc, 2);
        assert_eq!(doc["summary"]["received"], 2);
    }
    let out = run(&["ping", "127.0.0.1", "-c", "1"], b"");
    let t = text(&out.stdout);
    assert!(t.contains("ICMP echo to 127.0.0.1"), "{t}");
    assert!(t.contains("reply from 127.0.0.1: seq=1 time="), "{t}");
    assert!(t.contains("1 sent, 1 received, 0% loss"), "{t}");
}

/// socklab inside namespace `ns` of `net`, without CAP_NET_RAW (so no raw socket, as for
/// an ordinary user), with `ping_group_range` set in that namespace only.
fn ping_without_raw(net: &TwoHosts, range: &str, args: &[&str]) -> std::process::Output {
    let sysctl = net
        .cmd(&net.a, require("sysctl", "procps"))
        .args(["-q", "-w", &format!("net.ipv4.ping_group_range={range}")])
        .status()
        .expect("run sysctl");
    assert!(sysctl.success(), "sysctl in the test namespace");
    let setpriv = require("setpriv", "util-linux");
    let mut cmd = net.cmd(&net.a, setpriv);
    cmd.args(["--inh-caps=-net_raw", "--bounding-set=-net_raw"])
        .arg(env!("CARGO_BIN_EXE_socklab"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    wait_output(cmd.spawn().expect("spawn socklab in the namespace"))
}

#[test]
fn unprivileged_icmp_where_ping_group_range_allows_it() {
    let net = TwoHosts::new();
    for host in ["127.0.0.1", "::1"] {
        let out = ping_without_raw(
            &net,
            "0 2147483647",
            &["ping", host, "-c", "2", "-i", "50ms"],
        );
        let t = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{t}{}", text(&out.stderr));
        assert!(
            t.contains(&format!("ICMP echo to {host} (unprivileged ICMP socket)")),
            "{t}"
        );
        assert!(t.contains("2 sent, 2 received, 0% loss"), "{t}");
    }
}

#[test]
fn denied_icmp_explains_how_to_allow_it() {
    let net = TwoHosts::new();
    // "1 0", the kernel's default: no group may open an unprivileged ICMP socket.
    let out = ping_without_raw(&net, "1 0", &["ping", "127.0.0.1", "-c", "1"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert_eq!(err.lines().count(), 1, "{err}");
    for needle in [
        "net.ipv4.ping_group_range",
        "\"1 0\"",
        "CAP_NET_RAW",
        "HOST:PORT",
    ] {
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
    assert!(!err.contains("net.ipv6.ping_group_range"), "{err}");
}

#[test]
fn an_unresolvable_name_exits_1() {
    // In a namespace of its own the resolver is unreachable, so the lookup fails without
    // a query leaving the machine.
    let net = TwoHosts::new();
    let mut cmd = net.cmd(&net.a, env!("CARGO_BIN_EXE_socklab"));
    cmd.args(["ping", "no-such-host.invalid:80", "-c", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let out = wait_output(cmd.spawn().expect("spawn"));
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("cannot resolve 'no-such-host.invalid'"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn malformed_input_exits_2() {
    let w = Witness::new();
    let addr = w.addr();
    for (args, needles) in [
        (
            vec!["ping", "127.0.0.1:80:junk"],
            vec!["bad target '127.0.0.1:80:junk'", "[::1]:80"],
        ),
        (
            vec!["ping", "127.0.0.1:70000"],
            vec!["out of range 1-65535"],
        ),
        (vec!["ping", "127.0.0.1:0"], vec!["port 0"]),
        (vec!["ping", "127.0.0.1:"], vec!["empty"]),
        (vec!["ping", "[::1"], vec!["not closed"]),
        (
            vec!["ping", "a b:80"],
            vec!["neither an IP address nor a host name"],
        ),
        (vec!["ping", &addr, "-c", "-1"], vec!["'-1'", "0 or more"]),
        (
            vec!["ping", &addr, "-c", "many"],
            vec!["'many'", "0 or more"],
        ),
        (vec!["ping", &addr, "-i", "0"], vec!["more than 0"]),
        (vec!["ping", &addr, "-i", "0s"], vec!["more than 0"]),
        (vec!["ping", &addr, "-W", "0ms"], vec!["more than 0"]),
        (vec!["ping", &addr, "-i", "soon"], vec!["bad duration"]),
    ] {
        let out = run(&args, b"");
        usage_error(&out, &needles);
    }
    w.assert_untouched();
}
