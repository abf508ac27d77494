//! The interactive sessions, driven through a real pseudo-terminal (tests/pty_run.py), as a
//! person types: line editing, /commands, many clients.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{ChildStdin, Command, Stdio};

use crate::support::*;

/// socklab on a terminal: what we write is typed, what it draws comes back as lines (escape
/// codes stripped). Also used by the UDP tests.
pub(crate) struct Terminal {
    pub(crate) proc_: Proc,
    keys: ChildStdin,
    pub(crate) screen: Lines,
}

impl Terminal {
    pub(crate) fn start(args: &[&str]) -> Terminal {
        let mut cmd = Command::new(python3());
        cmd.arg(fixture("pty_run.py"))
            .arg(env!("CARGO_BIN_EXE_socklab"))
            .args(args)
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        let mut proc_ = Proc::spawn(cmd, "socklab on a pty");
        let keys = proc_.stdin();
        let screen = Lines::new(Clean(proc_.stdout()));
        Terminal {
            proc_,
            keys,
            screen,
        }
    }

    pub(crate) fn type_line(&mut self, line: &str) {
        self.keys.write_all(line.as_bytes()).unwrap();
        self.keys.write_all(b"\r").unwrap();
        self.keys.flush().unwrap();
    }

    /// Many lines in one write, as a paste: they reach socklab in one read.
    pub(crate) fn paste_lines(&mut self, lines: &[String]) {
        let mut keys = Vec::new();
        for line in lines {
            keys.extend_from_slice(line.as_bytes());
            keys.push(b'\r');
        }
        self.keys.write_all(&keys).unwrap();
        self.keys.flush().unwrap();
    }

    pub(crate) fn wait_for(&mut self, needle: &str) -> String {
        self.screen.wait_for(needle)
    }
}

/// Strips ANSI escape sequences and carriage returns, so lines read as a person sees them.
struct Clean<R>(R);

impl<R: Read> Read for Clean<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut raw = vec![0u8; buf.len()];
        loop {
            let n = self.0.read(&mut raw)?;
            if n == 0 {
                return Ok(0);
            }
            let mut out = 0;
            let mut i = 0;
            while i < n {
                match raw[i] {
                    0x1b => {
                        // ESC [ ... final byte in 0x40..=0x7e
                        i += 1;
                        if i < n && raw[i] == b'[' {
                            i += 1;
                            while i < n && !(0x40..=0x7e).contains(&raw[i]) {
                                i += 1;
                            }
                        }
                        i += 1;
                    }
                    b'\r' => i += 1,
                    b => {
                        buf[out] = b;
                        out += 1;
                        i += 1;
                    }
                }
            }
            if out > 0 {
                return Ok(out);
            }
        }
    }
}

#[test]
fn connect_is_full_duplex_with_commands() {
    let (_srv, mut server_lines, port) = socklab_server(&["--echo"]);
    let mut t = Terminal::start(&["connect", &format!("127.0.0.1:{port}")]);
    t.wait_for("connected to");
    t.type_line("hello there");
    t.wait_for("→ hello there");
    t.wait_for("← hello there");
    server_lines.wait_for("← hello there");
    // /hex sends bytes, no line ending.
    t.type_line("/hex 41 42 0a");
    t.wait_for("← AB");
    // A bad hex line is refused whole; the session goes on.
    t.type_line("/hex 41 4G");
    t.wait_for("not sent: bad hex");
    // An unknown command is an error line, not an exit.
    t.type_line("/frobnicate");
    t.wait_for("unknown command '/frobnicate'");
    // // sends a literal slash.
    t.type_line("//etc");
    t.wait_for("← /etc");
    t.type_line("/stats");
    t.wait_for("received");
    t.type_line("/help");
    t.wait_for("/kick ID");
    t.type_line("/quit");
    assert!(t.proc_.wait().success());
}

#[test]
fn connect_file_command_sends_a_file() {
    let dir = TempDir::new("ifile");
    let path = dir.path("hello.txt");
    std::fs::write(&path, "file body\n").unwrap();
    let (_srv, mut server_lines, port) = socklab_server(&[]);
    let mut t = Terminal::start(&["connect", &format!("127.0.0.1:{port}")]);
    t.wait_for("connected to");
    t.type_line(&format!("/file {}", path.display()));
    server_lines.wait_for("← file body");
    // The console shows the piece's size, not the file's bytes.
    let shown = t.wait_for("of the file");
    assert!(shown.contains("→ 10 bytes of the file"), "{shown}");
    assert!(
        !t.screen.seen.iter().any(|l| l.contains("→ file body")),
        "{:?}",
        t.screen.seen
    );
    t.type_line("/file /nonexistent/nothing");
    t.wait_for("not sent");
    t.type_line("/quit");
    assert!(t.proc_.wait().success());
}

/// Pasted lines with `/to` between them reach each client in the order they were typed
/// (each line was once sent from its own task, and two could swap).
#[test]
fn pasted_lines_and_to_switches_keep_their_order() {
    const ROUNDS: usize = 100;
    let mut t = Terminal::start(&["listen", "127.0.0.1:0"]);
    let port = port_in(&t.wait_for("listening on"));
    let mut chosen = client(port);
    let first = t.wait_for("connected");
    let id = first[first.rfind('#').unwrap() + 1..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let mut other = client(port);
    t.wait_for("connected");
    let mut lines = Vec::new();
    let (mut to_chosen, mut to_other) = (Vec::new(), Vec::new());
    for k in 0..ROUNDS {
        lines.push(format!("/to {id}"));
        lines.push(format!("a{k}"));
        lines.push("/to all".to_string());
        lines.push(format!("b{k}"));
        to_chosen.extend_from_slice(format!("a{k}\nb{k}\n").as_bytes());
        to_other.extend_from_slice(format!("b{k}\n").as_bytes());
    }
    t.paste_lines(&lines);
    assert_eq!(
        String::from_utf8_lossy(&read_n(&mut chosen, to_chosen.len())),
        String::from_utf8_lossy(&to_chosen)
    );
    assert_eq!(
        String::from_utf8_lossy(&read_n(&mut other, to_other.len())),
        String::from_utf8_lossy(&to_other)
    );
    t.type_line("/quit");
    assert!(t.proc_.wait().success());
}

#[test]
fn fifty_clients_broadcast_to_and_kick() {
    const N: usize = 50;
    let dir = TempDir::new("fifty");
    let log = dir.path("events.jsonl");
    let mut t = Terminal::start(&["listen", "127.0.0.1:0", "--log", log.to_str().unwrap()]);
    let port = port_in(&t.wait_for("listening on"));
    let mut clients: Vec<TcpStream> = (0..N).map(|_| client(port)).collect();
    for (i, c) in clients.iter_mut().enumerate() {
        c.write_all(format!("hello from {i}\n").as_bytes()).unwrap();
    }
    // Every line shows with its client id and address.
    let mut id_of: HashMap<usize, u64> = HashMap::new();
    while id_of.len() < N {
        let line = t.wait_for("← hello from ");
        let (who, rest) = line.split_once(" ← hello from ").unwrap();
        // The prompt may be drawn on the same terminal line before the output.
        let who = &who[who
            .rfind('#')
            .unwrap_or_else(|| panic!("no id in {line:?}"))..];
        let i: usize = rest.trim().parse().unwrap();
        let mut parts = who.split_whitespace();
        let id: u64 = parts
            .next()
            .unwrap()
            .trim_start_matches('#')
            .parse()
            .unwrap();
        let addr = parts.next().unwrap();
        assert_eq!(addr, clients[i].local_addr().unwrap().to_string());
        id_of.insert(i, id);
    }
    // A typed line goes to all 50.
    t.type_line("everyone");
    for c in clients.iter_mut() {
        assert_eq!(read_n(c, 9), b"everyone\n");
    }
    // /to picks one; the others get only what comes after /to all.
    let chosen = 7usize;
    t.type_line(&format!("/to {}", id_of[&chosen]));
    t.type_line("just you");
    t.type_line("/to all");
    t.type_line("end");
    for (i, c) in clients.iter_mut().enumerate() {
        if i == chosen {
            assert_eq!(read_n(c, 9), b"just you\n");
        }
        assert_eq!(read_n(c, 4), b"end\n", "client {i}");
    }
    // /list shows the clients with counters.
    t.type_line("/list");
    t.wait_for(&format!("#{:<3}", id_of[&3]));
    // /kick closes exactly one.
    let kicked = 3usize;
    t.type_line(&format!("/kick {}", id_of[&kicked]));
    t.wait_for("kicked");
    let mut rest = Vec::new();
    let _ = clients[kicked].read_to_end(&mut rest);
    assert!(rest.is_empty());
    t.type_line("still here");
    for (i, c) in clients.iter_mut().enumerate() {
        if i != kicked {
            assert_eq!(read_n(c, 11), b"still here\n", "client {i}");
        }
    }
    // The log has every client's data with its id.
    t.type_line("/quit");
    assert!(t.proc_.wait().success());
    let logged = std::fs::read_to_string(&log).unwrap();
    let received = logged
        .lines()
        .filter(|l| l.contains("\"event\":\"received\""))
        .count();
    assert!(received >= N, "{received} received events logged");
}
