//! `socklab send`: connect, send each DATA, show what comes back until the peer closes or
//! `--wait` of silence, exit. For scripts.

use std::process::ExitCode;

use socklab_core::session::{Command, EventKind, Session, SessionConfig, Target};
use tokio::time::Instant;

use super::connect::connect_options;
use super::face::{finish, prepare, Face};
use crate::cli::{Eol, SendArgs};
use crate::input::InputSpec;
use crate::mode::{self, Terminals};
use crate::output::{open_log, Output, PumpEnd, Sink};
use crate::printer::{Printer, Role};
use crate::sending;
use crate::UsageError;

pub async fn run(args: SendArgs) -> anyhow::Result<ExitCode> {
    let ep = args.endpoint.clone();
    let opts = connect_options(&ep, &args.connect)?;
    // Each DATA goes out as given: no line ending unless --eol says so.
    let spec = InputSpec::new(&args.data, Eol::None);
    let items = prepare(&spec, &args.data_items)?;
    // Over UDP each DATA is one datagram: one too large for it is refused before anything
    // is sent, so a script never sends half of what it asked for.
    // A message only grows with its round ({counter} gains digits), so the last round of a
    // finite --repeat is the one to check.
    let last_round = args.data.repeat.filter(|n| *n > 0).unwrap_or(1);
    for (i, item) in items.iter().enumerate() {
        let len = usize::try_from(item.len_at(last_round)).unwrap_or(usize::MAX);
        mode::check_datagram(&ep, len, &format!("DATA #{}", i + 1))?;
    }
    let mut file = Face::check_file(&args.data)?;
    if let (Some(f), Some(max)) = (file.as_mut(), mode::datagram_limit(&ep)) {
        f.chunk = max.min(1472);
    }
    if items.is_empty() && file.is_none() {
        return Err(
            UsageError("nothing to send; expected DATA arguments or --file PATH".into()).into(),
        );
    }
    let t = Terminals::detect();
    let log = match &args.data.log {
        Some(p) => Some(open_log(p)?),
        None => None,
    };
    let mut out = Output::new(
        Printer::new(mode::print_options(&args.data, &t, Role::Client)),
        Sink::stdout(),
        log,
    );
    if let (Some(f), true) = (&file, t.stderr) {
        let (_bar, observe) = sending::progress(f.size);
        out.observers.push(Box::new(observe));
    }
    let (frame, verify) = mode::framing(&args.data);
    let cfg = SessionConfig {
        frame,
        verify,
        encoding: args.data.encoding,
        skip_text: !mode::needs_text(&args.data, &t),
        ..SessionConfig::default()
    };
    let Session {
        commands,
        mut events,
        done,
    } = Session::connect(ep, opts, cfg);

    let (sent_tx, mut sent_rx) = tokio::sync::oneshot::channel::<anyhow::Result<()>>();
    let mut sent_tx = Some(sent_tx);
    let mut all_sent = false;
    let mut last_activity = Instant::now();
    let wait = args.wait;
    let (repeat, interval) = (args.data.repeat, args.data.interval);
    // What a finite send must have written by the time the connection closes: a peer that
    // hangs up first makes the script fail, not pass with half its data unsent.
    let expected = match repeat {
        Some(0) => None,
        n => {
            let rounds = n.unwrap_or(1);
            let all: u64 = items.iter().map(|m| m.total_len(rounds)).sum();
            Some(all + file.as_ref().map_or(0, |f| f.size))
        }
    };
    let mut written = None;
    loop {
        let quiet = tokio::time::sleep_until(last_activity + wait);
        tokio::select! {
            ev = events.recv() => {
                let Some(ev) = ev else { break };
                last_activity = Instant::now();
                if let EventKind::Closed { bytes_out, .. } = ev.kind {
                    written = Some(bytes_out);
                }
                if let EventKind::Connected { .. } = ev.kind {
                    if let Some(tx) = sent_tx.take() {
                        let commands = commands.clone();
                        let (items, file) = (items.clone(), file.clone());
                        tokio::spawn(async move {
                            let mut res = sending::rounds(&commands, Target::Default, &items, repeat, interval).await;
                            if let (Ok(()), Some(f)) = (&res, file) {
                                res = sending::file_rounds(&commands, Target::Default, &f, None, interval).await;
                            }
                            let _ = tx.send(res);
                        });
                    }
                }
                let end = out.event(&ev).await;
                if let Err(e) = &end {
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        return Ok(ExitCode::SUCCESS);
                    }
                }
                end?;
                if events.is_empty() {
                    out.flush().await?;
                }
            }
            res = &mut sent_rx, if !all_sent => {
                all_sent = true;
                last_activity = Instant::now();
                if let Ok(Err(e)) = res {
                    out.error(&format!("{e:#}")).await?;
                }
            }
            _ = quiet, if all_sent => {
                let _ = commands.send(Command::Quit).await;
                // Drain the closing events, then stop.
                if out.pump(&mut events).await? == PumpEnd::StdoutClosed {
                    return Ok(ExitCode::SUCCESS);
                }
                break;
            }
            _ = tokio::signal::ctrl_c() => {
                let _ = commands.send(Command::Quit).await;
            }
        }
    }
    out.flush().await?;
    let code = finish(done, &out, Role::Client).await?;
    if let (Some(expected), Some(written), ExitCode::SUCCESS) = (expected, written, code) {
        if written < expected {
            eprintln!(
                "socklab: the peer closed the connection after {written} of {expected} bytes were sent; the rest was not sent"
            );
            return Ok(ExitCode::from(1));
        }
    }
    // Something the script asked for was not sent: say so in the exit status too.
    if out.failed && code == ExitCode::SUCCESS {
        return Ok(ExitCode::from(1));
    }
    Ok(code)
}
