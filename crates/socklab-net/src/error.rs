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

    // ping, scan, ports
    /// A host (with or without a port) that cannot be read.
    #[error("bad target '{input}': {reason}; expected {expected}")]
    Target {
        input: String,
        reason: String,
        expected: &'static str,
    },

    /// An option value the library refuses (the binary's own parsers usually catch it first).
    #[error("bad {option}: {reason}")]
    BadOption {
        option: &'static str,
        reason: String,
    },

    /// One item of a scan's port list.
    #[error("bad port list item '{item}': {reason}; expected ports 1-65535 and ranges separated by commas, such as 22,80,8000-8100")]
    PortList { item: String, reason: String },

    /// A port list that names more ports than exist, counted as written.
    #[error("the port list names {count} ports; a scan takes at most 65535 (1-65535 is every port once)")]
    TooManyPorts { count: u64 },

    /// A `ports` query that cannot be read (a port out of range, an unknown protocol).
    #[error("bad query '{input}': {reason}; expected a port 0-65535, a name such as redis, or a word, optionally followed by /tcp or /udp")]
    PortQuery { input: String, reason: String },

    /// Neither an unprivileged ICMP socket nor a raw one may be opened.
    #[error("ICMP echo is not allowed for this user: unprivileged ICMP sockets are limited to the groups in net.ipv4.ping_group_range (now \"{range}\"; it covers IPv6 too) and raw ICMP sockets need CAP_NET_RAW; allow it with: sysctl -w net.ipv4.ping_group_range=\"0 2147483647\", or give a port for a TCP ping (HOST:PORT)")]
    IcmpNotAllowed { range: String },

    /// A socket failure while pinging or scanning, with what was being done.
    #[error("{context}: {reason}")]
    Net { context: String, reason: String },
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
            | Error::NoSuchInterface { .. }
            | Error::Target { .. }
            | Error::BadOption { .. }
            | Error::PortList { .. }
            | Error::TooManyPorts { .. }
            | Error::PortQuery { .. } => true,
            Error::IcmpNotAllowed { .. } | Error::Net { .. } => false,
            Error::DnsName { .. } | Error::DnsType(_) | Error::DnsServer { .. } => true,
            Error::DnsResolvConf { .. }
            | Error::DnsNoServers { .. }
            | Error::DnsNoAnswer { .. }
            | Error::DnsStatus { .. } => false,
        }
    }
}
