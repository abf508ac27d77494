//! The address of one end of a connection or datagram, whatever the transport: an IP socket
//! address, or a Unix socket name. Events carry it, faces print it, `--json` writes it as one
//! string, so a script reads `"127.0.0.1:40000"` or `"unix:/run/app.sock"` the same way.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use serde::{Serialize, Serializer};

/// Where a peer (or our own socket) is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Addr {
    Ip(SocketAddr),
    /// A Unix socket name as shown: `/path`, `@abstract` or `(unnamed)` (a client socket
    /// that never bound a name, the usual case for stream clients).
    Unix(Arc<str>),
}

impl Addr {
    pub fn unix(name: impl Into<Arc<str>>) -> Addr {
        Addr::Unix(name.into())
    }

    pub fn unnamed() -> Addr {
        Addr::Unix(Arc::from(UNNAMED))
    }

    /// The IP address, for the code that only makes sense for IP (reachable addresses).
    pub fn ip(&self) -> Option<SocketAddr> {
        match self {
            Addr::Ip(a) => Some(*a),
            Addr::Unix(_) => None,
        }
    }

    /// A dual-stack socket reports IPv4 peers as `::ffff:a.b.c.d`; people know them as IPv4.
    pub fn canonical(a: SocketAddr) -> Addr {
        Addr::Ip(SocketAddr::new(a.ip().to_canonical(), a.port()))
    }

    /// From a Unix socket address as std gives it.
    pub fn from_std_unix(a: &std::os::unix::net::SocketAddr) -> Addr {
        use std::os::linux::net::SocketAddrExt;
        if let Some(p) = a.as_pathname() {
            Addr::unix(p.to_string_lossy().into_owned())
        } else if let Some(name) = a.as_abstract_name() {
            Addr::unix(format!("@{}", String::from_utf8_lossy(name)))
        } else {
            Addr::unnamed()
        }
    }

    /// From a Unix socket address as rustix gives it (datagram receives).
    pub fn from_rustix_unix(a: &rustix::net::SocketAddrUnix) -> Addr {
        if let Some(p) = a.path_bytes() {
            Addr::unix(String::from_utf8_lossy(p).into_owned())
        } else if let Some(name) = a.abstract_name() {
            Addr::unix(format!("@{}", String::from_utf8_lossy(name)))
        } else {
            Addr::unnamed()
        }
    }
}

const UNNAMED: &str = "(unnamed)";

impl From<SocketAddr> for Addr {
    fn from(a: SocketAddr) -> Addr {
        Addr::Ip(a)
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addr::Ip(a) => write!(f, "{a}"),
            Addr::Unix(name) => write!(f, "unix:{name}"),
        }
    }
}

impl Serialize for Addr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_ip_and_unix_names() {
        let v4: SocketAddr = "[::ffff:127.0.0.1]:80".parse().unwrap();
        assert_eq!(Addr::canonical(v4).to_string(), "127.0.0.1:80");
        assert_eq!(Addr::unix("/tmp/a.sock").to_string(), "unix:/tmp/a.sock");
        assert_eq!(Addr::unix("@bus").to_string(), "unix:@bus");
        assert_eq!(Addr::unnamed().to_string(), "unix:(unnamed)");
    }
}
