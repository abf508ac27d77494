//! `socklab dns` against a real DNS server on loopback: dnsmasq, started by each test on a
//! free port with records the test defines (so the test is the oracle for every answer),
//! answering only from those records and never forwarding anywhere but to another dnsmasq
//! the test started itself. Failures come from real peers too: a UDP socket that never
//! answers, a closed port, a validating dnsmasq that cannot validate (SERVFAIL), a record
//! dnsmasq sends malformed.

use std::net::{TcpListener, UdpSocket};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::*;

/// A dnsmasq that serves only what it is told, on 127.0.0.1 and a port of its own.
pub(crate) struct Dnsmasq {
    _proc: Proc,
    port: u16,
}

impl Dnsmasq {
    pub(crate) fn start(records: &[String]) -> Dnsmasq {
        let program = require("dnsmasq", "dnsmasq-base");
        let port = free_dns_port();
        let mut cmd = Command::new(program);
        cmd.args([
            "--keep-in-foreground",
            "--no-daemon",
            &format!("--port={port}"),
            "--listen-address=127.0.0.1",
            "--bind-interfaces",
            // Nothing from the machine: no resolv.conf (so no upstream servers), no
            // /etc/hosts, no configuration file, no pid file.
            "--no-resolv",
            "--no-hosts",
            "--conf-file=/dev/null",
            "--pid-file=",
            "--log-facility=-",
        ])
        .args(records)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
        let mut proc = Proc::spawn(cmd, "dnsmasq");
        // dnsmasq binds its sockets before it logs "started" (it must, to drop root
        // afterwards), so the line means it is ready; if the bind fails it exits with the
        // reason and wait_for shows it.
        let mut log = Lines::new(proc.stderr());
        log.wait_for("started, version");
        Dnsmasq { _proc: proc, port }
    }

    pub(crate) fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

/// A port free for both UDP and TCP on 127.0.0.1, since dnsmasq listens on both.
fn free_dns_port() -> u16 {
    for _ in 0..100 {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
        let port = udp.local_addr().expect("addr").port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no port free for both UDP and TCP in 100 tries");
}

/// A name in DNS wire format, for `--dns-rr` data (hex).
fn wire_name(name: &str) -> String {
    let mut hex = String::new();
    for label in name.split('.') {
        hex.push_str(&format!("{:02x}", label.len()));
        for b in label.bytes() {
            hex.push_str(&format!("{b:02x}"));
        }
    }
    hex + "00"
}

/// What the test zone holds, as dnsmasq options.
pub(crate) fn zone() -> Vec<String> {
    let soa = format!(
        "{}{}{:08x}{:08x}{:08x}{:08x}{:08x}",
        wire_name("ns.test"),
        wire_name("admin.test"),
        2024_0101u32,
        3600,
        600,
        86400,
        1800
    );
    [
        // Answer for test. from these records only: NXDOMAIN for any other name in it.
        "--local=/test/",
        "--local-ttl=300",
        "--host-record=a.test,192.0.2.10,2001:db8::10",
        "--cname=www.test,a.test",
        "--mx-host=test,mail.test,10",
        "--txt-record=t.test,v=spf1 -all,second string",
        "--txt-record=zh.test,网络调试",
        "--srv-host=_sip._tcp.test,sip.test,5060,1,5",
        "--ptr-record=20.2.0.192.in-addr.arpa,printer.test",
        "--host-record=xn--fsqu00a.test,192.0.2.30",
    ]
    .into_iter()
    .map(String::from)
    .chain([
        format!("--dns-rr=test,2,{}", wire_name("ns.test")),
        format!("--dns-rr=test,6,{soa}"),
    ])
    .collect()
}

fn dns(args: &[&str]) -> Output {
    let mut all = vec!["dns"];
    all.extend_from_slice(args);
    run(&all, b"")
}

/// `socklab dns ... --json`, which must exit `code`; the document it printed.
fn json(args: &[&str], code: i32) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = dns(&all);
    assert_eq!(
        out.status.code(),
        Some(code),
        "stderr: {}\nstdout: {}",
        text(&out.stderr),
        text(&out.stdout)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: not one JSON document: {}", text(&out.stdout)))
}

/// The answers' (type, data) pairs.
fn answers(doc: &Value) -> Vec<(String, String)> {
    doc["answers"]
        .as_array()
        .expect("answers")
        .iter()
        .map(|a| {
            (
                a["type"].as_str().expect("type").to_string(),
                a["data"].as_str().expect("data").to_string(),
            )
        })
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(t, d)| (t.to_string(), d.to_string()))
        .collect()
}

/// Sanity only: a loopback answer took some time, and less than the timeout.
fn sane_elapsed(doc: &Value, timeout: Duration) {
    let ms = doc["elapsed_ms"].as_f64().expect("elapsed_ms");
    assert!(
        ms > 0.0 && ms < timeout.as_millis() as f64,
        "elapsed_ms {ms}"
    );
}

#[test]
fn a_and_aaaa_by_default_over_udp_and_tcp() {
    let d = Dnsmasq::start(&zone());
    let addr = d.addr();
    for (flag, protocol) in [(None, "udp"), (Some("--tcp"), "tcp")] {
        let mut args = vec!["a.test", "--server", addr.as_str()];
        args.extend(flag);
        let doc = json(&args, 0);
        assert_eq!(doc["name"], "a.test.");
        assert_eq!(doc["types"], serde_json::json!(["A", "AAAA"]));
        assert_eq!(doc["server"], d.addr());
        assert_eq!(doc["protocol"], protocol);
        assert_eq!(doc["status"], "NOERROR");
        sane_elapsed(&doc, Duration::from_secs(5));
        assert_eq!(
            answers(&doc),
            pairs(&[("A", "192.0.2.10"), ("AAAA", "2001:db8::10")])
        );
        for a in doc["answers"].as_array().unwrap() {
            assert_eq!(a["name"], "a.test.");
            assert_eq!(a["ttl"], 300);
            assert_eq!(a["class"], "IN");
        }
        let queries = doc["queries"].as_array().unwrap();
        assert_eq!(queries.len(), 2);
        for (q, t) in queries.iter().zip(["A", "AAAA"]) {
            assert_eq!(q["type"], t);
            assert_eq!(q["server"], d.addr());
            assert_eq!(q["protocol"], protocol);
            assert_eq!(q["status"], "NOERROR");
            assert_eq!(q["truncated_udp"], false);
            assert_eq!(q["answers"], 1);
        }
    }
}

#[test]
fn the_table_names_the_server_and_the_time() {
    let d = Dnsmasq::start(&zone());
    let out = dns(&["a.test", "--server", &d.addr()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["name", "TTL", "class", "type", "data"]
    );
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        ["a.test.", "300", "IN", "A", "192.0.2.10"]
    );
    assert_eq!(
        lines[2].split_whitespace().collect::<Vec<_>>(),
        ["a.test.", "300", "IN", "AAAA", "2001:db8::10"]
    );
    let last = lines.last().unwrap();
    assert!(
        last.starts_with(&format!("server {} (udp) answered A in ", d.addr())),
        "{stdout}"
    );
    assert!(
        last.contains(", AAAA in ") && last.ends_with(" ms"),
        "{stdout}"
    );
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn every_record_type() {
    let d = Dnsmasq::start(&zone());
    let addr = d.addr();
    let ask = |name: &str, t: &str| json(&[name, "--type", t, "--server", &addr], 0);

    let doc = ask("test", "MX");
    assert_eq!(answers(&doc), pairs(&[("MX", "10 mail.test.")]));
    assert_eq!(doc["answers"][0]["preference"], 10);
    assert_eq!(doc["answers"][0]["exchange"], "mail.test.");

    let doc = ask("t.test", "TXT");
    assert_eq!(
        answers(&doc),
        pairs(&[("TXT", r#""v=spf1 -all" "second string""#)])
    );
    assert_eq!(
        doc["answers"][0]["strings"],
        serde_json::json!(["v=spf1 -all", "second string"])
    );
    let doc = ask("zh.test", "txt");
    assert_eq!(
        doc["answers"][0]["strings"],
        serde_json::json!(["网络调试"])
    );

    let doc = ask("_sip._tcp.test", "SRV");
    assert_eq!(answers(&doc), pairs(&[("SRV", "1 5 5060 sip.test.")]));
    let srv = &doc["answers"][0];
    assert_eq!(
        (
            &srv["priority"],
            &srv["weight"],
            &srv["port"],
            &srv["target"]
        ),
        (
            &Value::from(1),
            &Value::from(5),
            &Value::from(5060),
            &Value::from("sip.test.")
        )
    );

    let doc = ask("www.test", "CNAME");
    assert_eq!(answers(&doc), pairs(&[("CNAME", "a.test.")]));
    // Asked for A, the server follows the alias and sends both.
    let doc = ask("www.test", "A");
    assert_eq!(
        answers(&doc),
        pairs(&[("CNAME", "a.test."), ("A", "192.0.2.10")])
    );

    let doc = ask("test", "NS");
    assert_eq!(answers(&doc), pairs(&[("NS", "ns.test.")]));

    let doc = ask("test", "SOA");
    assert_eq!(
        answers(&doc),
        pairs(&[("SOA", "ns.test. admin.test. 20240101 3600 600 86400 1800")])
    );
    let soa = &doc["answers"][0];
    for (field, value) in [
        ("mname", Value::from("ns.test.")),
        ("rname", Value::from("admin.test.")),
        ("serial", Value::from(20240101)),
        ("refresh", Value::from(3600)),
        ("retry", Value::from(600)),
        ("expire", Value::from(86400)),
        ("minimum", Value::from(1800)),
    ] {
        assert_eq!(soa[field], value, "{field}");
    }

    let doc = ask("20.2.0.192.in-addr.arpa", "PTR");
    assert_eq!(answers(&doc), pairs(&[("PTR", "printer.test.")]));

    let mut any = answers(&ask("a.test", "ANY"));
    any.sort();
    assert_eq!(any, pairs(&[("A", "192.0.2.10"), ("AAAA", "2001:db8::10")]));
}

#[test]
fn the_table_spells_out_mx_srv_soa_and_quotes_txt() {
    let d = Dnsmasq::start(&zone());
    let addr = d.addr();
    let table = |name: &str, t: &str| {
        let out = dns(&[name, "--type", t, "--server", &addr]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let mx = table("test", "MX");
    assert!(mx.contains("preference 10, exchange mail.test."), "{mx}");
    let srv = table("_sip._tcp.test", "SRV");
    assert!(
        srv.contains("priority 1, weight 5, port 5060, target sip.test."),
        "{srv}"
    );
    let soa = table("test", "SOA");
    assert!(
        soa.contains("primary ns.test., mailbox admin.test., serial 20240101, refresh 3600, retry 600, expire 86400, minimum 1800"),
        "{soa}"
    );
    let txt = table("t.test", "TXT");
    assert!(txt.contains(r#""v=spf1 -all" "second string""#), "{txt}");
}

#[test]
fn several_types_in_one_command() {
    let d = Dnsmasq::start(&zone());
    let addr = d.addr();
    let doc = json(&["test", "--type", "mx,ns", "--server", &addr], 0);
    assert_eq!(doc["types"], serde_json::json!(["MX", "NS"]));
    assert_eq!(
        answers(&doc),
        pairs(&[("MX", "10 mail.test."), ("NS", "ns.test.")])
    );
    let doc = json(
        &["test", "--type", "SOA", "--type", "MX", "--server", &addr],
        0,
    );
    assert_eq!(doc["types"], serde_json::json!(["SOA", "MX"]));
    assert_eq!(doc["queries"].as_array().unwrap().len(), 2);
}

#[test]
fn an_address_is_looked_up_by_its_ptr_name() {
    let d = Dnsmasq::start(&zone());
    let addr = d.addr();
    let doc = json(&["192.0.2.10", "--server", &addr], 0);
    assert_eq!(doc["name"], "10.2.0.192.in-addr.arpa.");
    assert_eq!(doc["reverse_of"], "192.0.2.10");
    assert_eq!(doc["types"], serde_json::json!(["PTR"]));
    assert_eq!(answers(&doc), pairs(&[("PTR", "a.test.")]));

    let doc = json(&["2001:db8::10", "--server", &addr, "--tcp"], 0);
    assert_eq!(
        doc["name"],
        "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."
    );
    assert_eq!(answers(&doc), pairs(&[("PTR", "a.test.")]));
}

#[test]
fn an_internationalised_name_is_asked_in_punycode() {
    let d = Dnsmasq::start(&zone());
    let doc = json(&["例子.test", "--type", "A", "--server", &d.addr()], 0);
    assert_eq!(doc["name"], "xn--fsqu00a.test.");
    assert_eq!(answers(&doc), pairs(&[("A", "192.0.2.30")]));
}

#[test]
fn a_server_given_by_name_is_resolved_first() {
    let d = Dnsmasq::start(&zone());
    let server = format!("localhost:{}", d.port);
    let doc = json(&["a.test", "--type", "A", "--server", &server], 0);
    // localhost may also be ::1, where dnsmasq does not listen: that address is named
    // among the failures, and 127.0.0.1 answers.
    assert_eq!(doc["server"], d.addr());
    assert_eq!(answers(&doc), pairs(&[("A", "192.0.2.10")]));
    if let Some(failed) = doc["queries"][0]["failed"].as_array() {
        for f in failed {
            assert!(
                f.as_str().unwrap().contains(&format!("[::1]:{}", d.port)),
                "{f}"
            );
        }
    }
}

#[test]
fn a_truncated_udp_answer_is_asked_again_over_tcp() {
    // Eight 200-byte strings make an answer larger than the 1232 bytes the query allows
    // over UDP, so dnsmasq sets TC and socklab must ask again over TCP, as dig does.
    let mut records = zone();
    let strings: Vec<String> = (0..8).map(|i| format!("{i}{}", "x".repeat(199))).collect();
    for s in &strings {
        records.push(format!("--txt-record=big.test,{s}"));
    }
    let d = Dnsmasq::start(&records);
    let doc = json(&["big.test", "--type", "TXT", "--server", &d.addr()], 0);
    assert_eq!(doc["protocol"], "tcp");
    assert_eq!(doc["queries"][0]["truncated_udp"], true);
    let mut got: Vec<String> = doc["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["strings"][0].as_str().unwrap().to_string())
        .collect();
    got.sort();
    assert_eq!(got, strings);

    let out = dns(&["big.test", "--type", "TXT", "--server", &d.addr()]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "server {} (tcp, after a truncated udp answer) answered in",
            d.addr()
        )),
        "{stdout}"
    );
}

#[test]
fn a_name_that_does_not_exist_exits_1_and_still_reports() {
    let d = Dnsmasq::start(&zone());
    let addr = d.addr();
    for proto in [None, Some("--tcp")] {
        let mut args = vec!["nope.test", "--type", "A", "--server", &addr];
        args.extend(proto);
        let doc = json(&args, 1);
        assert_eq!(doc["status"], "NXDOMAIN");
        assert_eq!(doc["queries"][0]["status"], "NXDOMAIN");
        assert_eq!(doc["answers"], serde_json::json!([]));

        let out = dns(&args);
        assert_eq!(out.status.code(), Some(1));
        let err = text(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains(&format!("nope.test. does not exist (NXDOMAIN from {addr})")),
            "{err}"
        );
        assert!(text(&out.stdout).contains("(NXDOMAIN)"));
    }
}

#[test]
fn an_empty_answer_is_not_an_error() {
    let d = Dnsmasq::start(&zone());
    let doc = json(&["a.test", "--type", "MX", "--server", &d.addr()], 0);
    assert_eq!(doc["status"], "NOERROR");
    assert_eq!(doc["answers"], serde_json::json!([]));
    let out = dns(&["a.test", "--type", "MX", "--server", &d.addr()]);
    assert!(text(&out.stdout).contains("no MX record for a.test."));
}

#[test]
fn refused_exits_1_naming_the_server() {
    // dnsmasq has no upstream servers: a name outside test. is not its to answer.
    let d = Dnsmasq::start(&zone());
    let doc = json(&["example.org", "--type", "A", "--server", &d.addr()], 1);
    assert_eq!(doc["status"], "REFUSED");
    let out = dns(&["example.org", "--type", "A", "--server", &d.addr()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("{} refused to answer for example.org.", d.addr())),
        "{err}"
    );
    assert!(err.contains("REFUSED"), "{err}");
}

#[test]
fn servfail_exits_1_naming_the_server() {
    // A validating dnsmasq whose trust anchor for signed.test matches no key, forwarding
    // to a second dnsmasq that answers without signatures: validation fails, SERVFAIL.
    let upstream = Dnsmasq::start(&["--host-record=a.signed.test,192.0.2.40".to_string()]);
    let zeros = "0".repeat(64);
    let validating = Dnsmasq::start(&[
        format!("--server=/signed.test/127.0.0.1#{}", upstream.port),
        "--dnssec".to_string(),
        format!("--trust-anchor=.,1,8,2,{zeros}"),
        format!("--trust-anchor=signed.test,12345,8,2,{zeros}"),
    ]);
    let addr = validating.addr();
    let doc = json(&["a.signed.test", "--type", "A", "--server", &addr], 1);
    assert_eq!(doc["status"], "SERVFAIL");
    let out = dns(&["a.signed.test", "--type", "A", "--server", &addr]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("{addr} failed to answer for a.signed.test.")),
        "{err}"
    );
    assert!(err.contains("SERVFAIL"), "{err}");
}

#[test]
fn a_server_that_never_answers_times_out_naming_it() {
    let silent = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let addr = silent.local_addr().unwrap().to_string();
    let start = Instant::now();
    let out = dns(&["a.test", "--server", &addr, "--timeout", "1s"]);
    let took = start.elapsed();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!("no answer from {addr} (udp) within 1s")),
        "{err}"
    );
    assert!(took < DEADLINE, "took {took:?}");
    // The questions did reach the socket: A and AAAA for a.test.
    silent
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 512];
    let (n, _) = silent.recv_from(&mut buf).expect("a query arrived");
    let wanted = b"\x01a\x04test\x00";
    assert!(
        buf[..n].windows(wanted.len()).any(|w| w == wanted),
        "{:?}",
        &buf[..n]
    );
}

#[test]
fn a_closed_port_is_reported_over_udp_and_tcp() {
    // Bound then closed: nothing listens on it.
    let port = free_dns_port();
    let addr = format!("127.0.0.1:{port}");
    let out = dns(&["a.test", "--server", &addr, "--timeout", "10s"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("nothing answers DNS at {addr} (udp)")),
        "{err}"
    );

    let out = dns(&["a.test", "--server", &addr, "--tcp"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!(
            "cannot connect to {addr} (tcp): connection refused"
        )),
        "{err}"
    );
}

#[test]
fn a_malformed_answer_says_so() {
    // An NS record whose data is a cut-off name: dnsmasq sends it as configured.
    let d = Dnsmasq::start(&["--dns-rr=bad.test,2,0274".to_string()]);
    let addr = d.addr();
    for proto in [None, Some("--tcp")] {
        let mut args = vec!["bad.test", "--type", "NS", "--server", addr.as_str()];
        args.extend(proto);
        let out = dns(&args);
        assert_eq!(out.status.code(), Some(1));
        let err = text(&out.stderr);
        assert!(
            err.contains(&format!("{addr} ("))
                && err.contains("sent a reply that is not valid DNS"),
            "{err}"
        );
    }
}

/// A UDP socket standing where a DNS server would be; `assert_untouched` proves a rejected
/// command sent nothing.
struct UdpWitness(UdpSocket);

impl UdpWitness {
    fn new() -> UdpWitness {
        let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
        s.set_nonblocking(true).expect("nonblocking");
        UdpWitness(s)
    }

    fn addr(&self) -> String {
        self.0.local_addr().expect("addr").to_string()
    }

    fn assert_untouched(&self) {
        let mut buf = [0u8; 512];
        if let Ok((n, from)) = self.0.recv_from(&mut buf) {
            panic!("{from} sent {:?}; expected nothing", &buf[..n]);
        }
    }
}

#[test]
fn bad_names_exit_2_and_send_nothing() {
    let w = UdpWitness::new();
    let addr = w.addr();
    let long_label = format!("{}.test", "x".repeat(64));
    let l63 = "y".repeat(63);
    let long_name = format!("{l63}.{l63}.{l63}.{l63}");
    for (name, why) in [
        ("", "the name is empty"),
        ("a..test", "empty label (two dots in a row)"),
        (".a.test", "empty label (the name starts with a dot)"),
        (long_label.as_str(), "64 bytes long, more than 63"),
        (long_name.as_str(), "255 bytes long, more than 253"),
        ("a b.test", "the character ' ' is not allowed"),
        ("a/b.test", "the character '/' is not allowed"),
        ("http://a.test", "the character ':' is not allowed"),
    ] {
        let out = dns(&[name, "--server", &addr]);
        usage_error(&out, &["bad DNS name", why, "expected"]);
    }
    w.assert_untouched();
}

#[test]
fn unknown_types_exit_2_listing_the_known_ones() {
    let w = UdpWitness::new();
    let addr = w.addr();
    for t in ["AXFR", "", "A,FOO"] {
        let out = dns(&["a.test", "--type", t, "--server", &addr]);
        usage_error(
            &out,
            &[
                "unknown record type",
                "A, AAAA, CNAME, MX, TXT, NS, SOA, PTR, SRV, ANY",
            ],
        );
    }
    w.assert_untouched();
}

#[test]
fn bad_servers_exit_2() {
    for (server, why) in [
        ("127.0.0.1:70000", "port 70000 is out of range 1-65535"),
        ("127.0.0.1:0", "port 0 is out of range 1-65535"),
        ("127.0.0.1:dns", "'dns' is not a port number"),
        (":53", "no host before ':'"),
        ("", "it is empty"),
        ("2001:db8::1:53x", "needs brackets"),
        ("[::1", "without a closing ']'"),
        ("bad host:53", "is not a host name"),
    ] {
        let out = dns(&["a.test", "--server", server]);
        usage_error(&out, &["bad DNS server", why, "expected HOST[:PORT]"]);
    }
}

#[test]
fn bad_timeouts_exit_2() {
    let w = UdpWitness::new();
    let addr = w.addr();
    let out = dns(&["a.test", "--server", &addr, "--timeout", "0s"]);
    usage_error(&out, &["--timeout 0", "expected a duration"]);
    let out = dns(&["a.test", "--server", &addr, "--timeout", "soon"]);
    usage_error(&out, &["bad duration 'soon'"]);
    w.assert_untouched();
}

#[test]
fn an_authoritative_server_sends_its_soa_with_nxdomain() {
    // dnsmasq as the authority for auth.test (queries arriving on lo are answered
    // authoritatively): a missing name comes with the zone's SOA in the authority section.
    let d = Dnsmasq::start(&[
        "--auth-server=ns.auth.test,lo".to_string(),
        "--auth-zone=auth.test".to_string(),
        "--auth-soa=42,hostmaster.auth.test,1200,120,604800,600".to_string(),
        "--host-record=a.auth.test,192.0.2.50".to_string(),
    ]);
    let addr = d.addr();
    let doc = json(&["a.auth.test", "--type", "A", "--server", &addr], 0);
    assert_eq!(answers(&doc), pairs(&[("A", "192.0.2.50")]));
    assert_eq!(doc["queries"][0]["authoritative"], true);

    let doc = json(&["nope.auth.test", "--type", "A", "--server", &addr], 1);
    assert_eq!(doc["status"], "NXDOMAIN");
    let soa = &doc["authority"][0];
    assert_eq!(soa["type"], "SOA");
    assert_eq!(soa["name"], "auth.test.");
    assert_eq!(soa["mname"], "ns.auth.test.");
    assert_eq!(soa["rname"], "hostmaster.auth.test.");
    assert_eq!(soa["serial"], 42);
    assert_eq!(soa["minimum"], 600);

    let out = dns(&["nope.auth.test", "--type", "A", "--server", &addr]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("authority section:\n"), "{stdout}");
    assert!(
        stdout.contains("primary ns.auth.test., mailbox hostmaster.auth.test., serial 42"),
        "{stdout}"
    );
}

/// `/etc/netns/NS/resolv.conf`, which `ip netns exec NS` mounts over /etc/resolv.conf for
/// the program it runs: the test's own resolver configuration, seen by nothing else.
struct NetnsResolvConf {
    dir: std::path::PathBuf,
}

impl NetnsResolvConf {
    fn write(ns: &str, contents: &str) -> NetnsResolvConf {
        let dir = std::path::Path::new("/etc/netns").join(ns);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        std::fs::write(dir.join("resolv.conf"), contents).expect("write resolv.conf");
        NetnsResolvConf { dir }
    }
}

impl Drop for NetnsResolvConf {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn without_a_server_the_resolv_conf_servers_are_asked_in_turn() {
    // Host a's resolv.conf names two servers: the first (127.0.0.1 inside a) has nothing
    // listening, the second is dnsmasq on host b port 53. socklab must say the first
    // failed and take the answer from the second, as glibc would.
    let net = crate::support::netns::TwoHosts::new();
    let program = require("dnsmasq", "dnsmasq-base");
    let mut cmd = net.cmd(&net.b, &program);
    cmd.args([
        "--keep-in-foreground",
        "--no-daemon",
        "--port=53",
        &format!("--listen-address={}", net.b_ip),
        "--bind-interfaces",
        "--no-resolv",
        "--no-hosts",
        "--conf-file=/dev/null",
        "--pid-file=",
        "--log-facility=-",
    ])
    .args(zone())
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    let mut dnsmasq = Proc::spawn(cmd, "dnsmasq in b");
    let mut log = Lines::new(dnsmasq.stderr());
    log.wait_for("started, version");

    let _conf = NetnsResolvConf::write(
        &net.a,
        &format!(
            "# written by socklab's tests\nnameserver 127.0.0.1\nnameserver {}\noptions timeout:2\n",
            net.b_ip
        ),
    );
    let out = net
        .cmd(&net.a, env!("CARGO_BIN_EXE_socklab"))
        .args(["dns", "a.test", "--json"])
        .stdin(Stdio::null())
        .output()
        .expect("run socklab in a");
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}\nstdout: {}",
        text(&out.stderr),
        text(&out.stdout)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let server = format!("{}:53", net.b_ip);
    assert_eq!(doc["server"], server.as_str());
    assert_eq!(
        answers(&doc),
        pairs(&[("A", "192.0.2.10"), ("AAAA", "2001:db8::10")])
    );
    for query in doc["queries"].as_array().expect("queries") {
        let failed = query["failed"].as_array().expect("failed servers");
        assert!(
            failed
                .iter()
                .any(|f| f.as_str().is_some_and(|f| f.contains("127.0.0.1:53"))),
            "the first server is named among the failures: {query}"
        );
    }

    // The table says who answered, too.
    let out = net
        .cmd(&net.a, env!("CARGO_BIN_EXE_socklab"))
        .args(["dns", "a.test", "--type", "MX"])
        .stdin(Stdio::null())
        .output()
        .expect("run socklab in a");
    let table = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{table}{}", text(&out.stderr));
    assert!(table.contains(&format!("server {server} (udp)")), "{table}");
    // An MX for a.test does not exist in the zone: "no MX record", not an error.
    assert!(
        text(&out.stderr).contains("no MX") || table.contains("no MX"),
        "{table}"
    );
}
