//! `socklab web`: every refusal of the guard over real HTTP to the real binary, and the
//! WebSocket protocol end to end with a real peer on loopback.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::Instant;

use serde_json::{json, Value};
use tungstenite::client::IntoClientRequest;
use tungstenite::http::HeaderValue;
use tungstenite::Message;

use crate::support::*;

struct Web {
    _proc: Proc,
    port: u16,
    token: String,
}

impl Web {
    fn start() -> Web {
        let mut cmd = socklab();
        cmd.arg("web")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut proc = Proc::spawn(cmd, "socklab web");
        let mut lines = Lines::new(proc.stdout());
        let line = lines.wait_for("socklab web: http://");
        let url = line
            .strip_prefix("socklab web: http://127.0.0.1:")
            .unwrap_or_else(|| panic!("not a loopback URL: {line}"));
        let (port, token) = url
            .split_once("/?token=")
            .unwrap_or_else(|| panic!("no token in {line}"));
        assert_eq!(token.len(), 64, "{line}");
        Web {
            port: port.parse().expect("port"),
            token: token.to_string(),
            _proc: proc,
        }
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn cookie(&self) -> String {
        format!("Cookie: socklab_token_{}={}\r\n", self.port, self.token)
    }

    /// One request over a fresh connection; the extra header lines end in \r\n.
    fn get(&self, path: &str, host: &str, extra: &str) -> Response {
        let mut s = client(self.port);
        let req =
            format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n");
        s.write_all(req.as_bytes()).expect("write request");
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).expect("read response");
        Response::parse(&raw)
    }

    /// The status line and headers only, for an answer that keeps the connection (101).
    fn head(&self, path: &str, host: &str, extra: &str) -> Response {
        let mut s = client(self.port);
        let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n");
        s.write_all(req.as_bytes()).expect("write request");
        let mut raw = Vec::new();
        let mut buf = [0u8; 1024];
        while !raw.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut buf).expect("read response head");
            assert!(n > 0 && raw.len() < 64 * 1024, "no response head: {raw:?}");
            raw.extend_from_slice(&buf[..n]);
        }
        Response::parse(&raw)
    }

    fn upgrade_headers(&self, origin: Option<&str>) -> String {
        let mut h = format!(
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{}",
            self.cookie()
        );
        if let Some(o) = origin {
            h.push_str(&format!("Origin: {o}\r\n"));
        }
        h
    }

    fn ws(&self) -> Ws {
        let mut req = format!("ws://{}/ws", self.host())
            .into_client_request()
            .expect("request");
        let h = req.headers_mut();
        h.insert(
            "Cookie",
            HeaderValue::from_str(&format!("socklab_token_{}={}", self.port, self.token))
                .expect("cookie"),
        );
        h.insert(
            "Origin",
            HeaderValue::from_str(&format!("http://{}", self.host())).expect("origin"),
        );
        let stream = client(self.port);
        let (socket, resp) = tungstenite::client(req, stream).expect("websocket handshake");
        assert_eq!(resp.status(), 101);
        let mut ws = Ws {
            socket,
            queue: VecDeque::new(),
        };
        let first = ws.next();
        assert!(first.get("sync").is_some(), "first message: {first}");
        ws
    }
}

struct Response {
    status: u16,
    /// Header lines, lowercase names.
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn parse(raw: &[u8]) -> Response {
        let text = String::from_utf8_lossy(raw);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {text:?}"));
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        Response {
            status,
            headers,
            body: body.to_string(),
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// No CORS, ever: no other origin may read a response.
    fn no_cors(&self) -> &Response {
        assert!(
            self.headers
                .iter()
                .all(|(k, _)| !k.starts_with("access-control-")),
            "CORS header in {:?}",
            self.headers
        );
        self
    }
}

struct Ws {
    socket: tungstenite::WebSocket<TcpStream>,
    /// Messages read but not yet looked at: a frame of several events is taken apart into
    /// one `{"sid","event","stats"}` per event, so tests can wait for a single event.
    queue: VecDeque<Value>,
}

impl Ws {
    fn send(&mut self, v: Value) {
        self.socket
            .send(Message::text(v.to_string()))
            .expect("websocket send");
    }

    fn next(&mut self) -> Value {
        loop {
            if let Some(v) = self.queue.pop_front() {
                return v;
            }
            match self
                .socket
                .read()
                .expect("websocket read (the stream has a deadline)")
            {
                Message::Text(t) => {
                    let v: Value = serde_json::from_str(t.as_str()).expect("JSON");
                    match v["events"].as_array() {
                        Some(events) => {
                            assert!(
                                !events.is_empty() || v.get("skipped").is_some(),
                                "an empty frame: {v}"
                            );
                            for ev in events {
                                self.queue.push_back(
                                    json!({"sid": v["sid"], "event": ev, "stats": v["stats"]}),
                                );
                            }
                        }
                        None => return v,
                    }
                }
                Message::Close(c) => panic!("closed: {c:?}"),
                _ => continue,
            }
        }
    }

    /// The first message that `pred` accepts, within the deadline and a bounded count.
    fn wait(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        let mut seen = Vec::new();
        for _ in 0..1000 {
            assert!(start.elapsed() < DEADLINE, "no {what}; saw {seen:#?}");
            let v = self.next();
            if pred(&v) {
                return v;
            }
            seen.push(v);
        }
        panic!("no {what} in 1000 messages; saw {seen:#?}")
    }

    fn event(&mut self, sid: &str, kind: &str) -> Value {
        self.wait(&format!("{kind} event of {sid}"), |v| {
            v["sid"] == sid && v["event"]["event"] == kind
        })["event"]
            .clone()
    }
}

#[test]
fn token_moves_from_the_url_to_a_cookie() {
    let web = Web::start();
    let r = web.get(&format!("/?token={}", web.token), &web.host(), "");
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/"));
    assert_eq!(
        r.header("set-cookie"),
        Some(
            format!(
                "socklab_token_{}={}; HttpOnly; SameSite=Strict; Path=/",
                web.port, web.token
            )
            .as_str()
        )
    );
    r.no_cors();
    let page = web.get("/", &web.host(), &web.cookie());
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<html"), "{}", page.body);
    page.no_cors();
    let js = web.get(
        "/app.js",
        &format!("localhost:{}", web.port),
        &format!("Authorization: Bearer {}\r\n", web.token),
    );
    assert_eq!(js.status, 200);
    assert!(js
        .header("content-type")
        .unwrap_or("")
        .contains("javascript"));
    // Even asked from another origin, nothing says it may read the answer.
    web.get(
        "/",
        &web.host(),
        &format!("{}Origin: http://evil.example\r\n", web.cookie()),
    )
    .no_cors();
}

#[test]
fn no_token_or_a_wrong_one_is_401() {
    let web = Web::start();
    let host = web.host();
    for (path, extra) in [
        ("/", String::new()),
        ("/app.js", String::new()),
        ("/i18n.json", String::new()),
        ("/?token=0123", String::new()),
        (
            &format!("/?token={}", "0".repeat(64)) as &str,
            String::new(),
        ),
        ("/", format!("Cookie: socklab_token_{}=0123\r\n", web.port)),
        ("/", format!("Authorization: Bearer {}\r\n", "f".repeat(64))),
        ("/ws", {
            let h = web.upgrade_headers(Some(&format!("http://{host}")));
            h.replace(&web.cookie(), "")
        }),
    ] {
        let r = web.get(path, &host, &extra);
        assert_eq!(r.status, 401, "{path} {extra:?}: {}", r.body);
        assert!(r.header("set-cookie").is_none());
        assert!(r.body.contains("token"), "{}", r.body);
        r.no_cors();
    }
}

#[test]
fn a_foreign_host_is_403_even_with_the_token() {
    let web = Web::start();
    let evil = format!("evil.example:{}", web.port);
    let r = web.get(&format!("/?token={}", web.token), &evil, "");
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.header("set-cookie").is_none());
    assert!(r.body.contains("evil.example"), "{}", r.body);
    let r = web.get("/", &evil, &web.cookie());
    assert_eq!(r.status, 403);
    r.no_cors();
    let r = web.get(
        "/ws",
        &evil,
        &web.upgrade_headers(Some(&format!("http://{evil}"))),
    );
    assert_eq!(r.status, 403);
    for ok in [
        format!("localhost:{}", web.port),
        format!("[::1]:{}", web.port),
    ] {
        assert_eq!(web.get("/", &ok, &web.cookie()).status, 200, "{ok}");
    }
}

#[test]
fn a_websocket_from_another_origin_is_403() {
    let web = Web::start();
    let host = web.host();
    for origin in [
        Some("http://evil.example"),
        Some(&format!("https://{host}") as &str),
        None,
    ] {
        let r = web.get("/ws", &host, &web.upgrade_headers(origin));
        assert_eq!(r.status, 403, "{origin:?}: {}", r.body);
        assert!(r.body.contains("Origin"), "{}", r.body);
        r.no_cors();
    }
    let r = web.head(
        "/ws",
        &host,
        &web.upgrade_headers(Some(&format!("http://{host}"))),
    );
    assert_eq!(r.status, 101, "{}", r.body);
}

#[test]
fn a_bad_bind_is_a_usage_error() {
    let out = run(&["web", "--bind", "nonsense"], b"");
    usage_error(&out, &["--bind", "nonsense"]);
}

/// A TCP server session driven over the socket: GBK text in, text and hex out, a bad hex
/// line that sends nothing, a kick, and counters that survive a reconnect.
#[test]
fn a_tcp_server_session_over_the_websocket() {
    let web = Web::start();
    let mut ws = web.ws();
    ws.send(json!({"op":"open","sid":"s1","mode":"tcp-server","address":"127.0.0.1:0","encoding":"gbk"}));
    let listening = ws.event("s1", "listening");
    let addr = listening["addr"].as_str().expect("addr").to_string();
    let port: u16 = addr
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .expect("port");
    assert!(addr.starts_with("127.0.0.1:"), "{listening}");

    // The port is taken now: a second server there is refused inline, and s1 goes on.
    ws.send(json!({"op":"open","sid":"s2","mode":"tcp-server","address":addr,"encoding":"gbk"}));
    let err = ws.wait("bind error", |v| {
        v["sid"] == "s2" && v.get("error").is_some()
    });
    assert!(err["error"].as_str().unwrap_or("").contains(&addr), "{err}");
    ws.send(json!({"op":"open","sid":"s3","mode":"tcp-client","address":"no port here"}));
    ws.wait("bad address error", |v| {
        v["sid"] == "s3" && v.get("error").is_some()
    });

    let mut peer = client(port);
    let connected = ws.event("s1", "connected");
    let id = connected["peer"].as_u64().expect("peer id");

    peer.write_all(&[0xc4, 0xe3, 0xba, 0xc3])
        .expect("peer write");
    let got = ws.event("s1", "received");
    assert_eq!(got["hex"], "c4e3bac3", "{got}");
    assert_eq!(got["text"], "你好");
    assert_eq!(got["len"], 4);
    assert_eq!(got["peer"], id);
    assert!(got["time"].as_str().unwrap_or("").contains('T'), "{got}");

    ws.send(json!({"op":"send","sid":"s1","to":"all","data":"你好\\r","hex":false,"eol":"lf"}));
    assert_eq!(read_n(&mut peer, 6), [0xc4, 0xe3, 0xba, 0xc3, 0x0d, 0x0a]);
    let sent = ws.event("s1", "sent");
    assert_eq!(sent["hex"], "c4e3bac30d0a");

    ws.send(json!({"op":"send","sid":"s1","to":id,"data":"41 4g","hex":true}));
    let err = ws.wait("bad hex error", |v| {
        v["sid"] == "s1" && v.get("error").is_some()
    });
    assert!(err["error"].as_str().unwrap_or("").contains("hex"), "{err}");
    // Commands are kept in order: if the bad line had sent anything, it would come first.
    ws.send(json!({"op":"send","sid":"s1","to":id,"data":"42","hex":true,"eol":"crlf"}));
    assert_eq!(read_n(&mut peer, 1), [0x42]);

    ws.send(json!({"op":"kick","sid":"s1","peer":id}));
    let closed = ws.event("s1", "closed");
    assert_eq!(closed["reason"], "kicked");
    let mut rest = Vec::new();
    peer.read_to_end(&mut rest).expect("peer sees the close");
    assert!(rest.is_empty(), "{rest:?}");

    // A page that reconnects finds the session and its exact counters.
    drop(ws);
    let mut again = web.ws();
    again.send(json!({"op":"sync"}));
    let sync = again.wait("sync", |v| v.get("sync").is_some());
    let sessions = sync["sync"]["sessions"]
        .as_array()
        .expect("sessions")
        .clone();
    let s1 = sessions.iter().find(|s| s["sid"] == "s1").expect("s1 kept");
    assert_eq!(s1["mode"], "tcp-server");
    assert_eq!(s1["state"], "listening");
    assert_eq!(s1["encoding"], "gbk");
    assert_eq!(s1["bytes_in"], 4, "{s1}");
    assert_eq!(s1["bytes_out"], 7, "{s1}");
    assert_eq!(s1["served"], 1);

    again.send(json!({"op":"close","sid":"s1"}));
    again.wait("s1 removed", |v| v["sid"] == "s1" && v["removed"] == true);
}

/// The toolbox answers with the same report as the CLI's --json.
#[test]
fn the_subnet_tool_is_the_cli_report() {
    let out = run(&["subnet", "192.168.1.1/24", "--json"], b"");
    assert_eq!(out.status.code(), Some(0));
    let cli: Value = serde_json::from_slice(&out.stdout).expect("CLI JSON");
    let web = Web::start();
    let mut ws = web.ws();
    ws.send(json!({"op":"tool","rid":7,"tool":"subnet","input":"192.168.1.1/24"}));
    let r = ws.wait("tool result", |v| v["rid"] == 7);
    assert_eq!(r["result"], cli, "{r}");
    ws.send(json!({"op":"tool","rid":8,"tool":"subnet","input":"300.1.1.1/24"}));
    let r = ws.wait("tool error", |v| v["rid"] == 8);
    assert!(
        r["error"].as_str().unwrap_or("").contains("300.1.1.1"),
        "{r}"
    );
}

/// A send to several clients reaches exactly those, and a send with a request id waits for
/// room and is answered with the bytes queued (how the page sends a file piece by piece).
#[test]
fn sends_to_several_clients_and_acknowledged_sends() {
    let web = Web::start();
    let mut ws = web.ws();
    ws.send(json!({"op":"open","sid":"m","mode":"tcp-server","address":"127.0.0.1:0"}));
    let port = port_in(ws.event("m", "listening")["addr"].as_str().expect("addr"));
    let mut peers = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..3 {
        peers.push(client(port));
        ids.push(ws.event("m", "connected")["peer"].as_u64().expect("id"));
    }
    ws.send(json!({"op":"send","sid":"m","to":[ids[0], ids[2]],"data":"ab"}));
    assert_eq!(read_n(&mut peers[0], 2), b"ab");
    assert_eq!(read_n(&mut peers[2], 2), b"ab");
    // The one left out gets only what is sent to all, after.
    ws.send(json!({"op":"send","sid":"m","to":"all","data":"z"}));
    assert_eq!(read_n(&mut peers[1], 1), b"z");

    let piece = "41".repeat(100_000);
    ws.send(json!({"op":"send","sid":"m","to":ids[1],"data":piece,"hex":true,"rid":5}));
    let ack = ws.wait("send answer", |v| v["rid"] == 5);
    assert_eq!(ack["result"]["queued"], 100_000, "{ack}");
    assert_eq!(read_n(&mut peers[1], 100_000), vec![b'A'; 100_000]);
    ws.send(json!({"op":"send","sid":"m","to":ids[1],"data":"4","hex":true,"rid":6}));
    let bad = ws.wait("send error", |v| v["rid"] == 6);
    assert!(bad["error"].as_str().unwrap_or("").contains("hex"), "{bad}");
    ws.send(json!({"op":"send","sid":"m","to":[],"data":"x"}));
    let none = ws.wait("no target", |v| v["sid"] == "m" && v.get("error").is_some());
    assert!(
        none["error"].as_str().unwrap_or("").contains("no client"),
        "{none}"
    );
    // Nothing of the refused sends arrived: the next byte is the one sent after them.
    ws.send(json!({"op":"send","sid":"m","to":ids[1],"data":"ok"}));
    assert_eq!(read_n(&mut peers[1], 2), b"ok");
}

/// A peer streaming as fast as loopback goes: the page gets frames, not an event per read;
/// what a frame cannot carry is counted as skipped, and the counters every frame carries
/// end exact.
#[test]
fn a_fast_stream_comes_in_bounded_frames_with_exact_counters() {
    const TOTAL: usize = 64 << 20;
    let web = Web::start();
    let mut ws = web.ws();
    ws.send(json!({"op":"open","sid":"f","mode":"tcp-server","address":"127.0.0.1:0"}));
    let port = port_in(ws.event("f", "listening")["addr"].as_str().expect("addr"));
    let mut peer = client(port);
    ws.event("f", "connected");
    let writer = std::thread::spawn(move || {
        let chunk = vec![0x5au8; 1 << 20];
        for _ in 0..TOTAL >> 20 {
            peer.write_all(&chunk).expect("peer write");
        }
        peer
    });
    let (mut frames, mut skipped, mut shown) = (0u64, 0u64, 0u64);
    let mut counted = false;
    let start = Instant::now();
    loop {
        assert!(start.elapsed() < DEADLINE, "the stream did not end in time");
        let msg = match ws.socket.read().expect("websocket read") {
            Message::Text(t) => serde_json::from_str::<Value>(t.as_str()).expect("JSON"),
            _ => continue,
        };
        let Some(events) = msg["events"].as_array() else {
            continue;
        };
        frames += 1;
        skipped += msg["skipped"]["bytes"].as_u64().unwrap_or(0);
        shown += events
            .iter()
            .filter(|e| e["event"] == "received")
            .map(|e| e["len"].as_u64().unwrap_or(0))
            .sum::<u64>();
        let payload: u64 = events.iter().map(|e| e["len"].as_u64().unwrap_or(0)).sum();
        assert!(payload <= 256 << 10, "a frame carried {payload} bytes");
        // A read too big for the frame is shown cut, its real size in `truncated`.
        for e in events.iter().filter(|e| e.get("truncated").is_some()) {
            assert!(
                e["truncated"].as_u64() > e["len"].as_u64(),
                "{}",
                e["truncated"]
            );
            assert_eq!(
                e["hex"].as_str().map(str::len),
                e["len"].as_u64().map(|n| n as usize * 2)
            );
        }
        // The counters are taken as each read lands, its event follows: a frame's stats can
        // be a read ahead of its events, so the stream is over when both have it all.
        if msg["stats"]["bytes_in"] == TOTAL as u64 {
            counted = true;
        }
        if counted && shown + skipped >= TOTAL as u64 {
            break;
        }
    }
    drop(writer.join().expect("writer"));
    assert_eq!(
        shown + skipped,
        TOTAL as u64,
        "shown {shown} + skipped {skipped}"
    );
    assert!(
        skipped > 0,
        "64 MiB at loopback speed should not all fit in frames"
    );
    assert!(shown > 0, "the page saw none of the data, only counters");
    // About one frame per 50 ms, however many reads there were.
    let bound = start.elapsed().as_millis() as u64 / 50 + 10;
    assert!(frames <= bound, "{frames} frames in {:?}", start.elapsed());
}

/// The browser tests' folder: playwright-core is installed there by scripts/test.
fn browser_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

fn node() -> std::path::PathBuf {
    let node = require("node", "nodejs");
    let dir = browser_dir();
    assert!(
        dir.join("node_modules/playwright-core/package.json")
            .exists(),
        "playwright-core is missing: run scripts/test, or `npm ci --prefix {}`",
        dir.display()
    );
    node
}

fn node_run(script: &str, env: &[(&str, String)]) {
    let mut cmd = std::process::Command::new(node());
    cmd.args(if script.ends_with("unit.mjs") {
        vec!["--test", script]
    } else {
        vec![script]
    })
    .current_dir(browser_dir())
    .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run node");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(
        out.status.success(),
        "{script} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    println!("{stdout}");
}

/// The page's pure functions (hex validation, display lines, search) under node's test
/// runner.
#[test]
fn front_end_units() {
    node_run("unit.mjs", &[]);
}

/// The whole page in headless Chromium against real peers: a GBK device in python, a
/// reply, hex, a bad hex line that sends nothing, search, download, the chart, a kick, a
/// DNS lookup against dnsmasq, and Chinese; screenshots of each view, no console errors.
#[test]
fn in_a_real_browser() {
    assert!(
        std::path::Path::new("/usr/bin/chromium").exists(),
        "Chromium is missing: run scripts/test, or `apt-get install chromium fonts-wqy-microhei`"
    );
    python3();
    let dns = crate::dns::Dnsmasq::start(&crate::dns::zone());
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("web-shots");
    node_run(
        "e2e.mjs",
        &[
            ("SOCKLAB", env!("CARGO_BIN_EXE_socklab").to_string()),
            ("SHOTS", shots.display().to_string()),
            ("DNS", dns.addr()),
        ],
    );
}

/// A python peer for the session tests below: it connects (or sends a first datagram),
/// prints each thing it receives as hex, and sends each hex line of its stdin.
const PY_PEER: &str = r#"
import socket, ssl, sys
kind, where = sys.argv[1], sys.argv[2]
if kind == "udp":
    host, port = where.rsplit(":", 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((host, int(port)))
elif kind == "unix":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(where)
else:
    host, port = where.rsplit(":", 1)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s = ctx.wrap_socket(socket.create_connection((host, int(port))), server_hostname="localhost")
print("ready", flush=True)
for line in sys.stdin:
    s.sendall(bytes.fromhex(line.strip())) if kind != "udp" else s.send(bytes.fromhex(line.strip()))
    print("got", s.recv(65536).hex(), flush=True)
"#;

fn py_peer(kind: &str, where_: &str) -> (Proc, Lines, std::process::ChildStdin) {
    let mut cmd = std::process::Command::new(python3());
    cmd.args(["-c", PY_PEER, kind, where_])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut proc = Proc::spawn(cmd, "python peer");
    let stdin = proc.stdin();
    let mut out = Lines::new(proc.stdout());
    out.wait_for("ready");
    (proc, out, stdin)
}

/// Open a server session of `mode` on `address`; its listening address.
fn open_server(ws: &mut Ws, sid: &str, mode: &str, address: &str) -> String {
    ws.send(json!({"op":"open","sid":sid,"mode":mode,"address":address,"encoding":"gbk"}));
    ws.event(sid, "listening")["addr"]
        .as_str()
        .expect("addr")
        .to_string()
}

/// The peer sends 你好 in GBK; the session shows it as text; the answer 好 goes back to it.
fn exchange(ws: &mut Ws, sid: &str, out: &mut Lines, stdin: &mut std::process::ChildStdin) {
    writeln!(stdin, "c4e3bac3").expect("peer stdin");
    let got = ws.event(sid, "received");
    assert_eq!(got["text"], "你好", "{got}");
    ws.send(json!({"op":"send","sid":sid,"data":"好","eol":"lf"}));
    out.wait_for("got bac30a");
}

#[test]
fn a_udp_server_session_answers_the_last_sender() {
    let web = Web::start();
    let mut ws = web.ws();
    let addr = open_server(&mut ws, "u", "udp-server", "127.0.0.1:0");
    let (_p, mut out, mut stdin) = py_peer("udp", &addr);
    exchange(&mut ws, "u", &mut out, &mut stdin);
}

#[test]
fn a_unix_server_session() {
    let web = Web::start();
    let mut ws = web.ws();
    let dir = TempDir::new("web-unix");
    let path = dir.0.join("s.sock").display().to_string();
    let addr = open_server(&mut ws, "x", "unix-server", &path);
    assert_eq!(addr, format!("unix:{path}"));
    let (_p, mut out, mut stdin) = py_peer("unix", &path);
    exchange(&mut ws, "x", &mut out, &mut stdin);
}

#[test]
fn a_tls_server_session_with_its_own_certificate() {
    let web = Web::start();
    let mut ws = web.ws();
    let addr = open_server(&mut ws, "t", "tls-server", "127.0.0.1:0");
    let (_p, mut out, mut stdin) = py_peer("tls", &addr);
    exchange(&mut ws, "t", &mut out, &mut stdin);
}

/// A client session to a real server: socklab's own listen --echo.
#[test]
fn a_tcp_client_session_to_a_real_server() {
    let (_server, _lines, port) = socklab_server(&["--echo"]);
    echo_through_a_client_session("tcp-client", &format!("127.0.0.1:{port}"));
}

/// A client session opened with `reconnect` outlives its connection: the python server
/// drops its first client (tests/reconnect_peer.py). The page sees `closed` and
/// `reconnecting`, the state goes to connecting and back to connected, and the session
/// goes on as the same peer #1 with its counters carried.
#[test]
fn a_reconnecting_client_session_comes_back_after_the_peer_drops_it() {
    let (_server, mut peer, port) = reconnect_peer();

    let web = Web::start();
    let mut ws = web.ws();
    let addr = format!("127.0.0.1:{port}");
    // Reconnect is for a client over a connection: a UDP client is refused, nothing opens.
    ws.send(json!({"op":"open","sid":"s","mode":"udp-client","address":addr,"reconnect":true}));
    let refused = ws.wait("the refusal", |v| {
        v["sid"] == "s" && v.get("error").is_some()
    });
    assert!(
        refused["error"]
            .as_str()
            .is_some_and(|e| e.contains("reconnect is for a tcp, tls or unix client")),
        "{refused}"
    );
    ws.send(json!({"op":"open","sid":"c","mode":"tcp-client","address":addr,"reconnect":true}));
    ws.wait("connected", |v| {
        v["sid"] == "c" && v["state"] == "connected"
    });
    ws.send(json!({"op":"send","sid":"c","data":"one\n"}));
    peer.wait_for("first got one");
    let closed = ws.event("c", "closed");
    assert_eq!(closed["peer"], 1, "{closed}");
    let again = ws.event("c", "reconnecting");
    assert_eq!(
        (again["attempt"].as_u64(), again["delay_ms"].as_u64()),
        (Some(1), Some(1000))
    );
    ws.wait("connecting again", |v| {
        v["sid"] == "c" && v["state"] == "connecting"
    });
    ws.wait("connected again", |v| {
        v["sid"] == "c" && v["state"] == "connected"
    });
    ws.send(json!({"op":"send","sid":"c","data":"two\n"}));
    peer.wait_for("second got two");
    let framed = ws.wait("the echo", |v| {
        v["sid"] == "c" && v["event"]["event"] == "received"
    });
    let echo = &framed["event"];
    assert_eq!(echo["peer"], 1, "the same peer: {echo}");
    assert_eq!(echo["text"], "echo: two\n", "{echo}");
    // Both connections' bytes: 4 + 4 out, the 10-byte echo in (the frame's counters).
    let echo = &framed;
    assert_eq!(
        (
            echo["stats"]["bytes_out"].as_u64(),
            echo["stats"]["bytes_in"].as_u64()
        ),
        (Some(8), Some(10)),
        "{echo}"
    );
    // A page that loads now is told the session reconnects.
    ws.send(json!({"op":"sync"}));
    let sync = ws.wait("the sync", |v| v.get("sync").is_some());
    let snap = sync["sync"]["sessions"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["sid"] == "c"))
        .cloned();
    assert_eq!(
        snap.as_ref().map(|s| s["reconnect"].clone()),
        Some(json!(true)),
        "{sync}"
    );
    ws.send(json!({"op":"close","sid":"c"}));
    peer.wait_for("done");
}

/// Open a client session of `mode` to an echo server at `addr`, in GBK: 你好 comes back
/// as the same four bytes and the same text.
fn echo_through_a_client_session(mode: &str, addr: &str) {
    let web = Web::start();
    let mut ws = web.ws();
    ws.send(json!({"op":"open","sid":"c","mode":mode,"address":addr,"encoding":"gbk"}));
    ws.wait("connected state", |v| {
        v["sid"] == "c" && v["state"] == "connected"
    });
    ws.send(json!({"op":"send","sid":"c","data":"你好"}));
    let echo = ws.event("c", "received");
    assert_eq!(echo["hex"], "c4e3bac3", "{echo}");
    assert_eq!(echo["text"], "你好");
}

/// `--open` hands the URL to xdg-open (here a stand-in on PATH that writes it down).
#[test]
fn open_hands_the_url_to_the_browser() {
    let dir = TempDir::new("web-open");
    let seen = dir.0.join("url");
    let fake = dir.0.join("xdg-open");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\necho \"$1\" > {}.tmp && mv {0}.tmp {0}\n",
            seen.display()
        ),
    )
    .expect("write fake xdg-open");
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let path = format!(
        "{}:{}",
        dir.0.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = socklab();
    cmd.args(["web", "--open"])
        .env("PATH", path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut proc = Proc::spawn(cmd, "socklab web --open");
    let line = Lines::new(proc.stdout()).wait_for("socklab web: http://");
    let url = line.trim_start_matches("socklab web: ").trim().to_string();
    let start = Instant::now();
    let opened = loop {
        if let Ok(s) = std::fs::read_to_string(&seen) {
            break s;
        }
        assert!(start.elapsed() < DEADLINE, "xdg-open was not run");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(opened.trim(), url);
}

/// Binding every interface works but says plainly that other machines can reach the page.
#[test]
fn a_non_loopback_bind_warns() {
    let mut cmd = socklab();
    cmd.args(["web", "--bind", "0.0.0.0:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut proc = Proc::spawn(cmd, "socklab web --bind 0.0.0.0:0");
    let warning = Lines::new(proc.stderr()).wait_for("warning");
    assert!(
        warning.contains("0.0.0.0") && warning.contains("not a loopback address"),
        "{warning}"
    );
    Lines::new(proc.stdout()).wait_for("socklab web: http://127.0.0.1:");
}

impl Ws {
    /// Sends a tool request and collects its progress messages until its result or error.
    fn tool(&mut self, rid: u64, req: Value) -> (Vec<Value>, Value) {
        let mut msg = req;
        msg["op"] = json!("tool");
        msg["rid"] = json!(rid);
        self.send(msg);
        let mut progress = Vec::new();
        loop {
            let v = self.wait(&format!("reply to rid {rid}"), |v| v["rid"] == rid);
            match v.get("progress") {
                Some(p) => progress.push(p.clone()),
                None => return (progress, v),
            }
        }
    }
}

/// The message the CLI prints for a usage error (exit 2), without "socklab: ".
fn cli_usage_error(args: &[&str]) -> String {
    let out = run(args, b"");
    assert_eq!(
        out.status.code(),
        Some(2),
        "{args:?}: {}",
        text(&out.stderr)
    );
    let err = text(&out.stderr);
    err.trim_end()
        .strip_prefix("socklab: ")
        .unwrap_or_else(|| panic!("{args:?}: {err}"))
        .to_string()
}

/// A listener that counts the connections the kernel completed for it: after a ping has
/// answered, every one of its connects is in the accept queue.
fn accepted(listener: &std::net::TcpListener) -> usize {
    listener.set_nonblocking(true).expect("nonblocking");
    let mut n = 0;
    loop {
        match listener.accept() {
            Ok(_) => n += 1,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return n,
            Err(e) => panic!("accept: {e}"),
        }
    }
}

#[test]
fn ping_streams_each_try_then_a_summary_that_matches_the_accepts() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let web = Web::start();
    let mut ws = web.ws();
    let (progress, r) = ws.tool(
        1,
        json!({"tool":"ping","target":format!("127.0.0.1:{port}"),"count":3,"interval_ms":10,"timeout_ms":5000}),
    );
    let report = &r["result"];
    assert_eq!(report["mode"], "tcp", "{r}");
    assert_eq!(report["address"], "127.0.0.1");
    assert_eq!(report["port"], port);
    let seqs: Vec<_> = progress.iter().map(|p| p["seq"].as_u64()).collect();
    assert_eq!(seqs, [Some(1), Some(2), Some(3)], "{progress:?}");
    assert!(progress
        .iter()
        .all(|p| p["ok"] == true && p["time_ms"].as_f64().is_some()));
    // The result lists the very tries that streamed.
    assert_eq!(report["tries"], Value::Array(progress.clone()));
    let s = &report["summary"];
    assert_eq!(
        (s["sent"].as_u64(), s["received"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(s["loss_percent"], 0.0);
    let (min, avg, max) = (
        s["min_ms"].as_f64().expect("min"),
        s["avg_ms"].as_f64().expect("avg"),
        s["max_ms"].as_f64().expect("max"),
    );
    assert!(min <= avg && avg <= max, "{s}");
    assert_eq!(accepted(&listener), 3);
}

#[test]
fn ping_to_a_refused_port_reports_each_failure_and_full_loss() {
    let refused = RefusedPort::new();
    let web = Web::start();
    let mut ws = web.ws();
    let (progress, r) = ws.tool(
        2,
        json!({"tool":"ping","target":format!("127.0.0.1:{}", refused.port),"count":2,"interval_ms":10}),
    );
    assert_eq!(progress.len(), 2, "{progress:?}");
    for p in &progress {
        assert_eq!(p["ok"], false, "{p}");
        assert!(p["time_ms"].is_null());
        assert!(p["error"].as_str().unwrap_or("").contains("refused"), "{p}");
    }
    let s = &r["result"]["summary"];
    assert_eq!(
        (s["sent"].as_u64(), s["received"].as_u64()),
        (Some(2), Some(0)),
        "{r}"
    );
    assert_eq!(s["loss_percent"], 100.0);
    assert!(s["min_ms"].is_null() && s["avg_ms"].is_null());
}

/// Stop ends a ping early with the summary of the tries made, as Ctrl-C does.
#[test]
fn a_stopped_ping_answers_with_its_summary_so_far() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let web = Web::start();
    let mut ws = web.ws();
    ws.send(json!({"op":"tool","rid":3,"tool":"ping","target":format!("127.0.0.1:{port}"),"count":1000,"interval_ms":10}));
    ws.wait("first try", |v| v["rid"] == 3 && v["progress"]["seq"] == 1);
    ws.send(json!({"op":"stop","rid":3}));
    let r = ws.wait("result", |v| v["rid"] == 3 && v.get("progress").is_none());
    let s = &r["result"]["summary"];
    let sent = s["sent"].as_u64().expect("sent");
    assert!((1..1000).contains(&sent), "{r}");
    assert_eq!(s["received"].as_u64(), Some(sent));
    assert_eq!(accepted(&listener) as u64, sent);
}

#[test]
fn scan_reports_exactly_the_open_ports() {
    let open: Vec<std::net::TcpListener> = (0..3)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("bind"))
        .collect();
    let mut open_ports: Vec<u16> = open
        .iter()
        .map(|l| l.local_addr().expect("addr").port())
        .collect();
    open_ports.sort_unstable();
    let closed = [RefusedPort::new(), RefusedPort::new()];
    let list: Vec<String> = open_ports
        .iter()
        .copied()
        .chain(closed.iter().map(|c| c.port))
        .map(|p| p.to_string())
        .collect();
    let web = Web::start();
    let mut ws = web.ws();
    let (progress, r) = ws.tool(
        4,
        json!({"tool":"scan","host":"127.0.0.1","ports":list.join(","),"timeout_ms":5000,"concurrency":2}),
    );
    assert!(progress.is_empty());
    let report = &r["result"];
    let found: Vec<u64> = report["open"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .map(|o| o["port"].as_u64().expect("port"))
        .collect();
    let expected: Vec<u64> = open_ports.iter().map(|&p| u64::from(p)).collect();
    assert_eq!(found, expected, "{report}");
    assert_eq!(report["closed"], 2);
    assert_eq!(report["filtered"], 0);
    assert_eq!(report["ports_scanned"], 5);
    assert_eq!(report["address"], "127.0.0.1");
}

/// The trace form's CA file: an https server with a self-signed certificate fails in the
/// TLS phase without it, and is traced through with it.
#[test]
fn trace_over_https_trusts_the_ca_file_it_is_given() {
    let cert = crate::trace::make_cert();
    let peer = crate::trace::Peer::start(Some(&cert));
    let url = format!("https://localhost:{}/echo", peer.port);
    let web = Web::start();
    let mut ws = web.ws();
    let (_, r) = ws.tool(1, json!({"tool":"trace","url":url}));
    let report = &r["result"];
    assert_eq!(report["error"]["phase"], "tls", "{r}");
    assert!(
        report["error"]["message"]
            .as_str()
            .is_some_and(|e| e.contains("certificate")),
        "{r}"
    );
    let (_, r) = ws.tool(2, json!({"tool":"trace","url":url,"ca":cert.cert}));
    let report = &r["result"];
    assert_eq!(report["status"], 200, "{r}");
    assert_eq!(report["hops"][0]["tls"]["sni"], "localhost", "{r}");
}

#[test]
fn trace_times_each_phase_of_a_request_to_a_real_server() {
    let mut cmd = std::process::Command::new(python3());
    cmd.arg(fixture("http_peer.py"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut peer = Proc::spawn(cmd, "http_peer.py");
    let mut lines = Lines::new(peer.stdout());
    let port = port_in(&lines.wait_for("listening on"));
    let web = Web::start();
    let mut ws = web.ws();

    // A redirect followed, then a POST with a header and a body: every hop traced.
    let (_, r) = ws.tool(
        5,
        json!({"tool":"trace","url":format!("http://127.0.0.1:{port}/chain/1"),"follow":true}),
    );
    let report = &r["result"];
    assert!(report["error"].is_null(), "{r}");
    assert_eq!(report["status"], 200);
    assert_eq!(report["redirects"], 1);
    let hops = report["hops"].as_array().expect("hops");
    assert_eq!(hops.len(), 2, "{report}");
    assert_eq!(hops[0]["response"]["status"], 302);
    for hop in hops {
        let p = &hop["phases"];
        assert!(p["dns_ms"].is_null(), "an address needs no DNS: {p}");
        assert!(p["tls_ms"].is_null(), "http: {p}");
        for phase in [
            "connect_ms",
            "request_ms",
            "ttfb_ms",
            "transfer_ms",
            "total_ms",
        ] {
            assert!(
                p[phase].as_f64().is_some_and(|ms| ms >= 0.0),
                "{phase}: {p}"
            );
        }
    }

    let (_, r) = ws.tool(
        6,
        json!({"tool":"trace","url":format!("http://localhost:{port}/echo"),"method":"PUT",
               "headers":"X-Test: one\nAccept: text/plain","data":"a=1"}),
    );
    let report = &r["result"];
    assert_eq!(report["status"], 200, "{r}");
    let hop = &report["hops"][0];
    assert!(
        hop["phases"]["dns_ms"].as_f64().is_some(),
        "a name is resolved: {hop}"
    );
    let req = &hop["request"];
    assert_eq!(req["method"], "PUT");
    assert_eq!(req["body_bytes"], 3);
    let headers = req["headers"].as_array().expect("headers");
    assert!(
        headers.contains(&json!(["X-Test", "one"])) || headers.contains(&json!(["x-test", "one"])),
        "{req}"
    );
    assert!(hop["response"]["headers"]
        .as_array()
        .is_some_and(|h| !h.is_empty()));
    assert!(hop["body_bytes"].as_u64().is_some_and(|n| n > 0));
}

/// Bad input to each new tool: the CLI's own message (its exit-2 cases), shown inline, and
/// nothing sent: a witness listener named in every request sees no connection.
#[test]
fn bad_tool_input_is_refused_before_anything_is_sent() {
    let witness = Witness::new();
    let port = witness.port.to_string();
    let addr = witness.addr();
    let web = Web::start();
    let mut ws = web.ws();
    let mut rid = 100;
    let mut refused = |ws: &mut Ws, req: Value, needles: &[&str]| {
        rid += 1;
        let (progress, r) = ws.tool(rid, req.clone());
        assert!(progress.is_empty(), "{req}: {progress:?}");
        let err = r["error"].as_str().unwrap_or_else(|| panic!("{req}: {r}"));
        for n in needles {
            assert!(err.contains(n), "{req}: {n:?} not in {err}");
        }
        err.to_string()
    };
    // The same words as the command line.
    for (req, cli) in [
        (
            json!({"tool":"ping","target":"127.0.0.1:99999"}),
            vec!["ping", "127.0.0.1:99999"],
        ),
        (
            json!({"tool":"scan","host":"127.0.0.1","ports":format!("{port},0")}),
            vec!["scan", "127.0.0.1", format!("{port},0").as_str()],
        ),
        (
            json!({"tool":"scan","host":"127.0.0.1","ports":format!("{port}-1")}),
            vec!["scan", "127.0.0.1", format!("{port}-1").as_str()],
        ),
        (
            json!({"tool":"scan","host":format!("127.0.0.1:{port}"),"ports":port}),
            vec!["scan", addr.as_str(), port.as_str()],
        ),
        (
            json!({"tool":"trace","url":format!("{addr}/x")}),
            vec!["trace", format!("{addr}/x").as_str()],
        ),
        (
            json!({"tool":"trace","url":format!("ftp://{addr}/")}),
            vec!["trace", format!("ftp://{addr}/").as_str()],
        ),
        (
            json!({"tool":"trace","url":format!("http://{addr}/"),"headers":"NoColon"}),
            vec!["trace", "-H", "NoColon", format!("http://{addr}/").as_str()],
        ),
        (
            json!({"tool":"trace","url":format!("http://{addr}/"),"method":"GET /"}),
            vec!["trace", "-X", "GET /", format!("http://{addr}/").as_str()],
        ),
    ] {
        let expected = cli_usage_error(&cli);
        let got = refused(&mut ws, req.clone(), &[]);
        assert_eq!(got, expected, "{req}");
    }
    // The page's own bounds.
    for (req, needles) in [
        (
            json!({"tool":"ping","target":addr,"count":0}),
            vec!["count 0", "1-1000"],
        ),
        (
            json!({"tool":"ping","target":addr,"count":1001}),
            vec!["count 1001", "1-1000"],
        ),
        (
            json!({"tool":"ping","target":addr,"interval_ms":5}),
            vec!["interval 5 ms", "10 ms"],
        ),
        (
            json!({"tool":"ping","target":addr,"timeout_ms":0}),
            vec!["timeout 0 ms"],
        ),
        (
            json!({"tool":"ping","target":addr,"count":"ten"}),
            vec!["bad arguments"],
        ),
        (
            json!({"tool":"scan","host":"127.0.0.1","ports":port,"concurrency":0}),
            vec!["concurrency 0", "1-1000"],
        ),
        (
            json!({"tool":"scan","host":"127.0.0.1","ports":port,"timeout_ms":0}),
            vec!["timeout 0 ms"],
        ),
        (
            json!({"tool":"trace","url":format!("http://{addr}/"),"timeout_ms":0}),
            vec!["timeout 0 ms"],
        ),
    ] {
        refused(&mut ws, req, &needles);
    }
    ws.send(json!({"op":"stop","rid":99}));
    let r = ws.wait("stop of nothing", |v| v["rid"] == 99);
    assert!(r["error"].as_str().unwrap_or("").contains("no tool"), "{r}");
    witness.assert_untouched();
}

/// An echo server in python for the client-mode sessions: "udp" or "unix PATH"; it prints
/// "ready ADDR" once it can be reached and echoes what it gets.
const PY_ECHO: &str = r#"
import socket, sys
if sys.argv[1] == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    print("ready 127.0.0.1:%d" % s.getsockname()[1], flush=True)
    while True:
        data, addr = s.recvfrom(65536)
        s.sendto(data, addr)
else:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(sys.argv[2])
    s.listen(1)
    print("ready", sys.argv[2], flush=True)
    c, _ = s.accept()
    while True:
        data = c.recv(65536)
        if not data:
            break
        c.sendall(data)
"#;

fn client_session_echo(mode: &str, args: &[&str]) {
    let mut cmd = std::process::Command::new(python3());
    cmd.args(["-c", PY_ECHO])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut proc = Proc::spawn(cmd, "python echo");
    let ready = Lines::new(proc.stdout()).wait_for("ready");
    let addr = ready.trim_start_matches("ready ").trim().to_string();
    echo_through_a_client_session(mode, &addr);
}

#[test]
fn a_udp_client_session() {
    client_session_echo("udp-client", &["udp"]);
}

#[test]
fn a_unix_client_session() {
    let dir = TempDir::new("web-unix-client");
    let path = dir.0.join("echo.sock").display().to_string();
    client_session_echo("unix-client", &["unix", &path]);
}

/// A TLS client session trusts a self-signed server (openssl s_server) only when told how:
/// by default the certificate is refused inline and the session ends; a malformed pin, a CA
/// file that is not there, or trust options on a TCP session are refused before anything
/// connects; pinned by its fingerprint, or with verification off, it connects and text goes
/// both ways; the snapshot keeps the trust it was opened with.
#[test]
fn a_tls_client_session_trusts_a_self_signed_server_only_when_told() {
    let dir = TempDir::new("web-tls-client");
    let (cert, key) = crate::tls::make_cert(&dir, "server", crate::tls::LOCALHOST_AND_IP, true);
    let fp = crate::tls::openssl_fingerprint(&cert);
    let (_server, mut input, mut said, port) = crate::tls::s_server(&cert, &key);
    let addr = format!("localhost:{port}");
    let web = Web::start();
    let mut ws = web.ws();

    ws.send(json!({"op":"open","sid":"t","mode":"tls-client","address":addr}));
    let err = ws.wait("certificate error", |v| {
        v["sid"] == "t" && (v.get("error").is_some() || v["event"]["event"] == "error")
    });
    let msg = err["error"]
        .as_str()
        .or(err["event"]["message"].as_str())
        .unwrap_or("")
        .to_lowercase();
    assert!(msg.contains("certificate"), "{err}");
    ws.wait("closed state", |v| {
        v["sid"] == "t" && v["state"] == "closed"
    });

    // Refused before any connect: no session message for these sids, only the error.
    for (sid, mode, tls, want) in [
        ("p1", "tls-client", json!({"pin": "AB:CD"}), "pin"),
        (
            "p2",
            "tls-client",
            json!({"ca": dir.path("missing.pem")}),
            "missing.pem",
        ),
        ("p3", "tcp-client", json!({"insecure": true}), "tls-client"),
    ] {
        ws.send(json!({"op":"open","sid":sid,"mode":mode,"address":addr,"tls":tls}));
        let err = ws.wait("the open refused", |v| {
            v["sid"] == sid && (v.get("error").is_some() || v.get("session").is_some())
        });
        let e = err["error"]
            .as_str()
            .unwrap_or_else(|| panic!("opened: {err}"));
        assert!(e.contains(want), "{sid}: {e}");
    }

    for (sid, tls) in [
        ("pinned", json!({ "pin": fp })),
        ("insecure", json!({"insecure": true})),
    ] {
        ws.send(json!({"op":"open","sid":sid,"mode":"tls-client","address":addr,"tls":tls}));
        let snap = ws.wait("the session", |v| {
            v["sid"] == sid && v.get("session").is_some()
        });
        assert_eq!(snap["session"]["tls"], tls, "{snap}");
        ws.wait("connected state", |v| {
            v["sid"] == sid && v["state"] == "connected"
        });
        let line = format!("hello {sid}");
        ws.send(json!({"op":"send","sid":sid,"data":format!("{line}\n")}));
        said.wait_for(&line);
        input.write_all(format!("pong {sid}\n").as_bytes()).unwrap();
        input.flush().unwrap();
        let got = ws.event(sid, "received");
        assert_eq!(got["text"], format!("pong {sid}\n"), "{got}");
        ws.send(json!({"op":"close","sid":sid}));
        ws.wait("closed state", |v| {
            v["sid"] == sid && v["state"] == "closed"
        });
    }
}
