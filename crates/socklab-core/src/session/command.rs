//! What a face asks of a session.

use bytes::Bytes;

use super::event::PeerId;

/// Which peers a send goes to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Target {
    /// The session's natural target: the one peer of a client, every client of a stream
    /// server, the last sender of a datagram server (whom an answer is usually for).
    #[default]
    Default,
    All,
    Peer(PeerId),
    /// A peer by its address as shown (`127.0.0.1:5000`, `unix:/tmp/c.sock`). A datagram
    /// server may also send to an address it has not heard from yet.
    Addr(String),
}

/// A request from a face. Commands are queued in order; each data send is written whole
/// before the next one starts, so lines never interleave on the wire.
#[derive(Debug, Clone)]
pub enum Command {
    /// Write bytes to the target peers. Over a datagram transport, one datagram.
    Send { to: Target, bytes: Bytes },
    /// Write bytes cut into pieces of at most `size` bytes: over a datagram transport, one
    /// datagram per piece (a pipe's stdin cut by `--packet-size`); a stream sends it whole.
    /// One command for many datagrams keeps a fast pipe from paying a task wakeup each.
    SendPieces {
        to: Target,
        bytes: Bytes,
        size: usize,
        /// A piece of a file being sent (`/file`, `--file`, the UIs' file send): its `Sent`
        /// events say so ([`Data::file`](super::event::Data::file)), so a face can show one
        /// progress line for the file, as NetAssist does, rather than every piece.
        file: bool,
    },
    /// Close one peer's connection.
    Kick(PeerId),
    /// Shut down the sending side towards the target (half-close): the peer reads end of
    /// stream but can still answer.
    ShutdownWrite(Target),
    /// End the session: close every connection and stop listening.
    Quit,
}
