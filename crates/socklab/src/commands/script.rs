//! `socklab connect --script FILE`: the steps run in the core (`socklab_core::script`);
//! here the file is read, events are printed, and the outcome becomes the exit status.

use std::path::Path;
use std::process::ExitCode;

use socklab_core::script::{self, FailReason, Outcome};
use socklab_core::session::{Command, Session, SessionConfig};

use super::connect::connect_options;
use super::face::finish;
use crate::cli::{ConnectArgs, Eol};
use crate::input::InputSpec;
use crate::mode::{self, Terminals};
use crate::output::{open_log, Output, PumpEnd, Sink};
use crate::printer::{Printer, Role, Show};

/// Exit status of a script whose expect failed (or whose peer closed before a match): not
/// 1, so that a CI job can tell "the service answered wrong" from "the service is down".
const EXPECT_FAILED: u8 = 3;

pub async fn run(args: ConnectArgs, path: &Path) -> anyhow::Result<ExitCode> {
    let ep = args.endpoint.clone();
    let opts = connect_options(&ep, &args.connect)?;
    let spec = InputSpec::new(&args.data, Eol::None);
    // Everything the script says is checked before anything connects.
    let text = std::fs::read_to_string(path).map_err(|source| socklab_core::Error::File {
        path: path.display().to_string(),
        source,
    })?;
    let steps = script::parse(&text, &path.display().to_string(), &spec.opts)?;
    let replies = mode::replies(&args.reply, &spec.opts)?;
    let (frame, verify) = mode::framing(&args.data);
    let t = Terminals::detect();
    let mut data = args.data.clone();
    // The steps are the point of a script run, so they are shown in text even when piped;
    // `--show raw` keeps stdout for the received bytes (steps then go to stderr).
    data.show = Some(data.show.unwrap_or(Show::Text));
    let log = match &data.log {
        Some(p) => Some(open_log(p)?),
        None => None,
    };
    let mut out = Output::new(
        Printer::new(mode::print_options(&data, &t, Role::Client)),
        Sink::stdout(),
        log,
    );
    let cfg = SessionConfig {
        encoding: data.encoding,
        skip_text: !mode::needs_text(&data, &t),
        frame,
        verify,
        replies,
        ..SessionConfig::default()
    };
    let mut running = script::run(steps, Session::connect(ep, opts, cfg), data.encoding);
    let end = loop {
        tokio::select! {
            end = out.pump(&mut running.events) => break end?,
            _ = tokio::signal::ctrl_c() => {
                let _ = running.commands.send(Command::Quit).await;
            }
        }
    };
    if end == PumpEnd::StdoutClosed {
        let _ = running.commands.send(Command::Quit).await;
        // Keep taking events so the script can finish, and its outcome still decides.
        while running.events.recv().await.is_some() {}
    }
    let outcome = running.outcome.await;
    let code = finish(running.done, &out, Role::Client).await?;
    match outcome {
        Ok(Outcome::Passed) => Ok(code),
        // The session's own failure (resolve, connect) was returned by `finish` above.
        Ok(Outcome::NotConnected) => Ok(ExitCode::from(1)),
        Ok(Outcome::Failed(failure)) => {
            eprintln!("socklab: {}: {failure}", path.display());
            Ok(ExitCode::from(match failure.reason {
                FailReason::Timeout(_) | FailReason::PeerClosed => EXPECT_FAILED,
                FailReason::Network(_) | FailReason::Stopped => 1,
            }))
        }
        Err(e) => anyhow::bail!("the script stopped unexpectedly: {e}"),
    }
}
