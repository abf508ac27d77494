//! `socklab tui` as a user runs it: the real binary in a real terminal (tmux), against real
//! peers on loopback. Keys go in with `send-keys`; what the user would see comes back with
//! `capture-pane`, polled with a deadline.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::support::*;

/// A tmux server of its own (`-L`), so tests never see each other or the user's tmux;
/// killed on drop.
struct Tmux {
    bin: PathBuf,
    socket: String,
}

const PROMPT: &str = "tui-test$ ";
const W: u16 = 110;
const H: u16 = 32;

impl Tmux {
    /// A detached session running a plain shell in a fixed-size window.
    fn start() -> Tmux {
        static N: AtomicUsize = AtomicUsize::new(0);
        let bin = require("tmux", "tmux");
        let socket = format!(
            "socklab-tui-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let t = Tmux { bin, socket };
        let out = t.run(&[
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            &W.to_string(),
            "-y",
            &H.to_string(),
            &format!("env -i PATH=/usr/bin:/bin TERM=screen LANG=C.UTF-8 PS1='{PROMPT}' sh"),
        ]);
        assert!(
            out.status.success(),
            "tmux new-session: {}",
            text(&out.stderr)
        );
        t.wait_for(PROMPT.trim_end());
        t
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(&self.bin)
            .args(["-u", "-f", "/dev/null", "-L", &self.socket])
            .args(args)
            .output()
            .expect("run tmux")
    }

    /// Literal text, typed.
    fn type_text(&self, s: &str) {
        let out = self.run(&["send-keys", "-t", "t", "-l", s]);
        assert!(out.status.success(), "send-keys: {}", text(&out.stderr));
    }

    /// Named keys: Enter, F3, Tab, Down ...
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        let out = self.run(&args);
        assert!(out.status.success(), "send-keys: {}", text(&out.stderr));
    }

    fn screen(&self) -> String {
        text(&self.run(&["capture-pane", "-p", "-t", "t"]).stdout)
    }

    fn alternate_on(&self) -> bool {
        text(
            &self
                .run(&["display-message", "-p", "-t", "t", "#{alternate_on}"])
                .stdout,
        )
        .trim()
            == "1"
    }

    /// The screen once it satisfies `ok`; panics with the last screen at the deadline.
    fn wait_until(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let end = Instant::now() + DEADLINE;
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            if Instant::now() > end {
                panic!("the screen never showed {what} within {DEADLINE:?}; it shows:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_for(&self, needle: &str) -> String {
        self.wait_until(&format!("{needle:?}"), |s| s.contains(needle))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

fn socklab_cmd(args: &str) -> String {
    format!("'{}' {args}", env!("CARGO_BIN_EXE_socklab"))
}

/// Quit with F10 and check the terminal is as it was: the alternate screen left, the shell
/// prompt back, and the tty settings (raw mode off) identical to before the UI started.
fn quit_and_check_restored(tmux: &Tmux, dir: &TempDir) {
    tmux.keys(&["F10"]);
    let end = Instant::now() + DEADLINE;
    while tmux.alternate_on() {
        assert!(
            Instant::now() < end,
            "still on the alternate screen:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Type only once the shell is back at its prompt: typed ahead while the UI is still
    // exiting, the line is echoed by the tty before the prompt and the output lands after it.
    tmux.wait_until("the shell's prompt on the last line", |s| {
        s.lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(str::trim)
            == Some(PROMPT.trim_end())
    });
    let after = dir.path("after");
    tmux.type_text(&format!("stty -g > '{}'; echo stty-saved", after.display()));
    tmux.keys(&["Enter"]);
    tmux.wait_until("stty-saved, the output of echo", |s| {
        s.lines()
            .any(|l| l.trim_end().ends_with("stty-saved") && !l.contains("echo"))
    });
    let before = std::fs::read_to_string(dir.path("before")).expect("stty before");
    let after = std::fs::read_to_string(after).expect("stty after");
    assert_eq!(before, after, "the tty settings were not restored");
}

/// Start the UI from the shell, after saving the tty settings to compare at the end. Its
/// settings live in the test's own directory, never in the user's config.
fn launch(tmux: &Tmux, dir: &TempDir, args: &str) {
    let before = dir.path("before");
    tmux.type_text(&format!(
        "stty -g > '{}' && SOCKLAB_CONFIG_DIR='{}' {}",
        before.display(),
        dir.path("config").display(),
        socklab_cmd(args)
    ));
    tmux.keys(&["Enter"]);
}

#[test]
fn client_types_receives_switches_to_hex_and_quits_cleanly() {
    let (mut server, mut out, port) = socklab_server(&[]);
    let tmux = Tmux::start();
    let dir = TempDir::new("tui-client");
    launch(&tmux, &dir, &format!("tui --lang en 127.0.0.1:{port}"));
    tmux.wait_for("connected to 127.0.0.1");
    out.wait_for("connected");

    tmux.type_text("hello from the tui");
    tmux.keys(&["Enter"]);
    out.wait_for("hello from the tui");
    tmux.wait_for("> hello from the tui");

    let mut stdin = server.stdin();
    stdin.write_all(b"reply from the server\n").unwrap();
    stdin.flush().unwrap();
    tmux.wait_for("< reply from the server");

    tmux.keys(&["F3"]);
    // "reply" in hex, with the ASCII column beside it.
    tmux.wait_for("72 65 70 6c 79 20 66 72 6f 6d");
    let s = tmux.screen();
    assert!(s.contains("Received · hex"), "{s}");

    // Bad hex is refused in the status bar, nothing is sent, the UI stays.
    tmux.keys(&["F4"]);
    tmux.type_text("41 4g");
    tmux.keys(&["Enter"]);
    tmux.wait_for("bad hex, nothing sent");
    tmux.keys(&["C-u"]);
    tmux.type_text("41 42 0a");
    tmux.keys(&["Enter"]);
    out.wait_for("AB");

    quit_and_check_restored(&tmux, &dir);
    let s = tmux.screen();
    assert!(!s.contains("Received ·"), "the UI is still on screen:\n{s}");
    assert!(
        s.trim_end().ends_with(PROMPT.trim_end()),
        "no prompt at the end:\n{s}"
    );
}

/// A paste longer than one 1 KiB terminal read arrives whole: crossterm's default event
/// source (edge-triggered) left the rest unread until the next key.
#[test]
fn a_paste_of_4_kib_is_sent_whole() {
    let (_server, mut out, port) = socklab_server(&[]);
    let tmux = Tmux::start();
    let dir = TempDir::new("tui-paste");
    launch(&tmux, &dir, &format!("tui --lang en 127.0.0.1:{port}"));
    tmux.wait_for("connected to 127.0.0.1");
    out.wait_for("connected");
    let pasted: String = (0..400).map(|i| format!("{i:09}|")).collect();
    tmux.type_text(&pasted);
    tmux.wait_for("0000399|");
    tmux.keys(&["Enter"]);
    let line = out.wait_for("000000000|");
    assert!(line.ends_with(&pasted), "the server got:\n{line}");
    quit_and_check_restored(&tmux, &dir);
}

/// Ctrl-E turns reconnecting on: the python server drops the first connection, the UI
/// says it reconnects, connects again by itself and the session goes on; the setting is
/// remembered.
#[test]
fn ctrl_e_reconnects_when_the_peer_drops_the_connection() {
    let (_server, mut peer, port) = reconnect_peer();
    let tmux = Tmux::start();
    let dir = TempDir::new("tui-reconnect");
    launch(&tmux, &dir, "tui --lang en");
    tmux.wait_for("Reconnect: off");
    tmux.type_text(&format!("127.0.0.1:{port}"));
    tmux.keys(&["C-e"]);
    tmux.wait_for("Reconnect: on");
    tmux.keys(&["F2"]);
    tmux.wait_for("connected to 127.0.0.1");
    tmux.keys(&["Tab"]);
    tmux.type_text("one");
    tmux.keys(&["Enter"]);
    peer.wait_for("first got one");
    tmux.wait_for("reconnecting in 1s (#1)");
    tmux.wait_until("connected again", |s| {
        s.lines()
            .filter(|l| l.contains(&format!("#1 127.0.0.1:{port} +")))
            .count()
            == 2
    });
    tmux.type_text("two");
    tmux.keys(&["Enter"]);
    peer.wait_for("second got two");
    tmux.wait_for("< echo: two");
    quit_and_check_restored(&tmux, &dir);
    peer.wait_for("done");
    let saved = std::fs::read_to_string(dir.path("config").join("tui.toml")).expect("settings");
    assert!(saved.contains("reconnect = true"), "{saved}");
}

#[test]
fn server_lists_clients_sends_to_all_and_kicks_one() {
    let port = free_port();
    let tmux = Tmux::start();
    let dir = TempDir::new("tui-server");
    launch(
        &tmux,
        &dir,
        &format!("tui --lang en --listen 127.0.0.1:{port}"),
    );
    tmux.wait_for(&format!("listening on 127.0.0.1:{port}"));

    let mut a = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tmux.wait_for("#1 127.0.0.1:");
    let mut b = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tmux.wait_for("Clients (2)");
    for s in [&a, &b] {
        s.set_read_timeout(Some(DEADLINE)).unwrap();
    }

    a.write_all(b"from a\n").unwrap();
    tmux.wait_for("< #1 from a");

    tmux.type_text("to everyone");
    tmux.keys(&["Enter"]);
    for s in [&mut a, &mut b] {
        assert_eq!(read_n(s, 12), b"to everyone\n");
    }

    // Focus the clients list, highlight #1, kick it.
    tmux.keys(&["Tab", "Down", "k"]);
    tmux.wait_for("kicked");
    let mut rest = Vec::new();
    a.read_to_end(&mut rest)
        .expect("the kicked client sees the end");
    assert!(rest.is_empty());
    tmux.wait_for("Clients (1)");

    // The other is still there and still served.
    tmux.keys(&["BTab"]);
    tmux.type_text("still here");
    tmux.keys(&["Enter"]);
    assert_eq!(read_n(&mut b, 11), b"still here\n");

    quit_and_check_restored(&tmux, &dir);
}

#[test]
fn chinese_labels_with_lang_zh() {
    let (_server, mut out, port) = socklab_server(&[]);
    let tmux = Tmux::start();
    let dir = TempDir::new("tui-zh");
    launch(&tmux, &dir, &format!("tui --lang zh 127.0.0.1:{port}"));
    tmux.wait_for("已连接到 127.0.0.1");
    out.wait_for("connected");
    tmux.wait_for("接收");
    quit_and_check_restored(&tmux, &dir);
}

#[test]
fn refused_shows_in_the_status_bar_and_the_ui_stays() {
    let refused = RefusedPort::new();
    let port = refused.port;
    let tmux = Tmux::start();
    let dir = TempDir::new("tui-refused");
    launch(&tmux, &dir, &format!("tui --lang en 127.0.0.1:{port}"));
    // Not just "refused": the shell's echo of the command line has the temp dir's name,
    // which says "tui-refused", before the UI has even started.
    tmux.wait_for("Connection refused");
    assert!(tmux.alternate_on(), "the UI went away after an error");
    quit_and_check_restored(&tmux, &dir);
}

#[test]
fn bad_endpoint_and_scrollback_are_usage_errors() {
    usage_error(&run(&["tui", "127.0.0.1"], b""), &["127.0.0.1"]);
    usage_error(
        &run(&["tui", "--scrollback", "0", "127.0.0.1:1"], b""),
        &["--scrollback"],
    );
    usage_error(&run(&["tui", "--lang", "fr"], b""), &["fr"]);
}

/// A clean screen, so the next run's output cannot be mistaken for the last one's.
fn clear(tmux: &Tmux) {
    tmux.type_text("clear");
    tmux.keys(&["Enter"]);
    tmux.wait_until("a cleared screen", |s| {
        s.lines().filter(|l| !l.trim().is_empty()).count() == 1
    });
}

/// What the window was set to comes back next time, and a named preset saved with Ctrl-S
/// can be started with `--preset`; the command line wins over both.
#[test]
fn settings_are_remembered_and_presets_saved_and_loaded() {
    let tmux = Tmux::start();
    let dir = TempDir::new("tui-settings");
    // A server panel, never opened: the address typed, the line end changed to CRLF, and
    // the panel saved as "plc".
    launch(&tmux, &dir, "tui --lang zh -e gbk --listen");
    tmux.wait_for("TCP 服务器");
    tmux.type_text("127.0.0.1:7788");
    tmux.wait_for("127.0.0.1:7788");
    tmux.keys(&["F5", "C-s"]);
    tmux.wait_for("预设名称");
    tmux.type_text("plc");
    tmux.keys(&["Enter"]);
    tmux.wait_for("已保存预设 plc");
    let file = dir.path("config").join("tui.toml");
    let saved = std::fs::read_to_string(&file).expect("the settings file is written at once");
    assert!(saved.contains("[presets.plc]"), "{saved}");
    assert!(saved.contains("eol = \"crlf\""), "{saved}");
    quit_and_check_restored(&tmux, &dir);
    clear(&tmux);

    // Next time, no flags: the language, mode, address and encoding come back.
    launch(&tmux, &dir, "tui");
    let s = tmux.wait_for("TCP 服务器");
    assert!(s.contains("127.0.0.1:7788"), "{s}");
    assert!(s.contains("gbk"), "{s}");
    // Switch to the next mode (a UDP client), in English, and quit.
    tmux.keys(&["F6", "F9"]);
    tmux.wait_for("UDP client");
    quit_and_check_restored(&tmux, &dir);
    let saved = std::fs::read_to_string(&file).expect("the settings at exit");
    assert!(saved.contains("transport = \"udp\""), "{saved}");
    clear(&tmux);

    // The preset brings the server panel back over the remembered client one.
    launch(&tmux, &dir, "tui --preset plc");
    let s = tmux.wait_for("TCP server");
    assert!(s.contains("CRLF"), "{s}");
    quit_and_check_restored(&tmux, &dir);

    // An unknown preset is a usage error on the shell, naming the ones there are.
    let out = Command::new(env!("CARGO_BIN_EXE_socklab"))
        .env("SOCKLAB_CONFIG_DIR", dir.path("config"))
        .args(["tui", "--preset", "nope"])
        .output()
        .expect("run socklab");
    usage_error(&out, &["nope", "plc"]);
}

/// A python3 peer (`python3 -c SCRIPT ARGS...`) with its stdout as lines.
fn python_peer(script: &str, args: &[&str]) -> (Proc, Lines) {
    let mut cmd = Command::new(python3());
    cmd.arg("-c")
        .arg(script)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit());
    let mut p = Proc::spawn(cmd, "python3 peer");
    let lines = Lines::new(p.stdout());
    (p, lines)
}

/// A UDP peer: prints every datagram it gets and answers the first one.
const UDP_PEER: &str = r#"
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print("udp on 127.0.0.1:%d" % s.getsockname()[1], flush=True)
first = True
while True:
    d, a = s.recvfrom(65536)
    print("got " + d.decode(errors="replace").strip(), flush=True)
    if first:
        s.sendto(b"pong over udp\n", a)
        first = False
"#;

/// The mode is chosen with F6 (UDP client), the address typed without a scheme, and the
/// UDP peer hears a line and a loop of them; its answer shows in the pane.
#[test]
fn udp_mode_sends_and_loops_to_a_real_udp_peer() {
    let (_peer, mut out) = python_peer(UDP_PEER, &[]);
    let port = port_in(&out.wait_for("udp on"));
    let tmux = Tmux::start();
    let dir = TempDir::new("tui-udp");
    launch(&tmux, &dir, "tui --lang en");
    tmux.wait_for("Mode: TCP client");
    tmux.keys(&["F6", "F6"]);
    tmux.wait_for("Mode: UDP client");
    tmux.type_text(&format!("127.0.0.1:{port}"));
    tmux.keys(&["Enter"]);
    tmux.wait_for(&format!("connected to 127.0.0.1:{port}"));

    tmux.keys(&["Tab"]);
    tmux.type_text("hello udp");
    tmux.keys(&["Enter"]);
    out.wait_for("got hello udp");
    tmux.wait_for("< pong over udp");

    // Loop every 100ms: the peer hears three, then Ctrl-R stops it and says how many.
    tmux.keys(&["C-t"]);
    tmux.wait_for("Loop interval");
    tmux.keys(&["C-u"]);
    tmux.type_text("100ms");
    tmux.keys(&["Enter"]);
    tmux.wait_for("loop interval 100ms");
    tmux.type_text("tick");
    tmux.keys(&["C-r"]);
    tmux.wait_for("looping every 100ms");
    for _ in 0..3 {
        out.wait_for("got tick");
    }
    tmux.keys(&["C-r"]);
    tmux.wait_for("loop stopped");
    quit_and_check_restored(&tmux, &dir);
}

/// A TCP peer that writes the first N bytes it gets to a file, then says so.
const RECORD_PEER: &str = r#"
import socket, sys
n, path = int(sys.argv[1]), sys.argv[2]
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
print("listening on 127.0.0.1:%d" % srv.getsockname()[1], flush=True)
c, _ = srv.accept()
data = b""
while len(data) < n:
    chunk = c.recv(65536)
    if not chunk:
        break
    data += chunk
open(path, "wb").write(data)
print("got %d" % len(data), flush=True)
c.recv(1)
"#;

/// Ctrl-O sends a file: an unreadable path is an inline error and sends nothing, a real
/// file arrives byte-exact at a real peer, and the gauge says it is done.
#[test]
fn a_file_is_sent_byte_exact_and_a_bad_path_sends_nothing() {
    let dir = TempDir::new("tui-file");
    let payload = random_bytes(300_000, 7);
    let file = dir.path("payload.bin");
    std::fs::write(&file, &payload).unwrap();
    let got = dir.path("got.bin");
    let (_peer, mut out) = python_peer(
        RECORD_PEER,
        &[&payload.len().to_string(), &got.display().to_string()],
    );
    let port = port_in(&out.wait_for("listening on"));
    let tmux = Tmux::start();
    launch(&tmux, &dir, &format!("tui --lang en 127.0.0.1:{port}"));
    tmux.wait_for("connected to 127.0.0.1");

    tmux.keys(&["C-o"]);
    tmux.wait_for("File to send");
    tmux.type_text(&dir.path("missing.bin").display().to_string());
    tmux.keys(&["Enter"]);
    tmux.wait_for("cannot send the file, nothing sent");

    tmux.keys(&["C-o"]);
    tmux.wait_for("File to send");
    tmux.keys(&["C-u"]);
    tmux.type_text(&file.display().to_string());
    tmux.keys(&["Enter"]);
    out.wait_for(&format!("got {}", payload.len()));
    tmux.wait_for("file sent");
    let received = std::fs::read(&got).expect("the peer's file");
    assert!(received == payload, "the file arrived changed");
    quit_and_check_restored(&tmux, &dir);
}

/// `/` finds text in the text view and bytes in the hex view; Ctrl-X saves the pane as
/// viewed and says where and how much.
#[test]
fn search_in_text_and_hex_and_save_the_pane() {
    let (mut server, mut out, port) = socklab_server(&[]);
    let tmux = Tmux::start();
    let dir = TempDir::new("tui-search");
    launch(&tmux, &dir, &format!("tui --lang en 127.0.0.1:{port}"));
    tmux.wait_for("connected to 127.0.0.1");
    out.wait_for("connected");
    let mut stdin = server.stdin();
    stdin.write_all(b"alpha\nbeta needle\ngamma\n").unwrap();
    stdin.flush().unwrap();
    // One read or three: the lines may share an entry.
    tmux.wait_for("gamma");

    // Tab from the send box to the received pane (Esc then `/` could read as Alt-/).
    tmux.keys(&["Tab"]);
    tmux.keys(&["/"]);
    tmux.wait_for("Find");
    tmux.type_text("NEEDLE");
    tmux.keys(&["Enter"]);
    tmux.wait_for("match NEEDLE: 1/1");
    tmux.keys(&["/", "C-u"]);
    tmux.type_text("nothing-like-this");
    tmux.keys(&["Enter"]);
    tmux.wait_for("not found: nothing-like-this");

    // In hex, hex digits find bytes: "gam" is 67 61 6d.
    tmux.keys(&["F3"]);
    tmux.wait_for("Received · hex");
    tmux.keys(&["/", "C-u"]);
    tmux.type_text("67 61 6d");
    tmux.keys(&["Enter"]);
    tmux.wait_for("match 67 61 6d: 1/1");

    let saved = dir.path("pane.txt");
    tmux.keys(&["C-x"]);
    tmux.wait_for("Save the received pane");
    tmux.keys(&["C-u"]);
    tmux.type_text(&saved.display().to_string());
    tmux.keys(&["Enter"]);
    tmux.wait_for("wrote ");
    let text = std::fs::read_to_string(&saved).expect("the saved pane");
    assert!(text.contains("67 61 6d 6d 61 0a"), "{text}");
    let s = tmux.screen();
    assert!(s.contains(&format!("wrote {} bytes", text.len())), "{s}");
    quit_and_check_restored(&tmux, &dir);
}

/// The left (received) pane's text, its wrapped lines joined: a long line such as a
/// certificate fingerprint reads as one again.
fn received_pane(screen: &str) -> String {
    screen
        .lines()
        .filter_map(|l| l.split('│').nth(1))
        .map(str::trim_end)
        .collect::<String>()
}

/// A TLS server opened from the command line makes its own certificate and logs the
/// fingerprint; a python ssl client sees that very certificate, and what it sends shows.
#[test]
fn tls_server_logs_the_fingerprint_its_python_client_sees() {
    let port = free_port();
    let tmux = Tmux::start();
    let dir = TempDir::new("tui-tls-server");
    launch(
        &tmux,
        &dir,
        &format!("tui --lang en --listen tls://127.0.0.1:{port}"),
    );
    tmux.wait_for("Mode: TLS server");
    tmux.wait_for(&format!("listening on 127.0.0.1:{port}"));

    let hello = dir.path("hello.txt");
    std::fs::write(&hello, "hello over tls\n").unwrap();
    let mut cmd = crate::tls::python_tls(&["client", &port.to_string()]);
    cmd.arg(&hello).stdout(std::process::Stdio::piped());
    let mut client = Proc::spawn(cmd, "tls_peers.py client");
    let mut said = Lines::new(client.stdout());
    let seen = said.wait_for("peer sha256 ");
    let fp = seen.trim().rsplit(' ').next().expect("a fingerprint");
    assert_eq!(fp.len(), 95, "{seen}");
    let screen = tmux.wait_for("< #1 hello over tls");
    let pane: String = received_pane(&screen).split_whitespace().collect();
    assert!(
        pane.contains(&format!("sha256{fp}")),
        "the UI logged another certificate than {fp}:\n{screen}"
    );
    said.wait_for("sent 15 bytes");
    quit_and_check_restored(&tmux, &dir);
}

/// A TLS client chosen by scheme refuses openssl's self-signed server and says how to get
/// past it; Ctrl-V turns verification off, F2 opens again, and text goes both ways.
#[test]
fn tls_client_refuses_a_self_signed_server_until_ctrl_v() {
    let dir = TempDir::new("tui-tls-client");
    let (cert, key) = crate::tls::make_cert(&dir, "server", crate::tls::LOCALHOST_AND_IP, true);
    let (_server, mut input, mut out, port) = crate::tls::s_server(&cert, &key);
    let tmux = Tmux::start();
    launch(
        &tmux,
        &dir,
        &format!("tui --lang en tls://127.0.0.1:{port}"),
    );
    tmux.wait_for("Mode: TLS client");
    tmux.wait_for("Ctrl-V turns certificate verification off");
    assert!(tmux.alternate_on(), "the UI went away after an error");

    tmux.keys(&["C-v", "F2"]);
    tmux.wait_for(&format!("connected to 127.0.0.1:{port}"));
    tmux.type_text("hello from the tui over tls");
    tmux.keys(&["Enter"]);
    out.wait_for("hello from the tui over tls");
    input.write_all(b"pong over tls\n").unwrap();
    input.flush().unwrap();
    tmux.wait_for("< pong over tls");
    quit_and_check_restored(&tmux, &dir);
}

/// A unix socket client: python echoes lines back over a stream socket.
const UNIX_ECHO: &str = r#"
import os, socket, sys
path = sys.argv[1]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
print("listening on " + path, flush=True)
c, _ = srv.accept()
f = c.makefile("rb")
for line in f:
    print("got " + line.decode().strip(), flush=True)
    c.sendall(b"echo " + line)
"#;

/// A unix datagram peer bound to its own path: prints each datagram, answers the sender.
const UNIXGRAM_PEER: &str = r#"
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("bound " + sys.argv[1], flush=True)
while True:
    d, a = s.recvfrom(65536)
    print("got " + d.decode().strip(), flush=True)
    if a:
        s.sendto(b"dgram back\n", a)
"#;

/// Unix sockets from the F6 modes: a stream client typed into the address box, then a
/// datagram client to a peer that answers; both against python's socket module.
#[test]
fn unix_stream_and_datagram_modes_talk_to_python_peers() {
    let dir = TempDir::new("tui-unix");
    let stream_path = dir.path("echo.sock").display().to_string();
    let (_echo, mut echo_out) = python_peer(UNIX_ECHO, &[&stream_path]);
    echo_out.wait_for("listening on");
    let tmux = Tmux::start();
    launch(&tmux, &dir, "tui --lang en");
    tmux.wait_for("Mode: TCP client");
    // TCP client, TCP server, UDP client, UDP server, TLS client, TLS server, Unix client.
    tmux.keys(&["F6", "F6", "F6", "F6", "F6", "F6"]);
    tmux.wait_for("Mode: Unix client");
    tmux.keys(&["C-u"]);
    tmux.type_text(&stream_path);
    tmux.keys(&["Enter"]);
    tmux.wait_for("connected to");
    tmux.keys(&["Tab"]);
    tmux.type_text("over a unix stream");
    tmux.keys(&["Enter"]);
    echo_out.wait_for("got over a unix stream");
    tmux.wait_for("< echo over a unix stream");

    // Close, then two modes on (Unix server, Unix datagram client) to the datagram peer.
    let gram_path = dir.path("gram.sock").display().to_string();
    let (_gram, mut gram_out) = python_peer(UNIXGRAM_PEER, &[&gram_path]);
    gram_out.wait_for("bound");
    tmux.keys(&["F2"]);
    tmux.wait_for("closed");
    tmux.keys(&["BTab", "F6", "F6"]);
    tmux.wait_for("Mode: Unix datagram client");
    tmux.keys(&["C-u"]);
    tmux.type_text(&gram_path);
    tmux.keys(&["Enter"]);
    tmux.keys(&["Tab"]);
    tmux.type_text("one datagram");
    tmux.keys(&["Enter"]);
    gram_out.wait_for("got one datagram");
    tmux.wait_for("< dgram back");
    quit_and_check_restored(&tmux, &dir);
}

/// A TCP peer that takes the connection and never reads: a big file stalls on it.
const STALL_PEER: &str = r#"
import socket, time
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
print("listening on 127.0.0.1:%d" % srv.getsockname()[1], flush=True)
c, _ = srv.accept()
print("accepted", flush=True)
time.sleep(120)
"#;

/// Ctrl-O again while a file is going out cancels it: the gauge goes, the log says how far
/// it got, and the UI stays usable.
#[test]
fn a_file_send_stalled_on_a_peer_that_does_not_read_is_cancelled_with_ctrl_o() {
    let dir = TempDir::new("tui-file-cancel");
    let file = dir.path("big.bin");
    // 256 MiB of zeros, sparse: far more than the socket buffers hold.
    std::fs::File::create(&file)
        .and_then(|f| f.set_len(256 << 20))
        .expect("make the file");
    let (_peer, mut out) = python_peer(STALL_PEER, &[]);
    let port = port_in(&out.wait_for("listening on"));
    let tmux = Tmux::start();
    launch(&tmux, &dir, &format!("tui --lang en 127.0.0.1:{port}"));
    tmux.wait_for("connected to 127.0.0.1");
    out.wait_for("accepted");

    tmux.keys(&["C-o"]);
    tmux.wait_for("File to send");
    tmux.keys(&["C-u"]);
    tmux.type_text(&file.display().to_string());
    tmux.keys(&["Enter"]);
    tmux.wait_for("/268435456");
    tmux.keys(&["C-o"]);
    let screen = tmux.wait_for("(cancelled)");
    assert!(screen.contains("file not sent whole"), "{screen}");
    // The gauge's label: "sending PATH SENT/TOTAL PCT%" (the log keeps "sending PATH: N bytes").
    let gauge = format!("sending {} ", file.display());
    assert!(
        !screen.contains(&gauge),
        "the gauge is still there:\n{screen}"
    );
    quit_and_check_restored(&tmux, &dir);
}
