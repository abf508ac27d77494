//! `socklab connect`: an interactive client, or a raw pipe when neither end is a terminal.

use std::process::ExitCode;

use socklab_core::endpoint::{Endpoint, Scheme};
use socklab_core::session::{open_stream, Event, Session, SessionConfig};
use socklab_core::transport::pipe::{self, PipeOptions};
use socklab_core::transport::tls::{Fingerprint, TlsClientOptions};
use socklab_core::transport::ConnectOptions;

use super::face::Face;
use crate::cli::{ConnectArgs, ConnectOpts, Eol};
use crate::input::InputSpec;
use crate::mode::{self, Terminals};
use crate::printer::{Printer, Rendered, Role};
use crate::sending::CHUNK;
use crate::UsageError;

/// The options of `connect` and `send`, checked against the endpoint.
pub fn connect_options(ep: &Endpoint, c: &ConnectOpts) -> anyhow::Result<ConnectOptions> {
    mode::check_transport_flags(ep, &c.udp, mode::tls_client_flag(&c.tls))?;
    let pin = match &c.tls.pin {
        Some(p) => Some(p.parse::<Fingerprint>()?),
        None => None,
    };
    Ok(ConnectOptions {
        bind: c.bind,
        timeout: Some(c.connect_timeout),
        udp: mode::udp_options(&c.udp),
        tls: TlsClientOptions {
            ca: c.tls.ca.clone(),
            insecure: c.tls.insecure,
            sni: c.tls.sni.clone(),
            alpn: c.tls.alpn.clone(),
            pin,
        },
    })
}

pub async fn run(args: ConnectArgs) -> anyhow::Result<ExitCode> {
    if let Some(path) = args.script.clone() {
        return super::script::run(args, &path).await;
    }
    let ep = args.endpoint.clone();
    let opts = connect_options(&ep, &args.connect)?;
    let datagram = ep.scheme().is_datagram();
    if datagram && args.reconnect.is_some() {
        return Err(UsageError(format!(
            "--reconnect applies to connections (tcp, tls, unix), and '{ep}' is {}, which has none to lose; expected a stream endpoint",
            ep.scheme().name()
        ))
        .into());
    }
    if datagram {
        if args.packet_size == 0 {
            return Err(UsageError(
                "--packet-size 0 would send nothing; expected 1 or more bytes per datagram".into(),
            )
            .into());
        }
        mode::check_datagram(&ep, args.packet_size, "--packet-size")?;
    }
    let mut file = Face::check_file(&args.data)?;
    if let (Some(f), true) = (file.as_mut(), datagram) {
        f.chunk = args.packet_size;
    }
    let replies = mode::replies(&args.reply, &InputSpec::new(&args.data, Eol::Lf).opts)?;
    let (frame, verify) = mode::framing(&args.data);
    let t = Terminals::detect();
    if mode::raw_pipe(&args.data, &t)
        && replies.is_none()
        && args.reconnect.is_none()
        && matches!(ep.scheme(), Scheme::Tcp | Scheme::Unix)
    {
        return raw(ep, opts, &args).await;
    }
    let face = Face {
        role: Role::Client,
        spec: InputSpec::new(&args.data, Eol::Lf),
        data: args.data,
        file,
        shutdown_at_eof: !args.no_shutdown,
        datagram,
        chunk: if datagram { args.packet_size } else { CHUNK },
    };
    let cfg = SessionConfig {
        encoding: face.spec.opts.encoding,
        skip_text: !mode::needs_text(&face.data, &t),
        linger: args.wait,
        // In a pipe, a peer that closes first still gets every byte of stdin (as the raw
        // pipe does); on a terminal, the peer closing ends the session, as in nc.
        // With --reconnect, a peer that closes is reconnected to at once instead.
        finish_sending: !t.interactive() && !args.no_shutdown && args.reconnect.is_none(),
        reconnect: args.reconnect,
        frame,
        verify,
        replies,
        ..SessionConfig::default()
    };
    face.drive(Session::connect(ep, opts, cfg)).await
}

/// The netcat path: connect, then bytes in and out unchanged, in the kernel where possible.
async fn raw(
    target: Endpoint,
    opts: ConnectOptions,
    args: &ConnectArgs,
) -> anyhow::Result<ExitCode> {
    let verbose = args.data.verbose;
    let t = Terminals::detect();
    let mut printer = Printer::new(mode::print_options(&args.data, &t, Role::Client));
    let mut report = move |kind| {
        if verbose {
            let mut r = Rendered::default();
            printer.render(&Event::now(kind), &mut r);
            eprint!("{}", String::from_utf8_lossy(&r.err));
        }
    };
    let stream = open_stream(&target, &opts, &mut report).await?;
    let fd = stream.into_fd()?;
    let popts = PipeOptions {
        shutdown_on_eof: !args.no_shutdown,
    };
    let outcome = tokio::task::spawn_blocking(move || pipe::run(fd, popts))
        .await?
        .map_err(|e| anyhow::anyhow!("connection to {target}: {e}"));
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            eprintln!("socklab: {e:#}");
            return Ok(ExitCode::from(1));
        }
    };
    if verbose {
        eprintln!(
            "* closed (received {} bytes, sent {} bytes)",
            outcome.bytes_in, outcome.bytes_out
        );
    }
    Ok(ExitCode::SUCCESS)
}
