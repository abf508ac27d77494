//! Auto-replies (issue 7): `--reply 'MATCH=>RESPONSE'` and `--rules FILE`, driven by a
//! python client (tests/reply_client.py) over TCP and UDP.
//!
//! No sleeps: that a message got no reply is shown by order (a reply to it would have come
//! before the reply to the next message), and a delay by the order of the replies.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::*;

/// `socklab listen ENDPOINT --json` with `args`; its port once it listens.
fn server(endpoint: &str, args: &[&str]) -> (Proc, Lines, u16) {
    let mut cmd = socklab();
    cmd.args(["listen", endpoint, "--json"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut p = Proc::spawn(cmd, "socklab listen");
    let mut lines = Lines::new(p.stdout());
    let listening = next(&mut lines, "listening");
    let port = port_in(listening["addr"].as_str().expect("addr"));
    (p, lines, port)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn send(b: &[u8]) -> String {
    format!("send:{}", hex(b))
}

fn expect(b: &[u8]) -> String {
    format!("expect:{}", hex(b))
}

/// Run the python client; it exits non-zero (and says what it got) on a wrong reply.
fn client(kind: &str, port: u16, steps: &[String]) {
    let mut cmd = Command::new(python3());
    cmd.arg(fixture("reply_client.py"))
        .args([kind, &port.to_string()])
        .args(steps)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let out = wait_output(cmd.spawn().expect("spawn reply_client.py"));
    let stdout = text(&out.stdout);
    assert!(
        out.status.success() && stdout.ends_with("done\n"),
        "reply_client.py {kind} {steps:?}:\n{stdout}{}",
        text(&out.stderr)
    );
}

/// The `sent` events' bytes, as hex, once `count` of them have come.
fn sent(lines: &mut Lines, count: usize) -> Vec<String> {
    for _ in 0..count {
        next(lines, "sent");
    }
    all(lines, "sent")
        .iter()
        .map(|e| e["hex"].as_str().expect("hex").to_string())
        .collect()
}

const RULES: [&str; 6] = [
    "--reply",
    "PING=>PONG\\r\\n",
    "--reply",
    "hex:01 03=>hex:01 83 02",
    "--reply",
    "re:^LOGIN (\\w+)=>WELCOME $1\\r\\n",
];

#[test]
fn text_hex_and_regex_rules_answer_over_tcp() {
    let mut args = RULES.to_vec();
    args.extend(["--frame", "line"]);
    let (_srv, mut lines, port) = server("127.0.0.1:0", &args);
    client(
        "tcp",
        port,
        &[
            send(b"PING\n"),
            expect(b"PONG\r\n"),
            send(b"\x00\x01\x03\x00\n"),
            expect(b"\x01\x83\x02"),
            send(b"LOGIN bob\n"),
            expect(b"WELCOME bob\r\n"),
            // No rule matches: no answer, so the next one is PING's.
            send(b"nothing here\n"),
            send(b"PING\n"),
            expect(b"PONG\r\n"),
        ],
    );
    // Each reply is a `sent` event, and counted.
    let replies = sent(&mut lines, 4);
    assert_eq!(
        replies,
        vec![
            hex(b"PONG\r\n"),
            hex(b"\x01\x83\x02"),
            hex(b"WELCOME bob\r\n"),
            hex(b"PONG\r\n")
        ]
    );
    let closed = next(&mut lines, "closed");
    assert_eq!(closed["bytes_out"], 6 + 3 + 13 + 6, "{closed}");
}

#[test]
fn without_framing_each_read_is_a_message_and_templates_count_replies() {
    let (_srv, mut lines, port) = server("127.0.0.1:0", &["--reply", "PING=>PONG {counter}\\n"]);
    client(
        "tcp",
        port,
        &[
            send(b"PING"),
            expect(b"PONG 1\n"),
            send(b"PING"),
            expect(b"PONG 2\n"),
        ],
    );
    assert_eq!(sent(&mut lines, 2).len(), 2);
}

#[test]
fn rules_answer_over_udp_each_datagram_a_message() {
    let dir = TempDir::new("replies-udp");
    let rules = dir.path("rules.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nmatch = \"SLOW\"\nresponse = \"slow\"\ndelay = \"1s\"\n\n[[rule]]\nmatch = \"FAST\"\nresponse = \"fast\"\n",
    )
    .expect("write rules");
    let mut args = RULES.to_vec();
    let rules = rules.display().to_string();
    args.extend(["--rules", &rules]);
    let (_srv, mut lines, port) = server("udp://127.0.0.1:0", &args);
    client(
        "udp",
        port,
        &[
            send(b"PING"),
            expect(b"PONG\r\n"),
            send(&[0x01, 0x03, 0x00, 0x00, 0x00, 0x0a]),
            expect(&[0x01, 0x83, 0x02]),
            send(b"LOGIN alice"),
            expect(b"WELCOME alice\r\n"),
            send(b"nothing here"),
            send(b"PING"),
            expect(b"PONG\r\n"),
            // The delayed reply comes after the one that was not delayed.
            send(b"SLOW"),
            send(b"FAST"),
            expect(b"fast"),
            expect(b"slow"),
        ],
    );
    assert_eq!(sent(&mut lines, 6).len(), 6);
}

#[test]
fn a_rules_file_with_delay_and_once_over_tcp() {
    let dir = TempDir::new("replies-tcp");
    let rules = dir.path("mock.toml");
    std::fs::write(
        &rules,
        r#"# a line protocol mock
[[rule]]
match = "SLOW"
response = "slow\n"
delay = "1s"

[[rule]]
match = "HELLO"
response = "first hello\n"
once = true

[[rule]]
match = "HELLO"
response = "hello again\n"

[[rule]]
match = 're:^ECHO (.*)'
response = "$1\n"

[[rule]]
match = "FAST"
response = "fast\n"
"#,
    )
    .expect("write rules");
    let rules = rules.display().to_string();
    let (_srv, _lines, port) = server("127.0.0.1:0", &["--frame", "line", "--rules", &rules]);
    client(
        "tcp",
        port,
        &[
            // Both in one send: the delayed answer comes second.
            send(b"SLOW\nFAST\n"),
            expect(b"fast\n"),
            expect(b"slow\n"),
            send(b"HELLO\n"),
            expect(b"first hello\n"),
            send(b"HELLO\n"),
            expect(b"hello again\n"),
            send(b"ECHO x y\n"),
            expect(b"x y\n"),
        ],
    );
}

#[test]
fn connect_answers_the_server() {
    // socklab's own server types PING to its client; the client answers by rule.
    let (mut srv, mut lines, port) = server("127.0.0.1:0", &[]);
    let mut cmd = socklab();
    cmd.args([
        "connect",
        &format!("127.0.0.1:{port}"),
        "--json",
        "--frame",
        "line",
        "--reply",
        "re:PING (\\d+)=>PONG $1\\n",
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    let mut c = Proc::spawn(cmd, "socklab connect --reply");
    let _client_lines = Lines::new(c.stdout());
    next(&mut lines, "connected");
    let mut typed = srv.stdin();
    typed.write_all(b"PING 42\n").expect("type");
    typed.flush().expect("flush");
    let got = next(&mut lines, "received");
    assert_eq!(got["text"], "PONG 42\n", "{got}");
}

#[test]
fn bad_replies_and_rules_exit_2_before_anything_listens_or_connects() {
    let witness = Witness::new();
    let dir = TempDir::new("replies-bad");
    let syntax = dir.path("syntax.toml");
    std::fs::write(
        &syntax,
        "[[rule]]\nmatch = \"A\"\nresponse = \"B\"\n\n[[rule]\n",
    )
    .expect("write");
    let regex = dir.path("regex.toml");
    std::fs::write(&regex, "[[rule]]\nmatch = \"re:(\"\nresponse = \"B\"\n").expect("write");
    let syntax_at = format!("bad rules file {}:5:", syntax.display());
    let regex_at = format!(
        "bad rules file {}:2:9: match: bad regular expression",
        regex.display()
    );
    let missing = dir.path("missing.toml").display().to_string();
    let syntax = syntax.display().to_string();
    let regex = regex.display().to_string();
    let cases: [(&[&str], &[&str]); 6] = [
        (
            &["--reply", "PING"],
            &[
                "bad --reply 'PING'",
                "no '=>'",
                "expected 'MATCH=>RESPONSE'",
            ],
        ),
        (&["--reply", "re:(=>x"], &["bad regular expression 're:('"]),
        (&["--reply", "PING=>"], &["RESPONSE is empty"]),
        (&["--rules", &syntax], &[&syntax_at]),
        (&["--rules", &regex], &[&regex_at]),
        (&["--rules", &missing], &["cannot read", "missing.toml"]),
    ];
    let addr = witness.addr();
    for (args, needles) in cases {
        let mut full = vec!["connect", &addr];
        full.extend_from_slice(args);
        usage_error(&run(&full, b""), needles);
        // The witness holds the port: a listen that bound before checking would fail
        // with "address in use" and exit 1 instead.
        let mut full = vec!["listen", &addr];
        full.extend_from_slice(args);
        usage_error(&run(&full, b""), needles);
        let udp = format!("udp://{addr}");
        let mut full = vec!["listen", &udp];
        full.extend_from_slice(args);
        usage_error(&run(&full, b""), needles);
    }
    witness.assert_untouched();
}
