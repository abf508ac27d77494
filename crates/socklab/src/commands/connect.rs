//! `socklab connect`: an interactive client, or a raw pipe when neither end is a terminal.

use std::process::ExitCode;

use socklab_core::session::{open_tcp, Event, Session, SessionConfig};
use socklab_core::transport::pipe::{self, PipeOptions};
use socklab_core::transport::tcp::ConnectOptions;

use super::face::Face;
use crate::cli::{ConnectArgs, ConnectOpts, Eol};
use crate::input::InputSpec;
use crate::mode::{self, Terminals};
use crate::printer::{Printer, Rendered, Role};

pub fn connect_options(c: &ConnectOpts) -> ConnectOptions {
    ConnectOptions {
        bind: c.bind,
        timeout: Some(c.connect_timeout),
    }
}

pub async fn run(args: ConnectArgs) -> anyhow::Result<ExitCode> {
    let target = mode::tcp_target(&args.endpoint)?;
    let file = Face::check_file(&args.data)?;
    let t = Terminals::detect();
    let opts = connect_options(&args.connect);
    if mode::raw_pipe(&args.data, &t) {
        return raw(target, opts, &args).await;
    }
    let face = Face {
        role: Role::Client,
        spec: InputSpec::new(&args.data, Eol::Lf),
        data: args.data,
        file,
        shutdown_at_eof: !args.no_shutdown,
    };
    let cfg = SessionConfig {
        encoding: face.spec.opts.encoding,
        skip_text: !mode::needs_text(&face.data, &t),
        ..SessionConfig::default()
    };
    face.drive(Session::connect(target, opts, cfg)).await
}

/// The netcat path: connect, then bytes in and out unchanged, in the kernel where possible.
async fn raw(
    target: socklab_core::endpoint::HostPort,
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
    let stream = open_tcp(&target, &opts, &mut report).await?;
    let peer = stream.peer_addr().ok();
    let std = stream.into_std()?;
    let popts = PipeOptions {
        shutdown_on_eof: !args.no_shutdown,
    };
    let outcome = tokio::task::spawn_blocking(move || pipe::run(std, popts))
        .await?
        .map_err(|e| match peer {
            Some(p) => anyhow::anyhow!("connection to {p}: {e}"),
            None => e.into(),
        });
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
