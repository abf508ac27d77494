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

    /// base64 input that is not base64.
    #[error("bad base64 '{input}': {reason}; expected the base64 alphabet (A-Z a-z 0-9 + /) with = padding")]
    Base64 { input: String, reason: String },

    /// Bytes that are not valid text in the chosen encoding.
    #[error("the bytes are not valid {encoding}: '{bytes}' at offset {offset}; expected {encoding} text (or another -e/--encoding, or --to hex)")]
    Undecodable {
        encoding: &'static str,
        offset: usize,
        bytes: String,
    },

    /// `socklab ifaces NAME` with a name the machine does not have.
    #[error("no interface named '{name}'; expected one of: {known}")]
    NoSuchInterface { name: String, known: String },

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
            Error::NotYet(_)
            | Error::Subnet { .. }
            | Error::Address { .. }
            | Error::Base64 { .. }
            | Error::Undecodable { .. }
            | Error::NoSuchInterface { .. } => true,
        }
    }
}
