//! The interactive session: a line editor (history, editing) whose prompt stays intact while
//! received data prints above it — the "send and receive at the same time" the seed's
//! tutorial ends on.

use std::fmt::Write as _;
use std::process::ExitCode;

use futures_util::AsyncWriteExt;
use rustyline_async::{Readline, ReadlineEvent, SharedWriter};
use socklab_core::codec::message::Message;
use socklab_core::session::{format_time, Command, Session, Target, TimeFormat};
use tokio::task::JoinHandle;

use super::face::{finish, Face};
use crate::input::{parse_typed, Slash, Typed, HELP};
use crate::mode::Terminals;
use crate::output::{PumpEnd, Sink};
use crate::printer::{Role, Style};
use crate::sending::{self, FileToSend};

/// Prompt for the current target: where a typed line goes.
fn prompt(role: Role, target: &Target, datagram: bool) -> String {
    match (role, target) {
        (Role::Client, _) => "> ".into(),
        (Role::Server, Target::Default) if datagram => "last> ".into(),
        (Role::Server, Target::All | Target::Default) => "all> ".into(),
        (Role::Server, Target::Peer(id)) => format!("#{id}> "),
        (Role::Server, Target::Addr(a)) => format!("{a}> "),
    }
}

struct Console {
    face: Face,
    commands: tokio::sync::mpsc::Sender<Command>,
    writer: SharedWriter,
    style: Style,
    target: Target,
    table: std::sync::Arc<std::sync::Mutex<socklab_core::session::PeerTable>>,
    /// A `--repeat` loop or a file transfer in progress; `/stop` ends it.
    background: Option<JoinHandle<()>>,
}

enum Flow {
    Continue,
    Quit,
}

pub async fn run(face: Face, session: Session, t: &Terminals) -> anyhow::Result<ExitCode> {
    let Session {
        commands,
        mut events,
        done,
    } = session;
    let role = face.role;
    let (mut rl, writer) = Readline::new(prompt(role, &Target::Default, face.datagram))
        .map_err(|e| anyhow::anyhow!("cannot start the line editor: {e}"))?;
    // The typed line is shown again as a `→` sent line, with its bytes; keeping the echo of
    // the editor too would print every line twice.
    rl.should_print_line_on(false, false);
    let mut out = face.output(Sink::Editor(writer.clone()), t)?;
    let style = out.printer.options().style;
    let table = out.table.clone();
    let mut pump = tokio::spawn(async move {
        let end = out.pump(&mut events).await;
        (out, end)
    });
    let mut console = Console {
        face,
        commands,
        writer,
        style,
        target: Target::Default,
        table,
        background: None,
    };
    if let Some(f) = console.face.file.clone() {
        console.start_file(f);
    }
    let (out, end) = loop {
        tokio::select! {
            line = rl.readline() => match line {
                Ok(ReadlineEvent::Line(line)) => {
                    if !line.trim().is_empty() {
                        rl.add_history_entry(line.clone());
                    }
                    match console.line(&line).await {
                        Flow::Continue => {
                            let p = prompt(role, &console.target, console.face.datagram);
                            let _ = rl.update_prompt(&p);
                        }
                        Flow::Quit => {
                            let _ = console.commands.send(Command::Quit).await;
                        }
                    }
                }
                Ok(ReadlineEvent::Eof) => {
                    // Ctrl-D: like stdin EOF in a pipe — half-close, keep reading.
                    console.note("(Ctrl-D) shutting down our sending side; /quit or Ctrl-C to exit").await;
                    let _ = console.commands.send(Command::ShutdownWrite(console.target.clone())).await;
                }
                Ok(ReadlineEvent::Interrupted) | Err(_) => {
                    let _ = console.commands.send(Command::Quit).await;
                }
            },
            joined = &mut pump => {
                break match joined {
                    Ok(pair) => pair,
                    Err(e) => anyhow::bail!("the output task stopped unexpectedly: {e}"),
                };
            }
        }
    };
    if let Some(bg) = console.background.take() {
        bg.abort();
    }
    let _ = rl.flush();
    drop(rl);
    if end? == PumpEnd::StdoutClosed {
        return Ok(ExitCode::SUCCESS);
    }
    finish(done, &out, role).await
}

impl Console {
    async fn write(&mut self, bytes: &[u8]) {
        // No flush: see `Sink::flush`; every note ends with a newline.
        let _ = self.writer.write_all(bytes).await;
    }

    async fn note(&mut self, text: &str) {
        let mut out = Vec::new();
        for line in text.lines() {
            self.style.paint(&mut out, "2", line);
            out.push(b'\n');
        }
        self.write(&out).await;
    }

    async fn error(&mut self, text: &str) {
        let mut out = Vec::new();
        self.style.paint(&mut out, "31", &format!("! {text}"));
        out.push(b'\n');
        self.write(&out).await;
    }

    /// A single send is queued before the next line is read, so typed lines (and a
    /// `/to` between them) reach the engine in the order they were typed; only a
    /// `--repeat` loop runs in the background.
    async fn send_message(&mut self, message: Message) {
        let to = self.target.clone();
        let (repeat, interval) = (self.face.data.repeat, self.face.data.interval);
        let items = [message];
        if repeat.is_none() {
            if let Err(e) = sending::rounds(&self.commands, to, &items, None, interval).await {
                self.error(&format!("not sent: {e:#}")).await;
            }
            return;
        }
        let commands = self.commands.clone();
        let writer = self.writer.clone();
        let task = tokio::spawn(async move {
            if let Err(e) = sending::rounds(&commands, to, &items, repeat, interval).await {
                let mut w = writer;
                let _ = w.write_all(format!("! not sent: {e:#}\n").as_bytes()).await;
            }
        });
        // One loop at a time, as in NetAssist: a new one replaces the old.
        if let Some(old) = self.background.replace(task) {
            old.abort();
        }
    }

    fn start_file(&mut self, f: FileToSend) {
        let commands = self.commands.clone();
        let to = self.target.clone();
        let (repeat, interval) = (self.face.data.repeat, self.face.data.interval);
        let writer = self.writer.clone();
        let task = tokio::spawn(async move {
            let mut w = writer;
            let msg = match sending::file_rounds(&commands, to, &f, repeat, interval).await {
                Ok(()) => format!("* queued {} ({} bytes)\n", f.path.display(), f.size),
                Err(e) => format!("! {e:#}\n"),
            };
            let _ = w.write_all(msg.as_bytes()).await;
        });
        if let Some(old) = self.background.replace(task) {
            old.abort();
        }
    }

    async fn line(&mut self, line: &str) -> Flow {
        let typed = match parse_typed(line) {
            Ok(t) => t,
            Err(e) => {
                self.error(&e).await;
                return Flow::Continue;
            }
        };
        match typed {
            Typed::Data(text) => match self.face.spec.message(&text) {
                Ok(message) => self.send_message(message).await,
                Err(e) => self.error(&format!("not sent: {e}")).await,
            },
            Typed::Cmd(Slash::Hex(h)) => match self.face.spec.hex_message(&h) {
                Ok(message) => self.send_message(message).await,
                Err(e) => self.error(&format!("not sent: {e}")).await,
            },
            Typed::Cmd(Slash::File(p)) => match FileToSend::check(&p) {
                Ok(f) => self.start_file(f),
                Err(e) => self.error(&format!("not sent: {e}")).await,
            },
            Typed::Cmd(Slash::Help) => self.note(HELP).await,
            Typed::Cmd(Slash::Stats) => {
                let text = self.stats();
                self.note(&text).await;
            }
            Typed::Cmd(Slash::List) => {
                let text = self.list();
                self.note(&text).await;
            }
            Typed::Cmd(Slash::To(to)) => {
                if self.face.role != Role::Server {
                    self.error("/to is for servers (socklab listen); a client has one peer")
                        .await;
                } else if let Target::Peer(id) = to {
                    let known = self.table.lock().is_ok_and(|t| t.peers.contains_key(&id));
                    if known {
                        self.target = to;
                    } else {
                        self.error(&format!("no client #{id}; /list shows who is connected"))
                            .await;
                    }
                } else {
                    self.target = to;
                }
            }
            Typed::Cmd(Slash::Kick(id)) => {
                if self.face.role != Role::Server {
                    self.error("/kick is for servers (socklab listen); use /quit to close")
                        .await;
                } else {
                    let _ = self.commands.send(Command::Kick(id)).await;
                    if self.target == Target::Peer(id) {
                        self.target = Target::Default;
                    }
                }
            }
            Typed::Cmd(Slash::Eof) => {
                let _ = self
                    .commands
                    .send(Command::ShutdownWrite(self.target.clone()))
                    .await;
            }
            Typed::Cmd(Slash::Stop) => match self.background.take() {
                Some(bg) => {
                    bg.abort();
                    self.note("stopped").await;
                }
                None => {
                    self.error("nothing to stop: no --repeat loop or file is running")
                        .await
                }
            },
            Typed::Cmd(Slash::Quit) => return Flow::Quit,
        }
        Flow::Continue
    }

    fn stats(&self) -> String {
        let Ok(t) = self.table.lock() else {
            return String::new();
        };
        let mut s = String::new();
        let c = t.totals;
        let _ = write!(
            s,
            "received {} bytes in {} chunks, sent {} bytes in {} chunks",
            c.bytes_in, c.chunks_in, c.bytes_out, c.chunks_out
        );
        if let Some(start) = t.started {
            let secs = jiff::Timestamp::now().duration_since(start).as_secs_f64();
            let _ = write!(s, ", over {secs:.1}s");
        }
        if self.face.role == Role::Server {
            let _ = write!(
                s,
                "; {} connected, {} served in all",
                t.peers.len(),
                t.served
            );
        }
        s
    }

    fn list(&self) -> String {
        let Ok(t) = self.table.lock() else {
            return String::new();
        };
        if t.peers.is_empty() {
            return if self.face.datagram {
                "no one has sent a datagram yet".into()
            } else {
                "no clients connected".into()
            };
        }
        let mut s = String::from(
            "id   address                  since          in (bytes/chunks)   out (bytes/chunks)\n",
        );
        for (id, p) in &t.peers {
            let mark = if self.target == Target::Peer(*id) {
                "*"
            } else {
                " "
            };
            let _ = writeln!(
                s,
                "#{id:<3}{mark}{:<24} {:<14} {:>10}/{:<8} {:>10}/{:<8}",
                p.addr.to_string(),
                format_time(&p.since, TimeFormat::Clock).to_string(),
                p.counts.bytes_in,
                p.counts.chunks_in,
                p.counts.bytes_out,
                p.counts.chunks_out
            );
        }
        s
    }
}
