//! Playing a script over a session: steps become [`Command`]s, and `Received` events feed
//! the expects. Every session event is passed on unchanged, with a `step` event after each
//! step, so a face prints a script run the way it prints any session.

use std::fmt::{self, Write as _};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::{Action, Script, Step, StepKind};
use crate::codec::Encoding;
use crate::error::humanize;
use crate::session::{CloseReason, Command, Event, EventKind, Session, Target};

/// Unread bytes kept for the expects. A peer that streams without pause while an expect
/// waits would otherwise grow the buffer without end; a match longer than this is not what
/// a script waits for, so the oldest bytes go first.
const MAX_UNREAD: usize = 1024 * 1024;
/// Bytes of what was received shown in a failure: enough to see a wrong answer, short
/// enough for one line.
const SHOWN_TAIL: usize = 80;
/// Events passed on but not yet taken by the face: the same back-pressure as the engine's.
const FORWARD_QUEUE: usize = 256;

/// A script running over a session, as the face holds it.
pub struct ScriptRun {
    /// To end the run early (Ctrl-C): `Command::Quit`.
    pub commands: mpsc::Sender<Command>,
    /// The session's events and the steps' events, in order.
    pub events: mpsc::Receiver<Event>,
    /// How the script went; ready once `events` has ended.
    pub outcome: JoinHandle<Outcome>,
    /// The session's own outcome (resolve or connect failures).
    pub done: JoinHandle<crate::Result<()>>,
}

/// How a script run ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Every step passed.
    Passed,
    /// The session ended before it connected: its `done` says why.
    NotConnected,
    /// A step failed; the later steps did not run.
    Failed(Failure),
}

#[derive(Debug, Clone)]
pub struct Failure {
    pub index: usize,
    pub total: usize,
    pub line: usize,
    pub kind: StepKind,
    pub text: String,
    pub reason: FailReason,
    /// The last bytes received and not matched, escaped.
    pub received: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailReason {
    /// An expect (or a close) waited its whole timeout.
    Timeout(Duration),
    /// The peer closed the connection before the step could pass.
    PeerClosed,
    /// The connection failed (reset, an I/O error), or a send could not be made.
    Network(String),
    /// We closed the connection ourselves (Ctrl-C) before the script was done.
    Stopped,
}

impl FailReason {
    fn describe(&self, kind: StepKind) -> String {
        match (self, kind) {
            (FailReason::Timeout(d), StepKind::Close) => {
                format!("the peer did not close within {}", humanize(*d))
            }
            (FailReason::Timeout(d), _) => format!("no match within {}", humanize(*d)),
            (FailReason::PeerClosed, _) => "the peer closed the connection first".into(),
            (FailReason::Network(e), _) => e.clone(),
            (FailReason::Stopped, _) => "stopped before the script was done".into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "step {}/{} (line {}) {}",
            self.index,
            self.total,
            self.line,
            self.kind.name()
        )?;
        if !self.text.is_empty() {
            write!(f, " \"{}\"", self.text)?;
        }
        write!(
            f,
            " failed: {}; received instead: \"{}\"",
            self.reason.describe(self.kind),
            self.received
        )
    }
}

/// Run `script` over `session`, decoding regular expressions' text in `encoding`.
pub fn run(script: Script, session: Session, encoding: Encoding) -> ScriptRun {
    let Session {
        commands,
        events,
        done,
    } = session;
    let (forward, face_events) = mpsc::channel(FORWARD_QUEUE);
    let mut runner = Runner {
        commands: commands.clone(),
        events,
        forward,
        encoding,
        unread: Vec::new(),
        closed: None,
        ended: false,
        connected: false,
    };
    let outcome = tokio::spawn(async move { runner.play(&script).await });
    ScriptRun {
        commands,
        events: face_events,
        outcome,
        done,
    }
}

struct Runner {
    commands: mpsc::Sender<Command>,
    events: mpsc::Receiver<Event>,
    forward: mpsc::Sender<Event>,
    encoding: Encoding,
    /// Received since the last match: what the next expect looks in.
    unread: Vec<u8>,
    closed: Option<CloseReason>,
    /// The session's event stream is over.
    ended: bool,
    connected: bool,
}

/// What waiting for the next event gave.
enum Next {
    Event,
    Ended,
    Deadline,
}

impl Runner {
    async fn play(&mut self, script: &Script) -> Outcome {
        while !self.connected {
            if let Next::Ended = self.next(None).await {
                return Outcome::NotConnected;
            }
        }
        let total = script.steps.len();
        let mut sends = 0;
        let mut outcome = Outcome::Passed;
        for (i, step) in script.steps.iter().enumerate() {
            let started = Instant::now();
            let result = match &step.action {
                Action::Send(template) => {
                    sends += 1;
                    self.send(template, sends).await
                }
                Action::Expect { pattern, timeout } => {
                    self.expect(pattern, started + *timeout, *timeout).await
                }
                Action::Wait(d) => {
                    self.wait(started + *d).await;
                    Ok(Passed::default())
                }
                Action::Close { timeout } => self.close(started + *timeout, *timeout).await,
            };
            let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            match result {
                Ok(passed) => {
                    self.emit(step_event(
                        step,
                        i + 1,
                        total,
                        ms,
                        Ok(passed),
                        String::new(),
                    ))
                    .await;
                }
                Err(reason) => {
                    let received = escape_tail(&self.unread);
                    let failure = Failure {
                        index: i + 1,
                        total,
                        line: step.line,
                        kind: step.kind(),
                        text: step.text.clone(),
                        reason: reason.clone(),
                        received: received.clone(),
                    };
                    self.emit(step_event(step, i + 1, total, ms, Err(reason), received))
                        .await;
                    outcome = Outcome::Failed(failure);
                    break;
                }
            }
        }
        if self.closed.is_none() {
            let _ = self.commands.send(Command::Quit).await;
        }
        // Pass on the closing events; the engine ends its stream once the connection is
        // closed, which the quit above makes prompt.
        while !self.ended {
            self.next(None).await;
        }
        outcome
    }

    async fn send(&mut self, template: &super::Template, round: u64) -> Result<Passed, FailReason> {
        if self.closed.is_some() || self.ended {
            return Err(FailReason::PeerClosed);
        }
        let bytes = template
            .render(round)
            .map_err(|e| FailReason::Network(e.to_string()))?;
        let len = bytes.len();
        self.commands
            .send(Command::Send {
                to: Target::Default,
                bytes: Bytes::from(bytes),
            })
            .await
            .map_err(|_| FailReason::PeerClosed)?;
        Ok(Passed {
            len: Some(len),
            matched: None,
        })
    }

    async fn expect(
        &mut self,
        pattern: &crate::codec::pattern::Pattern,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<Passed, FailReason> {
        loop {
            if let Some(found) = pattern.find(&self.unread, self.encoding) {
                // Bytes after the match stay for the next expect: the stream is read once,
                // in order, as the peer sent it.
                self.unread.drain(..found.range.end.min(self.unread.len()));
                return Ok(Passed {
                    len: None,
                    matched: found.groups.into_iter().next().flatten(),
                });
            }
            if let Some(reason) = &self.closed {
                return Err(close_failure(reason));
            }
            match self.next(Some(deadline)).await {
                Next::Event => {}
                Next::Ended => return Err(FailReason::PeerClosed),
                Next::Deadline => return Err(FailReason::Timeout(timeout)),
            }
        }
    }

    async fn wait(&mut self, until: Instant) {
        while !self.ended {
            if let Next::Deadline = self.next(Some(until)).await {
                return;
            }
        }
        tokio::time::sleep_until(until).await;
    }

    async fn close(&mut self, deadline: Instant, timeout: Duration) -> Result<Passed, FailReason> {
        if self.closed.is_none() && !self.ended {
            // A half-close: the peer reads end of stream and may still answer, which the
            // expects after it (if any) can check in what was received meanwhile.
            let _ = self
                .commands
                .send(Command::ShutdownWrite(Target::Default))
                .await;
        }
        while self.closed.is_none() && !self.ended {
            if let Next::Deadline = self.next(Some(deadline)).await {
                return Err(FailReason::Timeout(timeout));
            }
        }
        match self.closed.as_ref().map(close_failure) {
            Some(FailReason::PeerClosed) | None => Ok(Passed::default()),
            Some(failure) => Err(failure),
        }
    }

    /// The next session event, noted and passed on; or the deadline.
    async fn next(&mut self, deadline: Option<Instant>) -> Next {
        let ev = match deadline {
            Some(at) => tokio::select! {
                ev = self.events.recv() => ev,
                _ = tokio::time::sleep_until(at) => return Next::Deadline,
            },
            None => self.events.recv().await,
        };
        let Some(ev) = ev else {
            self.ended = true;
            return Next::Ended;
        };
        match &ev.kind {
            EventKind::Connected { .. } => self.connected = true,
            EventKind::Received { data, .. } => {
                self.unread.extend_from_slice(&data.bytes);
                if self.unread.len() > MAX_UNREAD {
                    let excess = self.unread.len() - MAX_UNREAD;
                    self.unread.drain(..excess);
                }
            }
            EventKind::Closed { reason, .. } => self.closed = Some(reason.clone()),
            _ => {}
        }
        self.emit(ev).await;
        Next::Event
    }

    /// Pass an event to the face. A face that stopped reading (its stdout closed) does not
    /// stop the script: the outcome still decides the exit status.
    async fn emit(&mut self, ev: Event) {
        let _ = self.forward.send(ev).await;
    }
}

#[derive(Debug, Default)]
struct Passed {
    len: Option<usize>,
    matched: Option<String>,
}

fn close_failure(reason: &CloseReason) -> FailReason {
    match reason {
        CloseReason::Reset | CloseReason::Error(_) => FailReason::Network(reason.describe()),
        CloseReason::Local | CloseReason::Kicked => FailReason::Stopped,
        _ => FailReason::PeerClosed,
    }
}

fn step_event(
    step: &Step,
    index: usize,
    total: usize,
    ms: u64,
    result: Result<Passed, FailReason>,
    received: String,
) -> Event {
    let kind = step.kind();
    let (ok, passed, reason) = match result {
        Ok(p) => (true, p, None),
        Err(r) => (false, Passed::default(), Some(r.describe(kind))),
    };
    Event::now(EventKind::Step {
        index,
        total,
        line: step.line,
        kind,
        text: step.text.clone(),
        ok,
        ms,
        len: passed.len,
        matched: passed.matched,
        received: reason.as_ref().map(|_| received),
        reason,
    })
}

/// The last bytes received, as one line: printable ASCII as it is, `\r \n \t \\ \"`, and
/// `\xHH` for every other byte, so what is shown is exactly what came (in any encoding).
pub(crate) fn escape_tail(bytes: &[u8]) -> String {
    let from = bytes.len().saturating_sub(SHOWN_TAIL);
    let mut out = String::new();
    if from > 0 {
        out.push_str("...");
    }
    for &b in &bytes[from..] {
        match b {
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::InputOptions;
    use crate::endpoint::Endpoint;
    use crate::session::SessionConfig;
    use crate::transport::ConnectOptions;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A loopback server that writes each of `chunks` after reading one byte from the
    /// client (so a chunk answers a `send`), then waits for the client to close.
    async fn chunked_server(chunks: Vec<&'static [u8]>) -> (Endpoint, JoinHandle<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut one = [0u8; 1];
            for chunk in chunks {
                s.read_exact(&mut one).await.unwrap();
                s.write_all(chunk).await.unwrap();
            }
            let mut rest = Vec::new();
            let _ = s.read_to_end(&mut rest).await;
        });
        (Endpoint::parse_connect(&addr.to_string()).unwrap(), server)
    }

    async fn play(script: &str, ep: Endpoint) -> (Outcome, Vec<Event>) {
        let script = super::super::parse(script, "t", &InputOptions::default()).unwrap();
        let session = Session::connect(ep, ConnectOptions::default(), SessionConfig::default());
        let mut running = run(script, session, Encoding::UTF8);
        let mut seen = Vec::new();
        while let Some(ev) = running.events.recv().await {
            seen.push(ev);
        }
        (running.outcome.await.unwrap(), seen)
    }

    fn received(bytes: &'static [u8]) -> Event {
        Event::now(EventKind::Received {
            peer: crate::session::Peer {
                id: 1,
                addr: crate::session::Addr::Ip("127.0.0.1:7".parse().unwrap()),
            },
            data: crate::session::Data::new(Bytes::from_static(bytes), String::new()),
        })
    }

    #[tokio::test]
    async fn expects_read_one_stream_whatever_the_reads() {
        let (ev_tx, events) = mpsc::channel(16);
        let (commands, _cmd_rx) = mpsc::channel(16);
        let (forward, _seen) = mpsc::channel(64);
        let mut r = Runner {
            commands,
            events,
            forward,
            encoding: Encoding::UTF8,
            unread: Vec::new(),
            closed: None,
            ended: false,
            connected: true,
        };
        for chunk in [&b"O"[..], b"K\r\nNE", b"XT 42\n"] {
            ev_tx.send(received(chunk)).await.unwrap();
        }
        let far = Instant::now() + Duration::from_secs(60);
        let wait = Duration::from_secs(60);
        let opts = InputOptions::default();
        let pattern = |spec: &str| crate::codec::pattern::Pattern::parse(spec, &opts).unwrap();
        let ok = pattern("OK\\r\\n");
        let got = r.expect(&ok, far, wait).await.unwrap();
        assert_eq!(got.matched.as_deref(), Some("OK\r\n"));
        let next = pattern("NEXT");
        assert_eq!(
            r.expect(&next, far, wait).await.unwrap().matched.as_deref(),
            Some("NEXT")
        );
        // `^` is the first byte not yet matched.
        let num = pattern(r"re:^ (\d+)");
        assert_eq!(
            r.expect(&num, far, wait).await.unwrap().matched.as_deref(),
            Some(" 42")
        );
        // The stream ends: an expect fails at once, with what was left.
        drop(ev_tx);
        let more = pattern("more");
        assert_eq!(
            r.expect(&more, far, wait).await.unwrap_err(),
            FailReason::PeerClosed
        );
        assert_eq!(escape_tail(&r.unread), "\\n");
    }

    #[tokio::test]
    async fn a_script_runs_over_a_real_connection() {
        let (ep, server) = chunked_server(vec![b"O", b"K\r\nNEXT", b" 42\n"]).await;
        let (outcome, events) = play(
            "timeout 10s\nsend 1\nsend 2\nexpect OK\\r\\n\nexpect NEXT\nsend 3\nexpect re:^ (\\d+)\n",
            ep,
        )
        .await;
        assert!(matches!(outcome, Outcome::Passed), "{outcome:?}");
        let steps: Vec<_> = events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Step { ok, matched, .. } => Some((*ok, matched.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(steps.len(), 6);
        assert!(steps.iter().all(|(ok, _)| *ok));
        assert_eq!(steps[2].1.as_deref(), Some("OK\r\n"));
        assert_eq!(steps[3].1.as_deref(), Some("NEXT"));
        // `^` is the first byte not yet matched: what came after NEXT.
        assert_eq!(steps[5].1.as_deref(), Some(" 42"));
        server.await.unwrap();
    }

    #[tokio::test]
    async fn a_failed_expect_stops_the_script_and_says_what_came() {
        let (ep, server) = chunked_server(vec![b"NO\r\n"]).await;
        let (outcome, events) = play("send x\nexpect 300ms OK\nsend never\n", ep).await;
        let Outcome::Failed(f) = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!((f.index, f.total, f.line), (2, 3, 2));
        assert_eq!(f.reason, FailReason::Timeout(Duration::from_millis(300)));
        assert_eq!(f.received, "NO\\r\\n");
        assert!(f
            .to_string()
            .contains("step 2/3 (line 2) expect \"OK\" failed"));
        let sent: usize = events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Sent { .. }))
            .count();
        assert_eq!(sent, 1, "the step after the failure never ran");
        server.await.unwrap();
    }

    #[test]
    fn the_tail_is_escaped_and_short() {
        assert_eq!(escape_tail(b"DENIED\r\n"), "DENIED\\r\\n");
        assert_eq!(escape_tail(&[0, 0xff, b'"']), "\\x00\\xff\\\"");
        let long = vec![b'x'; 200];
        let shown = escape_tail(&long);
        assert_eq!(shown, format!("...{}", "x".repeat(SHOWN_TAIL)));
    }
}
