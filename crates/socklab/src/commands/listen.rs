//! `socklab listen`: a server for many clients.

use std::process::ExitCode;

use socklab_core::session::{Session, SessionConfig};
use socklab_core::transport::pipe::{self, PipeOptions};
use socklab_core::transport::tcp;

use super::face::Face;
use crate::cli::{Eol, ListenArgs};
use crate::input::InputSpec;
use crate::mode::{self, Terminals};
use crate::printer::Role;

pub async fn run(args: ListenArgs) -> anyhow::Result<ExitCode> {
    let addr = mode::tcp_target(&args.endpoint)?;
    let file = Face::check_file(&args.data)?;
    let t = Terminals::detect();
    socklab_core::transport::raise_fd_limit();
    let listeners = tcp::listen(&addr).await?;
    if args.once && mode::raw_pipe(&args.data, &t) {
        return raw_once(listeners, args.data.verbose).await;
    }
    let face = Face {
        role: Role::Server,
        spec: InputSpec::new(&args.data, Eol::Lf),
        data: args.data,
        file,
        shutdown_at_eof: args.once,
    };
    let cfg = SessionConfig {
        encoding: face.spec.opts.encoding,
        echo: args.echo,
        once: args.once,
        max_clients: args.max_clients,
        skip_text: !mode::needs_text(&face.data, &t),
    };
    face.drive(Session::serve(listeners, cfg)).await
}

/// `listen --once` in a pipe: nc -l. Accept one client on any listener, then the raw pipe.
async fn raw_once(
    listeners: Vec<tokio::net::TcpListener>,
    verbose: bool,
) -> anyhow::Result<ExitCode> {
    if verbose {
        for l in &listeners {
            if let Ok(a) = l.local_addr() {
                eprintln!("* listening on {a}");
            }
        }
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    for l in listeners {
        let tx = tx.clone();
        tokio::spawn(async move {
            let _ = tx.send(l.accept().await).await;
        });
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
    let std = stream.into_std()?;
    let popts = PipeOptions {
        shutdown_on_eof: true,
    };
    match tokio::task::spawn_blocking(move || pipe::run(std, popts)).await? {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("socklab: connection from {peer}: {e}");
            Ok(ExitCode::from(1))
        }
    }
}
