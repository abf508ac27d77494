//! `socklab relay LISTEN TARGET`: accept clients and forward each to the target, showing
//! both directions. The engine does the forwarding (socklab-core's `session::relay`); this
//! face checks the flags, binds, and prints the events.

use std::process::ExitCode;

use socklab_core::endpoint::Scheme;
use socklab_core::session::relay::{self, RelayConfig};
use socklab_core::session::{AccessPolicy, Command, Session};
use socklab_core::transport::tls::{Fingerprint, TlsClientOptions, TlsServerOptions};
use socklab_core::transport::{self, ConnectOptions, ListenOptions};

use crate::cli::{RelayArgs, RelayShow, UdpArgs};
use crate::mode;
use crate::output::{open_log, Output, PumpEnd, Sink};
use crate::printer::{PrintOptions, Printer, Role, Show, Style};
use crate::UsageError;

/// Every flag checked against the endpoints, before anything is bound or connected; the
/// access rules, checked, are the result.
fn check(args: &RelayArgs) -> anyhow::Result<AccessPolicy> {
    let (listen, target) = (&args.listen, &args.target);
    relay::check_pair(listen, target).map_err(|e| UsageError(e.to_string()))?;
    mode::check_transport_flags(
        listen,
        &UdpArgs::default(),
        mode::tls_server_flag(&args.tls),
    )?;
    let client_flag = [
        (args.ca.is_some(), "--ca"),
        (args.insecure, "--insecure"),
        (args.sni.is_some(), "--sni"),
        (args.pin.is_some(), "--pin"),
    ]
    .into_iter()
    .find_map(|(set, name)| set.then_some(name));
    if let (Some(flag), false) = (client_flag, target.scheme() == Scheme::Tls) {
        return Err(UsageError(format!(
            "{flag} applies to a tls:// target, and '{target}' is {}; expected TARGET as tls://HOST:PORT",
            target.scheme().name()
        ))
        .into());
    }
    if args.drop.is_some() && listen.scheme() != Scheme::Udp {
        return Err(UsageError(format!(
            "--drop applies to datagrams, and '{listen}' is {}; expected udp:// on both sides (use --delay for a slow stream)",
            listen.scheme().name()
        ))
        .into());
    }
    Ok(mode::access_policy(&args.access, listen)?)
}

pub async fn run(args: RelayArgs) -> anyhow::Result<ExitCode> {
    let access = check(&args)?;
    let pin = match &args.pin {
        Some(p) => Some(p.parse::<Fingerprint>()?),
        None => None,
    };
    let connect = ConnectOptions {
        bind: None,
        timeout: Some(args.connect_timeout),
        udp: Default::default(),
        tls: TlsClientOptions {
            ca: args.ca.clone(),
            insecure: args.insecure,
            sni: args.sni.clone(),
            alpn: Vec::new(),
            pin,
        },
    };
    if args.target.scheme() == Scheme::Tls {
        // A CA file that does not load is the user's to fix, before anything listens.
        socklab_core::transport::tls::client_config(&connect.tls)?;
    }
    let log = match &args.log {
        Some(p) => Some(open_log(p)?),
        None => None,
    };
    let show = match args.show {
        RelayShow::Text => Show::Text,
        RelayShow::Hex => Show::Hex,
        RelayShow::Both => Show::Both,
        // The printer never sees data events then: the engine makes none.
        RelayShow::None => Show::Text,
    };
    let show_data = args.show != RelayShow::None || args.json || args.log.is_some();
    let skip_text = !(args.json || args.log.is_some() || matches!(show, Show::Text | Show::Both));
    socklab_core::transport::raise_fd_limit();
    let lopts = ListenOptions {
        udp: Default::default(),
        tls: TlsServerOptions {
            cert: args.tls.cert.clone(),
            key: args.tls.key.clone(),
            alpn: args.tls.alpn.clone(),
            names: Vec::new(),
        },
    };
    let listener = transport::listen(&args.listen, &lopts).await?;
    if args.insecure {
        eprintln!(
            "socklab: warning: --insecure: the target's certificate is NOT verified; anyone on the path can read and change what goes to it"
        );
    }
    let cfg = RelayConfig {
        encoding: args.encoding,
        skip_text,
        show_data,
        sync_view: args.sync_view,
        delay: args.delay.filter(|d| !d.is_zero()),
        drop_percent: args.drop.unwrap_or(0.0),
        access,
        idle_timeout: args.access.idle_timeout,
        max_clients: args.access.max_clients,
        connect,
    };
    let session = relay::relay(listener, args.target.clone(), cfg);
    let opts = PrintOptions {
        show,
        json: args.json,
        timestamps: args.timestamps,
        style: if args.json {
            Style::plain()
        } else {
            Style::for_stdout()
        },
        role: Role::Server,
        show_sent: true,
        framed: false,
        whole_lines: false,
        verbose: false,
    };
    let mut printer = Printer::new(opts);
    printer.relay = true;
    let mut out = Output::new(printer, Sink::stdout(), log);
    let Session {
        commands,
        mut events,
        done,
    } = session;
    let end = loop {
        tokio::select! {
            end = out.pump(&mut events) => break end?,
            _ = tokio::signal::ctrl_c() => {
                let _ = commands.send(Command::Quit).await;
            }
        }
    };
    if end == PumpEnd::StdoutClosed {
        let _ = commands.send(Command::Quit).await;
        return Ok(ExitCode::SUCCESS);
    }
    match done.await {
        Ok(Ok(())) => Ok(ExitCode::SUCCESS),
        Ok(Err(e)) => Err(e.into()),
        Err(e) => anyhow::bail!("the relay stopped unexpectedly: {e}"),
    }
}
