//! socklab's terminal UI: the NetAssist window in a terminal, over the same session engine
//! as the command line. It holds no socket code of its own: it sends [`Command`]s to a
//! session and draws the [`Event`]s that come back.
//!
//! [`Command`]: socklab_core::session::Command
//! [`Event`]: socklab_core::session::Event

pub mod app;
pub mod i18n;
pub mod run;
pub mod scrollback;
pub mod search;
pub mod settings;
pub mod ui;

pub use run::{run, Options};
