//! `socklab listen`: a server for many clients (or, over UDP and unixgram, many senders).

use std::process::ExitCode;

use socklab_core::session::{Session, SessionConfig};
use socklab_core::transport::pipe::{self, PipeOptions};
use socklab_core::transport::stream::Stream;
use socklab_core::transport::tls::TlsServerOptions;
use socklab_core::transport::{self, ListenOptions, Listener};

use super::face::Face;
use crate::cli::{Eol, ListenArgs};
use crate::input::InputSpec;
use crate::mode::{self, Terminals};
use crate::printer::Role;
use crate::sending::CHUNK;
use crate::UsageError;

pub async fn run(args: ListenArgs) -> anyhow::Result<ExitCode> {
    let ep = args.endpoint.clone();
    mode::check_transport_flags(&ep, &args.udp, mode::tls_server_flag(&args.tls))?;
    let access = mode::access_policy(&args.access, &ep)?;
    if args.broker && ep.scheme().is_datagram() {
        return Err(UsageError(format!(
            "--broker joins stream clients (tcp, tls, unix), and '{ep}' is {}: a datagram server has no connections to join; expected HOST:PORT, tls:// or unix:PATH",
            ep.scheme().name()
        ))
        .into());
    }
    let file = Face::check_file(&args.data)?;
    let replies = mode::replies(&args.reply, &InputSpec::new(&args.data, Eol::Lf).opts)?;
    let (frame, verify) = mode::framing(&args.data);
    let t = Terminals::detect();
    socklab_core::transport::raise_fd_limit();
    let lopts = ListenOptions {
        udp: mode::udp_options(&args.udp),
        tls: TlsServerOptions {
            cert: args.tls.cert.clone(),
            key: args.tls.key.clone(),
            alpn: args.tls.alpn.clone(),
            names: Vec::new(),
        },
    };
    let listener = transport::listen(&ep, &lopts).await?;
    let datagram = ep.scheme().is_datagram();
    // The raw pipe hands the socket to splice threads that know nothing of access rules
    // or idle clients; with those, `--once` in a pipe goes through the session instead.
    let plain = access.is_open() && args.access.idle_timeout.is_none() && replies.is_none();
    if args.once && plain && mode::raw_pipe(&args.data, &t) {
        if let Listener::Tcp(_) | Listener::Unix(_) = listener {
            return raw_once(listener, args.data.verbose).await;
        }
    }
    let face = Face {
        role: Role::Server,
        spec: InputSpec::new(&args.data, Eol::Lf),
        data: args.data,
        file,
        shutdown_at_eof: args.once,
        datagram,
        chunk: if datagram { 1472 } else { CHUNK },
    };
    let cfg = SessionConfig {
        encoding: face.spec.opts.encoding,
        echo: args.echo,
        broker: args.broker,
        once: args.once,
        max_clients: args.access.max_clients,
        access,
        idle_timeout: args.access.idle_timeout,
        skip_text: !mode::needs_text(&face.data, &t),
        frame,
        verify,
        replies,
        ..SessionConfig::default()
    };
    face.drive(Session::serve(listener, cfg)).await
}

/// `listen --once` in a pipe: nc -l. Accept one client on any listener, then the raw pipe.
async fn raw_once(listener: Listener, verbose: bool) -> anyhow::Result<ExitCode> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    // Held until we return: dropping it removes a Unix socket file.
    let mut _cleanup = None;
    match listener {
        Listener::Tcp(listeners) => {
            for l in listeners {
                if verbose {
                    if let Ok(a) = l.local_addr() {
                        eprintln!("* listening on {a}");
                    }
                }
                let tx = tx.clone();
                tokio::spawn(async move {
                    let got = l
                        .accept()
                        .await
                        .map(|(s, a)| (Stream::Tcp(s), a.to_string()));
                    let _ = tx.send(got).await;
                });
            }
        }
        Listener::Unix(bound) => {
            if let Some(n) = &bound.notice {
                eprintln!("* {n}");
            }
            if let Some(c) = &bound.cleanup {
                if verbose {
                    eprintln!("* listening on unix:{}", c.path().display());
                }
                // The pipe runs on blocking threads that Ctrl-C would not stop: remove our
                // socket file on Ctrl-C here, then exit as the signal would have.
                let path = c.path().to_path_buf();
                tokio::spawn(async move {
                    if tokio::signal::ctrl_c().await.is_ok() {
                        let _ = std::fs::remove_file(&path);
                        std::process::exit(130);
                    }
                });
            }
            _cleanup = bound.cleanup;
            let l = bound.socket;
            let tx = tx.clone();
            tokio::spawn(async move {
                let got = l
                    .accept()
                    .await
                    .map(|(s, _)| (Stream::Unix(s), "a unix client".to_string()));
                let _ = tx.send(got).await;
            });
        }
        _ => anyhow::bail!("a raw pipe needs a stream transport"),
    }
    drop(tx);
    let (stream, peer) = match rx.recv().await {
        Some(Ok(pair)) => pair,
        Some(Err(e)) => anyhow::bail!("accept failed: {e}"),
        None => anyhow::bail!("no listener is left to accept on"),
    };
    if verbose {
        eprintln!("* #1 {peer} connected");
    }
    let fd = stream.into_fd()?;
    let popts = PipeOptions {
        shutdown_on_eof: true,
    };
    match tokio::task::spawn_blocking(move || pipe::run(fd, popts)).await? {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("socklab: connection from {peer}: {e}");
            Ok(ExitCode::from(1))
        }
    }
}
