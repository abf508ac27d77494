//! The session engine and the only types a face touches: [`Command`] in, [`Event`] out.

pub mod access;
mod broker;
mod command;
mod datagram;
mod engine;
mod event;
mod peer;
mod peers;
pub mod relay;
pub mod reply;

pub use access::AccessPolicy;
pub use command::{Command, Target};
pub use engine::{open_stream, open_tcp, Session, SessionConfig};
pub use event::{
    format_time, Addr, CertInfo, CloseReason, Cred, Data, Direction, Event, EventKind, Peer,
    PeerId, Scheme, TimeFormat, Verified,
};
pub use peers::{PeerStats, PeerTable};
pub use reply::{Replies, Rule};
