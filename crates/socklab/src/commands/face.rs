//! Driving a session from the command line: output pump, input (editor, stdin or prepared
//! data), Ctrl-C, and the exit status.

use std::process::ExitCode;

use socklab_core::codec::message::Message;
use socklab_core::session::{CloseReason, Command, Session, Target};
use tokio::sync::mpsc;

use crate::cli::DataArgs;
use crate::input::InputSpec;
use crate::mode::{self, Terminals};
use crate::output::{open_log, Output, PumpEnd, Sink};
use crate::printer::{Printer, Role};
use crate::sending::{self, FileToSend};
use crate::UsageError;

/// Everything a face needs besides the session.
pub struct Face {
    pub role: Role,
    pub data: DataArgs,
    pub spec: InputSpec,
    pub file: Option<FileToSend>,
    /// Half-close when stdin ends (for datagrams: stop sending, wait `--wait` for replies).
    pub shutdown_at_eof: bool,
    /// The session moves datagrams (udp, unixgram).
    pub datagram: bool,
    /// Bytes per send when forwarding stdin raw: the packet size for datagrams.
    pub chunk: usize,
}

impl Face {
    /// Validate what can be validated before any socket is opened: the file and the log.
    pub fn check_file(data: &DataArgs) -> anyhow::Result<Option<FileToSend>> {
        Ok(match &data.file {
            // A file goes out in chunks of whatever size the socket takes; a checksum per
            // chunk would be meaningless and one over the whole file is not what a device
            // frame wants, so the two are refused together rather than one silently ignored.
            Some(_) if data.checksum.is_some() => {
                return Err(UsageError(
                    "--checksum is appended to each message (DATA, a typed line, /hex), and a --file is sent as it is in chunks; expected one or the other".into(),
                )
                .into())
            }
            Some(p) => Some(FileToSend::check(p)?),
            None => None,
        })
    }

    pub(crate) fn output(&self, sink: Sink, t: &Terminals) -> anyhow::Result<Output> {
        let log = match &self.data.log {
            Some(p) => Some(open_log(p)?),
            None => None,
        };
        let printer = Printer::new(mode::print_options(&self.data, t, self.role));
        let mut out = Output::new(printer, sink, log);
        if let Some(f) = &self.file {
            if t.stderr && !t.interactive() {
                let (_bar, observe) = sending::progress(f.size);
                out.observers.push(Box::new(observe));
            }
        }
        Ok(out)
    }

    /// Run an interactive or piped session to its end.
    pub async fn drive(self, session: Session) -> anyhow::Result<ExitCode> {
        let t = Terminals::detect();
        if t.interactive() {
            return super::interactive::run(self, session, &t).await;
        }
        let Session {
            commands,
            mut events,
            done,
        } = session;
        let mut out = self.output(Sink::stdout(), &t)?;
        let (err_tx, mut err_rx) = mpsc::unbounded_channel::<String>();
        let target = Target::Default;
        // A server has no one to send to before the first client: like nc -l, read stdin
        // only once someone is connected.
        let (first_tx, first_rx) = tokio::sync::oneshot::channel::<()>();
        let mut first_tx = Some(first_tx);
        out.observers.push(Box::new(move |ev| {
            if matches!(ev.kind, socklab_core::session::EventKind::Connected { .. }) {
                if let Some(tx) = first_tx.take() {
                    let _ = tx.send(());
                }
            }
        }));
        let wait_for_client = self.role == Role::Server;
        // Data from the command line first (the file), then stdin.
        let feeder = {
            let commands = commands.clone();
            let file = self.file.clone();
            // With a checksum each line is a frame to append it to, not a raw chunk.
            let by_lines =
                t.stdin || self.data.hex || self.data.eol.is_some() || self.data.checksum.is_some();
            let (spec, shut) = (self.spec, self.shutdown_at_eof);
            let (repeat, interval) = (self.data.repeat, self.data.interval);
            let chunk = self.chunk;
            tokio::spawn(async move {
                if wait_for_client && first_rx.await.is_err() {
                    return;
                }
                if let Some(f) = file {
                    if let Err(e) =
                        sending::file_rounds(&commands, target.clone(), &f, repeat, interval).await
                    {
                        let _ = err_tx.send(format!("{e:#}"));
                    }
                }
                sending::stdin(commands, target, spec, by_lines, chunk, shut, err_tx).await;
            })
        };
        let end = loop {
            tokio::select! {
                end = out.pump(&mut events) => break end?,
                Some(msg) = err_rx.recv() => out.error(&msg).await?,
                _ = tokio::signal::ctrl_c() => {
                    let _ = commands.send(Command::Quit).await;
                }
            }
        };
        feeder.abort();
        if end == PumpEnd::StdoutClosed {
            let _ = commands.send(Command::Quit).await;
            return Ok(ExitCode::SUCCESS);
        }
        finish(done, &out, self.role).await
    }
}

/// The exit status once the session is over: the engine's own failure (resolve, connect)
/// first, then, for a client, a connection that ended in a reset or error.
pub async fn finish(
    done: tokio::task::JoinHandle<socklab_core::Result<()>>,
    out: &Output,
    role: Role,
) -> anyhow::Result<ExitCode> {
    match done.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(e.into()),
        Err(e) => anyhow::bail!("the session stopped unexpectedly: {e}"),
    }
    if role == Role::Client {
        if let Some((peer, reason)) = &out.last_close {
            if matches!(reason, CloseReason::Reset | CloseReason::Error(_)) {
                eprintln!(
                    "socklab: connection to {}: {}",
                    peer.addr,
                    reason.describe()
                );
                return Ok(ExitCode::from(1));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Parse every DATA argument before connecting: a bad one (escape, placeholder, encoding)
/// is a usage error and nothing is sent.
pub fn prepare(spec: &InputSpec, items: &[String]) -> anyhow::Result<Vec<Message>> {
    items
        .iter()
        .map(|d| spec.message(d).map_err(Into::into))
        .collect()
}
