//! socklab's network toolbox: the utilities a person reaches for around sockets.
//!
//! Each module is one command of the binary, and each returns a plain, serializable report
//! rather than printing: the command line prints it as a table or as JSON, and the terminal
//! and web UIs can show the same report. Nothing here knows about a terminal.

pub mod convert;
pub mod dns;
pub mod error;
pub mod host;
pub mod ifaces;
pub mod ping;
pub mod ports;
pub mod scan;
pub mod subnet;
pub mod trace;

pub use error::{Error, Result};
