//! socklab: a network debugging assistant. This file only wires the pieces together: parse
//! the command line, run the command, map its outcome to an exit status in one place.
//!
//! Exit status: 0 success, 1 a network or I/O failure, 2 a usage error, 3 a `--script`
//! expect that failed. clap's own usage errors already exit 2.

/// std's `eprintln!` panics when stderr is gone (`socklab ... 2>&1 | head` after head has
/// exited), which would turn a clean exit status into 101. Defined before the modules, this
/// one shadows it everywhere in the binary: with no one left to read, the line is dropped.
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// `eprint!` without the panic, as `eprintln!` above.
macro_rules! eprint {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($arg)*);
    }};
}

mod cli;
mod commands;
mod input;
mod memory;
mod mode;
mod output;
mod printer;
mod report;
mod sending;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Cmd};

/// A usage error found by the binary (not by the core): exit status 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn main() -> ExitCode {
    let cli = Cli::parse_from(cli::args(std::env::args_os()));
    memory::keep_large_buffers_mapped();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("socklab: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Cmd::Connect(args) => commands::connect::run(args).await,
            Cmd::Listen(args) => commands::listen::run(args).await,
            Cmd::Send(args) => commands::send::run(args).await,
            Cmd::Relay(args) => commands::relay::run(args).await,
            Cmd::Demo(args) => commands::demo::run(args).await,
            Cmd::Dns(args) => commands::dns::run(args).await,
            Cmd::Ping(args) => commands::ping::run(args).await,
            Cmd::Scan(args) => commands::scan::run(args).await,
            Cmd::Ifaces(args) => commands::ifaces::run(args).await,
            Cmd::Subnet(args) => commands::subnet::run(args).await,
            Cmd::Ports(args) => commands::ports::run(args).await,
            Cmd::Trace(args) => commands::trace::run(args).await,
            Cmd::Convert(args) => commands::convert::run(args).await,
            Cmd::Tui(args) => commands::tui::run(args).await,
            Cmd::Web(args) => commands::web::run(args).await,
        }
    });
    // A thread blocked reading stdin must not keep the process alive once the session is
    // over, as it would if the runtime waited for it.
    runtime.shutdown_background();
    match result {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                // Unix convention: the reader of our output went away; not an error.
                return ExitCode::SUCCESS;
            }
            // socklab-core's messages already end with their cause ("cannot connect to
            // ADDR: refused"); the alternate form would repeat it.
            if let Some(core) = err.downcast_ref::<socklab_core::Error>() {
                eprintln!("socklab: {core}");
            } else if let Some(net) = err.downcast_ref::<socklab_net::Error>() {
                eprintln!("socklab: {net}");
            } else {
                eprintln!("socklab: {err:#}");
            }
            ExitCode::from(exit_status(&err))
        }
    }
}

fn exit_status(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if cause.is::<UsageError>() {
            return 2;
        }
        if let Some(core) = cause.downcast_ref::<socklab_core::Error>() {
            return if core.is_usage() { 2 } else { 1 };
        }
        if let Some(net) = cause.downcast_ref::<socklab_net::Error>() {
            return if net.is_usage() { 2 } else { 1 };
        }
    }
    1
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
