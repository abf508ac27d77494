//! The one error type of socklab-net.
//!
//! As in socklab-core, every message is written for the person at the keyboard: what was
//! wrong and what was expected, on one line, because the binary prints it as it is.

/// Everything that can go wrong in a toolbox command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An error from the engine (a bad encoding label, bad hex, a failed connect ...).
    #[error(transparent)]
    Core(#[from] socklab_core::Error),

    /// A network for the subnet calculator that could not be read.
    #[error("bad network '{input}': {reason}; expected CIDR such as 192.168.1.0/24, IP/MASK such as 192.168.1.1/255.255.255.0, or IP MASK")]
    Subnet { input: String, reason: String },

    /// An IP address that could not be read.
    #[error("bad address '{input}'; expected {expected}")]
    Address {
        input: String,
        expected: &'static str,
    },

    /// The command is not built yet.
    #[error("{0} is not available yet")]
    NotYet(&'static str),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// True when the user gave bad input (exit status 2) rather than the network failing
    /// (exit status 1).
    pub fn is_usage(&self) -> bool {
        match self {
            Error::Core(e) => e.is_usage(),
            Error::NotYet(_) | Error::Subnet { .. } | Error::Address { .. } => true,
        }
    }
}
