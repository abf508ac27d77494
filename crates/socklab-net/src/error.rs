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

    /// `trace`: a URL typed without `http://` or `https://`.
    #[error("'{input}' has no scheme; expected http://{input} or https://{input}")]
    NoScheme { input: String },

    /// `trace`: a URL whose scheme is not HTTP.
    #[error("unsupported scheme '{scheme}' in '{input}'; expected an http:// or https:// URL (trace speaks HTTP/1.1)")]
    UnsupportedScheme { input: String, scheme: String },

    /// `trace`: a URL that cannot be parsed, or one trace cannot send.
    #[error("bad URL '{input}': {reason}; expected http://HOST[:PORT][/PATH] or https://...")]
    BadUrl { input: String, reason: String },

    /// `trace -H`: not `Name: value`.
    #[error("bad header '{input}': {reason}; expected 'Name: value' as in -H 'Accept: text/html' (or 'Name:' to leave out a header trace sends by default)")]
    BadHeader { input: String, reason: String },

    /// `trace -X`: not an HTTP method token.
    #[error("bad method '{input}': {reason}; expected a word such as GET, POST, PUT, DELETE, HEAD or OPTIONS")]
    BadMethod { input: String, reason: String },

    /// `trace`: a phase failed (DNS, TCP connect, TLS, the request, the response, the
    /// body, a redirect); the message starts with the phase.
    #[error("{0}")]
    Trace(String),

    /// `trace --fail`: the server answered with an error status.
    #[error("the server answered {status} (--fail)")]
    HttpStatus { status: String },

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
            Error::NoScheme { .. }
            | Error::UnsupportedScheme { .. }
            | Error::BadUrl { .. }
            | Error::BadHeader { .. }
            | Error::BadMethod { .. } => true,
            Error::Trace(_) | Error::HttpStatus { .. } => false,
        }
    }
}
