//! `connect --script FILE`: a list of send / expect / wait steps run over one open
//! connection, for the multi-step exchanges (log in, then ask, then check the answer) that
//! a one-shot `send` cannot do and an interactive session cannot automate.
//!
//! [`parse`] turns the file's text into [`Script`] steps (pure, so every mistake is found
//! before anything connects); [`run`] plays them over a [`crate::session::Session`], using
//! only the commands and events every face uses.

mod parse;
mod run;

use std::time::Duration;

use serde::Serialize;

use crate::codec::pattern::Pattern;
use crate::codec::template::Template;

pub use parse::parse;
pub use run::{run, FailReason, Failure, Outcome, ScriptRun};

/// How long an `expect` waits when the script has not said (`timeout DUR`): long enough for
/// a slow device on a slow link, short enough that a wrong guess fails a CI job quickly.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// A parsed script: its steps in order.
#[derive(Debug, Clone)]
pub struct Script {
    pub steps: Vec<Step>,
}

/// One line of a script that does something.
#[derive(Debug, Clone)]
pub struct Step {
    /// The line in the file (from 1), for messages that point the user back at it.
    pub line: usize,
    /// The step's argument as written (`LOGIN admin\r\n`, `re:^OK`), for messages.
    pub text: String,
    pub action: Action,
}

#[derive(Debug, Clone)]
pub enum Action {
    /// Send these bytes; placeholders are filled in when the step runs.
    Send(Template),
    /// Wait until the bytes received since the last match contain the pattern.
    Expect { pattern: Pattern, timeout: Duration },
    /// Pause, still receiving.
    Wait(Duration),
    /// Shut down our sending side and wait for the peer to close.
    Close { timeout: Duration },
}

/// The verb of a step, as events and messages name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Send,
    Expect,
    Wait,
    Close,
}

impl StepKind {
    pub fn name(self) -> &'static str {
        match self {
            StepKind::Send => "send",
            StepKind::Expect => "expect",
            StepKind::Wait => "wait",
            StepKind::Close => "close",
        }
    }
}

impl Step {
    pub fn kind(&self) -> StepKind {
        match self.action {
            Action::Send(_) => StepKind::Send,
            Action::Expect { .. } => StepKind::Expect,
            Action::Wait(_) => StepKind::Wait,
            Action::Close { .. } => StepKind::Close,
        }
    }
}
