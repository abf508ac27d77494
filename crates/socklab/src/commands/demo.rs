//! `socklab demo`: the seed tutorial's TCP server and client, on loopback, narrated.
//!
//! Both sides run on the same engine as every other command: the server is a listen
//! session whose face answers like the seed's `server.py` ("thank you !" in GBK, then
//! close), the client a connect session that sends 你好啊 in GBK like `client.py`.

use std::process::ExitCode;

use bytes::Bytes;
use socklab_core::codec::Encoding;
use socklab_core::endpoint::{Endpoint, Host, HostPort, Scheme};
use socklab_core::session::{Command, Event, EventKind, Session, SessionConfig, Target};
use socklab_core::transport::tcp::{self, ConnectOptions};
use socklab_core::transport::Listener;

use crate::cli::DemoArgs;
use crate::printer::{PrintOptions, Printer, Rendered, Role, Show, Style};

const GREETING: &str = "你好啊";
const ANSWER: &str = "thank you !";

/// The socket call behind each step, as the seed's Python spells it.
fn annotation(server: bool, kind: &EventKind) -> Option<&'static str> {
    Some(match (server, kind) {
        (true, EventKind::Listening { .. }) => "socket() bind() listen(128)",
        (false, EventKind::Resolving { .. }) => {
            "getaddrinfo(): name to addresses (DNS, /etc/hosts)"
        }
        (false, EventKind::Connecting { .. }) => "socket() connect(): the TCP handshake",
        (false, EventKind::ConnectFailed { .. }) => "that address failed; try the next one",
        (true, EventKind::Connected { .. }) => "accept(): a new socket for this client",
        (false, EventKind::Sent { .. }) => "send(\"你好啊\".encode(\"gbk\"))",
        (true, EventKind::Received { .. }) => "recv(1024) and .decode(\"gbk\")",
        (true, EventKind::Sent { .. }) => "send(\"thank you !\".encode(\"gbk\"))",
        (false, EventKind::Received { .. }) => "recv(1024)",
        (true, EventKind::HalfClosed { .. }) => "close(): the server is done with this client",
        (false, EventKind::Closed { .. }) => "recv() returned b'': the server closed; close()",
        _ => return None,
    })
}

struct Side {
    label: &'static str,
    server: bool,
    printer: Printer,
}

impl Side {
    fn new(label: &'static str, role: Role, style: Style) -> Side {
        Side {
            label,
            server: role == Role::Server,
            printer: Printer::new(PrintOptions {
                show: Show::Both,
                json: false,
                timestamps: false,
                style,
                role,
                show_sent: true,
                framed: false,
                whole_lines: true,
                verbose: false,
            }),
        }
    }

    fn show(&mut self, ev: &Event, style: Style) {
        let mut r = Rendered::default();
        self.printer.render(ev, &mut r);
        let text = String::from_utf8_lossy(&r.out);
        let note = annotation(self.server, &ev.kind);
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            style.paint(&mut out, "1", self.label);
            out.extend_from_slice(" │ ".as_bytes());
            out.extend_from_slice(line.as_bytes());
            if i == 0 {
                if let Some(n) = note {
                    out.extend_from_slice(b"   ");
                    style.paint(&mut out, "2;3", &format!("# {n}"));
                }
            }
            out.push(b'\n');
        }
        print!("{}", String::from_utf8_lossy(&out));
    }
}

pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let style = Style::for_stdout();
    let gbk = Encoding::from_label("gbk")?;
    println!("socklab demo: the tutorial's TCP server and client, both on this machine.");
    println!(
        "The client sends {GREETING} in GBK; the server answers \"{ANSWER}\" and closes, as the seed's server.py does.\n"
    );
    let listeners = tcp::listen(&HostPort {
        host: Host::Name("localhost".into()),
        port: args.port,
    })
    .await?;
    let port = listeners
        .first()
        .and_then(|l| l.local_addr().ok())
        .map(|a| a.port())
        .unwrap_or(args.port);
    let cfg = SessionConfig {
        encoding: gbk,
        once: true,
        ..SessionConfig::default()
    };
    let mut server = Session::serve(Listener::Tcp(listeners), cfg.clone());
    let mut server_side = Side::new("server", Role::Server, style);
    let mut client_side = Side::new("client", Role::Client, style);

    // Show the server's listening lines before the client starts, like running server.py
    // first in one terminal and client.py in another.
    let mut pending = Vec::new();
    while let Some(ev) = server.events.recv().await {
        let listening = matches!(ev.kind, EventKind::Listening { .. });
        server_side.show(&ev, style);
        if !listening {
            pending.push(ev);
            break;
        }
        if server.events.is_empty() {
            break;
        }
    }
    let target = HostPort {
        host: Host::Name("localhost".into()),
        port,
    };
    let mut client = Session::connect(
        Endpoint::Net {
            scheme: Scheme::Tcp,
            addr: target,
        },
        ConnectOptions {
            bind: None,
            timeout: Some(std::time::Duration::from_secs(5)),
            ..ConnectOptions::default()
        },
        SessionConfig { once: false, ..cfg },
    );
    let greeting = Bytes::from(gbk.encode(GREETING)?);
    let answer = Bytes::from(gbk.encode(ANSWER)?);
    let (mut server_open, mut client_open) = (true, true);
    while server_open || client_open {
        tokio::select! {
            ev = server.events.recv(), if server_open => match ev {
                Some(ev) => {
                    server_side.show(&ev, style);
                    if let EventKind::Received { peer, .. } = &ev.kind {
                        let to = Target::Peer(peer.id);
                        let _ = server.commands.send(Command::Send { to: to.clone(), bytes: answer.clone() }).await;
                        let _ = server.commands.send(Command::ShutdownWrite(to)).await;
                    }
                }
                None => server_open = false,
            },
            ev = client.events.recv(), if client_open => match ev {
                Some(ev) => {
                    client_side.show(&ev, style);
                    if let EventKind::Connected { .. } = ev.kind {
                        let _ = client.commands.send(Command::Send { to: Target::All, bytes: greeting.clone() }).await;
                    }
                }
                None => client_open = false,
            },
        }
    }
    match client.done.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(e.into()),
        Err(e) => anyhow::bail!("the demo client stopped unexpectedly: {e}"),
    }
    let _ = server.done.await;
    println!(
        "
Try next:
  socklab listen 7788 -e gbk                 be the seed's server; its client.py can connect
  socklab connect 127.0.0.1:7788 -e gbk      be the seed's client: type lines, /help for commands
  socklab send 127.0.0.1:7788 -e gbk 你好啊 --show both
  socklab listen 7788 --echo                 an echo server for many clients
  socklab connect 127.0.0.1:7788 --show hex  every byte as hexdump -C"
    );
    Ok(ExitCode::SUCCESS)
}
