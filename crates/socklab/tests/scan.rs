//! `socklab scan` of 127.0.0.1 only (and ::1), with a few ports the test controls: open
//! ones (listeners), closed ones (bound, then dropped: refused), silent ones (a full
//! backlog drops the SYN: filtered). Never any other address, never more than a few ports.

use std::net::{IpAddr, TcpListener, ToSocketAddrs};

use serde_json::Value;

use crate::support::*;

fn json(out: &std::process::Output) -> Value {
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&out.stdout)))
}

fn open_ports(doc: &Value) -> Vec<u64> {
    doc["open"]
        .as_array()
        .expect("open")
        .iter()
        .map(|o| o["port"].as_u64().expect("port"))
        .collect()
}

/// Connections a listener has queued, without blocking.
fn accepted(l: &TcpListener) -> usize {
    l.set_nonblocking(true).expect("nonblocking");
    std::iter::from_fn(|| l.accept().ok()).take(1000).count()
}

fn listeners(n: usize) -> Vec<(TcpListener, u16)> {
    (0..n)
        .map(|_| {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            let p = l.local_addr().unwrap().port();
            (l, p)
        })
        .collect()
}

#[test]
fn exactly_the_open_ports_are_reported() {
    let open = listeners(3);
    let refused: Vec<RefusedPort> = (0..3).map(|_| RefusedPort::new()).collect();
    let closed: Vec<u16> = refused.iter().map(|r| r.port).collect();
    let silent = SilentPort::new();
    let mut list: Vec<String> = open.iter().map(|(_, p)| p.to_string()).collect();
    list.extend(closed.iter().map(u16::to_string));
    // A one-port range and a repeat: the same ports, merged.
    list.push(format!("{p}-{p}", p = silent.port));
    list.push(open[0].1.to_string());
    let list = list.join(",");

    let out = run(
        &["scan", "127.0.0.1", &list, "--timeout", "500ms", "--json"],
        b"",
    );
    let doc = json(&out);
    let mut want: Vec<u64> = open.iter().map(|(_, p)| u64::from(*p)).collect();
    want.sort_unstable();
    assert_eq!(open_ports(&doc), want, "{doc}");
    assert_eq!(doc["host"], "127.0.0.1");
    assert_eq!(doc["address"], "127.0.0.1");
    assert_eq!(doc["ports_scanned"], 7);
    assert_eq!(doc["closed"], 3);
    assert_eq!(doc["filtered"], 1);
    let ms = doc["elapsed_ms"].as_f64().expect("elapsed_ms");
    assert!(ms > 0.0, "{ms}");
    for (l, p) in &open {
        assert_eq!(accepted(l), 1, "port {p}: one real connect per port");
    }

    // The same as a table.
    let out = run(&["scan", "127.0.0.1", &list, "--timeout", "500ms"], b"");
    assert_eq!(out.status.code(), Some(0));
    let t = text(&out.stdout);
    assert!(t.contains("scanning 127.0.0.1: 7 TCP ports"), "{t}");
    for (_, p) in &open {
        assert!(
            t.lines()
                .any(|l| l.starts_with(&format!("{p}/tcp")) && l.contains("open")),
            "{t}"
        );
    }
    for p in &closed {
        assert!(!t.contains(&format!("{p}/tcp")), "{t}");
    }
    assert!(
        t.contains("3 open, 3 closed (refused), 1 filtered (no answer within 500ms)"),
        "{t}"
    );
}

#[test]
fn open_ports_carry_their_service_names() {
    // A services file that names a port this test holds open: the merge with
    // /etc/services reaches the scan.
    let held = listeners(1);
    let (_, port) = &held[0];
    let dir = TempDir::new("scan-services");
    let services = dir.path("services");
    std::fs::write(
        &services,
        format!("socklab-test\t{port}/tcp\t\t# a test entry\n"),
    )
    .unwrap();
    let mut cmd = socklab();
    cmd.env("SOCKLAB_SERVICES", &services)
        .args(["scan", "127.0.0.1", &port.to_string(), "--json"]);
    let doc = json(&cmd.output().unwrap());
    assert_eq!(doc["open"][0]["service"], "socklab-test", "{doc}");

    // A built-in well-known port, if one of these is free to hold; the oracle for its
    // name is `socklab ports`.
    let candidates = [1883u16, 8883, 4840, 20000, 27017, 9092, 11211, 5672, 2181];
    let (l, port) = candidates
        .iter()
        .find_map(|p| TcpListener::bind(("127.0.0.1", *p)).ok().map(|l| (l, *p)))
        .unwrap_or_else(|| panic!("none of {candidates:?} is free on 127.0.0.1"));
    let doc = json(&run(
        &["scan", "127.0.0.1", &port.to_string(), "--json"],
        b"",
    ));
    let names = json(&run(&["ports", &format!("{port}/tcp"), "--json"], b""));
    assert_eq!(doc["open"][0]["port"], port);
    assert_eq!(doc["open"][0]["service"], names[0]["name"], "{doc} {names}");
    assert!(doc["open"][0]["service"].is_string());
    let out = run(&["scan", "127.0.0.1", &port.to_string()], b"");
    let name = names[0]["name"].as_str().unwrap();
    assert!(text(&out.stdout)
        .lines()
        .any(|l| l.starts_with(&format!("{port}/tcp")) && l.ends_with(name)));
    drop(l);

    // A port the catalog does not name has a null service; `socklab ports` (with an
    // empty services file, so only the built-in table counts) is the oracle again.
    let empty = dir.path("empty");
    std::fs::write(&empty, "").unwrap();
    let with_empty = |args: &[&str]| {
        let mut cmd = socklab();
        cmd.env("SOCKLAB_SERVICES", &empty).args(args);
        cmd.output().unwrap()
    };
    let port = held[0].1.to_string();
    let doc = json(&with_empty(&["scan", "127.0.0.1", &port, "--json"]));
    let known = with_empty(&["ports", &format!("{port}/tcp"), "--json"]);
    match known.status.code() {
        Some(1) => assert!(doc["open"][0]["service"].is_null(), "{doc}"),
        _ => assert_eq!(doc["open"][0]["service"], json(&known)[0]["name"]),
    }
}

/// With one connect at a time, silent ports are waited for one after another: the scan
/// cannot end before each has had its full timeout (a lower bound, never flaky).
#[test]
fn concurrency_one_waits_for_each_silent_port_in_turn() {
    let silent: Vec<SilentPort> = (0..3).map(|_| SilentPort::new()).collect();
    let list: Vec<String> = silent.iter().map(|s| s.port.to_string()).collect();
    let list = list.join(",");
    let args = [
        "scan",
        "127.0.0.1",
        &list,
        "--timeout",
        "300ms",
        "--concurrency",
        "1",
        "--json",
    ];
    let doc = json(&run(&args, b""));
    assert_eq!(doc["filtered"], 3);
    let ms = doc["elapsed_ms"].as_f64().unwrap();
    assert!(
        ms >= 900.0,
        "3 silent ports one at a time took only {ms} ms"
    );
}

#[test]
fn ipv6_and_names() {
    let l = TcpListener::bind("[::1]:0").expect("bind [::1]:0 (is IPv6 on?)");
    let port = l.local_addr().unwrap().port();
    for host in ["::1", "[::1]"] {
        let doc = json(&run(&["scan", host, &port.to_string(), "--json"], b""));
        assert_eq!(doc["address"], "::1");
        assert_eq!(open_ports(&doc), [u64::from(port)]);
    }
    let first: IpAddr = ("localhost", 0)
        .to_socket_addrs()
        .unwrap()
        .next()
        .unwrap()
        .ip();
    let l = TcpListener::bind((first, 0)).unwrap();
    let port = l.local_addr().unwrap().port();
    let out = run(&["scan", "localhost", &port.to_string()], b"");
    assert_eq!(out.status.code(), Some(0));
    let t = text(&out.stdout);
    assert!(t.contains(&format!("localhost resolved to {first}")), "{t}");
    assert!(t.contains(&format!("{port}/tcp")), "{t}");
}

#[test]
fn bad_port_lists_and_options_exit_2_before_any_connect() {
    let w = Witness::new();
    let p = w.port.to_string();
    let expected = "22,80,8000-8100";
    let cases: Vec<(Vec<String>, Vec<&str>)> = vec![
        (vec![format!("{p},0")], vec!["'0'", "port 0", expected]),
        (
            vec![format!("{p},70000")],
            vec!["'70000'", "out of range 1-65535", expected],
        ),
        (
            vec!["90-80".into()],
            vec!["'90-80'", "backwards", "80-90", expected],
        ),
        (vec![format!("{p},,80")], vec!["item 2 is empty", expected]),
        (vec![format!("{p},")], vec!["item 2 is empty", expected]),
        (
            vec![format!("{p},http")],
            vec!["'http'", "not a port number", expected],
        ),
        (vec![format!("{p}-")], vec!["each side", expected]),
        (vec!["".into()], vec!["the list is empty"]),
        (
            vec!["1-65535,1".into()],
            vec!["65536 ports", "at most 65535"],
        ),
        (
            vec![p.clone(), "--concurrency".into(), "0".into()],
            vec!["'0'", "1 to 1000"],
        ),
        (
            vec![p.clone(), "--concurrency".into(), "1001".into()],
            vec!["'1001'", "1 to 1000"],
        ),
        (
            vec![p.clone(), "--timeout".into(), "0s".into()],
            vec!["more than 0"],
        ),
    ];
    for (rest, needles) in cases {
        let mut args = vec!["scan".to_string(), "127.0.0.1".to_string()];
        args.extend(rest);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        usage_error(&run(&args, b""), &needles);
    }
    usage_error(
        &run(&["scan", &w.addr(), &p], b""),
        &[
            "the ports go in their own argument",
            &format!("socklab scan 127.0.0.1 {p}"),
        ],
    );
    usage_error(&run(&["scan", "127.0.0.1:1:2", &p], b""), &["bad target"]);
    w.assert_untouched();
}

/// Four consecutive ports, all bound by this test (so the range holds no one else's
/// server, which a scan would disturb): the 1st and 3rd listen, the 2nd and 4th are
/// dropped again (refused).
fn four_in_a_row() -> (Vec<TcpListener>, u16) {
    for _ in 0..100 {
        let first = TcpListener::bind("127.0.0.1:0").unwrap();
        let p = first.local_addr().unwrap().port();
        if p > 65532 {
            continue;
        }
        let rest: Vec<TcpListener> = (1..4)
            .filter_map(|i| TcpListener::bind(("127.0.0.1", p + i)).ok())
            .collect();
        if rest.len() == 3 {
            let mut held = vec![first];
            held.extend(rest);
            return (held, p);
        }
    }
    panic!("found no four free consecutive ports on 127.0.0.1 in 100 tries");
}

#[test]
fn a_range_is_every_port_in_it() {
    let (mut held, p) = four_in_a_row();
    // Drop the 4th and the 2nd (indexes 3 and 1), keep the 1st and 3rd listening.
    held.remove(3);
    held.remove(1);
    let range = format!("{p}-{}", p + 3);
    let doc = json(&run(
        &["scan", "127.0.0.1", &range, "--timeout", "500ms", "--json"],
        b"",
    ));
    assert_eq!(doc["ports_scanned"], 4);
    assert_eq!(open_ports(&doc), [u64::from(p), u64::from(p + 2)], "{doc}");
    assert_eq!(doc["closed"], 2);
    assert_eq!(doc["filtered"], 0);
    for l in &held {
        assert_eq!(accepted(l), 1);
    }
}
