//! The seed tutorial's own Python programs as peers: socklab talks GBK with each.

use std::process::{Command, Stdio};

use crate::support::*;

#[test]
fn send_talks_gbk_to_the_seed_server() {
    let mut cmd = Command::new(python3());
    cmd.arg(fixture("seed_server.py"))
        .arg("0")
        .stdout(Stdio::piped());
    let mut server = Proc::spawn(cmd, "seed_server.py");
    let mut said = Lines::new(server.stdout());
    let port = port_in(&said.wait_for("listening on"));

    let out = run(
        &[
            "send",
            &format!("127.0.0.1:{port}"),
            "-e",
            "gbk",
            "你好啊",
            "--show",
            "text",
        ],
        b"",
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    // The server decoded our bytes as GBK...
    said.wait_for("接收到的数据为: 你好啊");
    // ...and we decoded its answer, and saw it close.
    assert!(stdout.contains("→ 你好啊"), "{stdout}");
    assert!(stdout.contains("← thank you !"), "{stdout}");
    assert!(stdout.contains("closed by peer"), "{stdout}");
}

#[test]
fn the_seed_client_talks_gbk_to_listen() {
    // socklab is the server: it answers with GBK text given on stdin once the client is in.
    let mut cmd = socklab();
    cmd.args([
        "listen",
        "127.0.0.1:0",
        "--once",
        "-e",
        "gbk",
        "--eol",
        "none",
        "--show",
        "both",
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::piped());
    let mut server = Proc::spawn(cmd, "socklab listen");
    let mut shown = Lines::new(server.stdout());
    let port = port_in(&shown.wait_for("listening on"));
    {
        use std::io::Write;
        let mut stdin = server.stdin();
        stdin.write_all("我很好，你呢\n".as_bytes()).unwrap();
    }

    let out = Command::new(python3())
        .arg(fixture("seed_client.py"))
        .args(["127.0.0.1", &port.to_string(), "你好啊"])
        .output()
        .expect("run seed_client.py");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "接收到的数据为: 我很好，你呢");
    // socklab showed the client's GBK bytes decoded, and their hex.
    shown.wait_for("你好啊");
    shown.wait_for("c4 e3 ba c3 b0 a1");
    assert!(server.wait().success());
}
