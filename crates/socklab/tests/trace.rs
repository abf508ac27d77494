//! `socklab trace` as a user runs it, against python's http.server on loopback
//! (tests/http_peer.py): the request as the server received it, redirects shown and
//! followed, timeouts in the phase where they happen, HTTPS with a certificate made by
//! openssl, and the bad inputs that must stop trace before it sends anything.

use std::collections::BTreeSet;
use std::net::{IpAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::support::*;

/// The HTTP(S) peer and its port; killed when dropped.
pub(crate) struct Peer {
    _proc: Proc,
    pub(crate) port: u16,
}

impl Peer {
    pub(crate) fn start(tls: Option<&Cert>) -> Peer {
        let mut cmd = Command::new(python3());
        cmd.arg(fixture("http_peer.py"));
        if let Some(c) = tls {
            cmd.arg("--tls").arg(&c.cert).arg(&c.key);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut proc = Proc::spawn(cmd, "http_peer.py");
        let mut lines = Lines::new(proc.stdout());
        let port = port_in(&lines.wait_for("listening on"));
        Peer { _proc: proc, port }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

fn trace(args: &[&str]) -> Output {
    let mut all = vec!["trace"];
    all.extend_from_slice(args);
    run(&all, b"")
}

/// Exit 0 and the stdout.
fn ok(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Exit 1, one line on stderr containing each needle; the report on stdout.
fn failed(out: &Output, needles: &[&str]) -> String {
    let err = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stderr: {err}\nstdout: {}",
        text(&out.stdout)
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    for n in needles {
        assert!(err.contains(n), "{n:?} not in: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
    text(&out.stdout)
}

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

fn headers(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .unwrap_or_else(|| panic!("no header list: {v}"))
        .iter()
        .map(|p| {
            (
                p[0].as_str().unwrap().to_string(),
                p[1].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The phases of a hop add up to no more than its total, each is a sane number, and the
/// ones that cannot have happened are null.
fn phases_are_sane(hop: &Value) {
    let p = &hop["phases"];
    let total = p["total_ms"].as_f64().unwrap();
    assert!(total > 0.0 && total < 60_000.0, "{p}");
    let mut sum = 0.0;
    for name in [
        "dns_ms",
        "connect_ms",
        "tls_ms",
        "request_ms",
        "ttfb_ms",
        "transfer_ms",
    ] {
        if let Some(ms) = p[name].as_f64() {
            assert!(ms >= 0.0, "{name} in {p}");
            sum += ms;
        }
    }
    assert!(sum <= total + 0.01, "phases {sum} > total {total}: {p}");
    assert!(p["connect_ms"].as_f64().unwrap() > 0.0, "{p}");
}

/// The `> ` lines of the text output: the request as trace shows it.
fn shown_request(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("> "))
        .map(str::to_string)
        .collect()
}

#[test]
fn a_get_shows_what_crossed_the_wire() {
    let peer = Peer::start(None);
    let out = trace(&[&peer.url("/echo"), "--body"]);
    let stdout = ok(&out);
    let shown = shown_request(&stdout);
    assert_eq!(shown[0], "GET /echo HTTP/1.1", "{stdout}");
    // The server's echo (the body, printed last) is the oracle: every header it received,
    // in order and case, is a `> ` line, and nothing else is.
    let echo = json(stdout.lines().last().unwrap());
    let received: Vec<String> = headers(&echo["headers"])
        .iter()
        .map(|(n, v)| format!("{n}: {v}"))
        .collect();
    assert_eq!(shown[1..], received[..], "{stdout}");
    assert!(received.contains(&format!("Host: 127.0.0.1:{}", peer.port)));
    assert!(received
        .iter()
        .any(|h| h.starts_with("User-Agent: socklab/")));
    // The response head as the server wrote it (http.server keeps the case it was given).
    for want in [
        "< HTTP/1.1 200 OK",
        "< X-Echo-Case: kept",
        "< Content-Type: application/json",
    ] {
        assert!(
            stdout.lines().any(|l| l == want),
            "{want:?} not in {stdout}"
        );
    }
    let body_len = stdout.lines().last().unwrap().len();
    assert!(
        stdout.contains(&format!("body: {body_len} bytes in all")),
        "{stdout}"
    );
    for row in [
        "TCP connect",
        "request sent",
        "waiting (TTFB)",
        "body transfer",
        "total",
    ] {
        assert!(
            stdout.lines().any(|l| l.trim_start().starts_with(row)),
            "{row}: {stdout}"
        );
    }
    // An address needs no lookup, and there is no TLS for http.
    assert!(
        !stdout.lines().any(|l| l.trim_start().starts_with("TLS")),
        "{stdout}"
    );
}

#[test]
fn method_headers_and_data_reach_the_server() {
    let peer = Peer::start(None);
    let dir = TempDir::new("trace-data");
    let file = dir.path("part.txt");
    std::fs::write(&file, "line one\nline two\n").unwrap();
    let echo_file = dir.path("echo.json");
    let at_file = format!("@{}", file.display());
    let out = trace(&[
        "-X",
        "PUT",
        "-H",
        "X-Token: abc 123",
        "-H",
        "Accept: text/plain",
        "-H",
        "User-Agent:",
        "-d",
        "a=1",
        "-d",
        &at_file,
        "--json",
        "-o",
        echo_file.to_str().unwrap(),
        &peer.url("/echo?q=1"),
    ]);
    let report = json(&ok(&out));
    let echo = json(&std::fs::read_to_string(&echo_file).unwrap());
    assert_eq!(echo["method"], "PUT");
    assert_eq!(echo["path"], "/echo?q=1");
    assert_eq!(echo["body"], "a=1&line one\nline two\n");
    let received = headers(&echo["headers"]);
    let hop = &report["hops"][0];
    assert_eq!(headers(&hop["request"]["headers"]), received);
    assert_eq!(hop["request"]["method"], "PUT");
    assert_eq!(hop["request"]["target"], "/echo?q=1");
    assert_eq!(hop["request"]["body_bytes"], 22);
    let get = |name: &str| -> Vec<&str> {
        received
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    };
    assert_eq!(get("X-Token"), ["abc 123"]);
    assert_eq!(get("Accept"), ["text/plain"], "-H replaces the default");
    assert!(get("User-Agent").is_empty(), "'User-Agent:' leaves it out");
    assert_eq!(get("Content-Type"), ["application/x-www-form-urlencoded"]);
    assert_eq!(get("Content-Length"), ["22"]);
    // -o got the body exactly, and the report counted it.
    let body_len = std::fs::metadata(&echo_file).unwrap().len();
    assert_eq!(hop["body_bytes"].as_u64(), Some(body_len));
    assert_eq!(report["status"], 200);
    phases_are_sane(hop);
}

#[test]
fn head_and_other_methods() {
    let peer = Peer::start(None);
    let out = trace(&["-I", "--json", &peer.url("/echo")]);
    let hop = json(&ok(&out))["hops"][0].clone();
    assert_eq!(hop["request"]["method"], "HEAD");
    assert_eq!(hop["body_bytes"], 0, "a HEAD answer has no body");
    let length = headers(&hop["response"]["headers"])
        .into_iter()
        .find(|(n, _)| n == "Content-Length")
        .map(|(_, v)| v.parse::<u64>().unwrap());
    assert!(length.unwrap() > 0, "{hop}");

    let dir = TempDir::new("trace-method");
    let echo_file = dir.path("echo.json");
    let out = trace(&[
        "-X",
        "PROPFIND",
        "-o",
        echo_file.to_str().unwrap(),
        &peer.url("/echo"),
    ]);
    assert!(ok(&out).contains("> PROPFIND /echo HTTP/1.1"));
    let echo = json(&std::fs::read_to_string(&echo_file).unwrap());
    assert_eq!(echo["method"], "PROPFIND");
}

#[test]
fn an_error_status_is_an_answer_unless_fail() {
    let peer = Peer::start(None);
    let url = peer.url("/status/404");
    let stdout = ok(&trace(&[&url]));
    assert!(stdout.contains("< HTTP/1.1 404 Not Found"), "{stdout}");
    let report = json(&ok(&trace(&["--json", &url])));
    assert_eq!(report["status"], 404);
    assert_eq!(report["error"], Value::Null);
    let stdout = failed(&trace(&["--fail", &url]), &["404 Not Found (--fail)"]);
    assert!(stdout.contains("< HTTP/1.1 404 Not Found"), "{stdout}");
    ok(&trace(&["--fail", &peer.url("/status/204")]));
}

#[test]
fn a_redirect_is_shown_and_not_followed() {
    let peer = Peer::start(None);
    let out = trace(&[&peer.url("/chain/2")]);
    let stdout = ok(&out);
    assert!(stdout.contains("< HTTP/1.1 302 Found"), "{stdout}");
    assert!(stdout.contains("< Location: /chain/1"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "→ redirect to {} (not followed; -L follows redirects)",
            peer.url("/chain/1")
        )),
        "{stdout}"
    );
    assert_eq!(
        shown_request(&stdout)
            .iter()
            .filter(|l| l.starts_with("GET"))
            .count(),
        1
    );
    let report = json(&ok(&trace(&["--json", &peer.url("/chain/2")])));
    assert_eq!(report["hops"].as_array().unwrap().len(), 1);
    assert_eq!(report["redirects"], 0);
    assert_eq!(report["status"], 302);
    assert_eq!(report["hops"][0]["location"], peer.url("/chain/1"));
}

#[test]
fn follow_traces_every_hop() {
    let peer = Peer::start(None);
    // Relative Location headers.
    let report = json(&ok(&trace(&["-L", "--json", &peer.url("/chain/3")])));
    let hops = report["hops"].as_array().unwrap();
    let urls: Vec<&str> = hops.iter().map(|h| h["url"].as_str().unwrap()).collect();
    assert_eq!(
        urls,
        [3, 2, 1, 0].map(|n| peer.url(&format!("/chain/{n}"))),
        "{report}"
    );
    assert_eq!(report["redirects"], 3);
    assert_eq!(report["status"], 200);
    for (i, hop) in hops.iter().enumerate() {
        let want = if i < 3 { 302 } else { 200 };
        assert_eq!(hop["response"]["status"], want, "{hop}");
        // Each hop is a connection of its own, traced from the start.
        assert_eq!(hop["address"], format!("127.0.0.1:{}", peer.port));
        phases_are_sane(hop);
    }
    // Absolute Location headers, to the name the client used.
    let start = format!("http://localhost:{}/abs/2", peer.port);
    let out = trace(&["-L", &start]);
    let stdout = ok(&out);
    for (i, n) in [2, 1, 0].iter().enumerate() {
        let title = format!("hop {}: GET http://localhost:{}/abs/{n}", i + 1, peer.port);
        assert!(stdout.lines().any(|l| l == title), "{title:?} in {stdout}");
    }
    assert!(stdout.contains(&format!("< Location: http://localhost:{}/abs/1", peer.port)));
    assert!(
        stdout.contains("200 OK after 2 redirects followed: 3 hops in"),
        "{stdout}"
    );
}

#[test]
fn redirects_change_the_method_as_browsers_do() {
    let peer = Peer::start(None);
    let dir = TempDir::new("trace-303");
    let echo_file = dir.path("echo.json");
    for (code, method, body) in [
        (303, "GET", ""),
        (302, "GET", ""),
        (307, "POST", "x=1"),
        (308, "POST", "x=1"),
    ] {
        let url = peer.url(&format!("/to?url=/echo&code={code}"));
        let out = trace(&[
            "-L",
            "-d",
            "x=1",
            "--json",
            "-o",
            echo_file.to_str().unwrap(),
            &url,
        ]);
        let report = json(&ok(&out));
        assert_eq!(report["hops"][0]["request"]["method"], "POST");
        assert_eq!(report["hops"][1]["request"]["method"], method, "{code}");
        let echo = json(&std::fs::read_to_string(&echo_file).unwrap());
        assert_eq!(echo["method"], method, "{code}");
        assert_eq!(echo["body"], body, "{code}");
        let has_type = headers(&echo["headers"])
            .iter()
            .any(|(n, _)| n == "Content-Type");
        assert_eq!(has_type, !body.is_empty(), "{code}: {echo}");
    }
}

#[test]
fn a_redirect_loop_stops_at_max_redirs() {
    let peer = Peer::start(None);
    let url = peer.url("/loop");
    failed(
        &trace(&["-L", "--max-redirs", "3", &url]),
        &["hop 4", "stopped after 3 (--max-redirs 3)", &url],
    );
    let out = trace(&["-L", "--max-redirs", "3", "--json", &url]);
    let report = json(&failed(&out, &["--max-redirs 3"]));
    assert_eq!(report["hops"].as_array().unwrap().len(), 4);
    assert_eq!(report["redirects"], 3);
    assert_eq!(report["error"]["phase"], "redirect");
    // Without -L a loop is just one redirect, shown.
    ok(&trace(&[&url]));
}

#[test]
fn a_server_that_stalls_before_the_head_times_out_waiting() {
    let peer = Peer::start(None);
    let out = trace(&["--timeout", "1s", "--json", &peer.url("/stall-head?s=30")]);
    let report = json(&failed(
        &out,
        &["waiting for the response: timed out after 1s"],
    ));
    assert_eq!(report["error"]["phase"], "response");
    let hop = &report["hops"][0];
    assert_eq!(hop["response"], Value::Null);
    assert_eq!(hop["request"]["method"], "GET", "the request did go out");
    let waited = hop["phases"]["ttfb_ms"].as_f64().unwrap();
    assert!(waited > 0.0 && waited < 30_000.0, "{hop}");
    phases_are_sane(hop);

    // The whole-trace limit is named as such.
    let out = trace(&[
        "--timeout",
        "20s",
        "--max-time",
        "1s",
        &peer.url("/stall-head?s=30"),
    ]);
    let stdout = failed(
        &out,
        &["waiting for the response: timed out: --max-time 1s reached"],
    );
    assert!(stdout.contains("✗ failed here"), "{stdout}");
}

#[test]
fn a_server_that_stalls_mid_body_times_out_reading_it() {
    let peer = Peer::start(None);
    let out = trace(&["--timeout", "1s", "--json", &peer.url("/stall-body?s=30")]);
    let report = json(&failed(
        &out,
        &["reading the body: timed out after 1s (10 of 100 bytes received)"],
    ));
    assert_eq!(report["error"]["phase"], "body");
    let hop = &report["hops"][0];
    assert_eq!(hop["response"]["status"], 200);
    assert_eq!(hop["body_bytes"], 10);
    phases_are_sane(hop);
}

#[test]
fn body_sizes_with_length_and_chunked() {
    let peer = Peer::start(None);
    let dir = TempDir::new("trace-body");
    let out_file = dir.path("body");
    let out = trace(&[
        "--json",
        "-o",
        out_file.to_str().unwrap(),
        &peer.url("/bytes/300000"),
    ]);
    let hop = json(&ok(&out))["hops"][0].clone();
    assert_eq!(hop["body_bytes"], 300_000);
    assert_eq!(std::fs::read(&out_file).unwrap(), vec![b'x'; 300_000]);
    let out = trace(&[
        "--json",
        "-o",
        out_file.to_str().unwrap(),
        &peer.url("/chunked/5500"),
    ]);
    let hop = json(&ok(&out))["hops"][0].clone();
    assert_eq!(hop["body_bytes"], 5500, "chunk framing is not body");
    assert!(
        hop["bytes_received"].as_u64().unwrap() > 5500 + 6 * 5,
        "{hop}"
    );
    assert_eq!(std::fs::read(&out_file).unwrap(), vec![b'y'; 5500]);
    // By default the body is counted, not printed.
    let stdout = ok(&trace(&[&peer.url("/bytes/5000")]));
    assert!(!stdout.contains("xxxx"), "{stdout}");
    assert!(stdout.contains("body: 5000 bytes in all"), "{stdout}");
}

#[test]
fn a_refused_port_fails_in_tcp_connect() {
    let refused = RefusedPort::new();
    let port = refused.port;
    let url = format!("http://127.0.0.1:{port}/");
    let stdout = failed(
        &trace(&[&url]),
        &[&format!("TCP connect to 127.0.0.1:{port}: refused")],
    );
    assert!(stdout.contains("✗ failed here"), "{stdout}");
    let report = json(&failed(&trace(&["--json", &url]), &["refused"]));
    assert_eq!(report["error"]["phase"], "connect");
    let hop = &report["hops"][0];
    assert_eq!(
        hop["failed_connects"][0]["address"],
        format!("127.0.0.1:{port}")
    );
    assert_eq!(hop["address"], Value::Null);
    assert_eq!(hop["request"], Value::Null);
}

#[test]
fn localhost_goes_through_dns() {
    let peer = Peer::start(None);
    let url = format!("http://localhost:{}/echo", peer.port);
    let report = json(&ok(&trace(&["--json", &url])));
    let hop = &report["hops"][0];
    // The oracle: what getaddrinfo says here, through std.
    let expected: BTreeSet<IpAddr> = ("localhost", peer.port)
        .to_socket_addrs()
        .unwrap()
        .map(|a| a.ip())
        .collect();
    let found: Vec<IpAddr> = hop["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().parse().unwrap())
        .collect();
    assert_eq!(found.iter().copied().collect::<BTreeSet<_>>(), expected);
    assert!(found.contains(&"127.0.0.1".parse().unwrap()), "{hop}");
    assert!(hop["phases"]["dns_ms"].as_f64().unwrap() >= 0.0, "{hop}");
    // The peer listens on 127.0.0.1 only: any address tried before it (::1) was refused.
    assert_eq!(hop["address"], format!("127.0.0.1:{}", peer.port));
    let used = found
        .iter()
        .position(|a| a.to_string() == "127.0.0.1")
        .unwrap();
    assert_eq!(
        hop["failed_connects"].as_array().unwrap().len(),
        used,
        "{hop}"
    );
    assert_eq!(hop["host"], "localhost");
    phases_are_sane(hop);
    let stdout = ok(&trace(&[&url]));
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("localhost →") && l.contains("127.0.0.1")),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("> Host: localhost:{}", peer.port)));
}

// ---------------------------------------------------------------------------------------
// HTTPS

pub(crate) struct Cert {
    _dir: TempDir,
    pub(crate) cert: PathBuf,
    key: PathBuf,
}

const SUBJECT: &str = "CN=socklab trace test";

/// A self-signed server certificate as a person makes one with openssl, for localhost and
/// 127.0.0.1. CA:FALSE, because webpki refuses a CA certificate as a server's own.
pub(crate) fn make_cert() -> Cert {
    let openssl = require("openssl", "openssl");
    let dir = TempDir::new("trace-tls");
    let (cert, key) = (dir.path("cert.pem"), dir.path("key.pem"));
    let out = Command::new(&openssl)
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=socklab trace test"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    Cert {
        _dir: dir,
        cert,
        key,
    }
}

/// What openssl says of the certificate: `-subject` and `-fingerprint -sha256`.
fn openssl_says(cert: &Path, what: &[&str]) -> String {
    let out = Command::new(require("openssl", "openssl"))
        .args(["x509", "-noout", "-nameopt", "RFC2253"])
        .args(what)
        .arg("-in")
        .arg(cert)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let line = text(&out.stdout);
    line.trim()
        .split_once('=')
        .map(|(_, v)| v.to_string())
        .unwrap_or_else(|| panic!("openssl said {line:?}"))
}

#[test]
fn https_with_the_ca_file() {
    let cert = make_cert();
    let peer = Peer::start(Some(&cert));
    let url = format!("https://localhost:{}/echo", peer.port);
    let ca = cert.cert.to_str().unwrap();
    let report = json(&ok(&trace(&["--ca", ca, "--json", &url])));
    let hop = &report["hops"][0];
    let tls = &hop["tls"];
    assert!(
        tls["version"].as_str().unwrap().starts_with("TLSv1."),
        "{tls}"
    );
    assert!(!tls["cipher"].as_str().unwrap().is_empty(), "{tls}");
    assert_eq!(tls["alpn"], "http/1.1");
    assert_eq!(tls["sni"], "localhost");
    let c = &tls["certificate"];
    assert_eq!(c["subject"], openssl_says(&cert.cert, &["-subject"]));
    assert_eq!(c["subject"], SUBJECT);
    assert_eq!(c["issuer"], SUBJECT);
    assert_eq!(
        c["sha256"],
        openssl_says(&cert.cert, &["-fingerprint", "-sha256"])
    );
    assert!(c["not_before"].as_str().unwrap() < c["not_after"].as_str().unwrap());
    assert!(hop["phases"]["tls_ms"].as_f64().unwrap() > 0.0, "{hop}");
    assert_eq!(hop["response"]["status"], 200);
    phases_are_sane(hop);

    let stdout = ok(&trace(&["--ca", ca, &url]));
    for want in [
        format!("certificate  {SUBJECT}"),
        format!("issuer     {SUBJECT} (self-signed)"),
        "ALPN http/1.1".to_string(),
        "TLS handshake".to_string(),
    ] {
        assert!(stdout.contains(&want), "{want:?} not in {stdout}");
    }
}

#[test]
fn https_without_trust_fails_in_the_tls_phase() {
    let cert = make_cert();
    let peer = Peer::start(Some(&cert));
    let url = format!("https://localhost:{}/echo", peer.port);
    let out = trace(&["--json", &url]);
    // Which words depend on the machine's CA store (none at all, or ours is not in it).
    let report = json(&failed(&out, &["TLS handshake", "--ca FILE"]));
    assert_eq!(report["error"]["phase"], "tls");
    let hop = &report["hops"][0];
    assert_eq!(hop["request"], Value::Null, "nothing was sent");
    assert!(hop["phases"]["connect_ms"].as_f64().is_some(), "{hop}");

    // -k accepts it, and still shows what it accepted.
    let report = json(&ok(&trace(&["-k", "--json", &url])));
    assert_eq!(report["status"], 200);
    assert_eq!(report["hops"][0]["tls"]["certificate"]["subject"], SUBJECT);
    // So does a pin of exactly this certificate.
    let pin = openssl_says(&cert.cert, &["-fingerprint", "-sha256"]);
    ok(&trace(&["--pin", &pin, &url]));
    // --ca with the wrong name: the certificate is for localhost and 127.0.0.1.
    let out = trace(&[
        "--ca",
        cert.cert.to_str().unwrap(),
        "--sni",
        "example.test",
        &url,
    ]);
    failed(&out, &["TLS handshake", "not 'example.test'"]);
}

#[test]
fn the_wrong_scheme_for_the_port() {
    let cert = make_cert();
    let tls_peer = Peer::start(Some(&cert));
    let plain = Peer::start(None);
    // https:// to a plain HTTP server: the TLS phase says it is not TLS.
    let url = format!("https://127.0.0.1:{}/echo", plain.port);
    failed(
        &trace(&["-k", &url]),
        &["TLS handshake", "is it speaking TLS?"],
    );
    // http:// to a TLS server: it hangs up on the request.
    let url = format!("http://127.0.0.1:{}/echo", tls_peer.port);
    failed(
        &trace(&[&url]),
        &["waiting for the response", "use https://"],
    );
}

// ---------------------------------------------------------------------------------------
// Bad input: exit 2, one clear line, nothing sent.

#[test]
fn bad_input_is_refused_before_anything_is_sent() {
    let w = Witness::new();
    let url = format!("http://{}/", w.addr());
    let dir = TempDir::new("trace-bad");
    let missing = dir.path("missing.pem");
    let missing = missing.to_str().unwrap();
    let at_missing = format!("@{missing}");
    let no_dir = dir.path("no/such/dir/out");
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (
            vec!["example.com/x"],
            vec![
                "'example.com/x' has no scheme",
                "http://example.com/x or https://example.com/x",
            ],
        ),
        (
            vec!["127.0.0.1:8080"],
            vec!["no scheme", "http://127.0.0.1:8080"],
        ),
        (
            vec!["ftp://127.0.0.1/file"],
            vec!["unsupported scheme 'ftp'", "http:// or https://"],
        ),
        (vec!["http://"], vec!["bad URL 'http://'", "empty host"]),
        (
            vec!["http://127.0.0.1:99999/"],
            vec!["bad URL", "invalid port number"],
        ),
        (
            vec!["http://[::1/"],
            vec!["bad URL", "invalid IPv6 address"],
        ),
        (
            vec!["http://u:pw@127.0.0.1/"],
            vec!["bad URL", "Authorization"],
        ),
        (
            vec!["-H", "NoColon", &url],
            vec!["bad header 'NoColon'", "no ':'", "'Name: value'"],
        ),
        (
            vec!["-H", "Bad Name: x", &url],
            vec!["bad header", "not a header name"],
        ),
        (
            vec!["-X", "GET /", &url],
            vec!["bad method 'GET /'", "GET, POST"],
        ),
        (vec!["-X", "", &url], vec!["bad method", "empty"]),
        (
            vec!["--timeout", "0s", &url],
            vec!["--timeout 0", "above zero"],
        ),
        (vec!["--timeout", "soon", &url], vec!["bad duration 'soon'"]),
        (
            vec!["--ca", missing, "https://127.0.0.1:1/"],
            vec!["cannot use", missing],
        ),
        (
            vec!["--pin", "xyz", "https://127.0.0.1:1/"],
            vec!["bad certificate pin 'xyz'"],
        ),
        (vec!["-d", &at_missing, &url], vec!["cannot read", missing]),
        (
            vec!["-o", no_dir.to_str().unwrap(), &url],
            vec!["cannot write", "-o FILE"],
        ),
    ];
    for (args, needles) in cases {
        let out = trace(&args);
        usage_error(&out, &needles);
        w.assert_untouched();
    }
}
