//! TLS as a user runs it: socklab's client and server against openssl s_client/s_server and
//! python's ssl module, with certificates made by openssl; trust by CA file, pin and
//! --insecure; SNI and ALPN; byte-exact bulk transfer each way; and the bad inputs that
//! must stop socklab before it touches the network.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};

use serde_json::Value;

use crate::support::*;

const SIZE: usize = 64 * 1024 * 1024;

fn openssl() -> PathBuf {
    require("openssl", "openssl")
}

/// Names a certificate made by [`make_cert`] is for.
pub(crate) const LOCALHOST_AND_IP: &str = "subjectAltName=DNS:localhost,IP:127.0.0.1";
const LOCALHOST_ONLY: &str = "subjectAltName=DNS:localhost";

/// A self-signed certificate with CN=localhost and the given SAN, and its key, made by
/// openssl as a person would: `NAME.pem` and `NAME.key` in `dir`. `leaf`: mark it
/// CA:FALSE, as a server's certificate should be; without, openssl's default (CA:TRUE).
pub(crate) fn make_cert(dir: &TempDir, name: &str, san: &str, leaf: bool) -> (PathBuf, PathBuf) {
    let cert = dir.path(&format!("{name}.pem"));
    let key = dir.path(&format!("{name}.key"));
    let mut cmd = Command::new(openssl());
    cmd.args(["req", "-x509", "-newkey", "ec"])
        .args(["-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"])
        .args(["-subj", "/CN=localhost", "-addext", san, "-days", "2"]);
    if leaf {
        cmd.args(["-addext", "basicConstraints=critical,CA:FALSE"]);
    }
    cmd.arg("-keyout").arg(&key).arg("-out").arg(&cert);
    let out = cmd.output().expect("run openssl req");
    assert!(out.status.success(), "openssl req: {}", text(&out.stderr));
    (cert, key)
}

/// The SHA-256 fingerprint of a PEM certificate as openssl prints it ("AB:CD:...").
pub(crate) fn openssl_fingerprint(cert: &Path) -> String {
    let out = Command::new(openssl())
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(cert)
        .output()
        .expect("run openssl x509");
    assert!(out.status.success(), "openssl x509: {}", text(&out.stderr));
    let line = text(&out.stdout);
    line.trim()
        .split_once('=')
        .unwrap_or_else(|| panic!("no fingerprint in {line:?}"))
        .1
        .to_string()
}

/// `openssl s_server` on a free port with the given certificate; its stdin (kept open: at
/// its end s_server quits), its stdout lines and the port, once it says ACCEPT.
pub(crate) fn s_server(cert: &Path, key: &Path) -> (Proc, ChildStdin, Lines, u16) {
    let port = free_port();
    let mut cmd = Command::new(openssl());
    cmd.args(["s_server", "-accept", &format!("127.0.0.1:{port}")])
        .arg("-cert")
        .arg(cert)
        .arg("-key")
        .arg(key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut p = Proc::spawn(cmd, "openssl s_server");
    let input = p.stdin();
    let mut out = Lines::new(p.stdout());
    let _err = Lines::new(p.stderr());
    out.wait_for("ACCEPT");
    (p, input, out, port)
}

/// `socklab listen tls://127.0.0.1:0 ARGS` (text view unless --json or --show is given),
/// stdin kept open; returns it, its stdout lines, the port and the certificate's
/// fingerprint as it printed them.
fn tls_server(args: &[&str]) -> (Proc, Lines, u16, String) {
    let mut cmd = socklab();
    cmd.args(["listen", "tls://127.0.0.1:0"]).args(args);
    let json = args.contains(&"--json");
    if !json && !args.contains(&"--show") {
        cmd.args(["--show", "text"]);
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut p = Proc::spawn(cmd, "socklab listen tls://");
    let mut out = Lines::new(p.stdout());
    let (port, fp);
    if json {
        let cert: Value = serde_json::from_str(&out.wait_for("\"certificate\"")).unwrap();
        assert_eq!(cert["generated"], true, "{cert}");
        fp = cert["sha256"].as_str().expect("sha256").to_string();
        let listening: Value = serde_json::from_str(&out.wait_for("\"listening\"")).unwrap();
        assert_eq!(listening["transport"], "tls", "{listening}");
        port = port_in(listening["addr"].as_str().expect("addr"));
    } else {
        fp = out
            .wait_for("clients can pin it: --pin ")
            .rsplit_once("--pin ")
            .expect("--pin")
            .1
            .trim()
            .to_string();
        port = port_in(&out.wait_for("listening on tls "));
    }
    assert_eq!(fp.len(), 95, "fingerprint {fp:?}: 32 pairs joined by ':'");
    (p, out, port, fp)
}

/// `socklab listen --once -v tls://127.0.0.1:0` writing what it receives to `got`, with
/// `stdin` as its own input (its end is a half-close towards the client); its status
/// lines (certificate, listening) come on the returned stderr.
fn receiver(got: &Path, stdin: Stdio) -> (Proc, Lines) {
    let mut cmd = socklab();
    cmd.args(["listen", "--once", "-v", "tls://127.0.0.1:0"])
        .stdin(stdin)
        .stdout(std::fs::File::create(got).expect("create the received file"))
        .stderr(Stdio::piped());
    let mut server = Proc::spawn(cmd, "socklab listen --once tls://");
    let err = Lines::new(server.stderr());
    (server, err)
}

/// The JSON events seen so far (every line of a --json server).
fn events(lines: &Lines) -> Vec<Value> {
    lines
        .seen
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Wait for a JSON event that `want` accepts, among those already seen too: events of
/// different clients can come in any order.
fn wait_event(lines: &mut Lines, want: impl Fn(&Value) -> bool) -> Value {
    loop {
        if let Some(ev) = events(lines).into_iter().find(&want) {
            return ev;
        }
        // Any next line; on timeout the panic shows everything seen.
        lines.wait_for("");
    }
}

pub(crate) fn python_tls(args: &[&str]) -> Command {
    let mut cmd = Command::new(python3());
    cmd.arg(fixture("tls_peers.py")).args(args);
    cmd
}

/// `tls_peers.py sha256 FILE`: "N bytes sha256 HEX" for the data as sent.
fn file_digest(path: &Path) -> String {
    let out = python_tls(&["sha256"])
        .arg(path)
        .output()
        .expect("run tls_peers.py");
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).trim().to_string()
}

/// 64 MiB of pseudo-random data in a file: the processes stream it, the test holds no copy.
fn bulk_file(dir: &TempDir, seed: u64) -> (PathBuf, String) {
    let path = dir.path("data.bin");
    std::fs::write(&path, random_bytes(SIZE, seed)).expect("write data");
    let digest = file_digest(&path);
    assert!(
        digest.starts_with(&format!("{SIZE} bytes sha256 ")),
        "{digest}"
    );
    (path, digest)
}

/// The first pair of a fingerprint changed: another valid pin.
fn other_pin(fp: &str) -> String {
    let first = if fp.starts_with("00") { "11" } else { "00" };
    format!("{first}{}", &fp[2..])
}

// ---------------------------------------------------------------------------------------

/// openssl s_client → `socklab listen` with its generated certificate: the handshake and
/// the line are shown, and with --echo the line comes back to s_client.
#[test]
fn openssl_s_client_to_a_self_signed_listener() {
    let (_server, mut out, port, _fp) = tls_server(&["--echo"]);
    let mut cmd = Command::new(openssl());
    cmd.args([
        "s_client",
        "-connect",
        &format!("127.0.0.1:{port}"),
        "-quiet",
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut client = Proc::spawn(cmd, "openssl s_client");
    let mut input = client.stdin();
    let mut back = Lines::new(client.stdout());
    let _err = Lines::new(client.stderr());
    input
        .write_all(b"hello over tls\n")
        .expect("write s_client");
    out.wait_for("#1 127.0.0.1:");
    let secured = out.wait_for("TLS established");
    assert!(secured.starts_with("* #1 127.0.0.1:"), "{secured}");
    assert!(secured.contains("TLSv1.3, TLS13_"), "{secured}");
    out.wait_for("← hello over tls");
    assert_eq!(back.wait_for("hello"), "hello over tls");
}

/// `socklab connect --ca` → openssl s_server with a certificate made by openssl: verified
/// by name, and bytes both ways through the raw pipe; stdin's end closes cleanly.
#[test]
fn connect_verifies_openssl_s_server_with_ca_and_pipes_both_ways() {
    let dir = TempDir::new("tls-ca");
    let (cert, key) = make_cert(&dir, "server", LOCALHOST_AND_IP, true);
    let (_peer, mut peer_in, mut peer_out, port) = s_server(&cert, &key);
    let mut cmd = socklab();
    cmd.args(["connect", &format!("tls://localhost:{port}"), "-v", "--ca"])
        .arg(&cert)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut me = Proc::spawn(cmd, "socklab connect tls://");
    let mut my_in = me.stdin();
    let mut my_out = Lines::new(me.stdout());
    let mut my_err = Lines::new(me.stderr());
    let secured = my_err.wait_for("TLS established");
    assert!(secured.contains("TLSv1.3"), "{secured}");
    my_err.wait_for("subject CN=localhost");
    my_err.wait_for("names: localhost, 127.0.0.1");
    let fp = my_err.wait_for("SHA-256 ");
    assert!(fp.ends_with(&openssl_fingerprint(&cert)), "{fp}");

    peer_in
        .write_all(b"from s_server\n")
        .expect("write s_server");
    assert_eq!(my_out.wait_for("from"), "from s_server");
    my_in.write_all(b"from socklab\n").expect("write socklab");
    peer_out.wait_for("from socklab");
    // Our end: close_notify and half-close; s_server closes in turn and we exit.
    drop(my_in);
    assert!(me.wait().success(), "{:?}", my_err.rest());
    assert_eq!(
        my_out.rest(),
        ["from s_server"],
        "raw stdout is the data only"
    );
}

/// The certificate `openssl req -x509` makes by default is marked CA:TRUE, and rustls
/// refuses it as a server's own certificate even when --ca names it: socklab must say so
/// in plain words with the ways out, and pinning it (by openssl's fingerprint) works.
#[test]
fn a_ca_marked_server_certificate_is_explained_and_can_be_pinned() {
    let dir = TempDir::new("tls-ca-true");
    let (cert, key) = make_cert(&dir, "server", LOCALHOST_AND_IP, false);
    let (_peer, _peer_in, mut peer_out, port) = s_server(&cert, &key);
    let target = format!("tls://localhost:{port}");
    let out = run(&["connect", &target, "--ca", cert.to_str().unwrap()], b"");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    for needle in [
        "TLS handshake with localhost",
        "CA certificate",
        "--pin",
        "CA:FALSE",
    ] {
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
    assert!(!err.contains("CaUsedAsEndEntity"), "{err}");

    let pin = openssl_fingerprint(&cert);
    let out = run(&["connect", &target, "--pin", &pin], b"pinned\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    peer_out.wait_for("pinned");
}

/// The fingerprint socklab prints is the SHA-256 of the certificate it sends (python
/// computes it from the DER); the right --pin connects, a wrong one fails naming both and
/// sends nothing.
#[test]
fn pinning_the_printed_fingerprint() {
    let (_server, mut out, port, fp) = tls_server(&["--json"]);
    let dir = TempDir::new("tls-pin");
    let empty = dir.path("empty");
    std::fs::write(&empty, b"").unwrap();
    let py = python_tls(&["client", &port.to_string()])
        .arg(&empty)
        .output()
        .expect("run tls_peers.py client");
    assert!(py.status.success(), "{}", text(&py.stderr));
    let shown = text(&py.stdout);
    assert!(
        shown.contains(&format!("peer sha256 {fp}\n")),
        "{shown}; listen printed {fp}"
    );

    let target = format!("tls://127.0.0.1:{port}");
    let ok = run(&["connect", &target, "--pin", &fp], b"pinned\n");
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    // Lowercase without colons is the same pin.
    let plain = fp.replace(':', "").to_lowercase();
    let ok = run(&["connect", &target, "--pin", &plain], b"plain\n");
    assert!(ok.status.success(), "{}", text(&ok.stderr));

    let wrong = other_pin(&fp);
    let bad = run(&["connect", &target, "--pin", &wrong], b"must not arrive\n");
    let err = text(&bad.stderr);
    assert_eq!(bad.status.code(), Some(1), "{err}");
    assert!(err.contains("TLS handshake with 127.0.0.1:"), "{err}");
    assert!(err.contains(&fp) && err.contains(&wrong), "{err}");
    assert!(bad.stdout.is_empty());

    // A last good client, then look at everything the server reported.
    let ok = run(&["connect", &target, "--pin", &fp], b"after\n");
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    wait_event(&mut out, |e| {
        e["event"] == "error"
            && e["message"]
                .as_str()
                .is_some_and(|m| m.contains("TLS handshake with"))
    });
    wait_event(&mut out, |e| {
        e["event"] == "received" && e["text"] == "after\n"
    });
    let received: Vec<String> = events(&out)
        .iter()
        .filter(|e| e["event"] == "received")
        .map(|e| e["text"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(received, ["pinned\n", "plain\n", "after\n"]);
    let secured = events(&out)
        .into_iter()
        .filter(|e| e["event"] == "secured")
        .count();
    assert_eq!(secured, 4, "python and three good socklab clients");
}

/// No --ca, --pin or --insecure against a self-signed server: exit 1 with the ways out.
/// --insecure connects and warns, even in a pipe.
#[test]
fn unknown_ca_is_refused_and_insecure_warns() {
    let (_server, mut out, port, _fp) = tls_server(&[]);
    let target = format!("tls://127.0.0.1:{port}");
    let bad = run(&["connect", &target], b"must not arrive\n");
    let err = text(&bad.stderr);
    assert_eq!(bad.status.code(), Some(1), "{err}");
    for needle in ["not signed by a CA we trust", "--ca", "--pin", "--insecure"] {
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
    let failed = out.wait_for("TLS handshake with");
    assert!(
        failed.starts_with("! ") && failed.contains("failed"),
        "{failed}"
    );

    for view in [&[][..], &["--show", "text"][..]] {
        let mut args = vec!["connect", &target, "--insecure"];
        args.extend_from_slice(view);
        let ok = run(&args, b"insecure hello\n");
        let (shown, err) = (text(&ok.stdout), text(&ok.stderr));
        assert!(ok.status.success(), "{err}");
        let all = format!("{shown}{err}");
        assert!(
            all.contains("! warning: --insecure: the server's certificate is NOT verified"),
            "{view:?}: stdout {shown:?}, stderr {err:?}"
        );
        if view.is_empty() {
            assert!(shown.is_empty(), "raw stdout carries data only: {shown:?}");
        } else {
            assert!(shown.contains("TLS established"), "{shown}");
        }
        out.wait_for("← insecure hello");
    }
    assert!(
        !out.seen.iter().any(|l| l.contains("must not arrive")),
        "{:?}",
        out.seen
    );
}

/// A certificate for localhost only, reached by 127.0.0.1 with --ca: exit 1 naming the
/// certificate's names; --sni localhost (the advice given) then verifies.
#[test]
fn name_mismatch_lists_the_certificates_names() {
    let dir = TempDir::new("tls-name");
    let (cert, key) = make_cert(&dir, "server", LOCALHOST_ONLY, true);
    let (_peer, _peer_in, _peer_out, port) = s_server(&cert, &key);
    let target = format!("tls://127.0.0.1:{port}");
    let ca = cert.to_str().unwrap();
    let bad = run(&["connect", &target, "--ca", ca], b"");
    let err = text(&bad.stderr);
    assert_eq!(bad.status.code(), Some(1), "{err}");
    for needle in [
        "TLS handshake with 127.0.0.1:",
        "for localhost, not '127.0.0.1'",
        "--sni",
    ] {
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
    let ok = run(&["connect", &target, "--ca", ca, "--sni", "localhost"], b"");
    assert!(ok.status.success(), "{}", text(&ok.stderr));
}

/// 64 MiB socklab connect → python's ssl server, byte-exact, ended with close_notify.
#[test]
fn upload_64mib_to_python_tls_server() {
    let dir = TempDir::new("tls-up");
    let (cert, key) = make_cert(&dir, "server", LOCALHOST_AND_IP, true);
    let (data, digest) = bulk_file(&dir, 31);
    let mut cmd = python_tls(&["server"]);
    cmd.arg(&cert)
        .arg(&key)
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    let mut peer = Proc::spawn(cmd, "tls_peers.py server");
    let mut peer_out = Lines::new(peer.stdout());
    let port = port_in(&peer_out.wait_for("listening on"));

    let mut cmd = socklab();
    cmd.args(["connect", &format!("tls://localhost:{port}"), "--ca"])
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // Through a pipe, as `cat file | socklab connect` would.
    cmd.stdin(Stdio::piped());
    let mut me = Proc::spawn(cmd, "socklab connect tls://");
    let mut input = me.stdin();
    let mut err = Lines::new(me.stderr());
    let feeder = std::thread::spawn(move || {
        let mut f = std::fs::File::open(data).expect("open data");
        std::io::copy(&mut f, &mut input).expect("feed socklab");
    });
    let got = peer_out.wait_for("received");
    feeder.join().expect("feeder");
    assert_eq!(
        got,
        format!("received {digest} close_notify yes"),
        "python's view of what socklab sent"
    );
    assert!(me.wait().success(), "{:?}", err.rest());
}

/// 64 MiB python's ssl client → `socklab listen --once` raw stdout, byte-exact.
#[test]
fn download_64mib_from_python_tls_client() {
    let dir = TempDir::new("tls-down");
    let (data, digest) = bulk_file(&dir, 37);
    let got = dir.path("got.bin");
    let (mut server, mut err) = receiver(&got, Stdio::null());
    let fp = err
        .wait_for("clients can pin it: --pin ")
        .rsplit_once(' ')
        .unwrap()
        .1
        .to_string();
    let port = port_in(&err.wait_for("listening on tls"));
    let mut cmd = python_tls(&["client", &port.to_string()]);
    cmd.arg(&data).stdout(Stdio::piped());
    let mut client = Proc::spawn(cmd, "tls_peers.py client");
    let mut client_out = Lines::new(client.stdout());
    assert_eq!(
        client_out.wait_for("peer sha256"),
        format!("peer sha256 {fp}")
    );
    assert_eq!(client_out.wait_for("sent"), format!("sent {digest}"));
    assert!(client.wait().success());
    assert!(server.wait().success(), "{:?}", err.rest());
    assert_eq!(file_digest(&got), digest, "socklab's stdout");
    err.wait_for("TLS established");
}

/// `listen --cert --key` with openssl's files: s_client verifies it by name against the
/// certificate; a key of another certificate is exit 2 before anything is bound.
#[test]
fn listen_with_given_cert_and_a_mismatched_key() {
    let dir = TempDir::new("tls-given");
    let (cert, key) = make_cert(&dir, "server", LOCALHOST_AND_IP, true);
    let mut cmd = socklab();
    cmd.args(["listen", "tls://127.0.0.1:0", "--show", "text", "--cert"])
        .arg(&cert)
        .arg("--key")
        .arg(&key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut server = Proc::spawn(cmd, "socklab listen --cert");
    let mut out = Lines::new(server.stdout());
    let header = out.wait_for("* TLS ");
    assert!(!header.contains("self-signed certificate made"), "{header}");
    out.wait_for("subject CN=localhost");
    let fp = out.wait_for("SHA-256 ");
    assert!(fp.ends_with(&openssl_fingerprint(&cert)), "{fp}");
    let port = port_in(&out.wait_for("listening on tls"));

    let mut cmd = Command::new(openssl());
    cmd.args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .args(["-verify_return_error", "-verify_hostname", "localhost"])
        .arg("-CAfile")
        .arg(&cert)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut client = Proc::spawn(cmd, "openssl s_client");
    let mut input = client.stdin();
    let mut shown = Lines::new(client.stdout());
    let _err = Lines::new(client.stderr());
    // "subject=CN = localhost" (OpenSSL 3.0) or "subject=CN=localhost" (later).
    let subject = shown.wait_for("subject=");
    assert!(
        subject.contains("CN") && subject.contains("localhost"),
        "{subject}"
    );
    shown.wait_for("Verification: OK");
    input.write_all(b"verified\n").expect("write s_client");
    out.wait_for("TLS established");
    out.wait_for("← verified");
    drop(server);

    // A key that belongs to another certificate.
    let (_, other_key) = make_cert(&dir, "other", LOCALHOST_AND_IP, true);
    let listen = |port: u16| {
        run(
            &[
                "listen",
                &format!("tls://127.0.0.1:{port}"),
                "--cert",
                cert.to_str().unwrap(),
                "--key",
                other_key.to_str().unwrap(),
            ],
            b"",
        )
    };
    // With the port held by us, the key error (not "address in use") proves the key is
    // checked before socklab binds.
    let held = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = held.local_addr().unwrap().port();
    usage_error(
        &listen(port),
        &["other.key", "does not match", "server.pem"],
    );
    drop(held);
    // On the free port: the same, and the port is still free afterwards.
    usage_error(&listen(port), &["does not match"]);
    TcpListener::bind(("127.0.0.1", port)).expect("the port is still free");
}

/// SNI and ALPN as the server sees them, and the protocol both sides agreed on.
#[test]
fn sni_and_alpn_reach_the_server() {
    let (_server, mut out, port, _fp) = tls_server(&["--alpn", "http/1.1"]);
    let target = format!("tls://127.0.0.1:{port}");
    let ok = run(
        &[
            "connect",
            &target,
            "--insecure",
            "--sni",
            "example.test",
            "--alpn",
            "h2,http/1.1",
            "--show",
            "text",
        ],
        b"",
    );
    let shown = text(&ok.stdout);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    let mine = shown
        .lines()
        .find(|l| l.contains("TLS established"))
        .unwrap_or_else(|| panic!("{shown}"));
    assert!(mine.contains("ALPN http/1.1"), "{mine}");
    let theirs = out.wait_for("TLS established");
    assert!(theirs.contains("ALPN http/1.1"), "{theirs}");
    assert!(theirs.contains("asked for example.test"), "{theirs}");

    // Nothing in common: the handshake fails on both sides, in words.
    let bad = run(&["connect", &target, "--insecure", "--alpn", "h2"], b"");
    let err = text(&bad.stderr);
    assert_eq!(bad.status.code(), Some(1), "{err}");
    assert!(err.contains("ALPN"), "{err}");
    let failed = out.wait_for("TLS handshake with");
    assert!(failed.contains("ALPN"), "{failed}");
}

/// Bad TLS options are usage errors (exit 2) found before anything is sent.
#[test]
fn bad_tls_options_send_nothing() {
    let w = Witness::new();
    let tls = format!("tls://{}", w.addr());
    let pin = "AB".repeat(32);
    let out = run(&["connect", &tls, "--pin", "xyz"], b"hi\n");
    usage_error(&out, &["bad certificate pin 'xyz'", "64 hex digits"]);
    let out = run(&["connect", &tls, "--pin", &pin[..62]], b"hi\n");
    usage_error(&out, &["not 64"]);
    let out = run(&["send", &tls, "--pin", "xyz", "hi"], b"");
    usage_error(&out, &["bad certificate pin 'xyz'"]);
    let out = run(&["connect", &tls, "--ca", "/nonexistent/ca.pem"], b"hi\n");
    usage_error(&out, &["/nonexistent/ca.pem", "cannot read it"]);
    let dir = TempDir::new("tls-bad");
    let not_pem = dir.path("not.pem");
    std::fs::write(&not_pem, "hello\n").unwrap();
    let out = run(&["connect", &tls, "--ca", not_pem.to_str().unwrap()], b"");
    usage_error(&out, &["not.pem"]);
    let out = run(&["connect", &w.addr(), "--pin", &pin], b"hi\n");
    usage_error(&out, &["--pin applies only to tls:// endpoints"]);
    let out = run(&["connect", &w.addr(), "--insecure"], b"hi\n");
    usage_error(&out, &["--insecure applies only to tls://"]);
    w.assert_untouched();
}

/// socklab to socklab over TLS, where the receiver's own stdin is empty: it half-closes
/// (close_notify) at once, and the sender must still deliver every byte of its stdin
/// before it ends, as the TCP raw pipe does.
#[test]
fn a_receiver_that_half_closes_at_once_still_gets_everything() {
    let dir = TempDir::new("tls-half-close");
    let (data, digest) = bulk_file(&dir, 91);
    let got = dir.path("got.bin");
    let (mut server, mut err) = receiver(&got, Stdio::null());
    let port = port_in(&err.wait_for("listening on"));
    let mut client = socklab();
    client
        .args(["connect", &format!("tls://127.0.0.1:{port}"), "--insecure"])
        .stdin(std::fs::File::open(&data).expect("open"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let out = wait_output(client.spawn().expect("spawn socklab connect"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(server.wait().success());
    assert_eq!(file_digest(&got), digest, "what the receiver wrote");
}

/// ncat --ssl both ways: as a client of `socklab listen tls://` (socklab echoes), and as a
/// server that `socklab send tls://` talks to, with byte-exact data each way.
#[test]
fn ncat_ssl_both_ways() {
    let ncat = require("ncat", "ncat");
    let (_server, mut out, port, _fp) = tls_server(&["--echo"]);
    let mut cmd = Command::new(&ncat);
    cmd.args(["--ssl", "127.0.0.1", &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut client = Proc::spawn(cmd, "ncat --ssl");
    let mut input = client.stdin();
    let mut back = Lines::new(client.stdout());
    input
        .write_all("你好 ncat\n".as_bytes())
        .expect("write ncat");
    out.wait_for("TLS established");
    out.wait_for("← 你好 ncat");
    assert_eq!(back.wait_for("ncat"), "你好 ncat");

    // ncat as the TLS server (its own certificate, made at start): socklab sends to it.
    let port = free_port();
    let mut cmd = Command::new(&ncat);
    // Its stdin stays open: at end of input ncat ends a TLS session at once (it cannot
    // half-close one), which would race with what socklab sends.
    cmd.args(["-v", "--ssl", "-l", "127.0.0.1", &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut peer = Proc::spawn(cmd, "ncat --ssl -l");
    let _keep_open = peer.stdin();
    let mut err = Lines::new(peer.stderr());
    err.wait_for("Listening on");
    let mut got = Lines::new(peer.stdout());
    let sent = run(
        &[
            "send",
            &format!("tls://127.0.0.1:{port}"),
            "--insecure",
            "line one\\nline two\\n",
        ],
        b"",
    );
    assert!(sent.status.success(), "{}", text(&sent.stderr));
    assert!(
        text(&sent.stderr).contains("--insecure"),
        "the warning is shown"
    );
    assert_eq!(got.wait_for("one"), "line one");
    assert_eq!(got.wait_for("two"), "line two");
}

/// `ncat --ssl --send-only` uploads 64 MiB to `socklab listen --once tls://` and closes
/// without ever reading. Session tickets sent after the handshake would sit unread on
/// ncat's socket, so its close would be a reset that drops its last unsent bytes: the
/// listener sends none, and the file arrives whole.
#[test]
fn ncat_ssl_send_only_uploads_64mib_to_listen_tls() {
    let ncat = require("ncat", "ncat");
    let dir = TempDir::new("tls-ncat-up");
    let (data, digest) = bulk_file(&dir, 41);
    let got = dir.path("got.bin");
    let (mut server, mut err) = receiver(&got, Stdio::piped());
    // socklab's stdin stays open: its end would be a close_notify that ncat never reads.
    let _keep_open = server.stdin();
    let port = port_in(&err.wait_for("listening on tls"));
    let mut cmd = Command::new(&ncat);
    cmd.args(["--ssl", "127.0.0.1", &port.to_string(), "--send-only"])
        .stdin(std::fs::File::open(&data).expect("open data"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut client = Proc::spawn(cmd, "ncat --ssl --send-only");
    assert!(client.wait().success());
    assert!(server.wait().success(), "{:?}", err.rest());
    assert_eq!(file_digest(&got), digest, "socklab's stdout");
}
