//! One module per subcommand; `face.rs` drives a session for connect, listen and send.

pub mod connect;
pub mod demo;
pub mod face;
pub mod interactive;
pub mod listen;
pub mod relay;
pub mod script;
pub mod send;
pub mod tui;
pub mod web;

// The network toolbox: each prints a report from socklab-net through `crate::report`.
pub mod convert;
pub mod dns;
pub mod ifaces;
pub mod ping;
pub mod ports;
pub mod scan;
pub mod subnet;
pub mod trace;
