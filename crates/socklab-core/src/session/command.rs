//! What a face asks of a session.

use bytes::Bytes;

use super::event::PeerId;

/// Which peers a send goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    All,
    Peer(PeerId),
}

/// A request from a face. Commands are queued in order; each data send is written whole
/// before the next one starts, so lines never interleave on the wire.
#[derive(Debug, Clone)]
pub enum Command {
    /// Write bytes to the target peers.
    Send { to: Target, bytes: Bytes },
    /// Close one peer's connection.
    Kick(PeerId),
    /// Shut down the sending side towards the target (half-close): the peer reads end of
    /// stream but can still answer.
    ShutdownWrite(Target),
    /// End the session: close every connection and stop listening.
    Quit,
}
