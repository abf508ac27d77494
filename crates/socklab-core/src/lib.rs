//! socklab-core: the engine behind every face of socklab.
//!
//! - [`endpoint`]: what the user typed (`127.0.0.1:7788`, `tcp://[::1]:80`, `7788`) as a value.
//! - [`codec`]: text and bytes — encodings with streaming decoders, hex, escapes, hexdump.
//! - [`transport`]: opening sockets (happy-eyeballs connect, dual-stack listen) and the raw pipe.
//! - [`cidr`]: address ranges (`10.0.0.0/8`) for `--allow`/`--deny` and the subnet calculator.
//! - [`session`]: the engine. Faces send [`session::Command`]s and read [`session::Event`]s;
//!   no face opens a socket itself.
//! - [`script`]: `--script` files of send / expect / wait steps, run over a session.

pub mod addr;
pub mod cidr;
pub mod codec;
pub mod endpoint;
pub mod error;
pub mod script;
pub mod session;
pub mod transport;

pub use error::{Error, Result};
