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

    /// A name that DNS cannot carry.
    #[error("bad DNS name '{input}': {reason}; expected labels of letters, digits, '-' or '_' (at most 63 bytes each, 253 in all) separated by dots, or an IP address for a reverse lookup")]
    DnsName { input: String, reason: String },

    #[error("unknown record type '{0}'; expected one of {known}", known = crate::dns::RecordType::known())]
    DnsType(String),

    #[error("bad DNS server '{input}': {reason}; expected HOST[:PORT] such as 192.0.2.53, 127.0.0.1:5353, [::1]:5353 or ns.example.com")]
    DnsServer { input: String, reason: String },

    #[error("cannot read {path}: {source}")]
    DnsResolvConf {
        path: String,
        source: std::io::Error,
    },

    #[error("{path} names no nameserver; expected a line such as 'nameserver 192.0.2.53' (or give --server HOST[:PORT])")]
    DnsNoServers { path: String },

    /// No server gave an answer; each failure names its server.
    #[error("{} (asking for {name})", failures.join("; "))]
    DnsNoAnswer { name: String, failures: Vec<String> },

    /// A server answered, but with NXDOMAIN, SERVFAIL, REFUSED ...
    #[error("{}", crate::dns::status_line(name, status, server))]
    DnsStatus {
        name: String,
        status: String,
        server: String,
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
            Error::NotYet(_) => true,
            Error::DnsName { .. } | Error::DnsType(_) | Error::DnsServer { .. } => true,
            Error::DnsResolvConf { .. }
            | Error::DnsNoServers { .. }
            | Error::DnsNoAnswer { .. }
            | Error::DnsStatus { .. } => false,
        }
    }
}
