//! What every test needs: the socklab binary, real peers found on PATH (or a failure that
//! names the package to install), free loopback ports, children that die with the test, and
//! readiness from what a program prints rather than from sleeping.

#![allow(dead_code)]

pub mod netns;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, ChildStdout, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Generous: a 2-core machine running the suite in parallel can be slow, but a hang must
/// still fail rather than block CI.
pub const DEADLINE: Duration = Duration::from_secs(60);

pub fn socklab() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_socklab"));
    c.env("NO_COLOR", "1");
    c
}

/// Fail (never skip) when a peer program is missing, naming what to install.
pub fn require(program: &str, package: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    });
    match found {
        Some(p) => p,
        None => panic!(
            "this test needs `{program}`, which is not installed: apt-get install {package} (scripts/test installs every peer)"
        ),
    }
}

/// A free TCP port on 127.0.0.1 for peers that cannot be told to pick one themselves.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// A port on 127.0.0.1 that refuses connections for as long as this lives: bound, never
/// listening, so a connect gets a reset and no other test can take the port meanwhile (a
/// port from `free_port` is free only until someone else binds it).
pub struct RefusedPort {
    _socket: socket2::Socket,
    pub port: u16,
}

impl RefusedPort {
    pub fn new() -> RefusedPort {
        use socket2::{Domain, Socket, Type};
        let s = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
        let any: std::net::SocketAddr = "127.0.0.1:0".parse().expect("addr");
        s.bind(&any.into()).expect("bind 127.0.0.1:0");
        let port = s
            .local_addr()
            .expect("local addr")
            .as_socket()
            .expect("an IP address")
            .port();
        RefusedPort { _socket: s, port }
    }
}

/// A child process killed when the test ends, whatever happens.
pub struct Proc {
    pub child: Child,
    pub name: String,
}

impl Proc {
    pub fn spawn(mut cmd: Command, name: &str) -> Proc {
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Proc {
            child,
            name: name.to_string(),
        }
    }

    pub fn stdin(&mut self) -> std::process::ChildStdin {
        self.child.stdin.take().expect("stdin was piped")
    }

    pub fn stdout(&mut self) -> ChildStdout {
        self.child.stdout.take().expect("stdout was piped")
    }

    pub fn stderr(&mut self) -> ChildStderr {
        self.child.stderr.take().expect("stderr was piped")
    }

    /// Wait for exit within the deadline.
    pub fn wait(&mut self) -> std::process::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            if start.elapsed() > DEADLINE {
                let _ = self.child.kill();
                panic!("{} did not exit within {DEADLINE:?}", self.name);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Lines of a child's output, read on a thread, so a test can wait for one with a deadline.
pub struct Lines {
    rx: mpsc::Receiver<String>,
    pub seen: Vec<String>,
}

impl Lines {
    pub fn new(r: impl Read + Send + 'static) -> Lines {
        let (tx, rx) = mpsc::channel();
        // The thread drains the pipe to its end even when nobody waits for lines any more:
        // a child whose stdout or stderr pipe closed early would die of SIGPIPE or stop.
        std::thread::spawn(move || {
            for line in BufReader::new(r).split(b'\n') {
                let Ok(line) = line else { break };
                let _ = tx.send(String::from_utf8_lossy(&line).into_owned());
            }
        });
        Lines {
            rx,
            seen: Vec::new(),
        }
    }

    /// The next line that contains `needle`; panics with everything seen on timeout.
    pub fn wait_for(&mut self, needle: &str) -> String {
        let end = Instant::now() + DEADLINE;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no line containing {needle:?} within {DEADLINE:?}; saw:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// Everything until the stream ends.
    pub fn rest(&mut self) -> Vec<String> {
        let end = Instant::now() + DEADLINE;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(mpsc::RecvTimeoutError::Disconnected) => return self.seen.clone(),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("output did not end; saw:\n{}", self.seen.join("\n"))
                }
            }
        }
    }
}

/// The port from a line such as "* listening on 127.0.0.1:41234 ...".
pub fn port_in(line: &str) -> u16 {
    let addr = line
        .split_whitespace()
        .find(|w| {
            w.rsplit_once(':')
                .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        })
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    addr.rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"))
}

/// Start `socklab listen` on 127.0.0.1 with a free port and the text view on stdout; return
/// it and its port once it says it is listening.
pub fn socklab_server(args: &[&str]) -> (Proc, Lines, u16) {
    let mut cmd = socklab();
    cmd.arg("listen").arg("127.0.0.1:0").args(args);
    if !args.contains(&"--show") {
        cmd.args(["--show", "text"]);
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut p = Proc::spawn(cmd, "socklab listen");
    let mut lines = Lines::new(p.stdout());
    let port = port_in(&lines.wait_for("listening on"));
    (p, lines, port)
}

/// Run socklab to completion with the given stdin bytes.
pub fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut cmd = socklab();
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn socklab");
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = wait_output(child);
    let _ = feeder.join();
    out
}

/// `wait_with_output` with the suite's deadline.
pub fn wait_output(child: Child) -> Output {
    let (tx, rx) = mpsc::channel();
    let pid = child.id();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(DEADLINE) {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => panic!("waiting for socklab: {e}"),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("socklab did not finish within {DEADLINE:?}");
        }
    }
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Deterministic pseudo-random bytes (xorshift), so a failure can be reproduced.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A scratch directory removed at the end of the test.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "socklab-test-{tag}-{}-{}",
            std::process::id(),
            Instant::now().elapsed().as_nanos()
        ));
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A listener that records whether anyone connected: proof that a rejected command sent
/// nothing (not even a SYN that completed).
pub struct Witness {
    pub listener: TcpListener,
    pub port: u16,
}

impl Witness {
    pub fn new() -> Witness {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        Witness { listener, port }
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Panics if a connection arrived (and shows what it carried).
    pub fn assert_untouched(&self) {
        if let Ok((mut s, a)) = self.listener.accept() {
            let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
            let mut buf = Vec::new();
            let _ = s.read_to_end(&mut buf);
            panic!("{a} connected and sent {buf:?}; expected nothing at all");
        }
    }
}

/// A connected client to `port`, with a read timeout so a missing reply fails the test.
pub fn client(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(DEADLINE)).expect("timeout");
    s
}

/// Read exactly `n` bytes.
/// Exactly `n` bytes; on a timeout or an early end, panics showing what did arrive.
pub fn read_n(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    let mut got = 0;
    while got < n {
        match s.read(&mut buf[got..]) {
            Ok(0) => panic!(
                "the peer closed after {got} of {n} bytes: {:?}",
                String::from_utf8_lossy(&buf[..got])
            ),
            Ok(k) => got += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => panic!(
                "{e} after {got} of {n} bytes: {:?}",
                String::from_utf8_lossy(&buf[..got])
            ),
        }
    }
    buf
}

/// tests/reconnect_peer.py: a server that drops its first client and echoes a line of the
/// second. Its lines ("first got ...", "second got ...", "done") and its port.
pub fn reconnect_peer() -> (Proc, Lines, u16) {
    let mut py = Command::new(python3());
    py.arg(fixture("reconnect_peer.py"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut server = Proc::spawn(py, "reconnect_peer.py");
    let mut lines = Lines::new(server.stdout());
    let port = port_in(&lines.wait_for("listening on"));
    (server, lines, port)
}

pub fn python3() -> PathBuf {
    require("python3", "python3")
}

/// Path of a file under tests/ (python peers and the pty driver).
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(name)
}

/// A usage error as the user sees it: exit 2, nothing on stdout, each needle in the one-line
/// message on stderr, and never a panic.
pub fn usage_error(out: &Output, needles: &[&str]) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(out.stdout.is_empty(), "stdout: {}", text(&out.stdout));
    for n in needles {
        assert!(err.contains(n), "{n:?} not in: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

/// A port on 127.0.0.1 that never answers a SYN, for the "timed out" and "filtered"
/// paths without leaving loopback or touching a firewall: a listener with a backlog of 0
/// whose accept queue holds one connection it never accepts. Linux drops further SYNs
/// while the queue is full (tcp_conn_request: the ListenOverflows counter), so a client
/// hears nothing at all, as from a host behind a dropping firewall.
pub struct SilentPort {
    pub port: u16,
    _listener: socket2::Socket,
    _filler: TcpStream,
}

impl SilentPort {
    pub fn new() -> SilentPort {
        use socket2::{Domain, Socket, Type};
        let listener = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
        let any: std::net::SocketAddr = "127.0.0.1:0".parse().expect("addr");
        listener.bind(&any.into()).expect("bind 127.0.0.1:0");
        listener.listen(0).expect("listen(0)");
        let addr = listener
            .local_addr()
            .expect("local addr")
            .as_socket()
            .expect("an IP address");
        let filler = TcpStream::connect(addr).expect("the first connect fills the queue");
        // Prove the silence rather than assume it: one more connect must hear nothing.
        match TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
                ) => {}
            other => panic!("a full backlog-0 listener was expected to drop SYNs, got {other:?}"),
        }
        SilentPort {
            port: addr.port(),
            _listener: listener,
            _filler: filler,
        }
    }
}

/// One line of `--json` output as a value.
pub fn event(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

/// The next `--json` event of this kind.
pub fn next(lines: &mut Lines, kind: &str) -> serde_json::Value {
    event(&lines.wait_for(&format!("\"event\":\"{kind}\"")))
}

/// Every `--json` event of this kind among the lines seen so far.
pub fn all(lines: &Lines, kind: &str) -> Vec<serde_json::Value> {
    lines
        .seen
        .iter()
        .filter(|l| l.starts_with('{'))
        .map(|l| event(l))
        .filter(|e| e["event"] == kind)
        .collect()
}

pub fn ip(text: &str) -> std::net::IpAddr {
    text.parse().expect("an IP address")
}

/// A TCP client whose source address is `from`, connected to `to`.
pub fn client_from(from: &str, to: std::net::SocketAddr) -> TcpStream {
    use socket2::{Domain, Socket, Type};
    let from = std::net::SocketAddr::new(ip(from), 0);
    let s = Socket::new(Domain::for_address(from), Type::STREAM, None).expect("socket");
    s.bind(&from.into())
        .unwrap_or_else(|e| panic!("bind {from}: {e}"));
    s.connect(&to.into())
        .unwrap_or_else(|e| panic!("connect {from} -> {to}: {e}"));
    let s: TcpStream = s.into();
    s.set_read_timeout(Some(DEADLINE)).expect("timeout");
    s
}

/// Bytes from hex digits as peers and `--json` print them (`48656c`), read here
/// independently of socklab's own parser.
pub fn unhex(hex: &str) -> Vec<u8> {
    assert!(
        hex.len().is_multiple_of(2),
        "an odd number of hex digits: {hex:.40}"
    );
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex digits"))
        .collect()
}
