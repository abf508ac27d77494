//! `socklab listen` without a terminal: echo, once, max-clients, every-interface listening.

use std::io::{Read, Write};
use std::process::Stdio;

use crate::support::*;

#[test]
fn echo_answers_each_client() {
    let (_srv, mut lines, port) = socklab_server(&["--echo"]);
    let mut a = client(port);
    let mut b = client(port);
    a.write_all(b"from a\n").unwrap();
    b.write_all(b"from b\n").unwrap();
    assert_eq!(read_n(&mut a, 7), b"from a\n");
    assert_eq!(read_n(&mut b, 7), b"from b\n");
    // Every line names the client and its address (in whatever order they arrived).
    let got = [lines.wait_for("← from "), lines.wait_for("← from ")];
    let pa = a.local_addr().unwrap().to_string();
    let pb = b.local_addr().unwrap().to_string();
    let la = got.iter().find(|l| l.contains("from a")).expect("a's line");
    let lb = got.iter().find(|l| l.contains("from b")).expect("b's line");
    assert!(la.contains(&format!("#1 {pa}")), "{la}");
    assert!(lb.contains(&format!("#2 {pb}")), "{lb}");
}

#[test]
fn once_exits_when_the_client_leaves() {
    let (mut srv, mut lines, port) = socklab_server(&["--once"]);
    let mut c = client(port);
    c.write_all(b"bye\n").unwrap();
    lines.wait_for("← bye");
    // Nobody else gets in once the first client is taken.
    drop(c);
    assert!(srv.wait().success());
    lines.rest();
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn max_clients_refuses_the_rest_and_says_so() {
    let (_srv, mut lines, port) = socklab_server(&["--max-clients", "2"]);
    let _a = client(port);
    lines.wait_for("#1 ");
    let _b = client(port);
    lines.wait_for("#2 ");
    let mut c = client(port);
    let refused = lines.wait_for("refused");
    assert!(refused.contains("max clients (2) reached"), "{refused}");
    // The third client's connection is closed without data.
    let mut buf = Vec::new();
    let n = c.read_to_end(&mut buf).unwrap_or(0);
    assert_eq!(n, 0);
}

#[test]
fn piped_stdin_reaches_every_client() {
    let (mut srv, mut lines, port) = socklab_server(&[]);
    let mut a = client(port);
    lines.wait_for("#1 ");
    let mut b = client(port);
    lines.wait_for("#2 ");
    let mut stdin = srv.stdin();
    stdin.write_all(b"to all\n").unwrap();
    stdin.flush().unwrap();
    assert_eq!(read_n(&mut a, 7), b"to all\n");
    assert_eq!(read_n(&mut b, 7), b"to all\n");
}

#[test]
fn bare_port_listens_on_ipv4_and_ipv6_and_says_where() {
    let mut cmd = socklab();
    cmd.args(["listen", "0", "--show", "text"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut srv = Proc::spawn(cmd, "socklab listen 0");
    let mut lines = Lines::new(srv.stdout());
    let listening = lines.wait_for("listening on");
    assert!(listening.contains("[::]:"), "{listening}");
    assert!(listening.contains("IPv4 and IPv6"), "{listening}");
    let port = port_in(&listening);
    let reach = lines.wait_for("clients can connect to");
    assert!(reach.contains(&format!("127.0.0.1:{port}")), "{reach}");
    let mut v4 = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    v4.write_all(b"v4\n").unwrap();
    lines.wait_for("← v4");
    let mut v6 = std::net::TcpStream::connect(("::1", port)).unwrap();
    v6.write_all(b"v6\n").unwrap();
    let line = lines.wait_for("← v6");
    assert!(line.contains("[::1]:"), "{line}");
}
