//! The one error type of socklab-core.
//!
//! Messages are written for the person at the keyboard: each says what was wrong and what
//! was expected, because the binary prints them as they are, on one line.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

/// Everything that can go wrong in the engine, the codec or a transport.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The endpoint text could not be parsed.
    #[error("bad endpoint '{input}': {reason}; expected {expected}")]
    Endpoint {
        input: String,
        reason: String,
        expected: &'static str,
    },

    /// Hex input with a non-hex character or an odd number of digits.
    #[error("bad hex '{input}': {reason}; expected pairs of hex digits such as '48 65 6c', '48656c' or '0x48,0x65'")]
    Hex { input: String, reason: String },

    /// A backslash escape that the text input does not know.
    #[error("bad escape in '{input}': {reason}; expected \\r \\n \\t \\0 \\\\ or \\xHH (or --no-escapes to send backslashes as they are)")]
    Escape { input: String, reason: String },

    /// A `--checksum` that names no known algorithm or byte order.
    #[error(
        "bad checksum '{input}': {reason}; expected {}",
        crate::codec::checksum::EXPECTED
    )]
    Checksum { input: String, reason: String },

    /// A payload template placeholder that is malformed (`{rand:x}`, `{hex:zz}`, unclosed).
    #[error(
        "bad template in '{input}': {reason}; expected {}",
        crate::codec::template::EXPECTED
    )]
    Template { input: String, reason: String },

    /// The operating system would not give random bytes for `{rand:N}`.
    #[error("cannot get random bytes for {{rand:N}}: {reason}")]
    Random { reason: String },

    /// An encoding label that encoding_rs does not know.
    #[error("unknown encoding '{0}'; expected a label such as utf-8, gbk, gb18030, big5, shift_jis, euc-kr, windows-1252, utf-16le, utf-16be or auto")]
    UnknownEncoding(String),

    /// Text holds a character the chosen encoding cannot represent.
    #[error("the character '{ch}' cannot be encoded in {encoding}; expected text that {encoding} can represent (or another -e/--encoding, or --hex)")]
    Unencodable { ch: char, encoding: &'static str },

    /// A duration such as `500ms` that could not be read.
    #[error(
        "bad duration '{input}': {reason}; expected a number with a unit such as 500ms, 2s or 1m"
    )]
    Duration { input: String, reason: String },

    /// Name resolution failed or returned nothing.
    #[error("cannot resolve '{host}': {reason}")]
    Resolve { host: String, reason: String },

    /// Every address of the target refused or failed.
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },

    /// The connect phase went over `--connect-timeout`.
    #[error("connecting to {target} timed out after {}", humanize(*.after))]
    ConnectTimeout { target: String, after: Duration },

    /// Binding or listening failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: io::Error,
    },

    /// A Unix socket name that cannot be used (too long for `sun_path`, empty).
    #[error("bad Unix socket name '{path}': {reason}")]
    UnixPath { path: String, reason: String },

    /// A Unix socket path that `listen` will not take over.
    #[error("cannot listen on unix:{path}: {reason}")]
    PathInUse { path: String, reason: String },

    /// Connecting to a Unix socket failed.
    #[error("cannot connect to {target}: {source}")]
    ConnectPath {
        target: String,
        #[source]
        source: io::Error,
    },

    /// A combination socklab does not do.
    #[error("socklab cannot do {what}")]
    Unsupported { what: String },

    /// A file named by the user could not be read.
    #[error("cannot read '{path}': {source}")]
    File {
        path: String,
        #[source]
        source: io::Error,
    },

    /// Any other I/O failure, with what was being done.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },

    // TLS
    /// The TLS handshake failed; `reason` is in plain words (`transport::tls::explain`).
    #[error("TLS handshake with {target} failed: {reason}")]
    TlsHandshake {
        target: String,
        reason: String,
        /// We refused the peer's certificate (untrusted, expired, wrong name, pin
        /// mismatch): trying again will not change that, so `--reconnect` stops.
        rejected: bool,
    },

    /// A certificate pin that is not a SHA-256 fingerprint.
    #[error("bad certificate pin '{input}': {reason}; expected the SHA-256 fingerprint as 64 hex digits, with or without ':' (as 'openssl x509 -noout -fingerprint -sha256' prints 'AB:CD:…')")]
    Pin { input: String, reason: String },

    /// A certificate, key or CA file that is missing, unreadable or unusable.
    #[error("cannot use '{path}': {reason}")]
    Certificate { path: String, reason: String },

    /// TLS options that cannot work, or a trust store that cannot be loaded.
    #[error("TLS setup: {reason}")]
    TlsConfig { reason: String },

    // UDP
    /// A datagram that cannot go whole: UDP never splits one into several.
    #[error("a datagram of {len} bytes is larger than the UDP limit of {max} bytes ({}); expected at most {max} bytes per datagram", crate::transport::udp::payload_family(*.max))]
    DatagramTooLarge { len: usize, max: usize },

    /// A multicast-only option (`--ttl`, `--multicast-loop`, `--iface`) for an address that is not a group.
    #[error(
        "{option} applies only to multicast groups (224.0.0.0/4, ff00::/8); {addr} is {}",
        crate::transport::udp::address_kind(addr)
    )]
    MulticastOnly {
        option: &'static str,
        addr: SocketAddr,
    },

    /// `--iface` names neither an interface nor an address of one.
    #[error(
        "unknown interface '{input}'; expected an interface name or one of its addresses: {known}"
    )]
    Iface { input: String, known: String },

    /// A `--frame` that names no known framing.
    #[error(
        "bad framing '{input}': {reason}; expected {}",
        crate::codec::frame::EXPECTED
    )]
    Frame { input: String, reason: String },

    /// A `--reply` that cannot be used as a rule.
    #[error("bad --reply '{input}': {reason}; expected 'MATCH=>RESPONSE' such as 'PING=>PONG\\r\\n', 'hex:01 03=>hex:01 83 02' or 're:^GET (\\S+)=>got $1'")]
    Reply { input: String, reason: String },

    /// A `--rules` file that does not parse, or a rule in it that cannot be used.
    #[error("bad rules file {path}:{line}:{column}: {reason}; expected [[rule]] tables with match = \"...\" and response = \"...\" (optional delay = \"200ms\", once = true)")]
    Rules {
        path: String,
        line: usize,
        column: usize,
        reason: String,
    },

    /// A `--script` file that does not parse: a step with an unknown verb or a bad argument.
    #[error("bad script {path}:{line}:{column}: {reason}; expected one step a line: send DATA, expect [DUR] PATTERN, wait DUR, timeout DUR or close")]
    Script {
        path: String,
        line: usize,
        column: usize,
        reason: String,
    },

    /// A `re:` pattern that does not compile.
    #[error("bad regular expression '{input}': {reason}; expected the syntax of Rust's regex crate, e.g. 're:^LOGIN (\\w+)'")]
    Regex { input: String, reason: String },
}

impl Error {
    /// Usage errors (bad input from the user) exit with status 2; the rest are network or
    /// I/O failures and exit with status 1.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Error::Endpoint { .. }
                | Error::Hex { .. }
                | Error::Escape { .. }
                | Error::Checksum { .. }
                | Error::Template { .. }
                | Error::UnknownEncoding(_)
                | Error::Unencodable { .. }
                | Error::Duration { .. }
                | Error::File { .. }
                | Error::UnixPath { .. }
                | Error::Unsupported { .. }
                | Error::Pin { .. }
                | Error::Certificate { .. }
                | Error::TlsConfig { .. }
                | Error::DatagramTooLarge { .. }
                | Error::MulticastOnly { .. }
                | Error::Iface { .. }
                | Error::Regex { .. }
                | Error::Frame { .. }
                | Error::Reply { .. }
                | Error::Rules { .. }
                | Error::Script { .. }
        )
    }

    /// A network failure that retrying will not fix: the peer's certificate was refused.
    /// Exits 1 like any network failure, but `--reconnect` gives up on it at once.
    pub fn is_lasting(&self) -> bool {
        matches!(self, Error::TlsHandshake { rejected: true, .. })
    }

    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// `1.5s`, `250ms`: short enough for one-line messages.
pub fn humanize(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else if ms >= 1000 {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        format!("{ms}ms")
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
