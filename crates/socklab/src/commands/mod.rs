//! One module per subcommand; `face.rs` drives a session for connect, listen and send.

pub mod connect;
pub mod demo;
pub mod face;
pub mod interactive;
pub mod listen;
pub mod send;
